/* SPDX-License-Identifier: MIT */
/*
 * redis: an asynchronous Redis connection on the event loop.
 *
 * One struct redis is one TCP (or unix socket) connection that reconnects by itself with
 * capped exponential backoff and jitter. On every (re)connect it sends AUTH (user + password,
 * or password alone), SELECT db and PING before it reports itself up; while PING answers
 * -LOADING (Redis still loading its AOF/RDB) it stays not up and sends the handshake again on a
 * timer, and redis_error() gives the LOADING text. Commands are pipelined and their replies
 * matched in order to callbacks. A command is only queued by redis_cmd*: what was queued
 * during one loop pass is written together when the pass ends (loop_defer).
 *
 * - A command can be issued only while the connection is up: otherwise redis_cmd* returns -1
 *   (errno ENOTCONN) and no callback will run.
 * - When the link drops or a command passes its timeout, every command in flight gets its
 *   callback with reply == NULL (redis_error() says why); then the connection reconnects.
 *   A command has passed its timeout only when its reply is not in the socket either: what
 *   is readable at its deadline is read and delivered first.
 * - The reply is freed after the callback returns, unless the callback takes it with
 *   redis_take().
 * - A blocked connection serves nothing else: use a second struct redis for XREADGROUP BLOCK,
 *   and give that command a timeout longer than its BLOCK.
 * Redis being down is a state the caller sees (the state callback), never a crash or exit.
 */
#ifndef ORION_REDIS_H
#define ORION_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/loop.h"
#include "orion/resp.h"

struct redis;

struct redis_opts {
    const char *addr;     /* HOST:PORT or a unix socket path */
    const char *user;     /* NULL: AUTH password (the default user) */
    const char *password; /* NULL: no AUTH */
    long db;
    const char *name;     /* for log lines, e.g. "redis" or "redis (blocking)" */
    long connect_timeout_ms; /* 0: 5000 */
    long cmd_timeout_ms;     /* 0: 10000 */
    long backoff_min_ms;     /* 0: 100 */
    long backoff_max_ms;     /* 0: 5000 */
    /* Sentinel mode (sentinels set): addr is not used. Before every (re)connect the master's
     * address is asked of the sentinels (include/orion/sentinel.h), and the handshake adds
     * ROLE: an address whose ROLE is not master is refused and its sentinel asked last from
     * then on. A reply -READONLY, -MASTERDOWN or -UNBLOCKED (delivered to its callback as
     * usual) then drops the link, and the next connect asks the sentinels again. */
    const char *sentinels;         /* "HOST:PORT,..."; NULL: addr is the master */
    const char *master_name;       /* as the sentinels know it */
    const char *sentinel_user;     /* the sentinels' own AUTH (NULL: none / password only) */
    const char *sentinel_password;
    bool watch; /* also subscribe to +switch-master, and move to a new master at once */
    long min_replicas;    /* redis_wait: replicas a write must reach; 0: redis_wait is off */
    long wait_timeout_ms; /* redis_wait: WAIT's timeout; 0: 1000 */
};

typedef void redis_reply_fn(struct redis *r, struct resp_reply *reply, void *arg);
typedef void redis_state_fn(struct redis *r, bool up, void *arg);

/* The strings of o are copied. on_state runs on every change between up and down. */
struct redis *redis_new(struct loop *l, const struct redis_opts *o, redis_state_fn *on_state,
                        void *arg);
/* Closes the connection; pending callbacks are not called. Accepts NULL. */
void redis_free(struct redis *r);
void redis_start(struct redis *r); /* connect now and keep reconnecting */
bool redis_up(const struct redis *r);
/* The address connected to, or last tried: the master the sentinels named, in Sentinel
 * mode ("(master NAME)" before they named one). */
const char *redis_addr(const struct redis *r);
const char *redis_error(const struct redis *r); /* the last failure, a sentence */
/* Is this error text (redis_error(), a redis_sync error) Redis's "still loading" answer? */
bool redis_err_loading(const char *err);
size_t redis_pending(const struct redis *r);    /* commands awaiting a reply */

/* Queue a command; timeout_ms 0 = the default; cb NULL: the reply is dropped. 0, or -1 with
 * errno (ENOTCONN, ENOMEM). */
int redis_cmdv(struct redis *r, long timeout_ms, redis_reply_fn *cb, void *arg, int argc,
               const char *const *argv, const size_t *len);
/* NUL-terminated string arguments, the list ended by NULL. */
int redis_cmd(struct redis *r, redis_reply_fn *cb, void *arg, ...);
/* All or none: commands queued between begin and end(keep = false) are dropped unsent and
 * their callbacks never run, e.g. when one command of a MULTI ... EXEC could not be queued.
 * (Queued commands are written only when the loop turns, so they are all still unsent.) */
void redis_batch_begin(struct redis *r);
void redis_batch_end(struct redis *r, bool keep);
/* Acknowledged means replicated: after the writes that must survive a failover, ask for
 * WAIT min_replicas wait_timeout_ms on the same connection. WAIT covers every write its
 * connection sent before it, and blocks the connection while it waits, so one WAIT at a time
 * is in flight: callers that ask meanwhile share the next one. cb gets WAIT's :n (shared:
 * never redis_take it), an error reply, or NULL (the link was lost: the writes' fate is
 * unknown); redis_replicated says whether n reached min_replicas. 0, or -1 with errno
 * ENOTCONN or ENOMEM (cb never runs); with min_replicas 0 nothing is sent: -1, errno 0. */
int redis_wait(struct redis *r, redis_reply_fn *cb, void *arg);
bool redis_replicated(const struct redis *r, const struct resp_reply *reply);
long redis_min_replicas(const struct redis *r); /* 0: writes are not waited for */

/* The common settings (include/orion/conf.h) as options: o filled, name for log lines. */
struct conf_common;
void redis_opts_conf(struct redis_opts *o, const struct conf_common *c, const char *name);
/* Exit 100 with a message naming the flag when the Sentinel settings are wrong. */
void redis_conf_check(const struct conf_common *c, const char *prog);
/* Where the settings point, for messages: the address, or "master NAME via sentinels LIST". */
const char *redis_conf_where(const struct conf_common *c, char *buf, size_t n);

/* In a callback: keep the reply (free it with resp_reply_free). */
struct resp_reply *redis_take(struct redis *r);

/* A blocking client for tools and tests: its own loop, one command at a time. */
struct redis_sync;
struct redis_sync *redis_sync_connect(const struct redis_opts *o, long timeout_ms, char *err,
                                      size_t errlen);
void redis_sync_free(struct redis_sync *s);
/* The reply (caller frees), or NULL with err set (link down, timeout). */
struct resp_reply *redis_sync_cmdv(struct redis_sync *s, int argc, const char *const *argv,
                                   const size_t *len, char *err, size_t errlen);
struct resp_reply *redis_sync_cmd(struct redis_sync *s, char *err, size_t errlen, ...);

#endif
