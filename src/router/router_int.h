/* SPDX-License-Identifier: MIT */
/* Internal state of the router, shared by router.c (requests) and router_nodes.c (health,
 * failover). Not a public interface. */
#ifndef ORION_ROUTER_INT_H
#define ORION_ROUTER_INT_H

#include "orion/contract.h"
#include "orion/health.h"
#include "orion/loop.h"
#include "orion/placement.h"
#include "orion/redis.h"
#include "orion/retry.h"
#include "orion/route.h"
#include "router.h"

#include <stdbool.h>
#include <stdint.h>

#define ROUTER_READ_COUNT 100
#define ROUTER_MAX_WAITING 100000
#define ROUTER_MAX_MOVING 30000 /* moves in flight at once; placing resumes at half */
/* Held requests in the pool: 32 of up to 2 KiB with their fields take 64 KiB, resident from
 * the start, so the router's memory does not move with how many were held at once after a
 * Redis restart; bigger or more are malloc'd. The struct takes ~550 bytes and a parsed field
 * 56 more plus its text, so a request of a dozen short fields fits with a prompt of up to
 * about 500 bytes. */
#define ROUTER_WAIT_POOL 32
#define ROUTER_WAIT_SLOT 2048
/* Held requests are claimed again (their idle time reset) every takeover_ms / 3, at most
 * every ROUTER_CLAIM_MAX_MS, and another router takes over those idle for takeover_ms. */
#define ROUTER_CLAIM_MAX_MS 10000

enum { K_STICKY, K_QUEUED, K_SPILL, K_COLD, K_NKINDS };

struct counters {
    unsigned long routed, kind[K_NKINDS], timeouts, failovers, deadletter, bad, waiting_peak;
};

/* Answers the workers reported on P:events (done: ok; failed: the error code), by model and
 * node, since this router started. At most ROUTER_MAX_OUTCOMES combinations are kept; later
 * new ones are only counted in outcomes_dropped (metrics must not grow without bound). */
#define ROUTER_MAX_OUTCOMES 256
#define OUTCOME_LABEL(r, off) ((const char *)(r)->labels + (off))
/* The last answers the workers reported (a ring), for the status page. */
#define ROUTER_RECENT 20
struct recent {
    char request_id[64];
    char model[64];
    char node[ORION_NODE_ID_MAX + 1];
    char outcome[32];
    double at;         /* router clock when read, Unix s */
    long long total_ms; /* Ollama's total_duration, ms; -1 unknown */
};

/* The names (models, nodes, codes) live once each in a pool, and an outcome is three offsets
 * into it and a count: 16 bytes, where three name buffers made it 368. A new combination of
 * known names then costs 16 bytes, not a fresh page of the table every 11 combinations (in the
 * long soak the rare ones appeared late and showed as RSS growth). */
#define ROUTER_LABEL_POOL 8192
struct outcome {
    unsigned short model, node, code; /* offsets into the router's labels[] */
    unsigned long n;
};

/* A node as the router knows it: its last health record and the router's observations. */
struct rnode {
    char id[ORION_NODE_ID_MAX + 1];
    char stream[CONTRACT_KEY_MAX];
    struct health h;
    bool has_health;     /* present in the last HGETALL */
    double last_seen;    /* value of last_seen when it last changed */
    double observed;     /* router clock (Redis TIME) when last_seen last changed */
    long xlen;           /* entries in its stream at the last refresh: routed, not finished */
    bool group_ok;       /* XGROUP CREATE done on its stream */
    bool claiming;       /* a failover scan is in flight */
    bool drained;        /* listed in P:drain */
    bool bad_health;     /* its last health record did not parse (logged once) */
    struct counters cnt;
};

/* A request held by the router: read from `src` (group `group`), not yet placed. */
struct waiting {
    char entry_id[48];
    struct resp_reply *fields; /* owned clone of the entry's field array */
    struct contract_request req;
    struct route_request rreq;
    const char *group;
    int attempt;       /* the attempt the next move makes */
    double deadline;   /* Unix s (router clock) */
    bool moving;       /* a MULTI/EXEC for it is in flight */
    bool logged_wait;
    bool pooled;       /* it and its fields are in a slot of router.wait_pool */
    unsigned long held_gen; /* refresh_gen when it was taken in */
    char dest[ORION_NODE_ID_MAX + 1];
    size_t idx;                /* its place in router.w */
    struct waiting *hnext;     /* chain in router.wh */
    char src[];                /* the stream it came from (under CONTRACT_KEY_MAX bytes): as
                                * long as the name, where a 512-byte array made a held request
                                * twice as big */
};

struct router {
    const struct router_conf *rc;
    struct loop *l;
    struct redis *cmd, *blk;
    struct contract_keys keys;
    char me[ORION_NODE_ID_MAX + 1];
    struct route_settings rs;
    struct route_state st;
    struct placement *placement;
    struct rnode *nodes;
    size_t nnodes, capnodes;
    /* router_route_nodes() scratch for router_try_place and refresh_done (neither runs inside
     * the other): too big for the stack at ORION_ROUTE_MAX_NODES */
    struct route_node view[ORION_ROUTE_MAX_NODES];
    struct rnode *view_map[ORION_ROUTE_MAX_NODES];
    struct waiting **w;
    size_t nw, capw;
    /* ROUTER_WAIT_POOL slots of ROUTER_WAIT_SLOT bytes, made resident at start, for held
     * requests (with their fields) that fit; the rest are malloc'd. wait_free: free slots. */
    unsigned char *wait_pool;
    unsigned short wait_free[ROUTER_WAIT_POOL];
    size_t nwait_free;
    struct waiting **wh; /* index of w by (src, entry_id): chains, nwh (a power of 2) heads */
    size_t nwh;
    size_t nmoving;      /* MULTI/EXECs in flight */
    bool throttled;      /* ROUTER_MAX_MOVING reached: no placing, no reading until half */
    bool placing;        /* inside router_try_place */
    double clock_offset; /* Redis TIME - local wall clock, s */
    bool history_done, reading, refreshing, stopping, started, scanned, health_seen;
    char hist_after[48];
    /* retries after error replies (-LOADING, -NOGROUP, ...): XGROUP CREATE, reads */
    unsigned long group_timer;
    struct retry read;
    bool group_warned;
    struct counters cnt;
    int64_t last_report;
    unsigned long refresh_gen;      /* refreshes started */
    unsigned long ticks;            /* refresh timer runs */
    unsigned long refresh_done_gen; /* the generation of the last completed refresh */
    char events_after[48];          /* P:events read up to here (router_nodes.c: learning) */
    struct outcome outcomes[ROUTER_MAX_OUTCOMES];
    size_t noutcomes;
    char labels[ROUTER_LABEL_POOL]; /* NUL-terminated names, one after the other */
    size_t labels_used;
    unsigned long outcomes_dropped;
    struct recent recent[ROUTER_RECENT];
    size_t nrecent, recent_next; /* entries kept; where the next one goes */
};

double router_now(const struct router *r);
void router_try_place(struct router *r);
int router_hold(struct router *r, const struct resp_reply *entry, const char *src,
                const char *group, int attempt_bump);
void router_waiting_free(struct router *r, struct waiting *w); /* accepts NULL */
int router_wait_pool_init(struct router *r); /* 0, or -1 (ENOMEM) */
void router_wait_pool_release(struct router *r);
/* Take w out of the waiting list and free it, if it is still in it. */
void router_waiting_remove(struct router *r, struct waiting *w);
/* Take r->w[i] out of the waiting list and its index (not freed); the last one moves to i. */
void router_waiting_drop(struct router *r, size_t i);
void router_answer_error(struct router *r, const struct contract_request *req, const char *src,
                         const char *group, const char *code, bool retriable, const char *msg,
                         const char *node);

/* router_nodes.c */
size_t router_route_nodes(struct router *r, struct route_node *out, struct rnode **map,
                          size_t max);
long router_refresh_cb(struct loop *l, void *arg);
struct rnode *router_node(struct router *r, const char *id, bool create);
void router_nodes_release(struct router *r);

#endif
