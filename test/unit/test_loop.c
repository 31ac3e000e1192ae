/* SPDX-License-Identifier: MIT */
/* Event loop: timers (order, repeat, cancel), fd watchers (unwatch from a callback), signals
 * through the self-pipe, loop_stop, and deferred calls (before poll, chained, cancelled, after
 * loop_stop). */
#include "orion/loop.h"
#include "../t.h"

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
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

/* 'a' cancels 'x' (due 15 ms after it): whenever the process gets the CPU back, timers run in
 * deadline order, so x is cancelled before its turn however late the loop wakes */
static long t_a_cancel(struct loop *l, void *arg)
{
    loop_timer_cancel(l, cancel_me);
    return t_a(l, arg);
}

static long t_repeat(struct loop *l, void *arg)
{
    (void)l;
    (void)arg;
    return ++repeats == 3 ? -1 : 5;
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

/* Deferred calls: each writes its letter to dlog; 'w' also writes a byte to the pipe dpipe,
 * 'c' defers 'd' from inside a deferred call, 's' defers 'z', 'q' stops the loop. */
static char dlog[16];
static int ndlog, dreads, dpipe[2];

static void d_note(struct loop *l, void *arg)
{
    char c = *(const char *)arg;
    static char cd = 'd', cz = 'z';

    dlog[ndlog++] = c;
    if (c == 'w' && write(dpipe[1], "w", 1) != 1)
        dlog[ndlog++] = '!';
    if (c == 'c')
        loop_defer(l, d_note, &cd);
    if (c == 's')
        loop_defer(l, d_note, &cz);
    if (c == 'q')
        loop_stop(l);
}

static void d_read(struct loop *l, int fd, int revents, void *arg)
{
    char c;

    (void)l;
    (void)revents;
    (void)arg;
    if (read(fd, &c, 1) == 1)
        dreads++;
}

static long t_defer_stop(struct loop *l, void *arg)
{
    static char cs = 's';

    (void)arg;
    loop_stop(l); /* loop_run ends after this pass: no next pass runs the deferred calls */
    loop_defer(l, d_note, &cs);
    return -1;
}

static void test_defer(void)
{
    struct loop *l = loop_new();
    static char cw = 'w', cc = 'c', cx = 'x';
    unsigned long x;
    int64_t t0;

    ok(pipe(dpipe) == 0, "pipe");
    loop_watch(l, dpipe[0], POLLIN, d_read, NULL);
    ok(loop_defer(l, d_note, &cw) > 0, "defer: id > 0");
    x = loop_defer(l, d_note, &cx);
    loop_defer(l, d_note, &cc);
    loop_defer_cancel(l, x);
    t0 = loop_now();
    loop_once(l, 2000);
    ok(loop_now() - t0 < 1000, "defer: ran before poll, whose wait its write then ended (%ld ms)",
       (long)(loop_now() - t0));
    is_int(dreads, 1, "defer: the byte it wrote was read in the same pass");
    dlog[ndlog] = '\0';
    is_str(dlog, "wcd", "defer: in order, a cancelled one never runs, a chained one runs too");
    ndlog = 0;
    loop_once(l, 0);
    is_int(ndlog, 0, "defer: each call runs once");
    loop_defer_cancel(l, x); /* ran out long ago: no-op */
    loop_timer(l, 1, t_defer_stop, NULL);
    ok(loop_run(l) == 0, "defer: loop_run returns after loop_stop");
    dlog[ndlog] = '\0';
    is_str(dlog, "sz", "defer: what a call defers after loop_stop still runs before loop_run returns");
    {
        static char cq = 'q';
        unsigned long guard = loop_timer(l, 3000, t_stop, NULL);
        ndlog = 0;
        loop_defer(l, d_note, &cq);
        t0 = loop_now();
        loop_run(l);
        ok(ndlog == 1 && loop_now() - t0 < 1000,
           "defer: loop_stop in a deferred call ends loop_run without waiting (%ld ms)",
           (long)(loop_now() - t0));
        loop_timer_cancel(l, guard);
    }
    close(dpipe[0]);
    close(dpipe[1]);
    loop_free(l);
}

/* A timer of ms never runs early. loop_now() counts whole milliseconds, so a deadline of
 * loop_now() + ms came up to 1 ms early (a simulated 300 ms model load measured 299.7 ms).
 * 100 one-shot timers of 3 ms, each timed in nanoseconds from just before it was set, while a
 * 1 ms ticker wakes the loop at every millisecond (as a busy daemon's other work does). */
static struct timespec early_t0;
static int64_t early_min_ns = INT64_MAX;
static int early_runs;

static int64_t ns_since(const struct timespec *a)
{
    struct timespec b;

    clock_gettime(CLOCK_MONOTONIC, &b);
    return (int64_t)(b.tv_sec - a->tv_sec) * 1000000000 + (b.tv_nsec - a->tv_nsec);
}

static long t_early(struct loop *l, void *arg)
{
    int64_t ns = ns_since(&early_t0);

    (void)arg;
    if (ns < early_min_ns)
        early_min_ns = ns;
    if (++early_runs == 100) {
        loop_stop(l);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &early_t0);
    return 3;
}

static long t_tick(struct loop *l, void *arg)
{
    (void)l;
    (void)arg;
    return 1;
}

static void test_never_early(void)
{
    struct loop *l = loop_new();

    loop_timer(l, 1, t_tick, NULL);
    clock_gettime(CLOCK_MONOTONIC, &early_t0);
    loop_timer(l, 3, t_early, NULL);
    loop_run(l);
    is_int(early_runs, 100, "never early: 100 timer runs");
    ok(early_min_ns >= 3000000, "never early: the shortest of 100 waits of 3 ms took %lld ns",
       (long long)early_min_ns);
    loop_free(l);
}

int main(void)
{
    struct loop *l = loop_new();
    int p[2];
    int64_t t0;

    static char ca = 'a', cb = 'b', cc = 'c', cx = 'x';

    loop_timer(l, 30, t_a, &cc);
    loop_timer(l, 10, t_a_cancel, &ca);
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
    test_defer();
    test_never_early();
    return done_testing();
}
