/* SPDX-License-Identifier: MIT */
/* The consumer-group reader of the router and the worker: create, pending first, then new. */
#include "orion/group.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>

void group_init(struct group *g, struct loop *l, struct redis *cmd, struct redis *blk,
                const struct group_opts *o)
{
    memset(g, 0, sizeof(*g));
    g->o = *o;
    g->l = l;
    g->cmd = cmd;
    g->blk = blk;
    snprintf(g->after, sizeof(g->after), "0");
}

static void group_cb(struct redis *c, struct resp_reply *reply, void *arg);

static void create_group(struct group *g)
{
    redis_cmd(g->cmd, group_cb, g, "XGROUP", "CREATE", g->o.key, g->o.group, "0", "MKSTREAM",
              (char *)NULL);
}

static long group_retry_cb(struct loop *l, void *arg)
{
    struct group *g = arg;

    (void)l;
    g->group_timer = 0;
    create_group(g); /* when the link is down, group_link sends it once it is up */
    return -1;
}

static void group_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct group *g = arg;

    (void)c;
    if (!reply || g->stopped)
        return; /* link lost: group_link sends it again */
    if (reply->type == RESP_ERROR && !resp_is_error(reply, "BUSYGROUP")) {
        if (!g->warned)
            log_warnx("XGROUP CREATE %s: %s; trying again every second", g->o.key, reply->str);
        g->warned = true;
        if (!g->group_timer)
            g->group_timer = loop_timer(g->l, 1000, group_retry_cb, g);
        return;
    }
    if (g->warned)
        log_info("group %s on %s is there; reading", g->o.group, g->o.key);
    g->warned = false;
    g->group_ok = true;
    g->history_done = false;
    snprintf(g->after, sizeof(g->after), "0");
    group_read(g);
}

static long read_retry_cb(struct loop *l, void *arg)
{
    struct group *g = arg;

    (void)l;
    g->read.timer = 0;
    group_read(g);
    return -1;
}

/* An error reply to a read: the group again after NOGROUP, the read again after a delay. */
static void read_error(struct group *g, const struct resp_reply *reply, const char *what)
{
    if (resp_is_error(reply, "NOGROUP")) {
        log_warnx("group %s on %s is gone; creating it again", g->o.group, g->o.key);
        g->group_ok = false;
        create_group(g); /* group_cb reads the pending entries again */
        return;
    }
    retry_error(&g->read, g->l, what, g->o.key, reply->str, read_retry_cb, g);
}

/* Entries of one stream out of an XREADGROUP reply: [[key, [entry...]]]. */
static const struct resp_reply *entries(const struct resp_reply *reply)
{
    return resp_at(resp_at(reply, 0), 1);
}

static void history_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct group *g = arg;
    const struct resp_reply *e = entries(reply), *last;

    (void)c;
    g->reading = false;
    if (!reply || g->stopped)
        return; /* link lost: group_link starts over */
    if (reply->type == RESP_ERROR) {
        read_error(g, reply, "reading the pending entries of");
        return;
    }
    retry_ok(&g->read);
    if (!e || !e->n) {
        g->history_done = true;
        if (g->o.caught_up)
            g->o.caught_up(g->o.arg);
        group_read(g);
        return;
    }
    for (size_t i = 0; i < e->n; i++)
        g->o.take(g->o.arg, &e->elem[i]);
    last = resp_at(&e->elem[e->n - 1], 0);
    if (last && last->type == RESP_BULK && last->len < sizeof(g->after))
        memcpy(g->after, last->str, last->len + 1);
    group_read(g);
}

static void new_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct group *g = arg;
    const struct resp_reply *e = entries(reply);

    (void)c;
    g->reading = false;
    if (!reply || g->stopped)
        return; /* link lost or timed out: group_link resumes */
    if (reply->type == RESP_ERROR) {
        read_error(g, reply, "reading");
        return;
    }
    retry_ok(&g->read);
    for (size_t i = 0; e && i < e->n; i++)
        g->o.take(g->o.arg, &e->elem[i]);
    if (g->o.taken)
        g->o.taken(g->o.arg);
    group_read(g);
}

void group_read(struct group *g)
{
    char count[24], block[24];
    size_t room;

    if (g->stopped || g->reading || g->read.timer || !g->group_ok)
        return;
    room = g->o.room(g->o.arg);
    if (!room)
        return;
    snprintf(count, sizeof(count), "%zu", room);
    if (!g->history_done) {
        const char *argv[] = {"XREADGROUP", "GROUP", g->o.group, g->o.consumer, "COUNT", count,
                              "STREAMS", g->o.key, g->after};
        g->reading = redis_cmdv(g->cmd, 0, history_cb, g, 9, argv, NULL) == 0;
    } else if (g->blk && redis_up(g->blk)) {
        const char *argv[] = {"XREADGROUP", "GROUP", g->o.group, g->o.consumer, "COUNT", count,
                              "BLOCK", block, "STREAMS", g->o.key, ">"};
        snprintf(block, sizeof(block), "%ld", g->o.block_ms);
        g->reading = redis_cmdv(g->blk, g->o.timeout_ms, new_cb, g, 11, argv, NULL) == 0;
    }
}

void group_link(struct group *g, const struct redis *c, bool up)
{
    if (!up || g->stopped)
        return; /* the read in flight, if any, fails by itself (reply NULL) */
    if (c == g->cmd)
        create_group(g);
    else if (c == g->blk)
        group_read(g);
}

void group_redis_state(struct redis *c, bool up, void *arg) { group_link(arg, c, up); }

void group_stop(struct group *g)
{
    g->stopped = true;
    if (g->group_timer)
        loop_timer_cancel(g->l, g->group_timer);
    if (g->read.timer)
        loop_timer_cancel(g->l, g->read.timer);
    g->group_timer = g->read.timer = 0;
    g->blk = NULL;
}
