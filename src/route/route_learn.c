/* SPDX-License-Identifier: MIT */
/*
 * route_learn: what the router learns from the workers' answers: run, cold-load and prompt-free
 * run times and answer lengths per model, prefill rates per model and per node, and whether a
 * prompt found its prefix in the node's cache. Formulas in route.h (route_note_answer,
 * route_note_finished).
 */
#include "orion/route.h"
#include "route_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define HIT_FACTOR 3  /* a prompt evaluated 3 x faster than a miss was mostly cached */
#define RATE_MIN_TOKENS 32 /* shorter prompts time the overhead more than the rate */

const struct route_learned *route_learned_find(const struct route_state *st,
                                               const char *model_key)
{
    for (size_t i = 0; st && model_key && i < st->nlearned; i++)
        if (strcmp(st->learned[i].model, model_key) == 0)
            return &st->learned[i];
    return NULL;
}

static double ewma(double old, double v) { return old > 0 ? old + (v - old) / 4 : v; }

void route_answer_init(struct route_answer *a)
{
    a->total_ms = a->load_ms = a->prompt_ms = a->eval_ms = -1;
    a->prompt_count = a->eval_count = a->cached_count = -1;
}

static bool bad_ms(double v) { return !isfinite(v) || v > 86400e3; }

/* The learned entry of key, made when missing (full: the one updated longest ago goes). */
static struct route_learned *learned_get(struct route_state *st, const char *key)
{
    struct route_learned *l = (struct route_learned *)route_learned_find(st, key);
    size_t i, slot;

    if (l)
        return l;
    if (st->nlearned < ROUTE_MAX_LEARNED) {
        slot = st->nlearned++;
    } else {
        for (slot = 0, i = 1; i < st->nlearned; i++)
            if (st->learned[i].updated < st->learned[slot].updated)
                slot = i;
    }
    l = &st->learned[slot];
    memset(l, 0, sizeof(*l));
    snprintf(l->model, sizeof(l->model), "%s", key);
    return l;
}

int route_note_answer(struct route_state *st, const char *model, double total_ms,
                      double load_ms, const struct route_settings *s, double now)
{
    char key[ORION_MODEL_MAX + 1];
    struct route_learned *l;
    double run;

    if (route_model_norm(model, key, sizeof(key)) < 0 || bad_ms(total_ms) || bad_ms(load_ms) ||
        total_ms < 0 || load_ms < 0 || load_ms > total_ms) {
        errno = EINVAL;
        return -1;
    }
    l = learned_get(st, key);
    run = total_ms - load_ms;
    if (run > 0) { /* an answer without a run time (total_duration 0) teaches nothing */
        l->service_ms = ewma(l->service_ms, run);
        st->service_ms = ewma(st->service_ms, run);
    }
    if (load_ms >= s->cold_min_ms)
        l->cold_ms = ewma(l->cold_ms, load_ms);
    l->updated = now;
    return 0;
}

static struct route_rate *rate_find(const struct route_node_state *ns, unsigned long model)
{
    for (size_t i = 0; ns && i < ns->nrate; i++)
        if (ns->rate[i].model == model)
            return (struct route_rate *)&ns->rate[i];
    return NULL;
}

double route_prefill_tps(const struct route_state *st, const char *node_id,
                         const char *model_key, const struct route_settings *s)
{
    return route_rate(route_state_find(st, node_id), route_learned_find(st, model_key),
                      route_conv_model(model_key), s);
}

double route_rate(const struct route_node_state *ns, const struct route_learned *l,
                  unsigned long model, const struct route_settings *s)
{
    const struct route_rate *r = rate_find(ns, model);

    if (r && r->prefill_tps > 0)
        return r->prefill_tps;
    if (l && l->prefill_tps > 0)
        return l->prefill_tps;
    return s->prefill_tps > 0 ? s->prefill_tps : 50;
}

/* A miss's prompt rate, for the node and the model. */
static void learn_rate(struct route_node_state *ns, struct route_learned *l, unsigned long model,
                       double tps)
{
    struct route_rate *r = rate_find(ns, model);

    if (!r) {
        if (ns->nrate == ROUTE_MAX_RATES) { /* full: the first learned goes */
            memmove(&ns->rate[0], &ns->rate[1], (ROUTE_MAX_RATES - 1) * sizeof(ns->rate[0]));
            ns->nrate--;
        }
        r = &ns->rate[ns->nrate++];
        r->model = model;
        r->prefill_tps = 0;
    }
    r->prefill_tps = ewma(r->prefill_tps, tps);
    l->prefill_tps = ewma(l->prefill_tps, tps);
}

/* Was the prompt mostly found in the cache? 1 hit, 0 miss or cannot tell. A miss teaches the
 * prefill rate. */
static int prompt_hit(struct route_state *st, struct route_node_state *ns, struct route_learned *l,
                      const char *key, const struct route_answer *a,
                      const struct route_settings *s)
{
    unsigned long model = route_conv_model(key);
    double tps, rate;
    long uncached = a->prompt_count;

    if (a->prompt_count <= 0 || a->prompt_ms <= 0)
        return 0;
    if (a->cached_count >= 0) {
        uncached = a->prompt_count - a->cached_count;
        if (uncached >= RATE_MIN_TOKENS)
            learn_rate(ns, l, model, (double)uncached / (a->prompt_ms / 1000));
        return a->cached_count > 0;
    }
    tps = (double)a->prompt_count / (a->prompt_ms / 1000);
    rate = route_prefill_tps(st, ns->id, key, s);
    if ((rate_find(ns, model) || l->prefill_tps > 0) && tps > HIT_FACTOR * rate)
        return 1;
    if (a->prompt_count >= RATE_MIN_TOKENS)
        learn_rate(ns, l, model, tps);
    return 0;
}

int route_learn(struct route_state *st, struct route_node_state *ns, const char *model,
                const struct route_answer *a, unsigned long expected_cached,
                const struct route_settings *s, double now)
{
    char key[ORION_MODEL_MAX + 1];
    struct route_learned *l;
    double gen;
    int hit;

    if (route_note_answer(st, model, a->total_ms < 0 ? 0 : a->total_ms,
                          a->load_ms < 0 ? 0 : a->load_ms, s, now) < 0 ||
        bad_ms(a->prompt_ms) || bad_ms(a->eval_ms))
        return -1;
    route_model_norm(model, key, sizeof(key));
    l = learned_get(st, key);
    gen = a->total_ms - (a->load_ms > 0 ? a->load_ms : 0) - (a->prompt_ms > 0 ? a->prompt_ms : 0);
    if (a->total_ms > 0 && a->prompt_ms >= 0 && gen > 0)
        l->gen_ms = ewma(l->gen_ms, gen);
    if (a->eval_count > 0)
        l->answer_tokens = ewma(l->answer_tokens, (double)a->eval_count);
    if (!ns)
        return 0;
    hit = prompt_hit(st, ns, l, key, a, s);
    if (expected_cached && a->prompt_count > 0 && a->prompt_ms > 0) {
        ns->trust = ns->has_trust ? ns->trust + (hit - ns->trust) / 8 : hit;
        ns->has_trust = true;
    }
    return hit;
}
