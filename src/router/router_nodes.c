/* SPDX-License-Identifier: MIT */
/*
 * The router's view of the nodes: every second one pipeline reads Redis TIME (whose clock
 * counts: see below), the health hash and the length of every node stream. Then hysteresis
 * marks are updated, the work of silent nodes is moved away, and waiting requests are placed.
 *
 * Clocks: a node's freshness is judged by when the router saw its last_seen value change,
 * on Redis's clock (TIME), not by comparing the node's own clock with ours. A node whose
 * clock is minutes off is still fresh while it reports, and stale when it stops. Only at the
 * first sight of a node (router start) is its last_seen taken at face value, capped at now.
 */
#include "router_int.h"

#include "orion/entry.h"
#include "orion/log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILOVER_MIN_IDLE "5000" /* ms: an entry another router claimed a moment ago is left */

struct rnode *router_node(struct router *r, const char *id, bool create)
{
    struct rnode *n;

    for (size_t i = 0; i < r->nnodes; i++)
        if (!strcmp(r->nodes[i].id, id))
            return &r->nodes[i];
    if (!create || strlen(id) > ORION_NODE_ID_MAX || !*id)
        return NULL;
    if (r->nnodes == r->capnodes) {
        size_t ncap = r->capnodes ? r->capnodes * 2 : 16;
        struct rnode *nn = orion_realloc(r->nodes, ncap * sizeof(*nn));
        if (!nn)
            return NULL;
        r->nodes = nn;
        r->capnodes = ncap;
    }
    n = &r->nodes[r->nnodes];
    memset(n, 0, sizeof(*n));
    snprintf(n->id, sizeof(n->id), "%s", id);
    if (contract_node_stream(&r->keys, id, n->stream, sizeof(n->stream)) < 0)
        return NULL;
    health_init(&n->h);
    r->nnodes++;
    return n;
}

void router_nodes_release(struct router *r)
{
    for (size_t i = 0; i < r->nnodes; i++) {
        health_release(&r->nodes[i].h);
        modelinfo_release(&r->nodes[i].mi);
    }
    orion_free(r->snap);
    r->snap = NULL;
    r->capsnap = 0;
    orion_free(r->nodes);
    r->nodes = NULL;
    r->nnodes = r->capnodes = 0;
}

static void time_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const struct resp_reply *s = resp_at(reply, 0), *us = resp_at(reply, 1);

    (void)c;
    if (s && us && s->type == RESP_BULK && us->type == RESP_BULK) {
        double redis_now = strtod(s->str, NULL) + strtod(us->str, NULL) / 1e6;
        r->clock_offset = redis_now - (double)loop_wall_ms() / 1000.0;
        if (!r->events_after[0]) /* learn from answers that come from now on */
            snprintf(r->events_after, sizeof(r->events_after), "%s000-0", s->str);
    }
}

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

static void count_outcome(struct router *r, const struct entry_event *e, const char *code)
{
    char m[ORION_MODEL_MAX], nd[ORION_NODE_ID_MAX + 1];
    long om, on, oc;
    struct outcome *o;

    if (e->model.n >= sizeof(m) || e->node.n >= sizeof(nd) || strlen(code) >= 32) {
        r->outcomes_dropped++;
        return;
    }
    memcpy(m, e->model.p, e->model.n);
    m[e->model.n] = '\0';
    memcpy(nd, e->node.p, e->node.n);
    nd[e->node.n] = '\0';
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

static void copy_field(char *dst, size_t cap, struct contract_str v)
{
    size_t n = v.n < cap ? v.n : cap - 1;

    memcpy(dst, n ? v.p : "", n);
    dst[n] = '\0';
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

/* The workers' done and failed events: counted by model, node and outcome; the done events
 * also carry Ollama's total_duration and load_duration (ns), from which route.c learns each
 * model's run time and cold load time. */
/* Events are read EVENTS_BATCH at a time, the next batch at once while batches come full, so
 * that a reply (about 0.7 KiB parsed per event) always fits the block the Redis client keeps
 * for replies, whatever backlog a pause left. */
#define EVENTS_BATCH 16

static void events_cb(struct redis *c, struct resp_reply *reply, void *arg);

static void read_events(struct router *r)
{
    char count[8];

    snprintf(count, sizeof(count), "%d", EVENTS_BATCH);
    redis_cmd(r->cmd, events_cb, r, "XREAD", "COUNT", count, "STREAMS", r->keys.events,
              r->events_after, (char *)NULL);
}

static void events_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const struct resp_reply *e = resp_at(resp_at(reply, 0), 1); /* [[key, [entry...]]] */
    double now = router_now(r);
    char before[sizeof(r->events_after)];

    (void)c;
    memcpy(before, r->events_after, sizeof(before));
    for (size_t i = 0; e && i < e->n; i++) {
        const struct resp_reply *id = resp_at(&e->elem[i], 0);
        struct entry_event ev;

        if (id && id->type == RESP_BULK && id->len < sizeof(r->events_after))
            memcpy(r->events_after, id->str, id->len + 1);
        entry_event_read(resp_at(&e->elem[i], 1), &ev);
        router_bstats_event(r, &ev);
        if (entry_is(ev.type, "failed") || entry_is(ev.type, "done"))
            router_service_event(r, &ev);
        if (entry_is(ev.type, "failed")) {
            const char *why = ev.code.n ? ev.code.p : "error";

            count_outcome(r, &ev, why);
            note_recent(r, &ev, why, now);
        }
        if (!entry_is(ev.type, "done"))
            continue;
        count_outcome(r, &ev, "ok");
        note_recent(r, &ev, "ok", now);
        if (!ev.model.n || ev.total_duration < 0 || ev.load_duration < 0)
            continue;
        if (route_note_answer(&r->st, ev.model.p, (double)ev.total_duration / 1e6,
                              (double)ev.load_duration / 1e6, &r->rs, now) < 0)
            log_debug("event %s: counters not usable", id ? id->str : "?");
    }
    if (e && e->n >= EVENTS_BATCH && strcmp(before, r->events_after)) /* more may be waiting */
        read_events(r);
}

static void update_node(struct router *r, const struct resp_reply *k, const struct resp_reply *v,
                        double now)
{
    struct health h;
    struct rnode *n;
    char err[200];

    if (k->type != RESP_BULK || v->type != RESP_BULK)
        return;
    health_init(&h);
    n = router_node(r, k->str, true);
    if (!n)
        return;
    if (health_from_json(&h, v->str, v->len, err, sizeof(err)) < 0) {
        if (!n->bad_health) /* one line per node until it parses again */
            log_warnx("health of node '%s' skipped: %s", n->id, err);
        n->bad_health = true;
        health_release(&h);
        return;
    }
    if (n->bad_health)
        log_info("health of node '%s' readable again", n->id);
    n->bad_health = false;
    n->observed = node_seen(n->observed, n->last_seen, (double)h.last_seen, now,
                            !n->has_health && !n->observed);
    n->last_seen = (double)h.last_seen;
    health_release(&n->h);
    n->h = h;
    n->has_health = true;
    router_models_check(r, n);
}

static void hgetall_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    double now = router_now(r);

    (void)c;
    if (!reply || reply->type != RESP_ARRAY)
        return;
    for (size_t i = 0; i < r->nnodes; i++)
        r->nodes[i].has_health = false;
    for (size_t i = 0; i + 1 < reply->n; i += 2)
        update_node(r, &reply->elem[i], &reply->elem[i + 1], now);
    r->health_seen = true;
}

static void drain_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;

    (void)c;
    if (!reply || reply->type != RESP_ARRAY)
        return;
    for (size_t i = 0; i < r->nnodes; i++)
        r->nodes[i].drained = resp_field(reply, r->nodes[i].id) != NULL;
}

struct node_ctx {
    struct router *r;
    char id[ORION_NODE_ID_MAX + 1];
};

static struct node_ctx *node_ctx(struct router *r, const char *id)
{
    struct node_ctx *x = orion_malloc(sizeof(*x));

    if (x) {
        x->r = r;
        snprintf(x->id, sizeof(x->id), "%s", id);
    }
    return x;
}

/* The XLENs of one refresh: their node ids, in the order sent, in r->xlen_ids; replies (or
 * the NULLs of a lost link) come back in that order, so each callback takes the next id and
 * nothing is left to free when the router stops with some in flight. */
static void xlen_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const char *id = buf_data(&r->xlen_ids) + r->xlen_next;
    struct rnode *n;
    struct route_node_state *ns;

    (void)c;
    if (r->xlen_next >= buf_size(&r->xlen_ids))
        return;
    r->xlen_next += strlen(id) + 1;
    n = router_node(r, id, false);
    if (n && reply && reply->type == RESP_INT) {
        n->xlen = (long)reply->integer;
        ns = route_state_find(&r->st, n->id);
        if (ns)
            ns->queued = 0; /* the stream length now counts what this router sent */
    }
}

static void claim_entries(struct router *r, struct rnode *n, const struct resp_reply *e)
{
    size_t moved = 0;

    for (size_t i = 0; e && i < e->n; i++)
        if (router_hold(r, &e->elem[i], n->stream, CONTRACT_GROUP_WORKERS, 1) == 0)
            moved++;
    if (moved)
        log_warnx("node %s takes no more work (silent, stopping, or its Ollama away): moving "
                  "%zu request(s) to other nodes",
                  n->id, moved);
}

static void unread_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct node_ctx *x = arg;
    struct rnode *n = router_node(x->r, x->id, false);

    (void)c;
    if (n) {
        claim_entries(x->r, n, resp_at(resp_at(reply, 0), 1));
        n->claiming = false;
        router_try_place(x->r);
    }
    orion_free(x);
}

static void autoclaim_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct node_ctx *x = arg;
    struct rnode *n = router_node(x->r, x->id, false);
    const char *argv[] = {"XREADGROUP", "GROUP", CONTRACT_GROUP_WORKERS, x->r->me, "COUNT",
                          "100", "STREAMS", n ? n->stream : "", ">"};

    if (!n) {
        orion_free(x);
        return;
    }
    claim_entries(x->r, n, resp_at(reply, 1));
    /* then what the dead worker never read */
    if (redis_cmdv(c, 0, unread_cb, x, 9, argv, NULL) < 0) {
        n->claiming = false;
        orion_free(x);
    }
}

/* A silent node with work in its stream: claim its pending entries and read its unread ones,
 * as consumer `me` of its group; router_hold() then moves each elsewhere (attempt + 1). A
 * stopping node (claim false) keeps what it runs: only its unread entries are taken. */
static void failover(struct router *r, struct rnode *n, bool claim)
{
    struct node_ctx *x = node_ctx(r, n->id);
    const char *unread[] = {"XREADGROUP", "GROUP", CONTRACT_GROUP_WORKERS, r->me, "COUNT",
                            "100", "STREAMS", n->stream, ">"};
    int rc;

    if (!x)
        return;
    redis_cmd(r->cmd, NULL, NULL, "XGROUP", "CREATE", n->stream, CONTRACT_GROUP_WORKERS,
              "0", "MKSTREAM", (char *)NULL);
    rc = claim ? redis_cmd(r->cmd, autoclaim_cb, x, "XAUTOCLAIM", n->stream,
                           CONTRACT_GROUP_WORKERS, r->me, FAILOVER_MIN_IDLE, "0-0", "COUNT",
                           "100", (char *)NULL)
               : redis_cmdv(r->cmd, 0, unread_cb, x, 9, unread, NULL);
    if (rc < 0) {
        orion_free(x);
        return;
    }
    n->claiming = true;
}

static bool node_stale(const struct router *r, const struct rnode *n, double now)
{
    return !n->has_health || now - n->observed > (double)r->rc->stale_after;
}

/* Its health says it takes nothing and cannot reach its Ollama (a URL backend whose probe
 * failed): the work waiting in its stream goes elsewhere, as a silent node's does. */
static bool node_away(const struct rnode *n)
{
    return n->has_health && !n->h.available && n->h.has_ollama_up && !n->h.ollama_up;
}

/* It is stopping (a worker on SIGTERM, a URL backend deregistered): it finishes what it
 * runs and reads nothing more, so what waits unread in its stream goes elsewhere now. */
static bool node_leaving(const struct rnode *n)
{
    return n->has_health && !n->h.available && n->h.draining;
}

static void refresh_done(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    struct route_node *nodes = r->view;
    struct rnode **map = r->view_map;
    double now = router_now(r);
    size_t n;

    (void)c;
    (void)reply;
    r->refreshing = false;
    r->refresh_done_gen = r->refresh_gen;
    n = router_route_nodes(r, nodes, map, ORION_ROUTE_MAX_NODES);
    route_state_update(&r->st, nodes, n, &r->rs, now);
    for (size_t i = 0; i < r->nnodes; i++) {
        struct rnode *nd = &r->nodes[i];
        if (nd->xlen <= 0 || nd->claiming)
            continue;
        if (node_stale(r, nd, now) || node_away(nd))
            failover(r, nd, true);
        else if (node_leaving(nd))
            failover(r, nd, false);
    }
    router_bstats_settle(r);
    router_flights_refresh(r, now);
    router_preload_tick(r, now);
    router_try_place(r);
}

static void scan_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const struct resp_reply *cur = resp_at(reply, 0), *keys = resp_at(reply, 1);
    size_t plen = strlen(r->keys.requests) + 1;

    for (size_t i = 0; keys && i < keys->n; i++) {
        const struct resp_reply *k = &keys->elem[i];
        if (k->type == RESP_BULK && k->len > plen && !memchr(k->str + plen, ':', k->len - plen))
            router_node(r, k->str + plen, true);
    }
    if (cur && cur->type == RESP_BULK && strcmp(cur->str, "0")) {
        char match[CONTRACT_KEY_MAX + 2];
        snprintf(match, sizeof(match), "%s:*", r->keys.requests);
        redis_cmd(c, scan_cb, r, "SCAN", cur->str, "MATCH", match, "COUNT", "1000", (char *)NULL);
    }
}

/* Every second: TIME, HGETALL health, XLEN of each node stream, then refresh_done. */
long router_refresh_cb(struct loop *l, void *arg)
{
    struct router *r = arg;

    (void)l;
    if (!redis_up(r->cmd) || r->refreshing)
        return 1000;
    if (++r->ticks % 30 == 0) /* look for node streams again every 30 s */
        r->scanned = false;
    if (!r->scanned) { /* learn node streams that exist although no health names them */
        char match[CONTRACT_KEY_MAX + 2];
        snprintf(match, sizeof(match), "%s:*", r->keys.requests);
        if (redis_cmd(r->cmd, scan_cb, r, "SCAN", "0", "MATCH", match, "COUNT", "1000",
                      (char *)NULL) == 0)
            r->scanned = true;
    }
    redis_cmd(r->cmd, time_cb, r, "TIME", (char *)NULL);
    redis_cmd(r->cmd, hgetall_cb, r, "HGETALL", r->keys.health, (char *)NULL);
    redis_cmd(r->cmd, drain_cb, r, "HGETALL", r->keys.drain, (char *)NULL);
    if (r->events_after[0])
        read_events(r);
    router_cancel_poll(r);
    buf_reset(&r->xlen_ids);
    r->xlen_next = 0;
    for (size_t i = 0; i < r->nnodes; i++) {
        size_t at = buf_size(&r->xlen_ids);
        if (buf_append(&r->xlen_ids, r->nodes[i].id, strlen(r->nodes[i].id) + 1) < 0)
            break;
        if (redis_cmd(r->cmd, xlen_cb, r, "XLEN", r->nodes[i].stream, (char *)NULL) < 0)
            r->xlen_ids.len = r->xlen_ids.off + at; /* not sent: no reply will take it */
    }
    if (redis_cmd(r->cmd, refresh_done, r, "PING", (char *)NULL) == 0) {
        r->refreshing = true;
        r->refresh_gen++;
    }
    return 1000;
}

/* The route_node view of every node the router knows (health or not: a node without health
 * is stale and shows why). Strings point into each node's health record. */
size_t router_route_nodes(struct router *r, struct route_node *out, struct rnode **map,
                          size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < r->nnodes && k < max; i++) {
        struct rnode *n = &r->nodes[i];

        node_route_view(&out[k], n->id, n->has_health ? &n->h : NULL, n->drained, n->observed,
                        n->xlen > 0 ? (unsigned long)n->xlen : 0);
        map[k++] = n;
    }
    return k;
}

/* The models this router sent to the node that its health has not shown loaded since, while
 * work routed there is unfinished. */
static void loading(const struct router *r, const struct rnode *n, struct node_view *v,
                    double now)
{
    const struct route_node_state *ns = route_state_find(&r->st, n->id);

    for (size_t k = 0; ns && n->xlen > 0 && k < ns->nsent && v->nloading < ORION_ROUTE_MAX_SENT;
         k++)
        if (!ns->sent[k].seen && ns->sent[k].expires > now)
            v->loading[v->nloading++] = ns->sent[k].model;
}

size_t router_snapshot(void *arg, const struct node_view **out, double *now)
{
    struct router *r = arg;

    *now = router_now(r);
    if (r->nnodes > r->capsnap) {
        struct node_view *v = orion_realloc(r->snap, r->nnodes * sizeof(*v));
        if (!v) {
            *out = r->snap;
            return 0; /* no memory: no node shown this time */
        }
        r->snap = v;
        r->capsnap = r->nnodes;
    }
    for (size_t i = 0; i < r->nnodes; i++) {
        struct rnode *n = &r->nodes[i];
        struct node_view *v = &r->snap[i];

        node_view_init(v, n->id, n->has_health ? &n->h : NULL, n->drained, n->observed,
                       n->xlen > 0 ? (unsigned long)n->xlen : 0);
        node_view_judge(v, &r->rs, &r->st, *now);
        v->mi = &n->mi;
        loading(r, n, v, *now);
        v->has_counts = true;
        v->counts[0] = n->cnt.routed;
        for (int k = 0; k < K_NKINDS; k++)
            v->counts[1 + k] = n->cnt.kind[k];
    }
    *out = r->snap;
    return r->nnodes;
}

void router_stats(void *arg, struct gw_stats *st)
{
    const struct router *r = arg;

    memset(st, 0, offsetof(struct gw_stats, outcome));
    st->routed = r->cnt.routed;
    for (int k = 0; k < GW_NKINDS && k < K_NKINDS; k++)
        st->kind[k] = r->cnt.kind[k];
    st->timeouts = r->cnt.timeouts;
    st->failovers = r->cnt.failovers;
    st->deadletter = r->cnt.deadletter;
    st->bad = r->cnt.bad;
    st->waiting_peak = r->cnt.waiting_peak;
    st->queue_depth = r->nw;
    st->noutcomes = r->noutcomes;
    for (size_t i = 0; i < r->noutcomes; i++) {
        st->outcome[i].model = OUTCOME_LABEL(r, r->outcomes[i].model);
        st->outcome[i].node = OUTCOME_LABEL(r, r->outcomes[i].node);
        st->outcome[i].outcome = OUTCOME_LABEL(r, r->outcomes[i].code);
        st->outcome[i].n = r->outcomes[i].n;
    }
    st->outcomes_dropped = r->outcomes_dropped;
    st->nrecent = r->nrecent;
    for (size_t i = 0; i < r->nrecent; i++) /* newest first */
        st->recent[i] = r->recent[(r->recent_next + GW_RECENT - 1 - i) % GW_RECENT];
    router_bstats_copy(r, st);
}
