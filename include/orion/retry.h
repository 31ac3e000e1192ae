/* SPDX-License-Identifier: MIT */
/*
 * retry: what the worker and the router do when Redis answers a read with an error reply
 * (-LOADING, -NOGROUP, ...): log the error once per distinct text, and ask again after a delay
 * that starts at 0.1 s and doubles to 2 s, so a Redis that refuses is not asked in a tight
 * loop. A success resets both.
 */
#ifndef ORION_RETRY_H
#define ORION_RETRY_H

#include "orion/loop.h"

struct retry {
    unsigned long timer; /* the retry scheduled, or 0; its callback must clear it */
    long next_ms;        /* the next delay; 0: the first */
    char err[128];       /* the last error text logged */
};

/* An error reply err to the read of key: log "<what> <key>: <err>" unless it repeats the last
 * one, and run cb(arg) after the next delay unless a retry is already scheduled. */
void retry_error(struct retry *t, struct loop *l, const char *what, const char *key,
                 const char *err, loop_timer_fn *cb, void *arg);
/* A read that succeeded. */
void retry_ok(struct retry *t);

#endif
