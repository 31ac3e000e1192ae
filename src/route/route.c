/* SPDX-License-Identifier: MIT */
/*
 * route: the router's choice of a node for a request, as a pure function of the nodes' health,
 * the request, the settings, the router's own per-node state and the time. The rules and the
 * formulas are in route.h; this file says why where it is not obvious.
 */
#include "orion/route.h"
#include "orion/placement.h"
#include "route_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WHY_NODE 160 /* one node's reason inside a WAIT summary */

void route_settings_init(struct route_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->max_temp = 75;
    s->max_ram = 90;
    s->stale_after = 15;
    s->temp_margin = 3;
    s->ram_margin = 5;
    s->policy = ROUTE_POLICY_STICKY;
    s->load_factor_pct = 125;
    s->cold_load_ms = 5000;
    s->service_ms = 15000;
    s->cold_min_ms = 50;
    s->placement = NULL;
    s->binding = ROUTE_BIND_AUTO;
    s->prefill_tps = 50;
    s->ctx_tokens = 4096;
    s->conv_slots = 1;
    s->conv_p = 0.8;
    s->conv_keep_s = 600;
    s->heat_band = 5;
    s->heat_horizon_s = 60;
    s->evict_reloads = 4;
    s->order_exp = 2;
}


static void say(char *why, size_t whylen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void say(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (!why || !whylen)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static bool has_label(const struct route_node *nd, const char *label)
{
    for (size_t i = 0; i < nd->nlabels; i++)
        if (nd->labels[i] && strcmp(nd->labels[i], label) == 0)
            return true;
    return false;
}

/* The request's part of eligibility: placement, labels, installed. */
static bool eligible_req(const struct route_node *nd, const struct route_request *req,
                         const char *key, const struct route_settings *s, char *why,
                         size_t whylen)
{
    const struct placement *pl = s->placement;
    size_t ri;

    if (req->node && strcmp(req->node, nd->id) != 0) {
        say(why, whylen, "the request is for node '%s'", req->node);
        return false;
    }
    if (pl && !placement_allows(pl, nd->id, nd->labels, nd->nlabels, nd->ram_total_mb, key,
                                &ri)) {
        say(why, whylen, "excluded by placement rule %zu (line %u)", ri + 1, pl->rule[ri].line);
        return false;
    }
    for (size_t i = 0; i < req->nlabels; i++)
        if (req->labels[i] && !has_label(nd, req->labels[i])) {
            say(why, whylen, "missing label '%s'", req->labels[i]);
            return false;
        }
    if (nd->ninstalled && !route_has_model(nd->installed, nd->ninstalled, key)) {
        say(why, whylen, "model not installed");
        return false;
    }
    return true;
}

static bool eligible_ns(const struct route_node *nd, const struct route_request *req,
                        const char *key, const struct route_settings *s,
                        const struct route_node_state *ns, double now, char *why, size_t whylen);

/* The temperature the trend gives for now, past max_temp? Only from the reading the state
 * holds (the same last_seen), at most stale_after ahead. */
static bool heading_past(const struct route_node *nd, const struct route_node_state *ns,
                         const struct route_settings *s, double now)
{
    double dt = now - ns->cond.temp_at;

    if (!ns->cond.has_slope || ns->cond.slope <= 0 || ns->cond.temp_at != nd->last_seen ||
        dt <= 0)
        return false;
    return nd->temp_c + ns->cond.slope * (dt < s->stale_after ? dt : s->stale_after) >
           s->max_temp;
}

bool route_eligible_key(const struct route_node *nd, const struct route_request *req,
                        const char *key, const struct route_settings *s,
                        const struct route_state *st, double now, char *why, size_t whylen)
{
    return eligible_ns(nd, req, key, s, route_state_find(st, nd->id), now, why, whylen);
}

static bool eligible_ns(const struct route_node *nd, const struct route_request *req,
                        const char *key, const struct route_settings *s,
                        const struct route_node_state *ns, double now, char *why, size_t whylen)
{
    bool hot = ns && ns->hot, full = ns && ns->full;

    if (nd->last_seen <= 0 || now - nd->last_seen > s->stale_after) {
        if (nd->last_seen <= 0)
            say(why, whylen, "stale: never seen");
        else /* %g keeps 15.001 exact; past a day whole seconds read better */
            say(why, whylen, now - nd->last_seen < 86400 ? "stale: last seen %g s ago"
                                                         : "stale: last seen %.0f s ago",
                now - nd->last_seen);
        return false;
    }
    if (nd->available == ROUTE_AVAIL_NO) {
        say(why, whylen, "unavailable");
        return false;
    }
    if (nd->draining) {
        say(why, whylen, "draining");
        return false;
    }
    if (req && !eligible_req(nd, req, key, s, why, whylen))
        return false;
    if (nd->has_temp && nd->temp_c > s->max_temp) {
        say(why, whylen, "hot: %g C > %g", nd->temp_c, s->max_temp);
        return false;
    }
    if (nd->has_temp && hot && nd->temp_c > s->max_temp - s->temp_margin) {
        say(why, whylen, "hot: %g C > %g (cooling down)", nd->temp_c,
            s->max_temp - s->temp_margin);
        return false;
    }
    if (nd->has_temp && ns && heading_past(nd, ns, s, now)) {
        say(why, whylen, "hot: heading past %g C (%g C, +%.2g C/s for %.0f s)", s->max_temp,
            nd->temp_c, ns->cond.slope, now - ns->cond.temp_at);
        return false;
    }
    if (nd->ram_percent >= 0 && nd->ram_percent > s->max_ram) {
        say(why, whylen, "full: ram %.1f %% > %g", nd->ram_percent, s->max_ram);
        return false;
    }
    if (nd->ram_percent >= 0 && full && nd->ram_percent > s->max_ram - s->ram_margin) {
        say(why, whylen, "full: ram %.1f %% > %g (freeing up)", nd->ram_percent,
            s->max_ram - s->ram_margin);
        return false;
    }
    return true;
}

bool route_eligible(const struct route_node *node, const struct route_request *req,
                    const struct route_settings *s, const struct route_state *st, double now,
                    char *why, size_t whylen)
{
    char key[ORION_MODEL_MAX + 1];

    if (why && whylen)
        why[0] = '\0';
    if (req && route_model_norm(req->model, key, sizeof(key)) < 0) {
        say(why, whylen, "bad model name");
        return false;
    }
    return route_eligible_key(node, req, req ? key : NULL, s, st, now, why, whylen);
}

bool route_recorded(const struct route_node_state *ns, const char *key, double now)
{
    for (size_t i = 0; ns && i < ns->nsent; i++)
        if (!ns->sent[i].unload && ns->sent[i].expires > now &&
            strcmp(ns->sent[i].model, key) == 0)
            return true;
    return false;
}

bool route_unloaded(const struct route_node_state *ns, const char *key, double now)
{
    for (size_t i = 0; ns && i < ns->nsent; i++)
        if (ns->sent[i].unload && ns->sent[i].expires > now &&
            strcmp(ns->sent[i].model, key) == 0)
            return true;
    return false;
}

bool route_resident(const struct route_node *node, const char *model_key,
                    const struct route_state *st, double now)
{
    const struct route_node_state *ns = route_state_find(st, node->id);

    return (route_has_model(node->models, node->nmodels, model_key) &&
            !route_unloaded(ns, model_key, now)) ||
           route_recorded(ns, model_key, now);
}

/* Comparisons: < 0 when a is better. */
static int cmp_load(const struct route_cand *a, const struct route_cand *b)
{
    unsigned long long x = (unsigned long long)a->used * b->cap;
    unsigned long long y = (unsigned long long)b->used * a->cap;

    return x < y ? -1 : x > y;
}

static int cmp_temp(const struct route_node *a, const struct route_node *b)
{
    if (a->has_temp != b->has_temp)
        return a->has_temp ? -1 : 1; /* unknown temperature sorts after known */
    if (!a->has_temp)
        return 0;
    return a->temp_c < b->temp_c ? -1 : a->temp_c > b->temp_c;
}

static double free_mem(const struct route_node *n, bool use_mb)
{
    if (n->ram_percent < 0)
        return -1; /* unknown sorts last */
    if (use_mb)
        return (double)n->ram_total_mb * (100 - n->ram_percent) / 100;
    return 100 - n->ram_percent;
}

static int cmp_free(const struct route_node *a, const struct route_node *b, bool use_mb)
{
    double x = free_mem(a, use_mb), y = free_mem(b, use_mb);

    return x > y ? -1 : x < y;
}

static const char *nid(const struct route_node *n) { return n->id ? n->id : ""; }

static int cmp_id(const struct route_node *a, const struct route_node *b)
{
    return strcmp(nid(a), nid(b));
}

int route_cand_cmp(const struct route_pick *pk, const struct route_cand *a,
                   const struct route_cand *b, enum route_order o)
{
    const struct route_node *na = &pk->nodes[a->idx], *nb = &pk->nodes[b->idx];
    int c = 0;

    if (o == ORDER_CONN)
        c = cmp_load(a, b);
    else if (o == ORDER_RESIDENT) {
        if (!(c = cmp_load(a, b)) && !(c = cmp_temp(na, nb)))
            c = cmp_free(na, nb, pk->use_mb);
    } else {
        bool fa = a->used < a->cap, fb = b->used < b->cap;

        c = fa != fb ? (fa ? -1 : 1) : 0;
        if (!c && !(c = cmp_free(na, nb, pk->use_mb)) && !(c = cmp_temp(na, nb)))
            c = cmp_load(a, b);
    }
    return c ? c : cmp_id(na, nb);
}

static bool within_bound(const struct route_pick *pk, const struct route_cand *c)
{
    unsigned long long pct = pk->s->load_factor_pct ? pk->s->load_factor_pct : 100;
    unsigned long long den = 100 * pk->C;
    unsigned long long bound = (pct * (pk->U + 1) * c->cap + den - 1) / den;

    return c->used + 1 <= bound;
}

static bool cand_ok(const struct route_pick *pk, const struct route_cand *c, unsigned flags)
{
    if ((flags & F_RES) && !c->resident)
        return false;
    if ((flags & F_NONRES) && c->resident)
        return false;
    if ((flags & F_FREE) && c->used >= c->cap)
        return false;
    return !(flags & F_BOUND) || within_bound(pk, c);
}

/* Index into pk->c of the best candidate passing flags, or -1. */
static int best(const struct route_pick *pk, unsigned flags, enum route_order o)
{
    int b = -1;

    for (size_t i = 0; i < pk->nc; i++)
        if (cand_ok(pk, &pk->c[i], flags) &&
            (b < 0 || route_cand_cmp(pk, &pk->c[i], &pk->c[b], o) < 0))
            b = (int)i;
    return b;
}

/* The requests ahead of this one on c, the running ones half done on average. */
static double wait_ms(const struct route_cand *c, double svc)
{
    return ((double)(c->used + 1 - c->cap) - 0.5) * svc / (double)c->cap;
}

/* Where a decision's note goes: nowhere for a pass of route_dispatch, which has no use for
 * it (formatting it cost more than the decision). */
static char *why_of(const struct route_pick *pk, struct route_result *out)
{
    return pk->quiet ? NULL : out->why;
}

static void choose(struct route_result *out, const struct route_pick *pk, int ci, enum route_kind k)
{
    out->kind = k;
    out->node = pk->c[ci].idx;
}

/* The non-resident candidate passing flags whose load costs least (cold + evict; ties:
 * ORDER_COLD); its cost and eviction part in *cost, *evict. -1 when there is none. */
static int best_load(const struct route_pick *pk, unsigned flags, double *cost, double *evict)
{
    int b = -1;
    double bc = 0, be = 0;

    for (size_t i = 0; i < pk->nc; i++) {
        const struct route_cand *c = &pk->c[i];
        double e, t;
        if (!cand_ok(pk, c, flags | F_NONRES))
            continue;
        e = route_evict_ms(pk, c);
        t = route_cold_ms(pk, c, pk->key) + e;
        if (b < 0 || t < bc || (t == bc && route_cand_cmp(pk, c, &pk->c[b], ORDER_COLD) < 0)) {
            b = (int)i;
            bc = t;
            be = e;
        }
    }
    *cost = bc;
    *evict = be;
    return b;
}

/* The sticky order (docs/PROTOCOL.md, `routed` kinds): resident with a free slot, else
 * bounded load with the spill's cost counted, else coldest fit. */
static void pick_sticky(const struct route_pick *pk, const struct route_request *req,
                        struct route_result *out)
{
    double svc = route_service_ms(pk, req), wait, cost, evict;
    char *why = why_of(pk, out);
    const size_t wl = sizeof(out->why);
    int q, sp;

    if ((q = best(pk, F_RES | F_FREE, ORDER_RESIDENT)) >= 0) {
        choose(out, pk, q, ROUTE_STICKY);
        say(why, wl, "resident, load %lu/%lu", pk->c[q].used, pk->c[q].cap);
        return;
    }
    if (!pk->any_resident) {
        if ((sp = best_load(pk, F_FREE, &cost, &evict)) < 0)
            sp = best_load(pk, 0, &cost, &evict);
        choose(out, pk, sp, ROUTE_COLD);
        say(why, wl, "resident nowhere: cold load %.0f + eviction %.0f ms",
            cost - evict, evict);
        return;
    }
    q = best(pk, F_RES | F_BOUND, ORDER_RESIDENT);
    sp = best_load(pk, F_FREE, &cost, &evict);
    if (sp >= 0 && q < 0 && evict <= 0) {
        choose(out, pk, sp, ROUTE_SPILL);
        say(why, wl, "resident nodes past the load bound");
        return;
    }
    if (sp >= 0) {
        const char *past = q < 0 ? " (past the load bound)" : "";
        if (q < 0)
            q = best(pk, F_RES, ORDER_RESIDENT);
        wait = wait_ms(&pk->c[q], svc);
        if (wait > cost) {
            choose(out, pk, sp, ROUTE_SPILL);
            say(why, wl,
                "resident nodes full%s: wait %.0f ms > cold load %.0f + eviction %.0f ms", past,
                wait, cost - evict, evict);
        } else {
            choose(out, pk, q, ROUTE_QUEUED_RESIDENT);
            say(why, wl,
                "queued%s: wait %.0f ms <= cold load %.0f + eviction %.0f ms", past, wait,
                cost - evict, evict);
        }
    } else if (q >= 0) {
        choose(out, pk, q, ROUTE_QUEUED_RESIDENT);
        say(why, wl, "queued: no free non-resident node");
    } else {
        choose(out, pk, best(pk, F_RES, ORDER_RESIDENT), ROUTE_QUEUED_RESIDENT);
        say(why, wl, "queued: every node full");
    }
}

static int cmp_first_fit(const struct route_pick *pk, const struct route_cand *a,
                         const struct route_cand *b)
{
    const struct route_node *na = &pk->nodes[a->idx], *nb = &pk->nodes[b->idx];
    unsigned long x = na->ram_total_mb ? na->ram_total_mb : (unsigned long)-1;
    unsigned long y = nb->ram_total_mb ? nb->ram_total_mb : (unsigned long)-1;

    return x != y ? (x < y ? -1 : 1) : cmp_id(na, nb);
}

static double ram_used(const struct route_node *n)
{
    return n->ram_percent < 0 ? HUGE_VAL : (double)n->ram_total_mb * n->ram_percent / 100;
}

static int cmp_ram_used(const struct route_pick *pk, const struct route_cand *a,
                        const struct route_cand *b)
{
    const struct route_node *na = &pk->nodes[a->idx], *nb = &pk->nodes[b->idx];
    double x = ram_used(na), y = ram_used(nb);

    return x != y ? (x < y ? -1 : 1) : cmp_id(na, nb);
}

/* The seed's rule: smallest node that has the model loaded, else the least RAM used. */
static int pick_first_fit(const struct route_pick *pk)
{
    int b = -1;

    for (size_t i = 0; i < pk->nc; i++)
        if (pk->c[i].loaded && (b < 0 || cmp_first_fit(pk, &pk->c[i], &pk->c[b]) < 0))
            b = (int)i;
    if (b >= 0)
        return b;
    for (size_t i = 0; i < pk->nc; i++)
        if (b < 0 || cmp_ram_used(pk, &pk->c[i], &pk->c[b]) < 0)
            b = (int)i;
    return b;
}

/* The eligible node with the smallest id after rr_last, wrapping around. */
static int pick_round_robin(const struct route_pick *pk)
{
    const char *last = pk->st ? pk->st->rr_last : "", *id;
    int after = -1, first = -1;

    for (size_t i = 0; i < pk->nc; i++) {
        id = nid(&pk->nodes[pk->c[i].idx]);
        if (first < 0 || strcmp(id, nid(&pk->nodes[pk->c[first].idx])) < 0)
            first = (int)i;
        if (strcmp(id, last) > 0 &&
            (after < 0 || strcmp(id, nid(&pk->nodes[pk->c[after].idx])) < 0))
            after = (int)i;
    }
    return after >= 0 ? after : first;
}

/* Rendezvous hashing: the smallest hash of (rnd, id) wins, whatever the order of the nodes. */
static unsigned long long mix(unsigned long long h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static int pick_random(const struct route_pick *pk, unsigned long rnd)
{
    unsigned long long h, bh = 0;
    int b = -1;

    for (size_t i = 0; i < pk->nc; i++) {
        h = 1469598103934665603ULL ^ rnd;
        for (const char *p = nid(&pk->nodes[pk->c[i].idx]); *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = mix(h);
        if (b < 0 || h < bh) {
            b = (int)i;
            bh = h;
        }
    }
    return b;
}

int route_policy_choice(const struct route_pick *pk, const struct route_request *req)
{
    if (pk->s->policy == ROUTE_POLICY_FIRST_FIT)
        return pick_first_fit(pk);
    if (pk->s->policy == ROUTE_POLICY_LEAST_CONN)
        return best(pk, 0, ORDER_CONN);
    if (pk->s->policy == ROUTE_POLICY_RANDOM)
        return pick_random(pk, req->rnd);
    return pick_round_robin(pk);
}

static void pick_other(const struct route_pick *pk, const struct route_request *req,
                       struct route_result *out)
{
    int ci = route_policy_choice(pk, req);
    const struct route_cand *c = &pk->c[ci];
    char *why = why_of(pk, out);
    const size_t wl = sizeof(out->why);

    if (c->resident)
        choose(out, pk, ci, c->used < c->cap ? ROUTE_STICKY : ROUTE_QUEUED_RESIDENT);
    else
        choose(out, pk, ci, pk->any_resident ? ROUTE_SPILL : ROUTE_COLD);
    say(why, wl, "policy %s", route_policy_name(pk->s->policy));
}

/* Every node's reason, "id: reason; id: reason", cut with "..." when it does not fit. */
static void wait_summary(const struct route_pick *pk, size_t n, const struct route_request *req,
                         double now, struct route_result *out)
{
    char one[WHY_NODE];
    size_t off = 0, cap = sizeof(out->why);
    int w;

    out->why[0] = '\0';
    if (!n)
        say(out->why, cap, "no nodes");
    for (size_t i = 0; i < n && off < cap; i++) {
        route_eligible_key(&pk->nodes[i], req, pk->key, pk->s, pk->st, now, one, sizeof(one));
        w = snprintf(out->why + off, cap - off, "%s%s: %s", off ? "; " : "",
                     nid(&pk->nodes[i]), one);
        if (w < 0 || (size_t)w >= cap - off) {
            memcpy(out->why + cap - 4, "...", 4);
            return;
        }
        off += (size_t)w;
    }
}

void route_cache_node(struct route_cache *c, const struct route_pick *pk, size_t i, double now)
{
    c->ns[i] = route_state_find(pk->st, pk->nodes[i].id);
    c->ok[i] = eligible_ns(&pk->nodes[i], NULL, NULL, pk->s, c->ns[i], now, NULL, 0);
    c->ev_have[i] = false;
}

void route_cache_init(struct route_cache *c, const struct route_pick *pk, size_t n, double now)
{
    c->nkeys = 0;
    for (size_t i = 0; i < n; i++)
        route_cache_node(c, pk, i, now);
}

/* pk->key's index in the cache, its residency computed for every node when it is new; -1
 * when the cache has no room for it. */
static int cache_key(struct route_pick *pk, size_t n)
{
    struct route_cache *c = pk->cache;
    size_t k, len;

    for (k = 0; k < c->nkeys; k++)
        if (strcmp(c->key[k], pk->key) == 0)
            return (int)k;
    if (c->nkeys == ROUTE_CACHE_KEYS)
        return -1;
    len = strlen(pk->key);
    memcpy(c->key[k], pk->key, len + 1);
    c->learned[k] = route_learned_find(pk->st, pk->key);
    for (size_t i = 0; i < n; i++)
        c->loaded[k][i] = route_has_model(pk->nodes[i].models, pk->nodes[i].nmodels, pk->key);
    c->nkeys++;
    return (int)k;
}

/* Is nodes[i] eligible for req; its state in *ns. */
static bool collect_one(const struct route_pick *pk, size_t i, const struct route_request *req,
                        double now, const struct route_node_state **ns)
{
    const struct route_node *nd = &pk->nodes[i];

    if (!pk->cache) {
        *ns = route_state_find(pk->st, nd->id);
        return eligible_ns(nd, req, pk->key, pk->s, *ns, now, NULL, 0);
    }
    *ns = pk->cache->ns[i];
    return pk->cache->ok[i] && (!req || eligible_req(nd, req, pk->key, pk->s, NULL, 0));
}

void route_collect(struct route_pick *pk, size_t n, const struct route_request *req, double now)
{
    const struct route_node *nd;
    struct route_cand *c;
    const struct route_node_state *ns;

    pk->nc = 0;
    pk->prepared = false;
    pk->U = pk->C = 0;
    pk->use_mb = true;
    pk->any_resident = false;
    pk->ck = pk->cache ? cache_key(pk, n) : -1;
    pk->lk = pk->ck >= 0 ? pk->cache->learned[pk->ck] : route_learned_find(pk->st, pk->key);
    for (size_t i = 0; i < n; i++) {
        nd = &pk->nodes[i];
        if (!collect_one(pk, i, req, now, &ns))
            continue;
        c = &pk->c[pk->nc++];
        c->idx = (int)i;
        c->ns = ns;
        c->cap = nd->capacity ? nd->capacity : 1;
        c->used = (unsigned long)nd->inflight + (ns ? ns->queued : 0);
        c->loaded = (pk->ck >= 0 ? pk->cache->loaded[pk->ck][i]
                                 : route_has_model(nd->models, nd->nmodels, pk->key)) &&
                    !route_unloaded(ns, pk->key, now); /* not cached: a pass may unload */
        c->resident = c->loaded || route_recorded(ns, pk->key, now);
        pk->any_resident = pk->any_resident || c->resident;
        pk->U += c->used;
        pk->C += c->cap;
        if (!nd->ram_total_mb)
            pk->use_mb = false;
    }
}

int route_pick_collected(struct route_pick *pk, const struct route_request *req,
                         struct route_result *out)
{
    out->node = -1;
    out->why[0] = '\0';
    if (pk->s->policy == ROUTE_POLICY_STICKY)
        pick_sticky(pk, req, out);
    else
        pick_other(pk, req, out);
    return out->node;
}

int route_pick(const struct route_node *nodes, size_t n, const struct route_request *req,
               const struct route_settings *s, const struct route_state *st, double now,
               struct route_result *out)
{
    struct route_pick pk;

    out->node = -1;
    out->why[0] = '\0';
    pk.nodes = nodes;
    pk.s = s;
    pk.st = st;
    pk.cache = NULL;
    pk.quiet = false;
    if (!req || route_model_norm(req->model, pk.key, sizeof(pk.key)) < 0) {
        out->kind = ROUTE_REJECT;
        say(out->why, sizeof(out->why), "bad model name");
        return -1;
    }
    if (n > ORION_ROUTE_MAX_NODES)
        n = ORION_ROUTE_MAX_NODES;
    route_collect(&pk, n, req, now);
    if (!pk.nc) {
        out->kind = ROUTE_WAIT;
        wait_summary(&pk, n, req, now, out);
        return -1;
    }
    return route_pick_collected(&pk, req, out);
}

int route_request_cmp(const struct route_request *a, const struct route_request *b)
{
    int pa = a->priority ? a->priority : 2, pb = b->priority ? b->priority : 2;

    if (pa != pb)
        return pa > pb ? -1 : 1;
    return a->arrived < b->arrived ? -1 : a->arrived > b->arrived;
}
