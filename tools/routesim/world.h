/* SPDX-License-Identifier: MIT */
/*
 * world: the state of one run, shared by pi.c (the nodes), peer.c (who routes) and run.c (the
 * event loop). Every request has one job record, reused when it is sent again (failover,
 * nginx's next upstream); a job is in at most one queue at a time (lists linked by `next`).
 */
#ifndef ROUTESIM_WORLD_H
#define ROUTESIM_WORLD_H

#include "sim.h"

#define OS_MB 700        /* Raspberry Pi OS, the worker, Ollama's server process */
#define KEEP_ALIVE 600   /* s: the worker's --keep-alive default; nginx's cluster set the same */
#define MAX_ACTIVE 8     /* jobs on one node's CPU at once */

enum jphase { J_NONE, J_WORKERQ, J_PENDING, J_RUNQ, J_PREFILL, J_GEN, J_DONE, J_LOST };

struct job {
    int node;         /* where it is, -1 nowhere */
    enum jphase phase;
    int next;         /* the next job in the same queue, -1 */
    double sent;      /* when the router (or nginx) sent it to the node */
    double submit;    /* when it reached Ollama */
    double ready;     /* its runner was ready (load_duration = ready - submit) */
    double pstart;    /* prompt evaluation began */
    double first;     /* first token */
    double work;      /* left of this phase: s on a free CPU at full speed */
    unsigned prompt, uncached;
    int attempts;
    uint64_t gen;     /* bumped when the job is taken back, so stale events are ignored */
};

struct runner {
    int model;        /* -1 none */
    bool ready;
    uint64_t gen;
    int busy;
    int qhead, qtail; /* requests waiting for a slot */
    double expires;   /* keep-alive end while idle, 0 while in use */
    struct prompt slot[NPAR];
    bool slot_busy[NPAR];
    double slot_used[NPAR];
    struct prompt hc[HOSTC_MAX]; /* v0.30+: the host-RAM prompt cache */
    double hc_used[HOSTC_MAX];
    unsigned nhc;
};

struct node {
    const struct nodecfg *cfg;
    bool alive;
    struct runner run[MAX_RUNNERS];
    int phead, ptail;  /* Ollama's pending queue (a model to load) */
    bool loading;
    int active[MAX_ACTIVE];
    size_t nactive;
    double cpu_at;     /* active jobs' work advanced up to here */
    uint64_t cpu_gen;
    double speed;      /* share of full speed (heat, power), before sharing */
    double temp, temp_at;
    double busy_int, busy_at; /* CPU-busy seconds since the last health report */
    unsigned long throttled_occ;
    bool cached[NMODELS];     /* model file in the page cache */
    double cached_at[NMODELS];
    int whead, wtail, wbusy;  /* the worker: its stream (router peers) and what it runs */
    int conns;                /* nginx: connections open to it */
    double down_until;        /* nginx: marked failed until */
    bool heat_tick;           /* an EV_HEAT is pending */
};

struct world {
    const struct trace *t;
    enum peer peer;
    struct evq q;
    double now;
    struct node node[MAXNODES];
    size_t nn;
    struct job *job;  /* per request */
    struct rres *res; /* per request */
    struct runout *out;
    struct rng rng;
    void *router;     /* peer.c's state */
};

/* evq_set's keys: a node's CPU phase end, each of its runners' keep-alive end */
#define EVKEY_CPU(node) ((int)(node))
#define EVKEY_EXPIRE(nn, node, r) ((int)((nn) + (node) * MAX_RUNNERS + (r)))
#define EVKEYS(nn) ((nn) * (1 + MAX_RUNNERS))

/* pi.c */
void node_init(struct world *w, size_t i);
/* A request reaches node i's Ollama. */
void node_submit(struct world *w, size_t i, int req);
/* The worker on node i takes what it can from its stream (capacity 1). */
void node_worker(struct world *w, size_t i);
void node_event(struct world *w, const struct event *e);
/* Is it hot, full or dead now (the sensor's truth)? Its temperature now. */
bool node_bad(struct world *w, size_t i);
double node_temp(struct world *w, size_t i);
/* Its health record as the worker would publish it now; models points into a static list. */
void node_health(struct world *w, size_t i, struct route_node *rn, const char **models,
                 size_t *nmodels);
double node_ram_percent(const struct world *w, size_t i);
/* The time a job would take on node i if it started there now (the clairvoyant's view):
 * load (s), prompt and answer (s at the node's speed now), cached tokens. */
double node_predict(const struct world *w, size_t i, int req, double *load_s);
/* Remaining time of what node i runs now (clairvoyant). */
double node_remaining(const struct world *w, size_t i);

/* run.c: what the nodes report */
void on_first(struct world *w, int req);
void on_done(struct world *w, int req, size_t node);
void on_cold_load(struct world *w, size_t node, int model);
void on_lost_node(struct world *w, size_t node); /* it died: its jobs are gone */

/* peer.c */
void router_init(struct world *w);
void router_free(struct world *w);
void router_arrive(struct world *w, int req);
void router_done(struct world *w, int req, size_t node);
void router_health(struct world *w, size_t node);
void router_tick(struct world *w);
void router_nginx_fail(struct world *w, int req, size_t node);

#endif
