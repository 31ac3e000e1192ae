/* SPDX-License-Identifier: MIT */
/*
 * group: one consumer of a stream's consumer group, read the way the router reads
 * P:requests and a worker its node stream, so that nothing taken before a crash is lost.
 *
 *   1. XGROUP CREATE key group 0 MKSTREAM on the command connection (BUSYGROUP: it exists).
 *      Any other error (-LOADING, -NOPERM, ...) is logged once and the create is sent again
 *      every second until it succeeds: without the group nothing can be read.
 *   2. The consumer's own pending entries first: XREADGROUP GROUP group consumer COUNT room
 *      STREAMS key <after> on the command connection, <after> starting at 0 and moving to
 *      the last id taken, page after page, until a page is empty (caught up).
 *   3. Then new entries: XREADGROUP GROUP group consumer COUNT room BLOCK block_ms STREAMS key >
 *      on the blocking connection (a command timeout of timeout_ms > block_ms).
 * An error reply to a read: -NOGROUP (the stream or the group was deleted) creates the group
 * again and starts over at 2; any other (-LOADING, ...) is logged once per distinct text
 * (retry.h) and the read is sent again after 0.1 s, doubling to 2 s. A lost link needs no
 * action here: the owner passes its connections' state changes to group_link.
 *
 * room(arg) is how many entries the owner takes now; 0 pauses reading until the owner calls
 * group_read again. At most one read is in flight. take(arg, entry) gets each entry of a reply
 * ([id, fields]; fields is not an array when the entry was deleted while pending), taken(arg)
 * runs after the entries of each new-entry reply, caught_up(arg) when step 2 ends; both may
 * be NULL. Every callback may call group_read.
 */
#ifndef ORION_GROUP_H
#define ORION_GROUP_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/redis.h"
#include "orion/retry.h"

struct group_opts {
    const char *key, *group, *consumer; /* kept as pointers: alive as long as the reader */
    long block_ms, timeout_ms;
    size_t (*room)(void *arg);
    void (*take)(void *arg, const struct resp_reply *entry);
    void (*taken)(void *arg);
    void (*caught_up)(void *arg);
    void *arg;
};

struct group {
    struct group_opts o;
    struct loop *l;
    struct redis *cmd, *blk;
    bool group_ok;     /* the last XGROUP CREATE succeeded (or found the group) */
    bool history_done; /* the own pending entries are all taken: reading new ones */
    bool reading;      /* a read is in flight */
    bool warned, stopped;
    char after[48]; /* pending entries are read after this id */
    unsigned long group_timer;
    struct retry read;
};

/* Nothing is sent until group_link reports the command connection up. */
void group_init(struct group *g, struct loop *l, struct redis *cmd, struct redis *blk,
                const struct group_opts *o);
/* A connection of the reader went up or down: the command connection up creates the group
 * and reads the pending entries again; the blocking one up resumes reading. */
void group_link(struct group *g, const struct redis *c, bool up);
/* The state callback (redis_state_fn) of a connection only the reader uses, the blocking one:
 * arg is the struct group (create the connection first, the reader after). */
void group_redis_state(struct redis *c, bool up, void *arg);
/* Read more when there is room, the group exists and nothing is in flight or waiting out an
 * error. */
void group_read(struct group *g);
/* No more reads or retries; the owner may free the blocking connection afterwards. */
void group_stop(struct group *g);

#endif
