/* SPDX-License-Identifier: MIT */
/*
 * P:events, read as they come: XREAD COUNT 16 BLOCK 1000 on a connection of its own, from the
 * last entry at the router's start (XREVRANGE ... COUNT 1) and on from the last one read, so a
 * lost link or a slow pass skips nothing the stream still holds. What each type does:
 *   routed    another router's move (not one of this router's flights): that node has one
 *             more of the others' requests in its stream.
 *   started   one of this router's flights started (route_note_started).
 *   done      counted (model, node, "ok"); this router's flight: ended with Ollama's figures
 *             (route_note_finished learns run and load times, the prompt-free run time, the
 *             prefill rate and whether the prompt was a cache hit); another router's: its node
 *             has one fewer of the others' requests, and the run and load times are learned.
 *   failed    counted (model, node, the code); a flight ended without an answer.
 * A batch that ended a flight or freed another router's slot is followed by one dispatch
 * (router_try_place), so a node that finishes gets its next request in the time of the
 * event's trip through Redis and one move.
 * Batches of 16 keep a reply (about 0.7 KiB parsed per event) within the block the Redis
 * client keeps for replies, whatever backlog a pause left; the next batch is asked for at once.
 */
#include "router_int.h"

#include "orion/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_BATCH "16"
#define EVENTS_BLOCK_MS "1000"
#define EVENTS_TIMEOUT_MS 6000 /* the command's own timeout, past its BLOCK */

/* ---- outcomes (/metrics, /stats) ----------------------------------------------------------- */

/* The offset of name in the router's label pool, added if new; -1 when the pool is full. */
static long label_offset(struct router *r, const char *name)
{
    size_t n = strlen(name) + 1, off = 0;

    while (off < r->labels_used) {
        const char *l = r->labels + off;
        size_t ln = strlen(l) + 1;
        if (ln == n && !memcmp(l, name, n))
            return (long)off;
        off += ln;
    }
    if (n > sizeof(r->labels) - r->labels_used)
        return -1;
    memcpy(r->labels + r->labels_used, name, n);
    r->labels_used += n;
    return (long)off;
}

static void copy_field(char *dst, size_t cap, struct contract_str v)
{
    size_t n = v.n < cap ? v.n : cap - 1;

    memcpy(dst, n ? v.p : "", n);
    dst[n] = '\0';
}

static void count_outcome(struct router *r, const struct entry_event *e, const char *code)
{
    char m[ORION_MODEL_MAX], nd[ORION_NODE_ID_MAX + 1];
    long om, on, oc;
    struct outcome *o;

    if (e->model.n >= sizeof(m) || e->node.n >= sizeof(nd) || strlen(code) >= 32) {
        r->outcomes_dropped++;
        return;
    }
    copy_field(m, sizeof(m), e->model);
    copy_field(nd, sizeof(nd), e->node);
    if ((om = label_offset(r, m)) < 0 || (on = label_offset(r, nd)) < 0 ||
        (oc = label_offset(r, code)) < 0) {
        r->outcomes_dropped++;
        return;
    }
    for (size_t i = 0; i < r->noutcomes; i++) {
        o = &r->outcomes[i];
        if (o->model == om && o->node == on && o->code == oc) {
            o->n++;
            return;
        }
    }
    if (r->noutcomes == GW_MAX_OUTCOMES) {
        r->outcomes_dropped++;
        return;
    }
    o = &r->outcomes[r->noutcomes++];
    o->model = (unsigned short)om;
    o->node = (unsigned short)on;
    o->code = (unsigned short)oc;
    o->n = 1;
}

static void note_recent(struct router *r, const struct entry_event *e, const char *outcome,
                        double now)
{
    struct gw_recent *x = &r->recent[r->recent_next];

    copy_field(x->request_id, sizeof(x->request_id), e->request_id);
    copy_field(x->model, sizeof(x->model), e->model);
    copy_field(x->node, sizeof(x->node), e->node);
    snprintf(x->outcome, sizeof(x->outcome), "%s", outcome);
    x->at = now;
    x->total_ms = e->total_duration >= 0 ? e->total_duration / 1000000 : -1;
    r->recent_next = (r->recent_next + 1) % GW_RECENT;
    if (r->nrecent < GW_RECENT)
        r->nrecent++;
}

void router_count_outcome(struct router *r, const struct entry_event *e, const char *code,
                          double now)
{
    count_outcome(r, e, code);
    note_recent(r, e, code, now);
}

/* ---- the events ----------------------------------------------------------------------------- */

static double ms(long long ns) { return ns < 0 ? -1 : (double)ns / 1e6; }

static void answer_of(const struct entry_event *e, struct route_answer *a)
{
    route_answer_init(a);
    a->total_ms = ms(e->total_duration);
    a->load_ms = ms(e->load_duration);
    a->prompt_ms = ms(e->prompt_eval_duration);
    a->eval_ms = ms(e->eval_duration);
    a->prompt_count = e->prompt_eval_count >= 0 ? (long)e->prompt_eval_count : -1;
    a->eval_count = e->eval_count >= 0 ? (long)e->eval_count : -1;
    a->cached_count = e->prompt_cached >= 0 ? (long)e->prompt_cached : -1;
}

/* Another router's request left node n's stream. */
static void others_done(struct rnode *n)
{
    if (n && n->others)
        n->others--;
}

/* One event; true when a slot may have come free (a dispatch is due). */
static bool take_event(struct router *r, const struct resp_reply *fields, double now)
{
    char node[ORION_NODE_ID_MAX + 1], model[ORION_MODEL_MAX + 1];
    struct entry_event e;
    struct route_answer a;
    struct rnode *n;
    struct rflight *f;
    unsigned long long id;
    size_t idx;
    bool mine;

    entry_event_read(fields, &e);
    router_bstats_event(r, &e); /* /stats: answers, latency, first token by node and model */
    if (entry_is(e.type, "failed") || entry_is(e.type, "done"))
        router_service_event(r, &e); /* admission's flights, the prompt estimator */
    if (!e.type.n || e.node.n >= sizeof(node) || e.model.n >= sizeof(model))
        return false;
    copy_field(node, sizeof(node), e.node);
    copy_field(model, sizeof(model), e.model);
    n = node[0] ? router_node(r, node, false) : NULL;
    idx = n ? (size_t)(n - r->nodes) : (size_t)-1;
    id = router_request_hash(e.request_id.p, e.request_id.n);
    f = rflights_find(&r->fl, id);
    mine = n && f && f->node == idx;
    if (entry_is(e.type, "routed")) {
        if (n && !mine)
            n->others++;
        return false;
    }
    if (entry_is(e.type, "started")) {
        if (mine)
            route_note_started(&r->st, n->id, id);
        return false;
    }
    if (entry_is(e.type, "failed")) {
        router_count_outcome(r, &e, e.code.n ? e.code.p : "error", now);
        if (!mine || !router_flight_end(r, idx, id, model, NULL, now))
            others_done(n);
        return n != NULL;
    }
    if (!entry_is(e.type, "done"))
        return false;
    router_count_outcome(r, &e, "ok", now);
    answer_of(&e, &a);
    if (mine && router_flight_end(r, idx, id, model, &a, now))
        return true;
    others_done(n);
    if (model[0] && a.total_ms >= 0 && a.load_ms >= 0 &&
        route_note_answer(&r->st, model, a.total_ms, a.load_ms, &r->rs, now) < 0)
        log_debug("event of %s: counters not usable", node);
    return n != NULL;
}

static void events_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const struct resp_reply *e = resp_at(resp_at(reply, 0), 1); /* [[key, [entry...]]] */
    double now = router_now(r);
    bool place = false;

    (void)c;
    r->ev_reading = false;
    if (!reply)
        return; /* link lost: the state callback reads again once it is back */
    if (reply->type == RESP_ERROR) {
        log_warnx("reading %s: %s; trying again", r->keys.events, reply->str);
        return; /* the tick sends it again */
    }
    for (size_t i = 0; e && i < e->n; i++) {
        const struct resp_reply *id = resp_at(&e->elem[i], 0);

        if (id && id->type == RESP_BULK && id->len < sizeof(r->events_after))
            memcpy(r->events_after, id->str, id->len + 1);
        place |= take_event(r, resp_at(&e->elem[i], 1), now);
    }
    router_events_read(r); /* first, so the next batch is on its way while this one is placed */
    if (place)
        router_try_place(r);
}

static void pos_cb(struct redis *c, struct resp_reply *reply, void *arg);

/* The next batch, or first where to start (the last entry now). */
void router_events_read(struct router *r)
{
    const char *argv[] = {"XREAD", "COUNT", EVENTS_BATCH, "BLOCK", EVENTS_BLOCK_MS, "STREAMS",
                          r->keys.events, r->events_after};
    const char *pos[] = {"XREVRANGE", r->keys.events, "+", "-", "COUNT", "1"};

    if (r->ev_reading || !r->ev || !redis_up(r->ev))
        return;
    if (!r->ev_have_pos)
        r->ev_reading = redis_cmdv(r->ev, 0, pos_cb, r, 6, pos, NULL) == 0;
    else
        r->ev_reading = redis_cmdv(r->ev, EVENTS_TIMEOUT_MS, events_cb, r, 8, argv, NULL) == 0;
}

static void pos_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const struct resp_reply *id = resp_at(resp_at(reply, 0), 0);

    (void)c;
    r->ev_reading = false;
    if (!reply || reply->type == RESP_ERROR)
        return; /* the state callback or the tick asks again */
    if (id && id->type == RESP_BULK && id->len < sizeof(r->events_after))
        memcpy(r->events_after, id->str, id->len + 1);
    else
        snprintf(r->events_after, sizeof(r->events_after), "0-0");
    r->ev_have_pos = true;
    router_events_read(r);
}

void router_events_state(struct redis *c, bool up, void *arg)
{
    struct router *r = arg;

    (void)c;
    r->ev_reading = false;
    if (up)
        router_events_read(r);
}
