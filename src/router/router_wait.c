/* SPDX-License-Identifier: MIT */
/*
 * The router's waiting list: the requests it holds until a node can take them, each a clone
 * of its stream entry, with an index by (source stream, entry id) so that a duplicate read or
 * a finished move finds its entry without a scan. Taking an entry in (router_hold) parses it:
 * a bad request or one moved away from dead nodes too often is answered here, once, with an
 * error, and acknowledged.
 */
#include "router_int.h"

#include "orion/entry.h"
#include "orion/log.h"
#include "orion/reqconv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int router_wait_pool_init(struct router *r)
{
    r->wait_pool = orion_malloc((size_t)ROUTER_WAIT_POOL * ROUTER_WAIT_SLOT);
    if (!r->wait_pool)
        return -1;
    memset(r->wait_pool, 0, (size_t)ROUTER_WAIT_POOL * ROUTER_WAIT_SLOT); /* resident now */
    for (size_t i = 0; i < ROUTER_WAIT_POOL; i++)
        r->wait_free[i] = (unsigned short)(ROUTER_WAIT_POOL - 1 - i);
    r->nwait_free = ROUTER_WAIT_POOL;
    return 0;
}

void router_wait_pool_release(struct router *r)
{
    orion_free(r->wait_pool);
    r->wait_pool = NULL;
    r->nwait_free = 0;
}

void router_waiting_free(struct router *r, struct waiting *w)
{
    if (!w)
        return;
    orion_free(w->model_res);
    w->model_res = NULL;
    if (w->pooled) {
        r->wait_free[r->nwait_free++] =
            (unsigned short)(((unsigned char *)w - r->wait_pool) / ROUTER_WAIT_SLOT);
        return;
    }
    resp_reply_free(w->fields);
    orion_free(w);
}

/* A held request and its fields in one pool slot when both fit and one is free (NULL when
 * not): head is the struct with its source name, rounded for the clone after it. */
static struct waiting *waiting_from_pool(struct router *r, const struct resp_reply *fields,
                                         size_t head)
{
    struct waiting *w;
    unsigned char *slot;

    head = (head + 15) & ~(size_t)15;
    if (!r->nwait_free || head + resp_reply_clone_size(fields) > ROUTER_WAIT_SLOT)
        return NULL;
    slot = r->wait_pool + (size_t)r->wait_free[r->nwait_free - 1] * ROUTER_WAIT_SLOT;
    memset(slot, 0, head);
    w = (struct waiting *)slot;
    w->fields = resp_reply_clone_in(fields, slot + head, ROUTER_WAIT_SLOT - head);
    if (!w->fields)
        return NULL;
    w->pooled = true;
    r->nwait_free--;
    return w;
}

/* FNV-1a over src, a NUL and id: the waiting index's key. */
static size_t waiting_hash(const char *src, const char *id)
{
    unsigned long h = 2166136261u;

    for (; *src; src++)
        h = (h ^ (unsigned char)*src) * 16777619u;
    h *= 16777619u;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return (size_t)(h ^ (h >> 15));
}

static struct waiting **waiting_slot(struct router *r, const struct waiting *w)
{
    return &r->wh[waiting_hash(w->src, w->entry_id) & (r->nwh - 1)];
}

/* Index w (already in r->w). The table doubles when it holds as many entries as heads; when
 * that fails the chains just get longer. -1 only when there is no table at all. */
static int waiting_index(struct router *r, struct waiting *w)
{
    struct waiting **slot;

    if (r->nw > r->nwh) {
        size_t n = r->nwh ? r->nwh * 2 : 256;
        struct waiting **nh = orion_calloc(n, sizeof(*nh));
        if (nh) {
            struct waiting **old = r->wh;
            size_t nold = r->nwh;
            r->wh = nh;
            r->nwh = n;
            for (size_t i = 0; i < nold; i++) {
                for (struct waiting *e = old[i], *next; e; e = next) {
                    next = e->hnext;
                    slot = waiting_slot(r, e);
                    e->hnext = *slot;
                    *slot = e;
                }
            }
            orion_free(old);
        } else if (!r->nwh) {
            return -1;
        }
    }
    slot = waiting_slot(r, w);
    w->hnext = *slot;
    *slot = w;
    return 0;
}

void router_waiting_drop(struct router *r, size_t i)
{
    struct waiting *w = r->w[i];

    if (r->nwh) {
        struct waiting **p = waiting_slot(r, w);
        while (*p && *p != w)
            p = &(*p)->hnext;
        if (*p)
            *p = w->hnext;
    }
    r->w[i] = r->w[--r->nw];
    r->w[i]->idx = i;
}

void router_waiting_remove(struct router *r, struct waiting *w)
{
    if (w->idx < r->nw && r->w[w->idx] == w) {
        router_waiting_drop(r, w->idx);
        router_waiting_free(r, w);
    }
}

static struct waiting *waiting_find(struct router *r, const char *src, const char *id)
{
    if (!r->nwh)
        return NULL;
    for (struct waiting *w = r->wh[waiting_hash(src, id) & (r->nwh - 1)]; w; w = w->hnext)
        if (!strcmp(w->entry_id, id) && !strcmp(w->src, src))
            return w;
    return NULL;
}

/* An error answer through the one-answer script: written once, source entry acknowledged. */
void router_answer_error(struct router *r, const struct contract_request *req, const char *src,
                         const char *group, const char *code, bool retriable, const char *msg)
{
    router_answer_error_ex(r, req, src, group, code, retriable, msg, NULL, 0);
}

void router_answer_error_ex(struct router *r, const struct contract_request *req,
                            const char *src, const char *group, const char *code, bool retriable,
                            const char *msg, const char *details, long retry_after_ms)
{
    struct contract_str id = contract_request_id(req), none = {NULL, 0};
    struct resp_cmd c;

    resp_cmd_init(&c);
    entry_answer_begin(&c, &r->keys, req, src, group, NULL);
    entry_answer_error(&c, code, retriable, msg, none);
    entry_answer_error_more(&c, details, retry_after_ms);
    if (resp_cmd_finish(&c) < 0 ||
        redis_cmdv(r->cmd, 0, NULL, NULL, c.argc, c.argv, c.len) < 0)
        log_warnx("request %.*s: could not answer '%s' now; it stays pending", (int)id.n, id.p,
                  code);
    resp_cmd_release(&c);
}

static double entry_time(const char *id)
{
    return strtod(id, NULL) / 1000.0; /* "1795377295276-0": ms when XADD ran (Redis clock) */
}

/* Keep-alive the router assumes for its residency record: the entry's, else the worker's
 * default --keep-alive (10 m). */
static double keep_alive_s(const struct contract_request *q)
{
    const char *p = q->keep_alive.p;
    char *end;
    double v;

    if (!p)
        return 600;
    v = strtod(p, &end);
    if (end == p)
        return 600;
    switch (*end) {
    case 'h':
        return v * 3600;
    case 'm':
        return end[1] == 's' ? v / 1000 : v * 60;
    default:
        return v; /* a number or "300s" */
    }
}

unsigned long long router_request_hash(const char *id, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
    return h;
}

/* What the routing core reads of a held request (route.h struct route_request). */
static void route_fields(struct router *r, struct waiting *w, bool failed_over, double now)
{
    struct contract_str rid = contract_request_id(&w->req);

    w->rreq.model = w->req.model.p; /* bulk strings of the clone are NUL-terminated */
    w->rreq.priority = r->fifo                ? 2 /* arrival order only */
                       : w->req.has_priority ? w->req.priority
                       : r->rc->default_priority ? (int)r->rc->default_priority
                                                 : 2;
    w->rreq.node = w->req.node.p; /* NUL-terminated too */
    w->rreq.arrived = failed_over ? now : entry_time(w->entry_id);
    w->rreq.id = router_request_hash(rid.p, rid.n);
    w->rreq.keep_alive_s = keep_alive_s(&w->req);
    /* policy random's draw: the id's hash mixed with the clock's milliseconds */
    w->rreq.rnd = (unsigned long)((w->rreq.id ^ (unsigned long long)loop_wall_ms()) *
                                  0x9e3779b97f4a7c15ULL >> 17);
    route_conv_init(&w->conv);
    if (reqconv_build(&w->req, &w->conv) == 0)
        w->rreq.conv = &w->conv; /* else routed as if it had no conversation */
    w->deadline = (failed_over ? now : w->rreq.arrived) +
                  (w->req.timeout_ms ? (double)w->req.timeout_ms / 1000.0
                                     : (double)r->rc->queue_timeout);
}

/* Put the deadletter copy and answer the error: the request failed over too often. */
static void deadletter(struct router *r, const struct resp_reply *fields, struct contract_request *req,
                       const char *src, const char *group)
{
    struct entry_argv a;

    entry_deadletter(&a, &r->keys, fields);
    redis_cmdv(r->cmd, 0, NULL, NULL, a.argc, a.argv, a.len);
    r->cnt.deadletter++;
    router_answer_error(r, req, src, group, "failed_over_too_often", false,
                        "the request was moved away from unresponsive nodes 3 times");
}

/*
 * Take one stream entry ([id, fields]) into the waiting list. attempt_bump: 0 for a new
 * request, 1 for one taken from a dead node's stream. Returns 0 (held, answered or skipped).
 */
int router_hold(struct router *r, const struct resp_reply *entry, const char *src,
                const char *group, int attempt_bump)
{
    const struct resp_reply *id = resp_at(entry, 0), *fields = resp_at(entry, 1);
    struct waiting *w;
    char err[200];
    double now = router_now(r);
    size_t srclen;

    if (!id || id->type != RESP_BULK || id->len >= sizeof(w->entry_id))
        return 0;
    if (!fields || fields->type != RESP_ARRAY) { /* deleted while pending: nothing to run */
        redis_cmd(r->cmd, NULL, NULL, "XACK", src, group, id->str, (char *)NULL);
        return 0;
    }
    if (waiting_find(r, src, id->str))
        return 0;
    srclen = strlen(src) < CONTRACT_KEY_MAX ? strlen(src) : CONTRACT_KEY_MAX - 1;
    w = waiting_from_pool(r, fields, sizeof(*w) + srclen + 1);
    if (!w) {
        w = orion_calloc(1, sizeof(*w) + srclen + 1);
        if (!w || !(w->fields = resp_reply_clone(fields))) {
            router_waiting_free(r, w);
            return -1; /* stays pending: read again later */
        }
    }
    snprintf(w->entry_id, sizeof(w->entry_id), "%s", id->str);
    memcpy(w->src, src, srclen);
    w->src[srclen] = '\0';
    w->group = group;
    if (contract_request_parse(w->fields, w->entry_id, &w->req, err, sizeof(err)) < 0) {
        struct contract_str rid = contract_request_id(&w->req);
        log_warnx("request %.*s: bad request: %s", (int)rid.n, rid.p, err);
        r->cnt.bad++;
        router_answer_error(r, &w->req, src, group, "bad_request", false, err);
        router_waiting_free(r, w);
        return 0;
    }
    if (!attempt_bump && !strcmp(src, r->keys.requests) &&
        router_orch_take(r, id, fields, &w->req)) { /* run as steps, not placed */
        router_waiting_free(r, w);
        return 0;
    }
    w->attempt = (w->req.attempt > 0 ? w->req.attempt : 0) + 1;
    if (attempt_bump) { /* it runs nowhere until it is moved again */
        struct contract_str rid = contract_request_id(&w->req);
        admit_flight_done(&r->flights, rid.p, rid.n);
    }
    if (!attempt_bump && r->g.history_done && !strcmp(src, r->keys.requests) &&
        !router_admit(r, w)) {
        router_waiting_free(r, w);
        return 0;
    }
    if (attempt_bump && w->attempt > CONTRACT_MAX_ATTEMPTS) {
        deadletter(r, w->fields, &w->req, src, group);
        router_waiting_free(r, w);
        return 0;
    }
    route_fields(r, w, attempt_bump != 0, now);
    if (r->nw == r->capw) {
        size_t ncap = r->capw ? r->capw * 2 : 64;
        struct waiting **nw = orion_realloc(r->w, ncap * sizeof(*nw));
        if (!nw) {
            router_waiting_free(r, w);
            return -1;
        }
        r->w = nw;
        r->capw = ncap;
    }
    w->idx = r->nw;
    r->w[r->nw++] = w;
    if (waiting_index(r, w) < 0) {
        r->nw--;
        router_waiting_free(r, w);
        return -1;
    }
    if (r->nw > r->cnt.waiting_peak)
        r->cnt.waiting_peak = r->nw;
    return 0;
}

bool router_cancel(void *arg, const char *request_id)
{
    struct router *r = arg;

    for (size_t i = 0; i < r->nw; i++) {
        struct waiting *w = r->w[i];
        struct contract_str rid = contract_request_id(&w->req);

        if (w->moving || !entry_is(rid, request_id))
            continue;
        router_answer_error(r, &w->req, w->src, w->group, "canceled", false,
                            "the request was canceled by its caller");
        router_waiting_drop(r, i);
        router_waiting_free(r, w);
        return true;
    }
    return router_orch_cancel(r, request_id);
}

static void cancel_poll_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const char *id = buf_data(&r->cancel_ids);

    (void)c;
    r->cancel_polling = false;
    for (size_t i = 0; reply && reply->type == RESP_ARRAY && i < reply->n; i++) {
        if (reply->elem[i].type == RESP_BULK && router_cancel(r, id)) /* nil: not canceled */
            log_info("request %s: canceled by its caller while waiting", id);
        id += strlen(id) + 1;
    }
    buf_reset(&r->cancel_ids);
}

void router_cancel_poll(struct router *r)
{
    struct resp_cmd c;
    char key[CONTRACT_KEY_MAX];
    size_t k = 0, start;

    if (r->cancel_polling || !r->nw || !redis_up(r->cmd))
        return;
    start = r->cancel_next < r->nw ? r->cancel_next : 0;
    buf_reset(&r->cancel_ids);
    resp_cmd_init(&c);
    resp_cmd_adds(&c, "MGET");
    for (; k < r->nw && k < ROUTER_CANCEL_BATCH; k++) {
        const struct waiting *w = r->w[(start + k) % r->nw];
        struct contract_str id = contract_request_id(&w->req);

        if (contract_cancel_key(&r->keys, id.p, id.n, key, sizeof(key)) < 0 ||
            buf_append(&r->cancel_ids, id.p, id.n) < 0 || buf_putc(&r->cancel_ids, '\0') < 0)
            break;
        resp_cmd_adds(&c, key);
    }
    r->cancel_next = start + k;
    if (c.argc > 1 && resp_cmd_finish(&c) == 0 &&
        redis_cmdv(r->cmd, 0, cancel_poll_cb, r, c.argc, c.argv, c.len) == 0)
        r->cancel_polling = true;
    resp_cmd_release(&c);
}
