/* SPDX-License-Identifier: MIT */
/*
 * routesim: a discrete-event simulation of a cluster of Raspberry Pis running Ollama, with the
 * router's own routing core (liborion.a: route_dispatch, route_pick, route_state) and the
 * peers it is compared with, on the same traces. docs/BENCHMARKS.md ("routesim") gives the
 * model, its sources and the figures; this header is the shared vocabulary of its files:
 *   des.c    event queue, random numbers
 *   pi.c     one node: Ollama's scheduler, slots and caches, loads, CPU sharing, heat, death
 *   work.c   the model catalogue, clusters and workloads (scenarios)
 *   peer.c   who routes: the core's policies, nginx least_conn, the clairvoyant bound
 *   run.c    one run: trace x cluster x peer -> per-request times
 *   stats.c  percentiles, confidence intervals, the tables and BENCH lines
 * Times are seconds of simulated time (doubles) unless a name says _ms.
 */
#ifndef ROUTESIM_SIM_H
#define ROUTESIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orion/route.h"
#include "orion/route_dispatch.h"

#define NMODELS 5
#define MAXNODES 100
#define SEG_MAX 24      /* segments of a prompt (system + 10 turns of 2 messages + 1) */
#define MAX_RUNNERS 3   /* OLLAMA_MAX_LOADED_MODELS on a CPU-only host */
#define NPAR 1          /* OLLAMA_NUM_PARALLEL */
#define HOSTC_MAX 16    /* prompts a llama-server runner keeps in host RAM (v0.30+) */
#define CTX_TOKENS 4096 /* num_ctx on a Pi */

/* ---- random numbers (des.c) ---------------------------------------------------------------- */
struct rng {
    uint64_t s;
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_unit(struct rng *r);                          /* (0, 1) */
double rng_exp(struct rng *r, double mean);
double rng_lognormal(struct rng *r, double median, double sigma);
int rng_range(struct rng *r, int lo, int hi);            /* lo..hi inclusive */

/* ---- events (des.c) ------------------------------------------------------------------------ */
enum ev_type {
    EV_ARRIVE,    /* a = request */
    EV_CPU,       /* a = node, b = generation: the node's next job phase ends */
    EV_LOADED,    /* a = node, b = runner generation */
    EV_EXPIRE,    /* a = node, b = runner generation: keep-alive ran out */
    EV_HEALTH,    /* a = node: it publishes its health */
    EV_TICK,      /* the router's second timer */
    EV_DIE,       /* a = node */
    EV_REVIVE,    /* a = node */
    EV_HEAT,      /* a = node: thermal and speed update while busy */
    EV_NGINX_FAIL /* a = request, b = node: nginx's connect or read to a dead node failed */
};
struct event {
    double t;
    uint64_t seq;
    enum ev_type type;
    int a;
    uint64_t b;
    int key; /* evq_set's key, -1 none */
};
/* A binary heap ordered by (t, seq), plus a list of events known in advance (evq_pre),
 * merged at pop. seq counts every push, set and pre, so the order of the events does not
 * depend on which of the three scheduled them. */
struct evq {
    struct event *h;
    size_t n, cap;
    uint64_t seq;
    int *pos;          /* per key: its event's index in h, -1 none */
    size_t nkeys;
    struct event *pre; /* sorted by (t, seq) once evq_pre_done has run */
    size_t npre, prehead, precap;
};
void evq_init(struct evq *q);
void evq_free(struct evq *q);
void evq_push(struct evq *q, double t, enum ev_type type, int a, uint64_t b);
/* Keys 0..n-1 for evq_set. 0, or -1 (ENOMEM). */
int evq_keys(struct evq *q, size_t n);
/* Schedule the event of key, replacing the one that key has in the queue, if any: for an
 * event that makes the previous one of its key a no-op (a node's next CPU phase end, a
 * runner's keep-alive end), the queue holds only the live one. */
void evq_set(struct evq *q, int key, double t, enum ev_type type, int a, uint64_t b);
/* An event known before the run starts (an open-loop arrival); evq_pre_done before the first
 * pop. */
void evq_pre(struct evq *q, double t, enum ev_type type, int a, uint64_t b);
void evq_pre_done(struct evq *q);
bool evq_pop(struct evq *q, struct event *e);

/* ---- models, prompts ----------------------------------------------------------------------- */
struct model {
    const char *name;
    double file_mb, ram_mb;   /* GGUF file; resident at num_ctx 4096 */
    double gen_tps, pp_tps;   /* Pi 5, Ollama: generation, prompt evaluation */
    double weight;            /* popularity, Zipf(1) */
};
extern const struct model models[NMODELS];

/* A prompt as segments: equal ids are equal text; cum[i] = tokens of segments 0..i. */
struct prompt {
    unsigned n;
    uint64_t seg[SEG_MAX];
    unsigned cum[SEG_MAX];
};
unsigned prompt_tokens(const struct prompt *p);
/* Tokens the two prompts share from the start (whole equal segments). */
unsigned prompt_common(const struct prompt *a, const struct prompt *b);

/* ---- the trace (work.c) -------------------------------------------------------------------- */
enum rkind { RK_SINGLE, RK_TURN, RK_TASK };
struct treq {
    double arrive;         /* open-loop arrival; dependents: after[] + delay */
    int after;             /* index of the request this one follows (its answer), -1 none */
    double delay;          /* s after that answer (think time, task delay) */
    int model, prio;
    enum rkind kind;
    int turn;              /* chat turns 1.., else 0 */
    unsigned out_tokens;
    struct prompt pr;
    struct route_conv conv; /* the router's view of the same messages */
    bool measured;         /* counted in the figures (not warm-up) */
};

struct nodecfg {
    char id[16];
    double ram_mb;       /* total */
    double disk_mbps;    /* model file reads from storage */
    double heat_k;       /* C above ambient at full load */
    double tau;          /* s, thermal time constant */
    double outside;      /* share of the CPU taken by other work (0..1) */
    double out_from, out_to; /* when that work runs (s) */
    bool weak_psu;       /* under-voltage while busy: capped at 1.5 GHz */
    bool host_cache;     /* Ollama v0.30+ (llama-server: prompts kept in host RAM) */
    double die_at, back_at; /* death and return (0: never) */
};

struct trace {
    struct treq *r;
    size_t n;
    struct nodecfg node[MAXNODES];
    size_t nnodes;
    double ambient, hot_from, hot_to, hot_add; /* ambient C, and a hot spell */
    double end; /* no open-loop arrival after this */
};

enum scen { SC_STEADY, SC_SDCARD, SC_HEAT, SC_DEATH, SC_BURST, SC_CHAT, SC_DAY, SC_N };
extern const char *const scen_names[SC_N];
/* Build the trace of scenario sc on nn nodes with nreq measured requests. 0, or -1 (ENOMEM). */
int trace_build(struct trace *t, enum scen sc, size_t nn, size_t nreq, uint64_t seed);
void trace_free(struct trace *t);

/* ---- peers (peer.c) ------------------------------------------------------------------------ */
enum peer {
    P_OURS,       /* sticky, late binding: the router's default */
    P_FIRST_FIT,  /* ORION v1 */
    P_LEAST_CONN, /* the router's least-conn */
    P_ROUND_ROBIN,
    P_RANDOM,
    P_NGINX,      /* nginx least_conn straight to Ollama */
    P_CLAIRVOYANT,
    P_OURS_EARLY, /* ablation: sticky bound early (route_pick's rule) */
    P_LC_LATE,    /* ablation: least-conn bound late */
    P_N
};
extern const char *const peer_names[P_N];

/* --set NAME=VALUE for ours (peer.c; the names of orion/route_tune.h): 0, or -1 for an
 * unknown name or a value out of range; sim_settings applies them over the router's defaults,
 * in the order given. */
int sim_set(const char *name, double value);
void sim_settings(struct route_settings *s);

/* ---- one run (run.c) ----------------------------------------------------------------------- */
struct rres { /* per request */
    double arrive, first, done; /* first arrival, first token, answer (< 0: none) */
    bool lost;                  /* the client got an error */
};
struct runout {
    struct rres *r; /* trace order */
    size_t n;
    unsigned long cold_loads, hot_sends, hot_sends_health, lost, hits, misses;
    unsigned long events;
    unsigned long answers; /* answers and errors the clients got (one per request) */
};
/* Request i's floor: its time alone on an idle node at full speed, its model loaded and the
 * slot holding the request it follows (prompt and answer), so no wait, load or miss a policy
 * could avoid (pi.c). */
double req_floor(const struct trace *t, size_t i);
/* Simulate peer on trace t. 0, or -1 (ENOMEM). */
int run_sim(const struct trace *t, enum peer p, uint64_t seed, struct runout *out);
void runout_free(struct runout *o);

#endif
