/* SPDX-License-Identifier: MIT */
/*
 * route_cost: the expected times a routing decision weighs, in ms: a model's cold load on a
 * node, a request's run time, and what a load costs later when it displaces another model.
 * Formulas in route.h ("Sticky policy", "Learning").
 */
#include "orion/route.h"
#include "route_int.h"

#include <string.h>

/* Expected cold load of model `key` on candidate c: the node's own figure, else learned,
 * else the default. */
double route_cold_ms(const struct route_pick *pk, const struct route_cand *c, const char *key)
{
    const struct route_learned *l = key == pk->key ? pk->lk : route_learned_find(pk->st, key);
    unsigned ms = pk->nodes[c->idx].cold_load_ms;

    if (ms)
        return ms;
    return l && l->cold_ms > 0 ? l->cold_ms : pk->s->cold_load_ms;
}

double route_service_ms(const struct route_pick *pk, const struct route_request *req)
{
    const struct route_learned *l = pk->lk;

    if (req->service_ms)
        return req->service_ms;
    if (l && l->service_ms > 0)
        return l->service_ms;
    if (pk->st && pk->st->service_ms > 0)
        return pk->st->service_ms;
    return pk->s->service_ms;
}

/* Per decision, once: whether each candidate holds as many models as it can (a load there
 * displaces one), and how many do. A node's model capacity is the one learned on it, else
 * the least learned on an eligible node with the same memory (ram_total_mb known), else
 * unknown (never full). */
static void prepare(const struct route_pick *cpk)
{
    struct route_pick *pk = (struct route_pick *)cpk; /* a cache of derived values */
    unsigned long ram[ROUTE_COST_RAMS];
    unsigned least[ROUTE_COST_RAMS], cap;
    const struct route_node_state *ns;
    const struct route_node *nd;
    size_t nram = 0, k;

    for (size_t i = 0; i < pk->nc; i++) {
        nd = &pk->nodes[pk->c[i].idx];
        ns = pk->c[i].ns;
        pk->c[i].cap_models = ns ? ns->model_cap : 0;
        if (!pk->c[i].cap_models || !nd->ram_total_mb)
            continue;
        for (k = 0; k < nram && ram[k] != nd->ram_total_mb; k++)
            ;
        if (k == nram && nram < ROUTE_COST_RAMS) {
            ram[nram] = nd->ram_total_mb;
            least[nram++] = pk->c[i].cap_models;
        } else if (k < nram && pk->c[i].cap_models < least[k]) {
            least[k] = pk->c[i].cap_models;
        }
    }
    pk->nfull = 0;
    for (size_t i = 0; i < pk->nc; i++) {
        nd = &pk->nodes[pk->c[i].idx];
        cap = pk->c[i].cap_models;
        for (k = 0; !cap && nd->ram_total_mb && k < nram; k++)
            if (ram[k] == nd->ram_total_mb)
                cap = least[k];
        pk->c[i].full = cap && nd->nmodels >= cap;
        pk->nfull += pk->c[i].full;
    }
    pk->prepared = true;
}

/* What loading on c costs later: 0 unless c is models_full; then the mean cold load of its
 * loaded models (the one displaced is reloaded later: a copy elsewhere does not make it
 * free, it was loaded because the demand needed it), twice when every other eligible node is
 * models_full too (that reload displaces another model in turn). */
/* The sum of the cold loads of the models loaded on c, and how many: once per pass when
 * pk has a cache (neither the nodes' lists nor what was learned changes during a pass). */
static double loaded_sum(const struct route_pick *pk, const struct route_cand *c, size_t *n)
{
    const struct route_node *nd = &pk->nodes[c->idx];
    struct route_cache *cc = pk->cache;
    char k[ORION_MODEL_MAX + 1];
    double sum = 0;

    if (cc && cc->ev_have[c->idx]) {
        *n = cc->ev_n[c->idx];
        return cc->ev_sum[c->idx];
    }
    *n = 0;
    for (size_t i = 0; i < nd->nmodels; i++) {
        if (!nd->models[i] || route_model_norm(nd->models[i], k, sizeof(k)) < 0)
            continue;
        (*n)++;
        sum += route_cold_ms(pk, c, k);
    }
    if (cc) {
        cc->ev_have[c->idx] = true;
        cc->ev_n[c->idx] = *n;
        cc->ev_sum[c->idx] = sum;
    }
    return sum;
}

double route_evict_ms(const struct route_pick *pk, const struct route_cand *c)
{
    double sum, chain = 2;
    size_t n;

    if (!pk->prepared)
        prepare(pk);
    if (!c->full)
        return 0;
    if (pk->nfull < pk->nc)
        chain = 1; /* another eligible node has room */
    sum = loaded_sum(pk, c, &n);
    return n ? chain * sum / (double)n : 0;
}
