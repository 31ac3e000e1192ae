/* SPDX-License-Identifier: MIT */
/*
 * The router's view of the nodes: every second one pipeline reads Redis TIME (whose clock
 * counts: see below), the health hash, P:drain and the length of every node stream. Then
 * hysteresis marks are updated, the work of silent nodes is moved away, and a dispatch runs.
 *
 * Clocks: a node's freshness is judged by when the router saw its last_seen value change,
 * on Redis's clock (TIME), not by comparing the node's own clock with ours. A node whose
 * clock is minutes off is still fresh while it reports, and stale when it stops. Only at the
 * first sight of a node (router start) is its last_seen taken at face value, capped at now.
 *
 * Work in a node's stream: this router's flights (rnode.mine, counted as it moves requests
 * and as the events end them: router_place.c, router_events.c) and the others' (requests
 * other routers, or an earlier run of this one, put there), which the core sees as the node's
 * inflight. The stream length only reconciles:
 *   others   XLEN less this router's flights sent before it and still open (begun_since
 *            counts those sent while it was in flight), less those that ended while it was in
 *            flight (their entries may or may not have been counted): the least it can be.
 *            Between readings routed events of other routers add one and their done or
 *            failed events take one away (router_events.c).
 *   missed   an XLEN below even the flights sent before it and still open, twice in a row,
 *            means an end the events did not show (a move lost with the link that never
 *            happened, a done event trimmed away): an XRANGE of the stream then ends every
 *            flight sent before it whose request is no longer there (only the answer script
 *            and a failover delete entries, so a request that left the stream has ended).
 *            Streams longer than SYNC_MAX entries are not read this way.
 * A silent node's flights end at once (route_note_finished without an answer), and its
 * stream's entries are moved elsewhere as before.
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
    }
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

#define SYNC_MAX 1000 /* entries of a stream read to find flights that left unheard */
#define STR_(x) #x
#define STR(x) STR_(x)

/* The node whose reply of this kind comes next (the replies come in the order sent). */
static struct rnode *next_pending(struct router *r, size_t *cursor, bool sync)
{
    for (; *cursor < r->nnodes; (*cursor)++) {
        struct rnode *n = &r->nodes[*cursor];
        bool *p = sync ? &n->sync_pending : &n->xlen_pending;
        if (*p) {
            *p = false;
            (*cursor)++;
            return n;
        }
    }
    return NULL;
}

static void xlen_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    struct rnode *n = next_pending(r, &r->xlen_cursor, false);
    unsigned long before, others;

    (void)c;
    if (!n || !reply || reply->type != RESP_INT)
        return;
    n->xlen = (long)reply->integer;
    /* flights sent before the XLEN and open now; those that ended meanwhile were counted
     * by it or not: others lies between xlen - before - ended_since and xlen - before */
    before = n->mine > n->begun_since ? (unsigned long)(n->mine - n->begun_since) : 0;
    others = (unsigned long)(n->xlen > 0 ? n->xlen : 0);
    others = others > before + n->ended_since ? others - before - n->ended_since : 0;
    n->others = others;
    n->short_runs = (unsigned long)n->xlen + n->ended_since < before ? n->short_runs + 1 : 0;
}

/* XRANGE reply of a stream: end this router's flights sent before it whose request is gone. */
static void sync_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    struct rnode *n = next_pending(r, &r->sync_cursor, true);
    unsigned long long *ids, *there = NULL;
    size_t k, m = 0, ended = 0;
    double now = router_now(r);

    (void)c;
    if (n && reply && reply->type == RESP_ERROR) { /* e.g. an ACL without +xrange */
        log_warnx("reading %s for requests that left it unheard: %s", n->stream, reply->str);
        n->short_runs = 0; /* asked again after two more short lengths, not every second */
        return;
    }
    if (!n || !reply || reply->type != RESP_ARRAY || reply->n >= SYNC_MAX)
        return; /* a stream longer than that: not read this way */
    k = rflights_of_node(&r->fl, (size_t)(n - r->nodes), n->sync_mark, NULL, 0);
    ids = orion_malloc((k + reply->n + 1) * sizeof(*ids));
    if (!ids)
        return;
    there = ids + k;
    rflights_of_node(&r->fl, (size_t)(n - r->nodes), n->sync_mark, ids, k);
    for (size_t i = 0; i < reply->n; i++) {
        const struct resp_reply *rid = resp_field(resp_at(&reply->elem[i], 1), "request_id");
        if (rid && rid->type == RESP_BULK)
            there[m++] = router_request_hash(rid->str, rid->len);
    }
    for (size_t i = 0; i < k; i++) {
        bool found = false;
        for (size_t j = 0; j < m && !found; j++)
            found = there[j] == ids[i];
        if (!found && router_flight_end(r, (size_t)(n - r->nodes), ids[i], "", NULL, now))
            ended++;
    }
    orion_free(ids);
    n->short_runs = 0;
    if (ended) {
        log_warnx("node %s: %zu request(s) left its stream unheard; counted as ended", n->id,
                  ended);
        router_try_place(r);
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

/* A silent or away node: every flight of this router there ends without an answer (its
 * requests come back with the failover's claim, to be moved elsewhere). */
static void end_flights(struct router *r, struct rnode *nd, double now)
{
    size_t idx = (size_t)(nd - r->nodes), k = rflights_of_node(&r->fl, idx, 0, NULL, 0);
    unsigned long long *ids = orion_malloc((k + 1) * sizeof(*ids));

    if (!ids)
        return; /* the next refresh tries again */
    k = rflights_of_node(&r->fl, idx, 0, ids, k);
    for (size_t i = 0; i < k; i++)
        router_flight_end(r, idx, ids[i], "", NULL, now);
    orion_free(ids);
    log_warnx("node %s is silent or away: its %zu request(s) in flight count as ended",
              nd->id, k);
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
    r->refreshing = false;
    if (!reply)
        return; /* the link went down meanwhile: what was read is not the whole picture */
    r->refresh_done_gen = r->refresh_gen;
    r->health_seen = true;
    n = router_route_nodes(r, nodes, map, ORION_ROUTE_MAX_NODES);
    route_state_update(&r->st, nodes, n, &r->rs, now);
    for (size_t i = 0; i < r->nnodes; i++) {
        struct rnode *nd = &r->nodes[i];
        bool gone = node_stale(r, nd, now) || node_away(nd);

        if (gone && nd->mine)
            end_flights(r, nd, now);
        if (nd->xlen <= 0 || nd->claiming)
            continue;
        if (gone)
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

/* Every second: TIME, HGETALL health and drain, XLEN of each node stream (an XRANGE where
 * flights may have ended unheard), then refresh_done. */
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
    router_cancel_poll(r);
    r->xlen_cursor = r->sync_cursor = 0;
    for (size_t i = 0; i < r->nnodes; i++) {
        struct rnode *n = &r->nodes[i];
        if (n->xlen_pending || n->sync_pending)
            continue; /* a reply of a refresh that did not finish is still due */
        n->xlen_mark = r->move_seq + 1;
        n->begun_since = n->ended_since = 0;
        n->xlen_pending = redis_cmd(r->cmd, xlen_cb, r, "XLEN", n->stream, (char *)NULL) == 0;
        if (n->short_runs < 2)
            continue;
        n->sync_mark = r->move_seq + 1;
        n->sync_pending = redis_cmd(r->cmd, sync_cb, r, "XRANGE", n->stream, "-", "+", "COUNT",
                                    STR(SYNC_MAX), (char *)NULL) == 0;
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
                        n->others); /* this router's own work is the core's queued */
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

    for (size_t k = 0; ns && n->mine + n->others > 0 && k < ns->nsent &&
                       v->nloading < ORION_ROUTE_MAX_SENT;
         k++)
        if (!ns->sent[k].seen && !ns->sent[k].unload && ns->sent[k].expires > now)
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
                       n->mine + n->others);
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
