/* SPDX-License-Identifier: MIT */
/*
 * The router's request side: read P:requests (group inference-router), hold what cannot be
 * placed yet, place it with route_pick(), move it to the node's stream in one MULTI/EXEC, and
 * answer what passes its deadline. Health and failover are in router_nodes.c, the waiting
 * list and the taking in of entries in router_wait.c.
 *
 * Nothing is acknowledged before it is somewhere else: a held request stays pending in the
 * group, so after a crash the next start reads it back with XREADGROUP ... 0. Held requests
 * are re-claimed every takeover_ms / 3, at most every 10 s (XCLAIM JUSTID resets their idle
 * time), and a router takes over entries idle longer than --takeover-ms: those belong to a
 * router that died.
 */
#include "router_int.h"

#include "../front/gateway.h"
#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/notify.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void read_history(struct router *r);
static void read_new(struct router *r);

double router_now(const struct router *r) { return (double)loop_wall_ms() / 1000.0 + r->clock_offset; }

struct move_ctx {
    struct router *r;
    struct waiting *w;
    char node[ORION_NODE_ID_MAX + 1];
    enum route_kind kind;
};

static void move_end(struct redis *c, struct resp_reply *reply, bool moved, void *arg);

/* --redis-min-replicas: a move counts once WAIT says the replicas have it. One that did not
 * reach them in time stands on the master all the same (it is one MULTI/EXEC: a failover
 * loses all of it or none), so it is counted and said. */
static void move_replicated(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct move_ctx *m = arg;

    if (reply && !redis_replicated(c, reply))
        log_warnx("request %s moved to %s, but not yet on %ld replica(s): %s", m->w->entry_id,
                  m->node, redis_min_replicas(c),
                  reply->type == RESP_ERROR ? reply->str : "WAIT timed out");
    move_end(c, reply, reply != NULL, arg);
}

static void move_done(struct redis *c, struct resp_reply *reply, void *arg)
{
    bool moved = reply && reply->type == RESP_ARRAY && reply->n >= 1 &&
                 reply->elem[0].type == RESP_BULK;

    if (moved && redis_wait(c, move_replicated, arg) == 0)
        return;
    move_end(c, reply, moved, arg);
}

static void move_end(struct redis *c, struct resp_reply *reply, bool moved, void *arg)
{
    struct move_ctx *m = arg;
    struct router *r = m->r;
    struct rnode *n;

    if (moved) {
        struct contract_str id = contract_request_id(&m->w->req);
        log_debug("request %.*s -> %s (%s, attempt %d)", (int)id.n, id.p, m->node,
                  route_kind_name(m->kind), m->w->attempt);
        r->cnt.routed++;
        if ((int)m->kind < K_NKINDS)
            r->cnt.kind[m->kind]++;
        if (m->w->attempt > 1)
            r->cnt.failovers++;
        n = router_node(r, m->node, false);
        if (n) {
            n->cnt.routed++;
            if ((int)m->kind < K_NKINDS)
                n->cnt.kind[m->kind]++;
        }
        router_waiting_remove(r, m->w);
    } else if (!reply) {
        /* the link was lost: the MULTI/EXEC may have run or not. Forget the request: when
         * the link is back the pending entries are read again (read_history), and it is
         * among them only if the move did not happen, so it is never moved twice. */
        log_warnx("moving request %s to %s: %s; it is read back if it was not moved",
                  m->w->entry_id, m->node, redis_error(c));
        router_waiting_remove(r, m->w);
    } else {
        log_warnx("moving request %s to %s failed: %s", m->w->entry_id, m->node,
                  reply->type == RESP_ERROR ? reply->str : "an unexpected reply");
        m->w->moving = false;
    }
    orion_free(m);
    r->nmoving--;
    if (r->throttled && r->nmoving <= ROUTER_MAX_MOVING / 2) {
        r->throttled = false;
        router_try_place(r);
    }
}

static bool routed_field(const struct resp_reply *k)
{
    return resp_str_eq(k, "attempt") || resp_str_eq(k, "routed_at") ||
           resp_str_eq(k, "request_id");
}

/* MULTI; XADD node-stream (fields + attempt, routed_at, request_id); XACK + XDEL source;
 * XADD events; EXEC. Only EXEC's reply counts. */
static int send_move(struct router *r, struct waiting *w, const struct rnode *n,
                     enum route_kind kind)
{
    struct contract_str id = contract_request_id(&w->req);
    struct move_ctx *m = orion_calloc(1, sizeof(*m));
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *ack[] = {"XACK", w->src, w->group, w->entry_id};
    const char *del[] = {"XDEL", w->src, w->entry_id};
    /* the XADD's arguments point into the entry's clone: no copy before the one into the
     * output buffer */
    const char *argv[RESP_CMD_MAX_ARGS];
    size_t len[RESP_CMD_MAX_ARGS];
    char attempt[16], routed_at[24];
    int argc = 0, rc = -1;
    bool fits = true;

    if (!m)
        return -1;
    snprintf(attempt, sizeof(attempt), "%d", w->attempt);
    snprintf(routed_at, sizeof(routed_at), "%lld", (long long)(router_now(r) * 1000));
    argv[argc] = "XADD", len[argc++] = 4;
    argv[argc] = n->stream, len[argc++] = strlen(n->stream);
    argv[argc] = "*", len[argc++] = 1;
    for (size_t i = 0; i + 1 < w->fields->n; i += 2) {
        if (routed_field(&w->fields->elem[i]))
            continue;
        if (argc + 8 > RESP_CMD_MAX_ARGS) { /* as many as a resp_cmd takes */
            fits = false;
            break;
        }
        argv[argc] = w->fields->elem[i].str, len[argc++] = w->fields->elem[i].len;
        argv[argc] = w->fields->elem[i + 1].str, len[argc++] = w->fields->elem[i + 1].len;
    }
    argv[argc] = "request_id", len[argc++] = 10;
    argv[argc] = id.p, len[argc++] = id.n;
    argv[argc] = "attempt", len[argc++] = 7;
    argv[argc] = attempt, len[argc++] = strlen(attempt);
    argv[argc] = "routed_at", len[argc++] = 9;
    argv[argc] = routed_at, len[argc++] = strlen(routed_at);
    m->r = r;
    m->w = w;
    m->kind = kind;
    snprintf(m->node, sizeof(m->node), "%s", n->id);
    /* all six or none: a MULTI left open would swallow the next move into this EXEC */
    redis_batch_begin(r->cmd);
    if (fits && redis_cmdv(r->cmd, 0, NULL, NULL, 1, multi, NULL) == 0 &&
        redis_cmdv(r->cmd, 0, NULL, NULL, argc, argv, len) == 0 &&
        redis_cmdv(r->cmd, 0, NULL, NULL, 4, ack, NULL) == 0 &&
        redis_cmdv(r->cmd, 0, NULL, NULL, 3, del, NULL) == 0 &&
        redis_cmd(r->cmd, NULL, NULL, "XADD", r->keys.events, "MAXLEN", "~", "10000", "*",
                  "type", "routed", "request_id", id.p, "node_id", n->id, "model",
                  w->rreq.model, "kind", route_kind_name(kind), (char *)NULL) == 0)
        rc = redis_cmdv(r->cmd, 0, move_done, m, 1, exec, NULL);
    redis_batch_end(r->cmd, rc == 0);
    if (rc < 0) {
        orion_free(m);
        return -1;
    }
    w->moving = true;
    r->nmoving++;
    snprintf(w->dest, sizeof(w->dest), "%s", n->id);
    return 0;
}

static int cmp_waiting(const void *a, const void *b)
{
    const struct waiting *x = *(struct waiting *const *)a, *y = *(struct waiting *const *)b;

    return route_request_cmp(&x->rreq, &y->rreq);
}

/* Keep-alive the router assumes for its residency record: the entry's, or Ollama's 5 m. */
static double keep_alive_s(const struct waiting *w)
{
    const char *p = w->req.keep_alive.p;
    char *end;
    double v;

    if (!p)
        return 600; /* the worker's default --keep-alive */
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

void router_try_place(struct router *r)
{
    struct route_node *nodes = r->view;
    struct rnode **map = r->view_map;
    size_t n, i = 0;
    double now = router_now(r);
    struct route_result res;
    bool stale_load = false;

    if (!redis_up(r->cmd) || !r->nw || !r->health_seen || r->placing)
        return; /* before the first health refresh every node would look absent */
    r->placing = true;
    n = router_route_nodes(r, nodes, map, ORION_ROUTE_MAX_NODES);
    { /* sort only what is not moving yet: with a backlog most entries are in flight */
        size_t k = 0;
        for (size_t j = 0; j < r->nw; j++) {
            if (!r->w[j]->moving) {
                struct waiting *t = r->w[k];
                r->w[k++] = r->w[j];
                r->w[j] = t;
            }
        }
        qsort(r->w, k, sizeof(*r->w), cmp_waiting);
        for (size_t j = 0; j < r->nw; j++)
            r->w[j]->idx = j;
    }
    while (i < r->nw) {
        struct waiting *w = r->w[i];
        if (w->moving) {
            i++;
            continue;
        }
        if (now > w->deadline) {
            r->cnt.timeouts++;
            router_answer_error(r, &w->req, w->src, w->group, "no_available_nodes", true,
                                "no node could take the request before its deadline", NULL);
            router_waiting_drop(r, i); /* order is restored by the next sort */
            router_waiting_free(r, w);
            continue;
        }
        if (r->nmoving >= ROUTER_MAX_MOVING) { /* move_done resumes at half */
            r->throttled = true;
            i++;
            continue;
        }
        route_pick(nodes, n, &w->rreq, &r->rs, &r->st, now, &res);
        if ((res.kind == ROUTE_SPILL || res.kind == ROUTE_QUEUED_RESIDENT) &&
            r->refresh_done_gen <= w->held_gen) {
            /* the resident node looks busy on loads read before this request came in: it may
             * have finished since. Decide after a fresh look rather than load the model a
             * second time. */
            stale_load = true;
            i++;
            continue;
        }
        if (res.node >= 0 && send_move(r, w, map[res.node], res.kind) == 0)
            route_note_sent(&r->st, map[res.node]->id, w->rreq.model, keep_alive_s(w), now);
        else if (res.node < 0 && !w->logged_wait) {
            log_debug("request %s waits: %s", w->entry_id, res.why);
            w->logged_wait = true;
        }
        i++;
    }
    r->placing = false;
    if (stale_load && !r->refreshing)
        router_refresh_cb(r->l, r); /* refresh_done places them */
    if (!r->reading && r->history_done && r->nw < ROUTER_MAX_WAITING)
        read_new(r);
}

/* Entries of one stream out of an XREADGROUP reply: [[key, [entry...]]]. */
static const struct resp_reply *stream_entries(const struct resp_reply *reply)
{
    return resp_at(resp_at(reply, 0), 1);
}

static void group_cb(struct redis *c, struct resp_reply *reply, void *arg);

static void create_group(struct router *r)
{
    redis_cmd(r->cmd, group_cb, r, "XGROUP", "CREATE", r->keys.requests, CONTRACT_GROUP_ROUTER,
              "0", "MKSTREAM", (char *)NULL);
}

static long read_retry_cb(struct loop *l, void *arg)
{
    struct router *r = arg;

    (void)l;
    r->read.timer = 0;
    if (!r->history_done) {
        if (!r->reading && redis_up(r->cmd))
            read_history(r); /* when down, cmd_state starts over once it is up */
    } else if (r->nw < ROUTER_MAX_WAITING) {
        read_new(r);
    }
    return -1;
}

/* Own pending entries first (requests taken before a crash), paging by the last id. */
static void history_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const struct resp_reply *e = stream_entries(reply);

    (void)c;
    r->reading = false;
    if (!reply)
        return; /* link lost: the next "up" starts over */
    if (resp_is_error(reply, "NOGROUP")) {
        log_warnx("group %s on %s is gone; creating it again", CONTRACT_GROUP_ROUTER,
                  r->keys.requests);
        create_group(r); /* group_cb reads the history again */
        return;
    }
    if (reply->type == RESP_ERROR) { /* not the end of the list: read it again */
        retry_error(&r->read, r->l, "reading the pending entries of", r->keys.requests, reply->str,
                    read_retry_cb, r);
        return;
    }
    retry_ok(&r->read);
    if (!e || e->n == 0) {
        r->history_done = true;
        log_info("took back %zu waiting request(s); reading new ones", r->nw);
        router_try_place(r);
        read_new(r);
        return;
    }
    for (size_t i = 0; i < e->n; i++)
        router_hold(r, &e->elem[i], r->keys.requests, CONTRACT_GROUP_ROUTER, 0);
    {
        const struct resp_reply *last = resp_at(&e->elem[e->n - 1], 0);
        if (last && last->type == RESP_BULK && last->len < sizeof(r->hist_after))
            memcpy(r->hist_after, last->str, last->len + 1);
    }
    read_history(r);
}

static void read_history(struct router *r)
{
    const char *argv[] = {"XREADGROUP", "GROUP", CONTRACT_GROUP_ROUTER, r->me, "COUNT", "100",
                          "STREAMS", r->keys.requests, r->hist_after};

    if (redis_cmdv(r->cmd, 0, history_cb, r, 9, argv, NULL) == 0)
        r->reading = true;
}

static void new_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const struct resp_reply *e = stream_entries(reply);

    (void)c;
    r->reading = false;
    if (!reply || r->stopping)
        return;
    if (reply->type == RESP_ERROR) {
        if (resp_is_error(reply, "NOGROUP"))
            redis_cmd(r->cmd, NULL, NULL, "XGROUP", "CREATE", r->keys.requests,
                      CONTRACT_GROUP_ROUTER, "0", "MKSTREAM", (char *)NULL);
        retry_error(&r->read, r->l, "reading", r->keys.requests, reply->str,
                    read_retry_cb, r);
        return;
    }
    retry_ok(&r->read);
    for (size_t i = 0; e && i < e->n; i++)
        router_hold(r, &e->elem[i], r->keys.requests, CONTRACT_GROUP_ROUTER, 0);
    router_try_place(r);
    if (!r->reading && r->nw < ROUTER_MAX_WAITING)
        read_new(r);
}

static void read_new(struct router *r)
{
    const char *argv[] = {"XREADGROUP", "GROUP", CONTRACT_GROUP_ROUTER, r->me, "COUNT", "100",
                          "BLOCK", "1000", "STREAMS", r->keys.requests, ">"};

    if (r->reading || r->stopping || r->read.timer || r->throttled || !redis_up(r->blk))
        return; /* throttled: the entries wait in Redis until the moves in flight drain */
    if (redis_cmdv(r->blk, 6000, new_cb, r, 11, argv, NULL) == 0)
        r->reading = true;
}

static long group_retry_cb(struct loop *l, void *arg)
{
    struct router *r = arg;

    (void)l;
    r->group_timer = 0;
    create_group(r); /* when the link is down, cmd_state sends it once it is up */
    return -1;
}

static void group_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;

    (void)c;
    if (!reply)
        return; /* link lost: cmd_state sends it again */
    if (reply->type == RESP_ERROR && !resp_is_error(reply, "BUSYGROUP")) {
        /* e.g. -LOADING: without the group nothing is read, so try until it exists */
        if (!r->group_warned)
            log_warnx("XGROUP CREATE %s: %s; trying again every second", r->keys.requests,
                      reply->str);
        r->group_warned = true;
        if (!r->group_timer)
            r->group_timer = loop_timer(r->l, 1000, group_retry_cb, r);
        return;
    }
    if (r->group_warned)
        log_info("group %s on %s is there; reading", CONTRACT_GROUP_ROUTER, r->keys.requests);
    r->group_warned = false;
    r->history_done = false;
    snprintf(r->hist_after, sizeof(r->hist_after), "0");
    read_history(r);
}

static void cmd_state(struct redis *c, bool up, void *arg)
{
    struct router *r = arg;

    if (!up)
        return;
    if (!r->started) {
        r->started = true;
        notify_ready();
        log_info("router %s: up, redis %s, policy %s", r->me, redis_addr(c),
                 route_policy_name(r->rs.policy));
    }
    create_group(r);
}

static void blk_state(struct redis *c, bool up, void *arg)
{
    struct router *r = arg;

    (void)c;
    r->reading = r->reading && up;
    if (up && r->history_done)
        read_new(r);
}

static void takeover_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const struct resp_reply *e = resp_at(reply, 1);

    (void)c;
    for (size_t i = 0; e && i < e->n; i++)
        router_hold(r, &e->elem[i], r->keys.requests, CONTRACT_GROUP_ROUTER, 0);
    if (e && e->n) {
        log_info("took over %zu request(s) of a router that stopped", e->n);
        router_try_place(r);
    }
}

/* Keep our held entries young (another router must not take them) and take over entries that
 * a dead router left idle. */
static long claim_period(const struct router *r)
{
    long p = r->rc->takeover_ms / 3;

    return p < ROUTER_CLAIM_MAX_MS ? p : ROUTER_CLAIM_MAX_MS;
}

static long claim_cb(struct loop *l, void *arg)
{
    struct router *r = arg;
    struct resp_cmd c;
    char idle[32];

    (void)l;
    if (!redis_up(r->cmd) || !r->history_done)
        return claim_period(r);
    resp_cmd_init(&c);
    for (size_t i = 0; i < r->nw; i++) {
        if (strcmp(r->w[i]->src, r->keys.requests))
            continue;
        if (!c.argc) {
            resp_cmd_adds(&c, "XCLAIM");
            resp_cmd_adds(&c, r->keys.requests);
            resp_cmd_adds(&c, CONTRACT_GROUP_ROUTER);
            resp_cmd_adds(&c, r->me);
            resp_cmd_adds(&c, "0");
        }
        resp_cmd_adds(&c, r->w[i]->entry_id);
        if (c.argc >= RESP_CMD_MAX_ARGS - 2 || i + 1 == r->nw) {
            resp_cmd_adds(&c, "JUSTID");
            if (resp_cmd_finish(&c) == 0)
                redis_cmdv(r->cmd, 0, NULL, NULL, c.argc, c.argv, c.len);
            resp_cmd_release(&c);
            resp_cmd_init(&c);
        }
    }
    if (c.argc) {
        resp_cmd_adds(&c, "JUSTID");
        if (resp_cmd_finish(&c) == 0)
            redis_cmdv(r->cmd, 0, NULL, NULL, c.argc, c.argv, c.len);
    }
    resp_cmd_release(&c);
    snprintf(idle, sizeof(idle), "%ld", r->rc->takeover_ms);
    redis_cmd(r->cmd, takeover_cb, r, "XAUTOCLAIM", r->keys.requests, CONTRACT_GROUP_ROUTER, r->me,
              idle, "0-0", "COUNT", "100", (char *)NULL);
    return claim_period(r);
}

static void report(struct router *r)
{
    log_info("routed %lu (sticky %lu, queued %lu, spill %lu, cold %lu), waiting %zu (peak %lu), "
             "timeouts %lu, failovers %lu, deadletter %lu, bad %lu",
             r->cnt.routed, r->cnt.kind[K_STICKY], r->cnt.kind[K_QUEUED], r->cnt.kind[K_SPILL],
             r->cnt.kind[K_COLD], r->nw, r->cnt.waiting_peak, r->cnt.timeouts, r->cnt.failovers,
             r->cnt.deadletter, r->cnt.bad);
    for (size_t i = 0; i < r->nnodes; i++) {
        const struct rnode *n = &r->nodes[i];
        if (n->cnt.routed)
            log_info("node %s: routed %lu (sticky %lu, queued %lu, spill %lu, cold %lu)", n->id,
                     n->cnt.routed, n->cnt.kind[K_STICKY], n->cnt.kind[K_QUEUED],
                     n->cnt.kind[K_SPILL], n->cnt.kind[K_COLD]);
    }
}

static long tick_cb(struct loop *l, void *arg)
{
    struct router *r = arg;

    (void)l;
    router_try_place(r); /* deadlines pass even when nothing else happens */
    if (loop_now() - r->last_report >= 60000) {
        r->last_report = loop_now();
        report(r);
    }
    return 500;
}

static void on_signal(struct loop *l, int signo, void *arg)
{
    struct router *r = arg;

    log_info("signal %d: stopping; %zu waiting request(s) stay pending for the next start", signo,
             r->nw);
    r->stopping = true;
    notify_stopping();
    loop_stop(l);
}

static int router_setup(struct router *r, const struct router_conf *rc)
{
    char err[256];

    /* r is router_run's static struct, so all zero already: no memset here, and none by
     * route_state_init (an all-zero state is an initialised one), which would make the whole
     * ~0.3 MB route state resident at start; only the states of real nodes get touched */
    r->rc = rc;
    /* The outcome table and its name pool (12 KiB, bounded) are written through now: filled
     * as rare combinations of model, node and code first came, they made RSS creep by a page
     * at a random time, hours in (the long soak's RSS bound is two pages). */
    memset(r->outcomes, 0, sizeof(r->outcomes));
    memset(r->labels, 0, sizeof(r->labels));
    if (contract_keys_init(&r->keys, rc->c.prefix) < 0) {
        log_errorx("prefix: '%s' is empty or too long", rc->c.prefix);
        return ORION_EXIT_USAGE;
    }
    route_settings_init(&r->rs);
    r->rs.max_temp = rc->max_temp;
    r->rs.max_ram = rc->max_ram;
    r->rs.stale_after = (double)rc->stale_after;
    r->rs.service_ms = (unsigned)rc->service_ms;
    r->rs.cold_load_ms = (unsigned)rc->cold_load_ms;
    r->rs.load_factor_pct = (unsigned)rc->load_factor;
    if (route_policy_parse(rc->policy, &r->rs.policy) < 0) {
        log_errorx("policy: want sticky, first-fit, least-conn or round-robin, not '%s'",
                   rc->policy);
        return ORION_EXIT_USAGE;
    }
    if (rc->placement) {
        r->placement = orion_malloc(sizeof(*r->placement));
        if (!r->placement)
            return ORION_EXIT_SYSTEM;
        if (placement_load(r->placement, rc->placement, err, sizeof(err)) < 0) {
            log_errorx("placement: %s", err);
            return ORION_EXIT_USAGE;
        }
        r->rs.placement = r->placement;
    }
    if (rc->router_id)
        snprintf(r->me, sizeof(r->me), "%s", rc->router_id);
    else if (gethostname(r->me, sizeof(r->me) - 1) < 0 || !r->me[0])
        snprintf(r->me, sizeof(r->me), "router");
    snprintf(r->hist_after, sizeof(r->hist_after), "0");
    if (router_wait_pool_init(r) < 0) {
        log_errorx("out of memory");
        return ORION_EXIT_SYSTEM;
    }
    return 0;
}

static int check_redis(const struct router_conf *rc)
{
    struct redis_opts o;
    char err[600], where[600];
    struct redis_sync *s;

    redis_opts_conf(&o, &rc->c, "redis");
    s = redis_sync_connect(&o, 3000, err, sizeof(err));
    if (!s && redis_err_loading(err)) { /* reachable, answering: the link waits for it */
        log_info("redis %s: %s; starting anyway", redis_conf_where(&rc->c, where, sizeof(where)),
                 err);
        return 0;
    }
    if (!s) {
        log_errorx("redis %s: %s", redis_conf_where(&rc->c, where, sizeof(where)), err);
        return -1;
    }
    redis_sync_free(s);
    return 0;
}

int router_run(const struct router_conf *rc)
{
    static struct router r; /* route state for ORION_ROUTE_MAX_NODES: ~0.3 MB, not stack */
    struct redis_opts o;
    int rc_setup = router_setup(&r, rc);
    struct gateway *gw = NULL;
    char err[256];

    if (rc_setup) {
        orion_free(r.placement);
        return rc_setup;
    }
    json_init();
    if (check_redis(rc) < 0)
        return ORION_EXIT_SYSTEM;
    redis_opts_conf(&o, &rc->c, "redis");
    r.l = loop_new();
    r.cmd = r.l ? redis_new(r.l, &o, cmd_state, &r) : NULL;
    o.name = "redis (blocking reads)";
    r.blk = r.l ? redis_new(r.l, &o, blk_state, &r) : NULL;
    if (!r.cmd || !r.blk) {
        log_errorx("out of memory");
        return ORION_EXIT_SYSTEM;
    }
    if (rc->http_listen && strcmp(rc->http_listen, "off") &&
        !(gw = gateway_new(&r, rc->http_listen, rc->http_token, err, sizeof(err)))) {
        int code = errno == EINVAL ? ORION_EXIT_USAGE : ORION_EXIT_SYSTEM;
        log_errorx("http front: %s", err);
        redis_free(r.cmd);
        redis_free(r.blk);
        loop_free(r.l);
        orion_free(r.placement);
        router_wait_pool_release(&r);
        return code;
    }
    loop_signal(r.l, SIGTERM, on_signal, &r);
    loop_signal(r.l, SIGINT, on_signal, &r);
    loop_timer(r.l, 0, router_refresh_cb, &r);
    loop_timer(r.l, claim_period(&r), claim_cb, &r);
    loop_timer(r.l, 500, tick_cb, &r);
    r.last_report = loop_now();
    redis_start(r.cmd);
    redis_start(r.blk);
    loop_run(r.l);
    report(&r);
    gateway_free(gw);
    for (size_t i = 0; i < r.nw; i++)
        router_waiting_free(&r, r.w[i]);
    orion_free(r.w);
    orion_free(r.wh);
    router_wait_pool_release(&r);
    router_nodes_release(&r);
    redis_free(r.cmd);
    redis_free(r.blk);
    loop_free(r.l);
    orion_free(r.placement);
    return 0;
}
