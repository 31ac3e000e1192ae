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
    const struct route_learned *l = route_learned_find(pk->st, key);
    unsigned ms = pk->nodes[c->idx].cold_load_ms;

    if (ms)
        return ms;
    return l && l->cold_ms > 0 ? l->cold_ms : pk->s->cold_load_ms;
}

double route_service_ms(const struct route_pick *pk, const struct route_request *req)
{
    const struct route_learned *l = route_learned_find(pk->st, pk->key);

    if (req->service_ms)
        return req->service_ms;
    if (l && l->service_ms > 0)
        return l->service_ms;
    if (pk->st && pk->st->service_ms > 0)
        return pk->st->service_ms;
    return pk->s->service_ms;
}

/* How many models c holds at once: learned on c, else the least learned on an eligible node
 * with the same memory (ram_total_mb known), else 0 (unknown). */
static unsigned model_cap(const struct route_pick *pk, const struct route_cand *c)
{
    const struct route_node *nd = &pk->nodes[c->idx], *o;
    const struct route_node_state *ns = route_state_find(pk->st, nd->id);
    unsigned cap = 0;

    if (ns && ns->model_cap)
        return ns->model_cap;
    for (size_t i = 0; nd->ram_total_mb && i < pk->nc; i++) {
        o = &pk->nodes[pk->c[i].idx];
        ns = route_state_find(pk->st, o->id);
        if (o != nd && o->ram_total_mb == nd->ram_total_mb && ns && ns->model_cap &&
            (!cap || ns->model_cap < cap))
            cap = ns->model_cap;
    }
    return cap;
}

/* Does c hold as many models as it can (a load there displaces one)? */
static bool models_full(const struct route_pick *pk, const struct route_cand *c)
{
    unsigned cap = model_cap(pk, c);

    return cap && pk->nodes[c->idx].nmodels >= cap;
}

/* What loading on c costs later: 0 unless c is models_full; then the mean cold load of its
 * loaded models (the one displaced is reloaded later: a copy elsewhere does not make it
 * free, it was loaded because the demand needed it), twice when every other eligible node is
 * models_full too (that reload displaces another model in turn). */
double route_evict_ms(const struct route_pick *pk, const struct route_cand *c)
{
    const struct route_node *nd = &pk->nodes[c->idx];
    char k[ORION_MODEL_MAX + 1];
    double sum = 0, chain = 2;
    size_t n = 0;

    if (!models_full(pk, c))
        return 0;
    for (size_t i = 0; i < pk->nc && chain > 1; i++)
        if (&pk->c[i] != c && !models_full(pk, &pk->c[i]))
            chain = 1;
    for (size_t i = 0; i < nd->nmodels; i++) {
        if (!nd->models[i] || route_model_norm(nd->models[i], k, sizeof(k)) < 0)
            continue;
        n++;
        sum += route_cold_ms(pk, c, k);
    }
    return n ? chain * sum / (double)n : 0;
}
