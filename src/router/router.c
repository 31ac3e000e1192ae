/* SPDX-License-Identifier: MIT */
/*
 * The router's request side: read P:requests (group inference-router) into the waiting list,
 * move what router_place.c lets leave to the node's stream in one MULTI/EXEC, keep held
 * entries claimed and take over those of a router that died. Which requests leave is in
 * router_place.c, health and failover in router_nodes.c, the workers' events in
 * router_events.c, the waiting list and the taking in of entries in router_wait.c.
 *
 * Nothing is acknowledged before it is somewhere else: a held request stays pending in the
 * group, so after a crash the next start reads it back with XREADGROUP ... 0. Held requests
 * are re-claimed every takeover_ms / 3, at most every 10 s (XCLAIM JUSTID resets their idle
 * time), and a router takes over entries idle longer than --takeover-ms: those belong to a
 * router that died.
 */
#include "router_int.h"

#include "orion/daemon.h"
#include "orion/entry.h"
#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/notify.h"
#include "orion/route_tune.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double router_now(const struct router *r) { return (double)loop_wall_ms() / 1000.0 + r->clock_offset; }

struct move_ctx {
    struct router *r;
    struct waiting *w;
    char node[ORION_NODE_ID_MAX + 1];
    char key[ORION_MODEL_MAX + 1]; /* the model's key, for the requests in flight */
    enum route_kind kind;
    unsigned long long id; /* its flight */
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
    struct rnode *n = router_node(r, m->node, false);

    if (moved) {
        struct contract_str id = contract_request_id(&m->w->req);
        log_debug("request %.*s -> %s (%s, attempt %d)", (int)id.n, id.p, m->node,
                  route_kind_name(m->kind), m->w->attempt);
        r->cnt.routed++;
        if ((int)m->kind < K_NKINDS)
            r->cnt.kind[m->kind]++;
        if (m->w->attempt > 1)
            r->cnt.failovers++;
        admit_flight_add(&r->flights, id.p, id.n, m->key, m->node, router_now(r));
        if (n) {
            n->cnt.routed++;
            if ((int)m->kind < K_NKINDS)
                n->cnt.kind[m->kind]++;
        }
        router_waiting_remove(r, m->w);
    } else if (!reply) {
        /* the link was lost: the MULTI/EXEC may have run or not. Forget the request: when the
         * link is back the pending entries are read again, and it is among them only if the
         * move did not happen, so it is never moved twice. Its flight stays until the node's
         * stream shows whether it got there (router_nodes.c). */
        log_warnx("moving request %s to %s: %s; it is read back if it was not moved",
                  m->w->entry_id, m->node, redis_error(c));
        router_waiting_remove(r, m->w);
    } else {
        log_warnx("moving request %s to %s failed: %s", m->w->entry_id, m->node,
                  reply->type == RESP_ERROR ? reply->str : "an unexpected reply");
        m->w->moving = false;
        if (n)
            router_flight_end(r, (size_t)(n - r->nodes), m->id, m->w->rreq.model, NULL,
                              router_now(r));
    }
    orion_free(m);
    r->nmoving--;
    if (r->throttled && r->nmoving <= ROUTER_MAX_MOVING / 2) {
        r->throttled = false;
        router_try_place(r);
    } /* a failed move is tried again by the next event or tick, not at once */
}

/* MULTI; XADD node-stream (the routed entry); XACK + XDEL source; XADD events; EXEC. Only
 * EXEC's reply counts. */
int router_send_move(struct router *r, struct waiting *w, struct rnode *n, enum route_kind kind,
                     double now)
{
    struct contract_str id = contract_request_id(&w->req);
    struct move_ctx *m = orion_calloc(1, sizeof(*m));
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *ack[] = {"XACK", w->src, w->group, w->entry_id};
    const char *del[] = {"XDEL", w->src, w->entry_id};
    struct entry_argv mv, ev; /* words point into the entry's clone: copied once, when queued */
    struct entry_event e;
    int rc = -1;

    if (!m)
        return -1;
    entry_routed(&mv, n->stream, w->fields, id, w->attempt, (long long)(now * 1000),
                 entry_cstr(w->model_res), entry_cstr(w->role));
    entry_event_init(&e);
    e.type = entry_cstr("routed");
    e.request_id = id;
    e.node = entry_cstr(n->id);
    e.model = entry_cstr(w->rreq.model);
    e.kind = entry_cstr(route_kind_name(kind));
    e.role = entry_cstr(w->role);
    e.task_type = w->req.task_type;
    e.requested = w->model_res ? (w->req.model.p ? w->req.model : entry_cstr("auto"))
                               : entry_cstr(NULL);
    entry_event(&ev, &r->keys, &e);
    if (route_model_norm(w->rreq.model, m->key, sizeof(m->key)) < 0)
        m->key[0] = '\0';
    m->r = r;
    m->w = w;
    m->kind = kind;
    m->id = w->rreq.id;
    snprintf(m->node, sizeof(m->node), "%s", n->id);
    /* all six or none: a MULTI left open would swallow the next move into this EXEC */
    redis_batch_begin(r->cmd);
    if (!mv.full && redis_cmdv(r->cmd, 0, NULL, NULL, 1, multi, NULL) == 0 &&
        redis_cmdv(r->cmd, 0, NULL, NULL, mv.argc, mv.argv, mv.len) == 0 &&
        redis_cmdv(r->cmd, 0, NULL, NULL, 4, ack, NULL) == 0 &&
        redis_cmdv(r->cmd, 0, NULL, NULL, 3, del, NULL) == 0 &&
        redis_cmdv(r->cmd, 0, NULL, NULL, ev.argc, ev.argv, ev.len) == 0)
        rc = redis_cmdv(r->cmd, 0, move_done, m, 1, exec, NULL);
    redis_batch_end(r->cmd, rc == 0);
    if (rc < 0) {
        orion_free(m);
        return -1;
    }
    w->moving = true;
    r->nmoving++;
    snprintf(w->dest, sizeof(w->dest), "%s", n->id);
    router_flight_begin(r, w, n, now);
    return 0;
}

/* The group reader's side: how many it may take, each entry, what follows a batch. */
static size_t read_room(void *arg)
{
    const struct router *r = arg;

    /* throttled: the entries wait in Redis until the moves in flight drain */
    return r->throttled || r->nw >= ROUTER_MAX_WAITING ? 0 : ROUTER_READ_COUNT;
}

static void read_take(void *arg, const struct resp_reply *entry)
{
    struct router *r = arg;

    router_hold(r, entry, r->keys.requests, CONTRACT_GROUP_ROUTER, 0);
}

static void place_deferred(struct loop *l, void *arg)
{
    struct router *r = arg;

    (void)l;
    r->place_defer = 0;
    router_try_place(r);
}

/* New requests are placed once this pass has read everything that was ready: an event read
 * on the same pass (a slot that freed just before they came) counts in their choice. */
static void read_taken(void *arg)
{
    struct router *r = arg;

    if (!r->place_defer && !(r->place_defer = loop_defer(r->l, place_deferred, r)))
        router_try_place(r); /* no memory to defer: at once */
}

static void read_caught_up(void *arg)
{
    struct router *r = arg;

    log_info("took back %zu waiting request(s); reading new ones", r->nw);
    router_try_place(r);
}

static void cmd_state(struct redis *c, bool up, void *arg)
{
    struct router *r = arg;

    if (up && !r->started) {
        r->started = true;
        notify_ready();
        log_info("router %s: up, redis %s, policy %s, binding %s", r->me, redis_addr(c),
                 route_policy_name(r->rs.policy), route_binds_late(&r->rs) ? "late" : "early");
    }
    group_link(&r->g, c, up);
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
    if (!redis_up(r->cmd) || !r->g.history_done)
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
    router_orch_claim(r);
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
    router_expire(r); /* deadlines pass even when nothing else happens */
    router_try_place(r);
    router_events_read(r); /* (a read that failed to queue is sent again) */
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
    group_stop(&r->g);
    notify_stopping();
    loop_stop(l);
}

static int router_setup(struct router *r, const struct router_conf *rc)
{
    char err[256];
    int code;

    /* r comes zeroed from calloc: an all-zero route state is an initialised one, and leaving
     * it untouched keeps its ~0.3 MB out of RSS until real nodes use their part of it */
    r->rc = rc;
    /* the outcome table and its name pool (12 KiB, bounded) are resident from the start, so
     * RSS does not move when a new combination of model, node and code first comes */
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
        log_errorx("policy: want sticky, first-fit, least-conn, round-robin or random, not '%s'",
                   rc->policy);
        return ORION_EXIT_USAGE;
    }
    if (!rc->binding || !strcmp(rc->binding, "auto")) {
        r->rs.binding = ROUTE_BIND_AUTO;
    } else if (!strcmp(rc->binding, "late") || !strcmp(rc->binding, "early")) {
        r->rs.binding = rc->binding[0] == 'l' ? ROUTE_BIND_LATE : ROUTE_BIND_EARLY;
    } else {
        log_errorx("binding: want auto, late or early, not '%s'", rc->binding);
        return ORION_EXIT_USAGE;
    }
    if (route_tune_apply(&r->rs, rc->route_set, err, sizeof(err)) < 0) {
        log_errorx("%s", err);
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
    buf_init(&r->cancel_ids, (size_t)ROUTER_CANCEL_BATCH * 258);
    if (router_wait_pool_init(r) < 0)
        return ORION_EXIT_SYSTEM;
    code = router_service_init(r);
    return code ? code : router_orch_init(r);
}

void router_free(struct router *r)
{
    if (!r)
        return;
    if (r->l)
        loop_defer_cancel(r->l, r->place_defer);
    gateway_free(r->gw);
    router_backends_free(r);
    for (size_t i = 0; i < r->nw; i++)
        router_waiting_free(r, r->w[i]);
    orion_free(r->w);
    orion_free(r->wh);
    router_wait_pool_release(r);
    router_nodes_release(r);
    router_service_release(r);
    router_orch_release(r);
    buf_release(&r->cancel_ids);
    rflights_release(&r->fl);
    orion_free(r->ord);
    redis_free(r->cmd);
    redis_free(r->blk);
    redis_free(r->ev);
    loop_free(r->l);
    orion_free(r->placement);
    orion_free(r);
}

struct router *router_new(const struct router_conf *rc, int *code)
{
    struct router *r = orion_calloc(1, sizeof(*r));
    struct redis_opts o;

    *code = r ? router_setup(r, rc) : ORION_EXIT_SYSTEM;
    if (*code)
        goto out_free;
    daemon_redis_opts(&o, &rc->c, "redis");
    r->l = loop_new();
    r->cmd = r->l ? redis_new(r->l, &o, cmd_state, r) : NULL;
    o.name = "redis (blocking reads)";
    r->blk = r->l ? redis_new(r->l, &o, group_redis_state, &r->g) : NULL;
    o.name = "redis (events)";
    r->ev = r->l ? redis_new(r->l, &o, router_events_state, r) : NULL;
    if (!r->cmd || !r->blk || !r->ev || loop_signal(r->l, SIGTERM, on_signal, r) < 0 ||
        loop_signal(r->l, SIGINT, on_signal, r) < 0 || !loop_timer(r->l, 0, router_refresh_cb, r) ||
        !loop_timer(r->l, claim_period(r), claim_cb, r) || !loop_timer(r->l, 500, tick_cb, r) ||
        router_orch_start(r) < 0) {
        *code = ORION_EXIT_SYSTEM;
        goto out_free;
    }
    {
        const struct group_opts go = {r->keys.requests, CONTRACT_GROUP_ROUTER, r->me, 1000, 6000,
                                      read_room, read_take, read_taken, read_caught_up, r};
        group_init(&r->g, r->l, r->cmd, r->blk, &go);
    }
    *code = router_backends_init(r);
    if (*code)
        goto out_free;
    r->last_report = loop_now();
    return r;
out_free:
    if (*code == ORION_EXIT_SYSTEM)
        log_errorx("out of memory");
    router_free(r);
    return NULL;
}

/* The HTTP front, lent the command connection and given the three calls of gateway.h. */
static struct gateway *front_start(struct router *r, char *err, size_t errlen)
{
    const struct gateway_host host = {r,           router_snapshot, router_stats,
                                      router_cancel, router_service,  router_set_config};
    const struct gateway_conf conf = {&r->rc->c, r->me, r->rc->http_listen, r->rc->http_token,
                                      (int)r->rc->max_concurrent, r->placement};

    return gateway_new(r->l, r->cmd, &conf, &host, err, errlen);
}

int router_run(const struct router_conf *rc)
{
    struct router *r;
    char err[256];
    int code;

    json_init();
    if (daemon_check_redis(&rc->c) < 0)
        return ORION_EXIT_SYSTEM;
    r = router_new(rc, &code);
    if (!r)
        return code;
    if (rc->http_listen && strcmp(rc->http_listen, "off") &&
        !(r->gw = front_start(r, err, sizeof(err)))) {
        code = errno == EINVAL ? ORION_EXIT_USAGE : ORION_EXIT_SYSTEM;
        log_errorx("http front: %s", err);
        router_free(r);
        return code;
    }
    redis_start(r->cmd);
    redis_start(r->blk);
    redis_start(r->ev);
    code = router_backends_start(r) < 0 || loop_run(r->l) < 0 ? ORION_EXIT_SYSTEM : 0;
    if (code)
        log_errorx("event loop: out of memory");
    report(r);
    router_free(r);
    return code;
}
