/* SPDX-License-Identifier: MIT */
/*
 * route_dispatch: one pass over the requests the router holds: which leave now, for which
 * node. The binding rule and the cost formula are in route_dispatch.h; this file says why
 * where it is not obvious.
 */
#include "orion/route_dispatch.h"
#include "route_int.h"

#include <math.h>
#include <string.h>

struct pass {
    const struct route_node *nodes;
    size_t n;
    const struct route_settings *s;
    struct route_state *st;
    double now;
    double claim_ms[ORION_ROUTE_MAX_NODES]; /* T of the requests held for a node in this pass */
    unsigned long free;                     /* free slots on the eligible nodes */
    struct route_pick pk;
    struct route_cache cache;
};

/* What one request costs on one candidate. */
struct est {
    double E, T;
    unsigned long cached;
    bool free;
};

/* What one request brings to every candidate's estimate. */
struct reqinfo {
    const struct route_request *req;
    const struct route_learned *l;
    unsigned long model; /* route_conv_model of the key */
    unsigned long P;     /* prompt tokens, 0 unknown */
    double svc;          /* route_service_ms */
};

bool route_binds_late(const struct route_settings *s)
{
    if (s->binding != ROUTE_BIND_AUTO)
        return s->binding == ROUTE_BIND_LATE;
    return s->policy == ROUTE_POLICY_STICKY;
}

static unsigned long used_of(const struct route_node *nd, const struct route_node_state *ns)
{
    return (unsigned long)nd->inflight + (ns ? ns->queued : 0);
}

/* Free slots over the nodes eligible before any request's own rules. */
static void count_free(struct pass *p)
{
    const struct route_node_state *ns;
    unsigned long cap, used;

    p->free = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!p->cache.ok[i])
            continue;
        ns = p->cache.ns[i];
        cap = p->nodes[i].capacity ? p->nodes[i].capacity : 1;
        used = used_of(&p->nodes[i], ns);
        p->free += used < cap ? cap - used : 0;
    }
}

/* The work ahead of a new request on c, before the capacity is divided in. */
static double ahead_ms(const struct pass *p, const struct route_node_state *ns,
                       const struct route_cand *c, double svc)
{
    double sum = p->claim_ms[c->idx], r, elapsed;
    size_t k = 0;

    for (size_t i = 0; ns && i < ns->nflight; i++, k++) {
        elapsed = (p->now - ns->flight[i].sent) * 1000;
        r = ns->flight[i].expect_ms - elapsed;
        sum += r > ns->flight[i].expect_ms / 3 ? r : ns->flight[i].expect_ms / 3;
    }
    if (c->used > k)
        sum += (double)(c->used - k) * svc / 2;
    return sum;
}

/* The run time of the request on c once it starts, and the tokens found cached there. */
static double run_ms(const struct pass *p, const struct reqinfo *ri, const struct route_cand *c,
                     const struct route_node_state *ns, unsigned long *cached)
{
    const struct route_node *nd = &p->nodes[c->idx];
    double tps = route_rate(ns, ri->l, ri->model, p->s), saved, run;
    double trust = ns && ns->has_trust ? ns->trust : 1;

    *cached = 0;
    if (ns && ri->req->conv)
        *cached = route_conv_cached(&ns->conv, ri->model, ri->req->conv, p->s->ctx_tokens, NULL);
    saved = (double)*cached * trust / tps * 1000;
    if (ri->P && ri->l && ri->l->gen_ms > 0 && !ri->req->service_ms)
        run = ri->l->gen_ms + (double)ri->P / tps * 1000 - saved;
    else
        run = ri->svc - saved > ri->svc / 10 ? ri->svc - saved : ri->svc / 10;
    return run * route_cond_slow(ns ? &ns->cond : NULL, nd);
}

/* A conversation this request would push out of a slot on c, in ms of later work. */
static double displace_ms(const struct pass *p, const struct reqinfo *ri,
                          const struct route_cand *c, const struct route_node_state *ns)
{
    const struct route_node *nd = &p->nodes[c->idx];
    int v;

    if (!ns || nd->host_cache)
        return 0;
    v = route_conv_victim(&ns->conv, ri->model, ri->req->conv, p->s->conv_slots,
                          p->s->ctx_tokens);
    if (v < 0)
        return 0;
    return route_conv_worth(&ns->conv.rec[v],
                            route_rate(ns, ri->l, ri->model, p->s) / route_cond_slow(&ns->cond, nd),
                            route_conv_chance(&p->st->conv, &ns->conv.rec[v], p->s->conv_p),
                            p->s->conv_keep_s, p->now);
}

static void estimate(const struct pass *p, const struct reqinfo *ri, const struct route_cand *c,
                     struct est *e)
{
    const struct route_node *nd = &p->nodes[c->idx];
    const struct route_node_state *ns = c->ns;
    double W = 0, pen = 0;

    e->free = c->used < c->cap;
    e->T = run_ms(p, ri, c, ns, &e->cached);
    if (!c->resident) {
        e->T += route_cold_ms(&p->pk, c, p->pk.key);
        pen += route_evict_ms(&p->pk, c) * p->s->evict_reloads;
    }
    if (!e->free)
        W = ahead_ms(p, ns, c, ri->svc) / (double)c->cap;
    pen += displace_ms(p, ri, c, ns);
    pen += e->T * route_cond_heat(ns ? &ns->cond : NULL, nd, p->s->max_temp, p->s->heat_band,
                                  p->s->heat_horizon_s);
    e->E = W + e->T + pen;
}

/* < 0 when (a, ea) is the better choice. */
static int est_cmp(const struct pass *p, const struct route_cand *a, const struct est *ea,
                   const struct route_cand *b, const struct est *eb)
{
    if (ea->E != eb->E)
        return ea->E < eb->E ? -1 : 1;
    if (ea->free != eb->free)
        return ea->free ? -1 : 1;
    if (a->resident != b->resident)
        return a->resident ? -1 : 1;
    return route_cand_cmp(&p->pk, a, b, ORDER_RESIDENT);
}

static enum route_kind kind_of(const struct route_pick *pk, const struct route_cand *c)
{
    if (c->resident)
        return c->used < c->cap ? ROUTE_STICKY : ROUTE_QUEUED_RESIDENT;
    return pk->any_resident ? ROUTE_SPILL : ROUTE_COLD;
}

/* Late sticky: the candidate of least E; -1 when it is busy (the request is held for it). */
static int choose_sticky(struct pass *p, const struct route_request *req, struct est *win)
{
    struct reqinfo ri;
    struct est e;
    int b = -1;

    ri.req = req;
    ri.l = p->pk.lk;
    ri.model = route_conv_model(p->pk.key);
    ri.P = req->conv ? route_conv_tokens(req->conv) : req->prompt_tokens;
    ri.svc = route_service_ms(&p->pk, req);
    for (size_t i = 0; i < p->pk.nc; i++) {
        estimate(p, &ri, &p->pk.c[i], &e);
        if (b < 0 || est_cmp(p, &p->pk.c[i], &e, &p->pk.c[b], win) < 0) {
            b = (int)i;
            *win = e;
        }
    }
    if (b >= 0 && !win->free) {
        p->claim_ms[p->pk.c[b].idx] += win->T;
        return -1;
    }
    return b;
}

/* Late comparison policy: its choice among the candidates with a free slot, or -1. */
static int choose_free(struct pass *p, const struct route_request *req)
{
    size_t k = 0;
    int ci;

    for (size_t i = 0; i < p->pk.nc; i++)
        if (p->pk.c[i].used < p->pk.c[i].cap)
            p->pk.c[k++] = p->pk.c[i];
    p->pk.nc = k;
    if (!k)
        return -1;
    ci = route_policy_choice(&p->pk, req);
    return ci;
}

/* Expected run time on the chosen candidate for the flight record (early and comparison
 * choices: the plain estimate, without the conversation or heat terms' penalties). */
static void plain_est(struct pass *p, const struct route_request *req, const struct route_cand *c,
                      struct est *e)
{
    struct reqinfo ri;

    ri.req = req;
    ri.l = p->pk.lk;
    ri.model = route_conv_model(p->pk.key);
    ri.P = req->conv ? route_conv_tokens(req->conv) : req->prompt_tokens;
    ri.svc = route_service_ms(&p->pk, req);
    estimate(p, &ri, c, e);
}

/* One request: 1 assigned (a filled), 0 held. */
static int one(struct pass *p, const struct route_request *req, bool late, struct route_assign *a)
{
    struct route_result res;
    struct est e;
    int ci = -1;

    if (route_model_norm(req->model, p->pk.key, sizeof(p->pk.key)) < 0)
        return 0;
    route_collect(&p->pk, p->n, req, p->now);
    if (!p->pk.nc)
        return 0;
    if (!late) {
        if (route_pick_collected(&p->pk, req, &res) < 0)
            return 0;
        for (size_t i = 0; i < p->pk.nc && ci < 0; i++)
            if (p->pk.c[i].idx == res.node)
                ci = (int)i;
    } else if (p->s->policy == ROUTE_POLICY_STICKY) {
        ci = choose_sticky(p, req, &e);
    } else {
        ci = choose_free(p, req);
    }
    if (ci < 0)
        return 0;
    if (!late || p->s->policy != ROUTE_POLICY_STICKY)
        plain_est(p, req, &p->pk.c[ci], &e);
    a->node = p->pk.c[ci].idx;
    a->kind = kind_of(&p->pk, &p->pk.c[ci]);
    a->expect_ms = e.T;
    a->cached = e.cached;
    return 1;
}

/* The shortest run time req could have on an eligible node (ms), 0 when none. */
static double shortest(struct pass *p, const struct route_request *req)
{
    struct reqinfo ri;
    struct est e;
    double b = 0;

    if (route_model_norm(req->model, p->pk.key, sizeof(p->pk.key)) < 0)
        return 0;
    route_collect(&p->pk, p->n, req, p->now);
    ri.req = req;
    ri.l = p->pk.lk;
    ri.model = route_conv_model(p->pk.key);
    ri.P = req->conv ? route_conv_tokens(req->conv) : req->prompt_tokens;
    ri.svc = route_service_ms(&p->pk, req);
    for (size_t i = 0; i < p->pk.nc; i++) {
        estimate(p, &ri, &p->pk.c[i], &e);
        if (!i || e.T < b)
            b = e.T;
    }
    return b;
}

/* Priority 3 doubles a request's claim on a free slot, priority 1 halves it (0 is 2). */
static double weight(int priority)
{
    return priority >= 3 ? 2 : priority == 1 ? 0.5 : 1;
}

size_t route_dispatch(const struct route_node *nodes, size_t n,
                      const struct route_request *const *held, size_t nheld,
                      const struct route_settings *s, struct route_state *st, double now,
                      struct route_assign *out, size_t maxout)
{
    struct pass p; /* ~22 KB */
    bool late = route_binds_late(s);
    size_t k = 0, order[ROUTE_ORDER_WINDOW], nw = 0, i;
    double key[ROUTE_ORDER_WINDOW], t;

    if (!nheld || !maxout)
        return 0;
    memset(p.claim_ms, 0, sizeof(p.claim_ms));
    p.nodes = p.pk.nodes = nodes;
    p.n = n > ORION_ROUTE_MAX_NODES ? ORION_ROUTE_MAX_NODES : n;
    p.s = p.pk.s = s;
    p.st = st;
    p.pk.st = st;
    p.pk.cache = &p.cache;
    p.pk.quiet = true;
    p.now = now;
    route_cache_init(&p.cache, &p.pk, p.n, now);
    count_free(&p);
    if (late && !p.free)
        return 0;
    if (late && s->policy == ROUTE_POLICY_STICKY && !s->order_arrival) {
        for (nw = 0; nw < nheld && nw < ROUTE_ORDER_WINDOW; nw++) {
            t = shortest(&p, held[nw]);
            key[nw] = t > 0 ? ((now - held[nw]->arrived) * 1000 + t) /
                                  (s->order_exp == 1 ? t : pow(t, s->order_exp))
                            : 0;
            key[nw] *= weight(held[nw]->priority);
            order[nw] = nw;
            for (size_t j = nw; j > 0; j--) { /* insertion by key, stable */
                if (key[order[j]] <= key[order[j - 1]])
                    break;
                i = order[j];
                order[j] = order[j - 1];
                order[j - 1] = i;
            }
        }
    }
    for (size_t r = 0; r < nheld && r < ROUTE_DISPATCH_SCAN && k < maxout; r++) {
        i = r < nw ? order[r] : r;
        if (late && !p.free)
            break;
        if (!one(&p, held[i], late, &out[k]))
            continue;
        out[k].req = i;
        route_note_dispatch(st, &nodes[out[k].node], held[i], held[i]->id, out[k].expect_ms,
                            out[k].cached, held[i]->keep_alive_s, s, now);
        route_cache_node(&p.cache, &p.pk, (size_t)out[k].node, now);
        if (p.free)
            p.free--;
        k++;
    }
    return k;
}
