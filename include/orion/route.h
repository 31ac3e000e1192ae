/* SPDX-License-Identifier: MIT */
/*
 * route: which node gets a request. A pure module: no I/O, no clock, no log, no allocation.
 * The router passes everything in (nodes from the health hash, the request, the settings, its
 * own per-node state and `now`) and gets back a node index and the kind of decision.
 * route_pick decides for one request bound early (sent at once); route_dispatch.h decides
 * which held requests leave now (binding late, the sticky default) with the cost model of
 * that header, using route_conv.h (conversations in the nodes' KV caches) and route_cond.h
 * (throttling, outside work, temperature trend). The concerns are split by file:
 * route.c (eligibility, route_pick, the comparison policies), route_name.c (names),
 * route_state.c (the state, records, flights), route_learn.c (answers), route_cost.c
 * (cold load, run time, eviction), route_dispatch.c, route_conv.c, route_cond.c.
 *
 * Eligibility (route_eligible), every threshold inclusive:
 *   fresh        now - last_seen <= stale_after (15 s): 15.000 is fresh, 15.001 is stale
 *   available    not false (unknown is fine)
 *   not draining
 *   placement    every placement rule allows (model, node)
 *   labels       the node has every label the request requires
 *   installed    the model is in `installed`, when the node reports a non-empty list
 *   temperature  temp_c <= max_temp (75): 75.0 eligible, 75.1 not; unknown temp is eligible
 *   memory       ram_percent <= max_ram (90): 90.0 eligible, 90.1 not; negative = unknown = fine
 *   trend        with the state's rising temperature trend (route_cond.h) from this very
 *                reading (last_seen), temp_c + slope x (now - last_seen, at most stale_after)
 *                <= max_temp: 73.5 C read 7.5 s ago at +0.2 C/s is 75.0, eligible; 7.6 s ago
 *                75.02, not ("hot: heading past 75 C ..."): the health report is seconds old
 * Hysteresis: route_state_update() marks a node `hot` when temp_c > max_temp and clears the
 * mark only when temp_c <= max_temp - temp_margin (default 3 C: hot at 76, still out at 74,
 * back at 72); `full` the same with ram_margin (default 5 %). A marked node is ineligible even
 * below the threshold. Without a state (NULL), or before the first update, only the plain
 * thresholds apply.
 *
 * Load: used = inflight (from health) + queued (router-local: sent by this router and not yet
 * known to be started or finished); cap = capacity (0 taken as 1); load = used / cap, compared
 * exactly by cross-multiplication. A node has a free slot when used < cap.
 *
 * Sticky policy (docs/PROTOCOL.md states what the fields mean):
 *   1. Resident = the model is in the node's `models` and the router has not unloaded it
 *      there since (an unload mark, route_sent), or the router's own record says it sent
 *      the model there and keep_alive has not run out (route_note_sent), and no health update
 *      has shown it loaded there and then gone (evicted). If a resident node has
 *      a free slot, it wins (STICKY), best first by: lowest load, coolest, most free RAM, id.
 *   2. Every resident node full: bounded load, with the spill's own cost counted. Over the
 *      eligible nodes,
 *          U = sum of used, C = sum of cap,
 *          bound_i = ceil(load_factor_pct * (U + 1) * cap_i / (100 * C))   (integer arithmetic)
 *      i.e. ceil(1.25 x mean load, counting this request) scaled by the node's capacity; a
 *      node may take the request when used_i + 1 <= bound_i. q = best resident node within its
 *      bound (same order as 1), r = best resident node regardless of it; s = the non-resident
 *      node with a free slot whose spill costs least (cost below; ties: the order of 3).
 *          wait_x = (used_x + 1 - cap_x - 1/2) * svc / cap_x      (the requests ahead, the
 *                   running ones half done on average)
 *          cost_s = cold(s) + evict(s)
 *      svc: the request's service_ms, else the model's learned run time, else the learned run
 *      time over all models, else settings service_ms. cold(s): the node's cold_load_ms, else
 *      the model's learned cold load, else settings cold_load_ms. evict(s): 0 unless s has as
 *      many models loaded as it holds (route_node_state.model_cap, learned from evictions seen
 *      in its health; unknown: the smallest learned on an eligible node with the same
 *      ram_total_mb; still unknown: no eviction): then the load displaces one of them, which
 *      is loaded again later (a copy elsewhere does not make that free: the copy was loaded
 *      because the demand needed it). evict(s) = the mean cold load of s's loaded models,
 *      doubled when every other eligible node is full of models too (the reload then
 *      displaces another model in turn).
 *        - q and s: SPILL to s when wait_q > cost_s, else QUEUED_RESIDENT on q (equal: queue).
 *        - q only: QUEUED_RESIDENT on q.
 *        - s only (every resident past its bound): SPILL to s when evict(s) = 0 (the bound
 *          spreads the load); when the spill would evict, SPILL only if wait_r > cost_s, else
 *          QUEUED_RESIDENT on r.
 *        - neither: QUEUED_RESIDENT on the best resident node regardless of its bound.
 *   3. Resident nowhere (COLD): a node with a free slot before a full one, then the lowest
 *      cold(s) + evict(s) (a node with room for the model first), then the most free
 *      memory (free MiB = ram_total_mb x (100 - ram_percent) / 100 when every eligible node
 *      reports ram_total_mb, else lowest ram_percent), then coolest, then lowest load, then id.
 *   Unknown temperature sorts after every known one; ties end on strcmp(id), so the result
 *   never depends on the order of the nodes array.
 *   No eligible node: WAIT, node -1, `why` lists each node's reason.
 *
 * Other policies (for the benchmark; eligibility still applies):
 *   first-fit    eligible nodes in ascending ram_total_mb (then id); the first whose `models`
 *                has the model; else the least RAM used (ram_total_mb x ram_percent / 100,
 *                then id). Ignores capacity and the router's records, as the seed did.
 *   least-conn   lowest load, then id.
 *   round-robin  the eligible node with the smallest id greater than the state's rr_last
 *                (set by route_note_sent), wrapping to the smallest id.
 *   random       the eligible node whose hash of (id, req->rnd) is the smallest: a uniform
 *                choice for a random rnd that does not depend on the order of the nodes.
 *   Their kind is classified after the choice: resident there and a free slot: STICKY;
 *   resident there, full: QUEUED_RESIDENT; resident elsewhere only: SPILL; nowhere: COLD.
 *
 * Model names (route_model_norm) compare as keys: lower-cased (Ollama compares names without
 * case); a leading "registry.ollama.ai/" (optionally after "http://" or "https://") is
 * dropped; a leading "library/" is then dropped; ":latest" is added when the last path
 * component has no tag; an "@digest" suffix is kept as is. So "gemma3", "Gemma3:latest",
 * "library/gemma3:latest" and "registry.ollama.ai/library/gemma3" are all "gemma3:latest";
 * "hf.co/u/m:Q4_K_M" is "hf.co/u/m:q4_k_m"; "registry.ollama.ai/foo/bar" is "foo/bar:latest".
 * Send Ollama the name the client gave, not the key.
 *
 * Learning (route_note_answer, route_state_update), all in the state, none of it required:
 *   run time   per model and over all models: total_duration - load_duration of each answer
 *              where that is > 0, an exponentially weighted mean (weight 1/4 for the newest;
 *              the first answer sets it).
 *   cold load  per model: load_duration of answers whose load_duration >= cold_min_ms
 *              (default 50 ms: a warm answer's load_duration is a few ms), the same mean.
 *   model_cap  per node: when a health update shows a model gone while another appeared, or
 *              gone while the node was busy, the node held as many as it had loaded before;
 *              a later count above it raises it.
 *   more       from route_note_finished (an answer's prompt figures): prefill rates per node
 *              and model, the run time without the prompt and the answer length per model,
 *              each node's trust in predicted cache hits; from route_state_update: the
 *              temperature trend and the CPU share taken outside Ollama (route_cond.h).
 *
 * Limits: route_pick considers the first ORION_ROUTE_MAX_NODES nodes; the state keeps
 * ORION_ROUTE_MAX_NODES nodes and ORION_ROUTE_MAX_SENT residency records per node (a new
 * record replaces the one that expires first), ROUTE_MAX_LEARNED models' times (a new model
 * replaces the one updated longest ago) and the first ROUTE_MAX_SEEN loaded models of a node
 * for the eviction check.
 */
#ifndef ORION_ROUTE_H
#define ORION_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/limits.h"
#include "orion/route_cond.h"
#include "orion/route_conv.h"

struct placement; /* placement.h */

#define ROUTE_MAX_LEARNED 32 /* models whose run and load times the state keeps */
#define ROUTE_MAX_SEEN 16    /* loaded models per node remembered between health updates */
#define ROUTE_MAX_FLIGHT 8   /* requests in flight per node whose times the state keeps */
#define ROUTE_MAX_RATES 4    /* models per node whose prefill rate the state keeps */

enum route_policy {
    ROUTE_POLICY_STICKY = 0,
    ROUTE_POLICY_FIRST_FIT,
    ROUTE_POLICY_LEAST_CONN,
    ROUTE_POLICY_ROUND_ROBIN,
    ROUTE_POLICY_RANDOM
};

enum route_kind {
    ROUTE_STICKY = 0,      /* resident and a free slot */
    ROUTE_QUEUED_RESIDENT, /* behind a busy resident node */
    ROUTE_SPILL,           /* cold on a non-resident node although resident nodes exist */
    ROUTE_COLD,            /* resident nowhere */
    ROUTE_WAIT,            /* no eligible node now: keep it pending and try again */
    ROUTE_REJECT           /* never routable: the model name is empty or too long */
};

enum route_avail { ROUTE_AVAIL_UNKNOWN = 0, ROUTE_AVAIL_YES, ROUTE_AVAIL_NO };

/* When a request leaves the router for a node (route_dispatch.h). */
enum route_binding {
    ROUTE_BIND_AUTO = 0, /* late for sticky, early for the comparison policies */
    ROUTE_BIND_LATE,     /* held until a node has a free slot */
    ROUTE_BIND_EARLY     /* at once, queued behind the node's work */
};

/* One node as the last health record describes it. Strings are borrowed views: the caller
 * keeps them alive during the call. Zero-initialised fields mean "unknown" where noted. */
struct route_node {
    const char *id;
    double last_seen;           /* Unix seconds; <= 0: never seen (stale) */
    enum route_avail available; /* zero: unknown (eligible) */
    bool has_temp;              /* false: no sensor (eligible) */
    double temp_c;
    double ram_percent;          /* 0-100; negative: unknown (eligible) */
    unsigned long ram_total_mb;  /* 0: unknown */
    const char *const *models;   /* loaded now (/api/ps), any spelling */
    size_t nmodels;
    const char *const *installed; /* /api/tags; 0 entries: unknown, no restriction */
    size_t ninstalled;
    unsigned capacity; /* requests at once; 0 taken as 1 */
    unsigned inflight; /* requests the worker runs now */
    bool draining;
    const char *const *labels; /* from the worker's --labels */
    size_t nlabels;
    unsigned cold_load_ms; /* expected cold load here; 0: settings default */
    bool has_throttled;
    unsigned long throttled; /* the Pi firmware's get_throttled flags (metrics.h) */
    double cpu_percent;      /* whole machine, 0-100; negative: unknown */
    bool host_cache;         /* its Ollama keeps idle slots' prompts in host RAM (v0.30+) */
};

struct route_request {
    const char *model;          /* any spelling; normalised inside */
    int priority;               /* 1 low, 2 normal, 3 high (0 taken as 2) */
    double arrived;             /* when the router first saw it (for route_request_cmp) */
    unsigned service_ms;        /* expected run time; 0: settings default */
    const char *const *labels;  /* labels a node must all have; may be NULL */
    size_t nlabels;
    const char *node;           /* only this node is eligible (NULL: any) */
    unsigned long rnd;          /* a random number the caller draws (policy random only) */
    const struct route_conv *conv; /* the prefix chain of its messages, or NULL */
    unsigned long prompt_tokens;   /* estimated prompt tokens when conv is NULL; 0: unknown */
    unsigned long long id;         /* the caller's number for it (route_dispatch's flights) */
    double keep_alive_s;           /* how long its model stays loaded after it (< 0 forever) */
};

struct route_settings {
    double max_temp;     /* C, default 75 */
    double max_ram;      /* %, default 90 */
    double stale_after;  /* s, default 15 */
    double temp_margin;  /* C below max_temp to come back, default 3 */
    double ram_margin;   /* % below max_ram to come back, default 5 */
    enum route_policy policy;      /* default sticky */
    unsigned load_factor_pct;      /* bounded load factor in %, default 125 (0 taken as 100) */
    unsigned cold_load_ms;         /* default cold load cost, default 5000 */
    unsigned service_ms;           /* default expected run time of a request, default 15000 */
    unsigned cold_min_ms;          /* load_duration from which an answer was a cold load, 50 */
    const struct placement *placement; /* rules, or NULL */
    enum route_binding binding;    /* see route_dispatch.h; default ROUTE_BIND_AUTO */
    double prefill_tps;            /* prompt tokens/s until learned, default 50 */
    unsigned long ctx_tokens;      /* prompts longer than this miss the cache (num_ctx), 4096 */
    unsigned conv_slots;           /* slots per model and node (OLLAMA_NUM_PARALLEL), 1 */
    double conv_p;                 /* chance that a conversation goes on, default 0.8 */
    double conv_keep_s;            /* a conversation idle this long is worth nothing, 600 */
    double heat_band;              /* C below max_temp where the heat cost starts, 5 */
    double heat_horizon_s;         /* how far ahead the temperature trend looks, 60 */
    double evict_reloads;          /* late binding: loads a displaced model costs later, 4 */
    double order_exp;              /* late sticky: a held request's claim is (waited + T) /
                                    * T^order_exp (route_dispatch.h); default 2 */
    bool order_arrival;            /* late sticky: held requests in arrival order, not by
                                    * response ratio (route_dispatch.h); default false */
};

/* Residency record: this router sent `model` (a normalised key) there; good until `expires`.
 * An unload mark (unload true: sent with keep_alive 0) says the opposite: the model leaves
 * that node after the request, so a `models` list that still shows it was written before it
 * went. The mark stands until a health update no longer lists the model, the model is sent
 * there again with another keep_alive, or `expires` (ROUTE_UNLOAD_HOLD_S after it was sent:
 * a list that still shows the model then had it loaded again). */
#define ROUTE_UNLOAD_HOLD_S 15 /* s: the default stale_after, a few health intervals */
struct route_sent {
    char model[ORION_MODEL_MAX + 1];
    double expires; /* Unix s; HUGE_VAL: never (keep_alive < 0) */
    bool seen;      /* a health update since showed it loaded there */
    bool unload;    /* an unload mark, not a residency record */
};

/* A request this router sent to a node and has not heard the end of. */
struct route_flight {
    unsigned long long id; /* the caller's */
    unsigned long model;   /* route_conv_model of its key */
    double sent;           /* when */
    double expect_ms;      /* its expected run time there */
    unsigned long cached;  /* prompt tokens expected to be in the node's cache */
    bool started;
};

/* What the router learned of one model on one node. */
struct route_rate {
    unsigned long model; /* route_conv_model of its key */
    double prefill_tps;  /* prompt tokens/s on a cache miss, weighted mean */
};

/* What the router remembers per node between health refreshes. */
struct route_node_state {
    char id[ORION_NODE_ID_MAX + 1];
    bool hot;        /* excluded for heat until temp_c <= max_temp - temp_margin */
    bool full;       /* excluded for memory until ram_percent <= max_ram - ram_margin */
    unsigned queued; /* sent by this router, not yet known started or finished */
    struct route_sent sent[ORION_ROUTE_MAX_SENT];
    size_t nsent;
    unsigned model_cap;                /* models it holds at once, learned; 0: unknown */
    unsigned long seen[ROUTE_MAX_SEEN]; /* hashes of the model keys loaded at the last update */
    size_t nseen;                      /* how many it had loaded (seen[] keeps the first 16) */
    bool seen_valid;                   /* seen[] is from an update (not the first sight) */
    struct route_flight flight[ROUTE_MAX_FLIGHT]; /* the oldest ROUTE_MAX_FLIGHT in flight */
    size_t nflight;
    struct route_conv_table conv;      /* what its KV caches hold */
    struct route_cond cond;            /* throttling, outside work, temperature trend */
    struct route_rate rate[ROUTE_MAX_RATES];
    size_t nrate;
    double trust;   /* share of predicted cache hits that were hits (weighted; 0 = none yet) */
    bool has_trust;
};

/* What the router learned of one model from its answers (times in ms, 0: nothing yet). */
struct route_learned {
    char model[ORION_MODEL_MAX + 1]; /* normalised key */
    double service_ms, cold_ms;
    double gen_ms;      /* run time without prompt evaluation (total - load - prompt) */
    double prefill_tps; /* prompt tokens/s on a cache miss, over all nodes */
    double answer_tokens; /* tokens an answer has (eval_count) */
    double updated; /* Unix s of the last answer */
};

#define ROUTE_STATE_SLOTS (2 * ORION_ROUTE_MAX_NODES) /* a power of 2 */

struct route_state {
    struct route_node_state node[ORION_ROUTE_MAX_NODES];
    size_t n;
    /* An index of node[] by id (open addressing; slot = position + 1, 0 empty), kept by the
     * functions below; it covers node[0..nindexed). Entries added by hand past nindexed are
     * found by a scan, so a state filled directly still works. */
    unsigned short slot[ROUTE_STATE_SLOTS];
    size_t nindexed;
    char rr_last[ORION_NODE_ID_MAX + 1]; /* round robin: the node sent to last ("" none) */
    struct route_learned learned[ROUTE_MAX_LEARNED];
    size_t nlearned;
    double service_ms; /* learned run time over all models, ms; 0: nothing yet */
    struct route_conv_stats conv;    /* requests by length: a conversation's chance to go on */
};

struct route_result {
    int node;             /* index into nodes, -1 for WAIT and REJECT */
    enum route_kind kind;
    char why[ORION_ROUTE_WHY_MAX]; /* WAIT: "id: reason; id: reason"; else a short note */
};

void route_settings_init(struct route_settings *s); /* the defaults above */
void route_state_init(struct route_state *st); /* all zero: a static one needs no call */

/* Once per health refresh: set/clear the hysteresis marks of every listed node, expire
 * residency records (expires <= now), drop the records of models that the node's health
 * showed loaded since and no longer does (evicted or unloaded: the record only stands in for
 * a load the health cannot show yet), learn model_cap, forget nodes that are no longer
 * listed. Returns 0, or -1
 * with errno ENOBUFS when more than ORION_ROUTE_MAX_NODES nodes are listed (the rest get no
 * state: plain thresholds, no records). */
int route_state_update(struct route_state *st, const struct route_node *nodes, size_t n,
                       const struct route_settings *s, double now);

/* The same for one node whose health changed (an event-driven router), without forgetting
 * the others. Returns 0, or -1 with errno ENOBUFS (no room for a new node). */
int route_state_update_one(struct route_state *st, const struct route_node *node,
                           const struct route_settings *s, double now);

/* Has this router unloaded model (a normalised key) on the node of state ns (NULL: no) since
 * the node's last `models` list: a live unload mark (route_sent)? */
bool route_unloaded(const struct route_node_state *ns, const char *key, double now);

/* The state of node `id`, or NULL. */
struct route_node_state *route_state_find(const struct route_state *st, const char *id);

/* The router sent `model` to `node_id`: queued + 1, rr_last = node_id, and a residency record
 * until now + keep_alive_s (keep_alive_s < 0: forever) so that the next request for the same
 * cold model goes there too; keep_alive_s 0 leaves an unload mark instead (route_sent).
 * Returns 0, or -1 with errno EINVAL (bad model name) or ENOBUFS (no room for the node). */
int route_note_sent(struct route_state *st, const char *node_id, const char *model,
                    double keep_alive_s, double now);

/* One request sent to `node_id` left the router's queue count (started or finished). */
void route_note_done(struct route_state *st, const char *node_id);

/* An answer for `model` came back with Ollama's total_duration and load_duration, in ms: learn
 * the model's run time (total - load) and, when load_ms >= s->cold_min_ms, its cold load time.
 * Returns 0, or -1 with errno EINVAL (bad model name, a time negative, not finite, above
 * 24 h, or load above total). */
int route_note_answer(struct route_state *st, const char *model, double total_ms,
                      double load_ms, const struct route_settings *s, double now);

/* An answer's figures as Ollama reports them (durations in ms); negative: absent. */
struct route_answer {
    double total_ms, load_ms;  /* total_duration, load_duration */
    double prompt_ms, eval_ms; /* prompt_eval_duration, eval_duration */
    long prompt_count;         /* prompt_eval_count: the whole prompt in most versions */
    long eval_count;
    long cached_count;         /* prompt_eval_cached_count where a version reports it */
};

/* route_answer with every figure absent. */
void route_answer_init(struct route_answer *a);

/* The router sent req to node as flight `id` (the caller's number, e.g. a hash of the entry
 * id), expected to run expect_ms there with `cached` prompt tokens found in the node's cache
 * (route_dispatch gives both): route_note_sent, a flight record (when ROUTE_MAX_FLIGHT are
 * kept, the newest is not), the node's conversation slots (route_conv_note_sent with the
 * model's learned answer length, settings conv_slots and the node's host_cache), and the
 * node's busy time (route_cond_busy). Returns route_note_sent's result. */
int route_note_dispatch(struct route_state *st, const struct route_node *node,
                        const struct route_request *req, unsigned long long id, double expect_ms,
                        unsigned long cached, double keep_alive_s, const struct route_settings *s,
                        double now);

/* Flight id on node_id started (the worker's started event). */
void route_note_started(struct route_state *st, const char *node_id, unsigned long long id);

/* Flight id on node_id ended: its record goes, queued - 1 (not below 0), the node was busy at
 * now. With an answer (a NULL: it failed), learn from it for model: route_note_answer's run
 * and cold-load times; the model's run time without the prompt (total - load - prompt) and
 * answer length; and the prompt's evaluation:
 *   cached_count >= 0 (reported): a hit when > 0; the uncached tokens prompt_count - cached.
 *   else, with R the prefill rate learned for the model on this node (else over all nodes):
 *   a hit when prompt_count / prompt_ms > 3 R (Ollama counts the whole prompt but times only
 *   what it evaluated); otherwise a miss, and prompt_count / prompt_ms teaches R (node and
 *   model, weighted mean, 1/4 for the newest) when prompt_count >= 32.
 * When the flight was sent expecting a cache hit, trust (the share of expected hits that were
 * hits, weight 1/8 for the newest) learns whether it was. Returns 1 for a detected hit, 0 for a
 * miss or nothing to tell, -1 with errno EINVAL for a bad answer (as route_note_answer; the
 * flight is still ended). */
int route_note_finished(struct route_state *st, const char *node_id, unsigned long long id,
                        const char *model, const struct route_answer *a,
                        const struct route_settings *s, double now);

/* The prefill rate (tokens/s) the router expects for model_key on node: the node's, else the
 * model's over all nodes, else settings prefill_tps. */
double route_prefill_tps(const struct route_state *st, const char *node_id,
                         const char *model_key, const struct route_settings *s);

/* The learned times of a model key, or NULL. */
const struct route_learned *route_learned_find(const struct route_state *st,
                                               const char *model_key);

/* May `node` take `req` now? req may be NULL (node-level checks only). st may be NULL. On false,
 * writes a short reason to why (if why and whylen > 0): "stale: last seen 17 s ago",
 * "unavailable", "draining", "excluded by placement rule 2 (line 5)", "missing label 'gpu'",
 * "model not installed", "hot: 75.1 C > 75", "hot: 74 C > 72 (cooling down)",
 * "full: ram 91.0 % > 90", "full: ram 88.0 % > 85 (freeing up)". */
bool route_eligible(const struct route_node *node, const struct route_request *req,
                    const struct route_settings *s, const struct route_state *st, double now,
                    char *why, size_t whylen);

/* Is the model (a normalised key) resident on node: in its models and not unloaded there by
 * this router since (route_sent's unload mark), or a live record in st? */
bool route_resident(const struct route_node *node, const char *model_key,
                    const struct route_state *st, double now);

/* Choose a node for req. Returns out->node: an index into nodes, or -1 (WAIT or REJECT). */
int route_pick(const struct route_node *nodes, size_t n, const struct route_request *req,
               const struct route_settings *s, const struct route_state *st, double now,
               struct route_result *out);

/* Waiting order: < 0 when a goes first (higher priority, then earlier arrival). */
int route_request_cmp(const struct route_request *a, const struct route_request *b);

/* Model name key (see above) into out. Returns its length, or -1 with errno EINVAL (empty
 * name) or ENAMETOOLONG (does not fit in outlen or is longer than ORION_MODEL_MAX). */
int route_model_norm(const char *in, char *out, size_t outlen);
/* Same model? Names that cannot be normalised compare with strcmp. */
bool route_model_eq(const char *a, const char *b);
/* Is key (normalised, route_model_norm) among names, in any spelling? */
bool route_has_model(const char *const *names, size_t n, const char *key);

/* "sticky", "first-fit", "least-conn", "round-robin", "random" <-> enum; parse also takes '_'
 * for '-' ("least_conn", nginx's spelling). parse returns 0, or -1 for an unknown name. */
int route_policy_parse(const char *name, enum route_policy *out);
const char *route_policy_name(enum route_policy p);
const char *route_kind_name(enum route_kind k); /* "sticky", "queued-resident", "spill", ... */

#endif
