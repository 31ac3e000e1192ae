/* SPDX-License-Identifier: MIT */
/* Internal state of a Redis connection, shared by redis.c (the connection) and
 * redis_sentinel.c (Sentinel mode). Not a public interface. */
#ifndef ORION_REDIS_INT_H
#define ORION_REDIS_INT_H

#include "orion/log.h"
#include "orion/redis.h"

#include <stdint.h>

struct sentinel;
struct redis_waits;

enum rstate { R_DOWN, R_CONNECTING, R_HANDSHAKE, R_UP };

struct pending {
    redis_reply_fn *cb; /* NULL: reply ignored; handshake_marker: AUTH/SELECT */
    void *arg;
    int64_t deadline;
};

struct redis {
    struct loop *l;
    struct redis_opts o;
    char *addr, *user, *password, *name;
    redis_state_fn *on_state;
    void *state_arg;
    enum rstate st;
    int fd;
    struct buf out;
    struct resp_reader rd;
    struct pending *q; /* ring */
    size_t qhead, qlen, qcap;
    unsigned long timer, retry_timer, loading_timer;
    unsigned long flush_id; /* a deferred flush is scheduled */
    bool want_out;          /* POLLOUT is in the watched events */
    bool batch;             /* redis_batch_begin: queued since then can still be dropped */
    size_t batch_out, batch_q; /* buf_size(out) and qlen at redis_batch_begin */
    long backoff, loading_backoff;
    bool started, announced_down, hs_loading, ping_warned;
    unsigned long answered; /* replies matched to their commands, ever (catch_up counts them) */
    struct sentinel *sent; /* Sentinel mode */
    bool resolved, watching;
    struct redis_waits *waits; /* redis_wait.c */
    struct resp_reply *cur; /* reply being delivered */
    bool taken;
    char err[160], logged[160];
};

/* Go DOWN: fail everything in flight, tell the owner, schedule a reconnect (redis.c). */
void redis_fail(struct redis *r, const char *fmt, ...) ORION_PRINTF(2, 3);

/* redis_sentinel.c. init: r->sent and r->addr ("(master NAME)"); -1 (logged). */
int redis_sentinel_init(struct redis *r, const struct redis_opts *o);
/* Ask the sentinels where the master is; redis_start runs again once r->addr is set. */
void redis_sentinel_resolve(struct redis *r);
/* Up for the first time: listen for +switch-master (o.watch). */
void redis_sentinel_watch(struct redis *r);

/* redis_wait.c: free what redis_wait keeps (its callbacks are not called). */
void redis_wait_release(struct redis *r);

#endif
