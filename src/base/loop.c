/* SPDX-License-Identifier: MIT */
/*
 * The event loop. Watchers and timers live in small arrays scanned linearly: a daemon here
 * has tens of descriptors and a handful of timers, and a scan is cheaper than a heap's
 * bookkeeping at that size. Removal only marks an entry dead; entries are compacted after
 * the dispatch pass, so a callback can never pull an entry out from under the loop.
 * Deferred calls (loop_defer) run at the top of each pass, before poll(): a connection that
 * queues many commands during one pass writes them all with one write(2) there.
 */
#include "orion/loop.h"
#include "orion/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct watch {
    int fd;
    short events;
    bool dead;
    unsigned long gen;
    loop_fd_fn *cb;
    void *arg;
};

struct timer {
    unsigned long id;
    int64_t due;
    bool dead;
    loop_timer_fn *cb;
    void *arg;
};

struct defer {
    unsigned long id; /* 0: cancelled or done */
    loop_defer_fn *cb;
    void *arg;
};

struct sigh {
    int signo;
    loop_signal_fn *cb;
    void *arg;
};

struct loop {
    struct watch *w;
    size_t nw, capw;
    struct timer *t;
    size_t nt, capt;
    struct defer *d;
    size_t nd, capd;
    struct sigh sig[8];
    size_t nsig;
    struct pollfd *pfd;
    unsigned long *pgen;
    size_t cappfd, capgen;
    unsigned long next_id, next_gen;
    bool stop;
};

static int sig_pipe[2] = {-1, -1};

int64_t loop_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t loop_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first millisecond of CLOCK_MONOTONIC at which ms have surely passed: loop_now() is
 * truncated, so now + ms could come up to 1 ms early. */
static int64_t due_after(long ms)
{
    struct timespec ts;
    int64_t ns;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (int64_t)(ms < 0 ? 0 : ms) * 1000000;
    return (ns + 999999) / 1000000;
}

struct loop *loop_new(void)
{
    struct loop *l = orion_calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    l->next_id = 1;
    signal(SIGPIPE, SIG_IGN);
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    orion_free(l->w);
    orion_free(l->t);
    orion_free(l->d);
    orion_free(l->pfd);
    orion_free(l->pgen);
    orion_free(l);
}

static struct watch *watch_find(struct loop *l, int fd)
{
    for (size_t i = 0; i < l->nw; i++)
        if (!l->w[i].dead && l->w[i].fd == fd)
            return &l->w[i];
    return NULL;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    void *np;
    size_t ncap;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    np = orion_realloc(*p, ncap * size);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

int loop_watch(struct loop *l, int fd, int events, loop_fd_fn *cb, void *arg)
{
    struct watch *w = watch_find(l, fd);

    if (!w) {
        if (grow((void **)&l->w, &l->capw, l->nw + 1, sizeof(*l->w)) < 0)
            return -1;
        w = &l->w[l->nw++];
        w->fd = fd;
        w->dead = false;
        w->gen = ++l->next_gen;
    }
    w->events = (short)events;
    w->cb = cb;
    w->arg = arg;
    return 0;
}

int loop_set_events(struct loop *l, int fd, int events)
{
    struct watch *w = watch_find(l, fd);

    if (!w) {
        errno = ENOENT;
        return -1;
    }
    w->events = (short)events;
    return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
    struct watch *w = watch_find(l, fd);

    if (w)
        w->dead = true;
}

unsigned long loop_timer(struct loop *l, long ms, loop_timer_fn *cb, void *arg)
{
    struct timer *t;

    if (grow((void **)&l->t, &l->capt, l->nt + 1, sizeof(*l->t)) < 0)
        return 0;
    t = &l->t[l->nt++];
    t->id = l->next_id++;
    t->due = due_after(ms);
    t->dead = false;
    t->cb = cb;
    t->arg = arg;
    return t->id;
}

void loop_timer_cancel(struct loop *l, unsigned long id)
{
    for (size_t i = 0; i < l->nt; i++)
        if (l->t[i].id == id)
            l->t[i].dead = true;
}

unsigned long loop_defer(struct loop *l, loop_defer_fn *cb, void *arg)
{
    struct defer *d;

    if (grow((void **)&l->d, &l->capd, l->nd + 1, sizeof(*l->d)) < 0)
        return 0;
    d = &l->d[l->nd++];
    d->id = l->next_id++;
    d->cb = cb;
    d->arg = arg;
    return d->id;
}

void loop_defer_cancel(struct loop *l, unsigned long id)
{
    for (size_t i = 0; id && i < l->nd; i++)
        if (l->d[i].id == id)
            l->d[i].id = 0;
}

/* Every deferred call, including those the calls themselves add; then the list is empty. */
static void run_deferred(struct loop *l)
{
    for (size_t i = 0; i < l->nd; i++) { /* l->nd and l->d may change in a callback */
        struct defer d = l->d[i];
        if (!d.id)
            continue;
        l->d[i].id = 0;
        d.cb(l, d.arg);
    }
    l->nd = 0;
}

static void sig_catch(int signo)
{
    int saved = errno;
    unsigned char c = (unsigned char)signo;

    if (write(sig_pipe[1], &c, 1) < 0) {
        /* pipe full: the signal is already pending in it */
    }
    errno = saved;
}

static void sig_drain(struct loop *l, int fd, int revents, void *arg)
{
    unsigned char c[64];
    ssize_t n;

    (void)revents;
    (void)arg;
    while ((n = read(fd, c, sizeof(c))) > 0)
        for (ssize_t i = 0; i < n; i++)
            for (size_t j = 0; j < l->nsig; j++)
                if (l->sig[j].signo == c[i])
                    l->sig[j].cb(l, c[i], l->sig[j].arg);
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int loop_signal(struct loop *l, int signo, loop_signal_fn *cb, void *arg)
{
    struct sigaction sa;

    if (l->nsig == sizeof(l->sig) / sizeof(l->sig[0])) {
        errno = ENOSPC;
        return -1;
    }
    if (sig_pipe[0] < 0) {
        if (pipe(sig_pipe) < 0 || set_flags(sig_pipe[0]) < 0 || set_flags(sig_pipe[1]) < 0)
            return -1;
    }
    if (loop_watch(l, sig_pipe[0], POLLIN, sig_drain, NULL) < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sig_catch;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(signo, &sa, NULL) < 0)
        return -1;
    l->sig[l->nsig].signo = signo;
    l->sig[l->nsig].cb = cb;
    l->sig[l->nsig].arg = arg;
    l->nsig++;
    return 0;
}

void loop_stop(struct loop *l) { l->stop = true; }

static long next_timeout(struct loop *l, long max_ms)
{
    int64_t now = loop_now(), best = -1;

    for (size_t i = 0; i < l->nt; i++) {
        if (l->t[i].dead)
            continue;
        if (best < 0 || l->t[i].due < best)
            best = l->t[i].due;
    }
    if (best < 0)
        return max_ms;
    best -= now;
    if (best < 0)
        best = 0;
    if (max_ms >= 0 && best > max_ms)
        best = max_ms;
    return (long)best;
}

static void run_timers(struct loop *l)
{
    int64_t now = loop_now();
    size_t n = l->nt; /* timers added by callbacks wait for the next pass */

    for (size_t i = 0; i < n; i++) {
        struct timer *t = &l->t[i];
        loop_timer_fn *cb;
        void *arg;
        unsigned long id;
        long next;

        if (t->dead || t->due > now)
            continue;
        cb = t->cb;
        arg = t->arg;
        id = t->id;
        next = cb(l, arg);
        /* l->t may have moved: find the timer again by id */
        for (size_t j = 0; j < l->nt; j++) {
            if (l->t[j].id != id)
                continue;
            if (next < 0 || l->t[j].dead)
                l->t[j].dead = true;
            else
                l->t[j].due = due_after(next);
            break;
        }
    }
}

static void compact(struct loop *l)
{
    size_t j = 0;

    for (size_t i = 0; i < l->nw; i++)
        if (!l->w[i].dead)
            l->w[j++] = l->w[i];
    l->nw = j;
    j = 0;
    for (size_t i = 0; i < l->nt; i++)
        if (!l->t[i].dead)
            l->t[j++] = l->t[i];
    l->nt = j;
}

static void dispatch(struct loop *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct pollfd *p = &l->pfd[i];
        struct watch *w;

        if (!p->revents)
            continue;
        w = watch_find(l, p->fd);
        if (!w || w->gen != l->pgen[i])
            continue; /* unwatched (or replaced) by an earlier callback in this pass */
        if (!(p->revents & (w->events | POLLERR | POLLHUP | POLLNVAL)))
            continue;
        w->cb(l, p->fd, p->revents, w->arg);
    }
}

int loop_once(struct loop *l, long max_ms)
{
    size_t n = 0;
    long timeout;
    int rc;

    run_deferred(l);
    compact(l);
    if (grow((void **)&l->pfd, &l->cappfd, l->nw + 1, sizeof(*l->pfd)) < 0)
        return -1;
    if (grow((void **)&l->pgen, &l->capgen, l->nw + 1, sizeof(*l->pgen)) < 0)
        return -1;
    for (size_t i = 0; i < l->nw; i++) {
        l->pfd[n].fd = l->w[i].fd;
        l->pfd[n].events = l->w[i].events;
        l->pfd[n].revents = 0;
        l->pgen[n] = l->w[i].gen;
        n++;
    }
    timeout = l->stop ? 0 : next_timeout(l, max_ms); /* a deferred call may have stopped it */
    rc = poll(l->pfd, (nfds_t)n, timeout > 0x7fffffffL ? 0x7fffffff : (int)timeout);
    if (rc < 0 && errno != EINTR)
        return -1;
    if (rc > 0)
        dispatch(l, n);
    run_timers(l);
    return 0;
}

int loop_run(struct loop *l)
{
    l->stop = false;
    while (!l->stop)
        if (loop_once(l, -1) < 0)
            return -1;
    run_deferred(l); /* what was queued before loop_stop still goes out */
    return 0;
}
