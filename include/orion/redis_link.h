/* SPDX-License-Identifier: MIT */
/*
 * redis_link: one bare connection to a server that speaks RESP2 (a sentinel, or a data node
 * asked its ROLE), on the event loop. No queue of callbacks, no reconnect: the commands
 * queued with redis_link_cmd are written once the connection is made, and every reply comes
 * to on_reply with its index on this connection (0 for the first), pub/sub messages
 * included. For the short questions of Sentinel discovery and for a subscribed connection;
 * the data connections are struct redis.
 *
 * - open: connect and every reply expected must come within timeout_ms of the open, or
 *   on_fail runs ("no answer within N ms"). redis_link_keepalive replaces that deadline
 *   with a PING every ping_ms, failing when a PING is still unanswered at the next.
 * - on_fail runs once per open, with the link already closed; nothing runs after close.
 * - Callbacks may close the link and open it again, but must not release it (nor free what
 *   holds it): the link is looked at again when they return.
 * - Commands are queued after redis_link_open (open starts with an empty queue).
 */
#ifndef ORION_REDIS_LINK_H
#define ORION_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/buf.h"
#include "orion/loop.h"
#include "orion/resp.h"

#define REDIS_LINK_ADDR_MAX 264 /* "[host]:65535" for a host of up to 255 bytes */

struct redis_link;
typedef void redis_link_reply_fn(struct redis_link *k, struct resp_reply *r, int i, void *arg);
typedef void redis_link_fail_fn(struct redis_link *k, const char *why, void *arg);

struct redis_link {
    struct loop *l;
    int fd;
    bool connecting, ping_out;
    int replies; /* read so far on this connection */
    long timeout_ms, ping_ms;
    char addr[REDIS_LINK_ADDR_MAX];
    struct buf out;
    struct resp_reader rd;
    unsigned long timer;
    redis_link_reply_fn *on_reply;
    redis_link_fail_fn *on_fail;
    void *arg;
};

void redis_link_init(struct redis_link *k, struct loop *l, redis_link_reply_fn *on_reply,
                     redis_link_fail_fn *on_fail, void *arg);
void redis_link_release(struct redis_link *k); /* closes it; not from its own callbacks */
/* Start connecting to addr (HOST:PORT). 0, or -1 with why set (nothing will run). */
int redis_link_open(struct redis_link *k, const char *addr, long timeout_ms, char *why,
                    size_t whylen);
void redis_link_close(struct redis_link *k);
bool redis_link_is_open(const struct redis_link *k);
/* Queue a command (written when connected, or at once). 0, or -1 (ENOMEM, ENOBUFS). */
int redis_link_cmd(struct redis_link *k, int argc, const char *const *argv);
/* From now on: PING every ping_ms instead of the open's deadline (a subscribed link). */
void redis_link_keepalive(struct redis_link *k, long ping_ms);

#endif
