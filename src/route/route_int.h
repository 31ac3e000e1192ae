/* SPDX-License-Identifier: MIT */
/*
 * route_int: what the routing core's files share and nothing else uses: the candidate list of
 * one routing decision and the costs computed on it (route.c, route_cost.c, route_dispatch.c),
 * and learning from an answer (route_learn.c for route_state.c).
 */
#ifndef ORION_ROUTE_INT_H
#define ORION_ROUTE_INT_H

#include "orion/route.h"

enum { F_RES = 1 << 0, F_NONRES = 1 << 1, F_FREE = 1 << 2, F_BOUND = 1 << 3 };
enum route_order { ORDER_RESIDENT, ORDER_COLD, ORDER_CONN };

#define ROUTE_COST_RAMS 16 /* memory sizes whose least learned model capacity one decision keeps */

struct route_cand {
    int idx;                 /* into the nodes array */
    const struct route_node_state *ns; /* its state, or NULL */
    unsigned long used, cap; /* inflight + queued; capacity (>= 1) */
    bool resident, loaded;   /* loaded: in the node's own models list */
    unsigned cap_models;     /* route_cost.c: learned model capacity (0 unknown) */
    bool full;               /* route_cost.c: holds as many models as it can */
};

#define ROUTE_CACHE_KEYS 8 /* model keys whose residency one pass keeps (route_cache) */

/* What one pass of route_dispatch computes once instead of for every request it weighs; only
 * values that nothing in the pass changes (route_note_dispatch refreshes its node's state and
 * eligibility), so every decision is the one the plain computation gives. */
struct route_cache {
    const struct route_node_state *ns[ORION_ROUTE_MAX_NODES]; /* route_state_find */
    bool ok[ORION_ROUTE_MAX_NODES];  /* eligible before any request's own rules */
    size_t nkeys;
    char key[ROUTE_CACHE_KEYS][ORION_MODEL_MAX + 1];
    const struct route_learned *learned[ROUTE_CACHE_KEYS]; /* route_learned_find */
    bool loaded[ROUTE_CACHE_KEYS][ORION_ROUTE_MAX_NODES];   /* the key in the node's models */
    bool ev_have[ORION_ROUTE_MAX_NODES]; /* route_evict_ms's sum of the node's models' loads */
    double ev_sum[ORION_ROUTE_MAX_NODES];
    size_t ev_n[ORION_ROUTE_MAX_NODES];
};

/* One routing decision: the eligible nodes for one request. */
struct route_pick {
    const struct route_node *nodes;
    const struct route_settings *s;
    const struct route_state *st;
    char key[ORION_MODEL_MAX + 1];
    struct route_cand c[ORION_ROUTE_MAX_NODES];
    size_t nc;
    bool use_mb;             /* compare free memory in MiB (every node reports its total) */
    unsigned long long U, C; /* sums of used and cap over the eligible nodes */
    bool any_resident;
    bool prepared;           /* route_cost.c has filled cap_models, full and nfull */
    size_t nfull;
    const struct route_learned *lk; /* route_learned_find of key (route_collect) */
    struct route_cache *cache; /* a pass's (route_dispatch), or NULL */
    int ck;                  /* key's index in cache, -1 none */
    bool quiet;              /* no `why` is written (route_pick_collected) */
};

/* route.c */
bool route_eligible_key(const struct route_node *nd, const struct route_request *req,
                        const char *key, const struct route_settings *s,
                        const struct route_state *st, double now, char *why, size_t whylen);
bool route_recorded(const struct route_node_state *ns, const char *key, double now);
/* Fill pk->c with the eligible nodes among nodes[0..n) (pk->nodes, s, st, key, cache set;
 * with a cache, pk->ck is found or added, or -1 when it is full). */
void route_collect(struct route_pick *pk, size_t n, const struct route_request *req, double now);
/* route_pick's choice among a collected pk (nc > 0): the node index; out->kind set. */
int route_pick_collected(struct route_pick *pk, const struct route_request *req,
                         struct route_result *out);
/* Fill cache->ns and cache->ok for nodes[0..n) (no keys yet), or refresh node i's. */
void route_cache_init(struct route_cache *c, const struct route_pick *pk, size_t n, double now);
void route_cache_node(struct route_cache *c, const struct route_pick *pk, size_t i, double now);
int route_cand_cmp(const struct route_pick *pk, const struct route_cand *a,
                   const struct route_cand *b, enum route_order o);
/* A comparison policy's choice among pk->c (nc > 0): an index into pk->c. */
int route_policy_choice(const struct route_pick *pk, const struct route_request *req);

/* route_cost.c: expected times in ms on a candidate (formulas in route.h) */
double route_cold_ms(const struct route_pick *pk, const struct route_cand *c, const char *key);
double route_service_ms(const struct route_pick *pk, const struct route_request *req);
double route_evict_ms(const struct route_pick *pk, const struct route_cand *c);

/* route_learn.c: the prefill rate for model (route_conv_model) on the node of state ns (NULL:
 * none), l the model's learned figures (or NULL), as route_prefill_tps. */
double route_rate(const struct route_node_state *ns, const struct route_learned *l,
                  unsigned long model, const struct route_settings *s);
/* route_learn.c: learn from an answer of model on node ns (NULL: model figures only); 1 hit,
 * 0 miss or unknown, -1 bad answer. */
int route_learn(struct route_state *st, struct route_node_state *ns, const char *model,
                const struct route_answer *a, unsigned long expected_cached,
                const struct route_settings *s, double now);

#endif
