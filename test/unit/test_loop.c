/* SPDX-License-Identifier: MIT */
/* Event loop: timers (order, repeat, cancel), fd watchers (unwatch from a callback), signals
 * through the self-pipe, and loop_stop. */
#include "orion/loop.h"
#include "../t.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

static char order[16];
static int norder, repeats, reads, sigs;
static unsigned long cancel_me;

static long t_a(struct loop *l, void *arg)
{
    (void)l;
    order[norder++] = *(const char *)arg;
    return -1;
}

static long t_repeat(struct loop *l, void *arg)
{
    (void)arg;
    if (++repeats == 3) {
        loop_timer_cancel(l, cancel_me);
        return -1;
    }
    return 5;
}

static long t_stop(struct loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
    return -1;
}

static void on_read(struct loop *l, int fd, int revents, void *arg)
{
    char c;

    (void)arg;
    (void)revents;
    if (read(fd, &c, 1) == 1)
        reads++;
    loop_unwatch(l, fd); /* unwatch from inside the callback */
}

static void on_sig(struct loop *l, int signo, void *arg)
{
    (void)arg;
    if (signo == SIGUSR1)
        sigs++;
    loop_stop(l);
}

int main(void)
{
    struct loop *l = loop_new();
    int p[2];
    int64_t t0;

    static char ca = 'a', cb = 'b', cc = 'c', cx = 'x';

    loop_timer(l, 30, t_a, &cc);
    loop_timer(l, 10, t_a, &ca);
    loop_timer(l, 20, t_a, &cb);
    cancel_me = loop_timer(l, 25, t_a, &cx);
    loop_timer(l, 1, t_repeat, NULL);
    loop_timer(l, 60, t_stop, NULL);
    t0 = loop_now();
    ok(loop_run(l) == 0, "loop runs until stopped");
    ok(loop_now() - t0 >= 55, "stop timer fired after its delay");
    is_str(order, "abc", "timers fire in deadline order; a cancelled one never fires");
    is_int(repeats, 3, "a repeating timer runs until it returns -1");

    ok(pipe(p) == 0, "pipe");
    loop_watch(l, p[0], POLLIN, on_read, NULL);
    ok(write(p[1], "xy", 2) == 2, "write");
    loop_once(l, 100);
    loop_once(l, 20);
    is_int(reads, 1, "watcher ran once, then unwatched itself");

    ok(loop_signal(l, SIGUSR1, on_sig, NULL) == 0, "signal handler installed");
    raise(SIGUSR1);
    loop_run(l);
    is_int(sigs, 1, "signal delivered through the self-pipe");
    close(p[0]);
    close(p[1]);
    loop_free(l);
    return done_testing();
}
