/* SPDX-License-Identifier: MIT */
/*
 * loop: one thread, one poll(). File watchers, one-shot or repeating timers, and signals
 * delivered through a self-pipe. Callbacks may watch, unwatch, add or cancel timers, and free
 * anything: the loop re-checks each watcher after every callback.
 *
 * Times are milliseconds of CLOCK_MONOTONIC. A timer callback returns the delay until its next
 * run, or -1 to end. A timer of ms never runs before ms have passed (measured in ns), and
 * runs within the next millisecond when the loop is idle. Only one loop may handle signals per process.
 */
#ifndef ORION_LOOP_H
#define ORION_LOOP_H

#include <stdint.h>

struct loop;

typedef void loop_fd_fn(struct loop *l, int fd, int revents, void *arg);
typedef long loop_timer_fn(struct loop *l, void *arg);
typedef void loop_signal_fn(struct loop *l, int signo, void *arg);
typedef void loop_defer_fn(struct loop *l, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watch fd for events (POLLIN, POLLOUT); watching an fd again changes its callback/events. */
int loop_watch(struct loop *l, int fd, int events, loop_fd_fn *cb, void *arg);
int loop_set_events(struct loop *l, int fd, int events);
void loop_unwatch(struct loop *l, int fd);

/* Returns a timer id > 0, or 0 with errno ENOMEM. Cancelling an id that ran out is a no-op. */
unsigned long loop_timer(struct loop *l, long ms, loop_timer_fn *cb, void *arg);
void loop_timer_cancel(struct loop *l, unsigned long id);

/* Run cb once, at the start of the next pass before the loop waits in poll() (also when
 * loop_run returns after loop_stop). Calls added by a deferred call run in the same round.
 * For work best done once per pass, e.g. writing out everything queued during it. Returns
 * an id > 0, or 0 with errno ENOMEM. Cancelling an id that ran is a no-op. */
unsigned long loop_defer(struct loop *l, loop_defer_fn *cb, void *arg);
void loop_defer_cancel(struct loop *l, unsigned long id);

/* Catch signo and call cb from the loop. SIGPIPE is ignored by loop_new. */
int loop_signal(struct loop *l, int signo, loop_signal_fn *cb, void *arg);

int loop_run(struct loop *l); /* until loop_stop; 0, or -1 when poll fails */
void loop_stop(struct loop *l);
/* One pass: wait at most max_ms (or less, for timers), dispatch, return. For tests and tools. */
int loop_once(struct loop *l, long max_ms);

int64_t loop_now(void);     /* monotonic ms */
int64_t loop_wall_ms(void); /* Unix time in ms */

#endif
