/* SPDX-License-Identifier: MIT */
/*
 * WAIT, one at a time per connection. WAIT blocks its connection on the server until the
 * replicas acknowledge (or the timeout passes), so WAITs sent one after another would hold
 * every other command of the connection for as long as they all take: with a replica down,
 * a second per request. Instead the callers' requests are grouped: `cur` is covered by the
 * WAIT in flight (their writes went before it), `next` asked since and shares the next WAIT,
 * sent when the one in flight returns.
 */
#include "redis_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct waiter {
    redis_reply_fn *cb;
    void *arg;
};

struct wgroup {
    struct waiter *w;
    size_t n, cap;
};

struct redis_waits {
    struct wgroup cur, next;
    bool inflight;
};

static int push(struct wgroup *g, redis_reply_fn *cb, void *arg)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct waiter *w = orion_realloc(g->w, cap * sizeof(*w));
        if (!w)
            return -1;
        g->w = w;
        g->cap = cap;
    }
    g->w[g->n].cb = cb;
    g->w[g->n++].arg = arg;
    return 0;
}

static void wait_cb(struct redis *r, struct resp_reply *reply, void *arg);

static int send_wait(struct redis *r)
{
    char n[24], ms[24];
    const char *argv[] = {"WAIT", n, ms};
    long t = r->o.wait_timeout_ms > 0 ? r->o.wait_timeout_ms : 1000;

    snprintf(n, sizeof(n), "%ld", r->o.min_replicas);
    snprintf(ms, sizeof(ms), "%ld", t);
    /* the command timeout starts when WAIT is queued: the server's timeout plus the usual */
    if (redis_cmdv(r, t + r->o.cmd_timeout_ms, wait_cb, r->waits, 3, argv, NULL) < 0)
        return -1;
    r->waits->inflight = true;
    return 0;
}

/* The WAIT in flight returned: its group hears, the next group gets a WAIT of its own. When
 * that cannot be sent (the link is down: their writes are lost with it) they hear NULL now. */
static void wait_cb(struct redis *r, struct resp_reply *reply, void *arg)
{
    struct redis_waits *ws = arg;
    struct wgroup done = ws->cur, fail = {0};

    ws->inflight = false;
    ws->cur = ws->next;
    memset(&ws->next, 0, sizeof(ws->next));
    if (ws->cur.n && send_wait(r) < 0) {
        fail = ws->cur;
        memset(&ws->cur, 0, sizeof(ws->cur));
    }
    for (size_t i = 0; i < done.n; i++)
        done.w[i].cb(r, reply, done.w[i].arg);
    for (size_t i = 0; i < fail.n; i++)
        fail.w[i].cb(r, NULL, fail.w[i].arg);
    orion_free(done.w);
    orion_free(fail.w);
}

int redis_wait(struct redis *r, redis_reply_fn *cb, void *arg)
{
    struct redis_waits *ws;

    if (r->o.min_replicas <= 0) {
        errno = 0;
        return -1;
    }
    if (!redis_up(r)) {
        errno = ENOTCONN;
        return -1;
    }
    if (!r->waits && !(r->waits = orion_calloc(1, sizeof(*r->waits))))
        return -1;
    ws = r->waits;
    if (ws->inflight)
        return push(&ws->next, cb, arg);
    if (push(&ws->cur, cb, arg) < 0)
        return -1;
    if (send_wait(r) < 0) {
        ws->cur.n--;
        return -1;
    }
    return 0;
}

bool redis_replicated(const struct redis *r, const struct resp_reply *reply)
{
    return reply && reply->type == RESP_INT && reply->integer >= r->o.min_replicas;
}

long redis_min_replicas(const struct redis *r) { return r->o.min_replicas; }

void redis_wait_release(struct redis *r)
{
    if (!r->waits)
        return;
    orion_free(r->waits->cur.w);
    orion_free(r->waits->next.w);
    orion_free(r->waits);
    r->waits = NULL;
}
