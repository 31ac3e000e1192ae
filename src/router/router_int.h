/* SPDX-License-Identifier: MIT */
/* Internal state of the router, shared by router.c (start, moving, takeover), router_place.c
 * (which held requests leave: route_dispatch), router_wait.c (the waiting list, cancels),
 * router_events.c (P:events: the workers' started/done/failed, the outcome counters) and
 * router_nodes.c (health, stream lengths, failover, the front's snapshot and counters). Not a
 * public interface. */
#ifndef ORION_ROUTER_INT_H
#define ORION_ROUTER_INT_H

#include "orion/admit.h"
#include "orion/contract.h"
#include "orion/entry.h"
#include "orion/group.h"
#include "orion/health.h"
#include "orion/latwin.h"
#include "orion/loop.h"
#include "orion/placement.h"
#include "orion/redis.h"
#include "orion/modelinfo.h"
#include "orion/node.h"
#include "orion/orch.h"
#include "orion/preset.h"
#include "orion/roles.h"
#include "orion/route.h"
#include "orion/route_dispatch.h"
#include "orion/tokest.h"
#include "router.h"
#include "router_flight.h"

#include "../front/gateway.h"

#include <stdbool.h>
#include <stdint.h>

#define ROUTER_READ_COUNT 100
#define ROUTER_MAX_WAITING 100000
#define ROUTER_MAX_MOVING 30000 /* moves in flight at once; placing resumes at half */
/* Held requests in the pool: 32 of up to 2.5 KiB with their fields take 80 KiB, resident
 * from the start, so the router's memory does not move with how many were held at once after
 * a Redis restart; bigger or more are malloc'd. The struct takes ~840 bytes (with the
 * conversation chain) and a parsed field 56 more plus its text, so a request of a dozen short
 * fields fits with a prompt of up to about 800 bytes. */
#define ROUTER_WAIT_POOL 32
#define ROUTER_WAIT_SLOT 2560
/* Held requests are claimed again (their idle time reset) every takeover_ms / 3, at most
 * every ROUTER_CLAIM_MAX_MS, and another router takes over those idle for takeover_ms. */
#define ROUTER_CLAIM_MAX_MS 10000
#define ROUTER_CANCEL_BATCH 100    /* cancel keys asked about per second */

enum { K_STICKY, K_QUEUED, K_SPILL, K_COLD, K_NKINDS };

struct counters {
    unsigned long routed, kind[K_NKINDS], timeouts, failovers, deadletter, bad, waiting_peak;
};

/* Answers the workers reported on P:events (done: ok; failed: the error code), by model and
 * node, since this router started. At most GW_MAX_OUTCOMES combinations are kept; later
 * new ones are only counted in outcomes_dropped (metrics must not grow without bound). */
#define OUTCOME_LABEL(r, off) ((const char *)(r)->labels + (off))

/* The names (models, nodes, codes) live once each in a pool, and an outcome is three offsets
 * into it and a count (16 bytes): a new combination of known names costs no new memory, and
 * the table and the pool are resident from the start, so RSS does not move when rare
 * combinations first appear, however late. */
#define ROUTER_LABEL_POOL 8192
struct outcome {
    unsigned short model, node, code; /* offsets into the router's labels[] */
    unsigned long n;
};

/* Answer statistics of one node ("" model: all its models) or one (node, model), for /stats
 * (router_stats.c). */
#define ROUTER_BSTATS GW_MAX_BSTATS
struct bstat {
    char node[ORION_NODE_ID_MAX + 1];
    char model[ORION_MODEL_MAX]; /* "": the node's total */
    unsigned long answered, errors, inflight;
    struct latwin lat, ttft;     /* ms: total_duration; time to first token */
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
    /* Work in its stream (router_nodes.c says how these are kept): */
    size_t mine;         /* this router's flights there (router.fl) */
    unsigned long others; /* sent by other routers or an earlier run of this one, estimated */
    bool xlen_pending;   /* an XLEN of the refresh in flight */
    unsigned long xlen_mark; /* router.move_seq + 1 when it was sent */
    size_t begun_since;  /* flights begun there since (and still open) */
    size_t ended_since;  /* flights begun before it and ended since */
    unsigned short_runs; /* XLENs in a row with fewer entries than flights sent before them */
    bool sync_pending;   /* an XRANGE of the stream in flight (flights that left unheard) */
    unsigned long sync_mark; /* router.move_seq when it was sent */
    struct counters cnt;
    struct modelinfo mi; /* its P:models record, read when its health's models_rev changes */
    char mi_rev[HEALTH_REV_MAX + 1];
    bool mi_fetching, mi_bad;
    bool was_fresh;      /* fresh at the last refresh (a node coming back is preloaded again) */
};

/* A request held by the router: read from `src` (group `group`), not yet placed. */
struct waiting {
    char entry_id[48];
    struct resp_reply *fields; /* owned clone of the entry's field array */
    struct contract_request req;
    struct route_request rreq;
    struct route_conv conv; /* rreq.conv points here (NULL when its messages did not parse) */
    const char *group;
    int attempt;       /* the attempt the next move makes */
    double deadline;   /* Unix s (router clock) */
    bool moving;       /* a MULTI/EXEC for it is in flight */
    bool pooled;       /* it and its fields are in a slot of router.wait_pool */
    bool picked;       /* router_place.c: already in this pass's order */
    bool resolved;     /* its model is decided (router_service.c) */
    char *model_res;   /* the model chosen for a role, auto or an alias (heap), or NULL */
    const char *role;  /* the role it was chosen by (a role_name string), or NULL */
    double prior;      /* its prompt's prior (tokest.h); < 0 not computed yet */
    char dest[ORION_NODE_ID_MAX + 1];
    size_t idx;                /* its place in router.w */
    struct waiting *hnext;     /* chain in router.wh */
    char src[];                /* the stream it came from, as long as its name (under
                                * CONTRACT_KEY_MAX bytes), so a held request is no bigger
                                * than its name needs */
};

struct router {
    const struct router_conf *rc;
    struct loop *l;
    struct redis *cmd, *blk;
    struct redis *ev;   /* P:events, read blocking (router_events.c) */
    struct gateway *gw; /* the HTTP front, or NULL */
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
    /* router_place.c scratch: the held requests in the order they are offered, one pass's
     * requests and what route_dispatch assigned */
    struct waiting **ord;
    size_t capord;
    const struct route_request *hp[ROUTE_DISPATCH_SCAN];
    struct route_assign out[ROUTE_DISPATCH_SCAN];
    struct rflights fl;     /* this router's requests on the nodes' streams */
    unsigned long move_seq; /* moves sent so far */
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
    unsigned long place_defer; /* a router_try_place deferred to the end of this pass, or 0 */
    double clock_offset; /* Redis TIME - local wall clock, s */
    bool refreshing, started, scanned;
    bool health_seen; /* a refresh has completed: every node's health and stream length read */
    struct group g; /* P:requests, group inference-router, consumer me */
    struct counters cnt;
    int64_t last_report;
    unsigned long refresh_gen;      /* refreshes started */
    unsigned long ticks;            /* refresh timer runs */
    unsigned long refresh_done_gen; /* the generation of the last completed refresh */
    size_t xlen_cursor;             /* the node whose XLEN reply comes next */
    size_t sync_cursor;             /* the node whose XRANGE reply comes next */
    char events_after[48];          /* P:events read up to here (router_events.c) */
    bool ev_reading, ev_have_pos;
    struct outcome outcomes[GW_MAX_OUTCOMES];
    size_t noutcomes;
    char labels[ROUTER_LABEL_POOL]; /* NUL-terminated names, one after the other */
    size_t labels_used;
    unsigned long outcomes_dropped;
    struct gw_recent recent[GW_RECENT]; /* the last answers the workers reported (a ring) */
    size_t nrecent, recent_next;        /* entries kept; where the next one goes */
    struct node_view *snap;             /* the front's snapshot (router_snapshot), capsnap */
    size_t capsnap;
    struct buf cancel_ids;  /* request ids of the MGET of cancel keys in flight, NUL after each */
    bool cancel_polling;    /* that MGET is in flight */
    size_t cancel_next;     /* where the next poll starts in w (a long list is taken in turns) */
    struct backends *be;    /* the URL backends this router runs (router_backends.c) */
    struct bstat bstats[ROUTER_BSTATS]; /* router_stats.c */
    size_t nbstats;
    unsigned long bstats_dropped;
    /* the service contract (router_service.c, router_preload.c) */
    struct role_map user_roles;      /* --model-roles */
    struct preset_set presets;       /* built-in + --presets */
    const struct preset *active;     /* --config / POST /v1/config, or NULL */
    char mode[16];                   /* orchestration mode */
    bool fifo;                       /* --queue-strategy fifo */
    struct tokest est;               /* prompt token estimate, learned */
    struct admit flights;            /* requests in flight per model */
    struct preload *pre;             /* router_preload.c */
    /* orchestrated requests (router_orch.c) */
    struct orch_knobs orch_knobs;
    struct orun *runs;               /* running orchestrations, newest first */
    size_t nruns;
    bool orch_reading, orch_cancel_polling;
    struct buf orch_cancel_ids;      /* ids of the cancel MGET in flight, a NUL after each */
    unsigned long orch_ticks;
};

/* The router of rc, its loop, connections (not started) and timers: NULL with *code, the exit
 * code (100 settings, 111 no memory; logged). router_free accepts NULL. */
struct router *router_new(const struct router_conf *rc, int *code);
void router_free(struct router *r);
double router_now(const struct router *r);

/* router_place.c: one dispatch over the held requests (route_dispatch, then the moves); and
 * the deadlines of the held requests (answered no_available_nodes when past). */
void router_try_place(struct router *r);
void router_expire(struct router *r);
/* router.c: the move of w to n (one MULTI/EXEC), its flight begun: 0, or -1 (not sent). */
int router_send_move(struct router *r, struct waiting *w, struct rnode *n, enum route_kind kind,
                     double now);
/* A flight begun (after the move was queued) and ended: id on node index `node`, the answer
 * (NULL: no answer: failed, lost, or the node went stale) and its model for learning. Ending
 * returns true when the flight was this router's (and on that node). */
void router_flight_begin(struct router *r, const struct waiting *w, struct rnode *n,
                         double now);
bool router_flight_end(struct router *r, size_t node, unsigned long long id,
                       const char *model, const struct route_answer *a, double now);

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
                         const char *group, const char *code, bool retriable, const char *msg);
/* The same with details (a JSON object's text, or NULL) and retry_after_ms (<= 0: none). */
void router_answer_error_ex(struct router *r, const struct contract_request *req,
                            const char *src, const char *group, const char *code, bool retriable,
                            const char *msg, const char *details, long retry_after_ms);

/* The front's three calls (gateway.h): the nodes judged now, the counters, a cancel. */
size_t router_snapshot(void *arg, const struct node_view **out, double *now);
void router_stats(void *arg, struct gw_stats *st);
bool router_cancel(void *arg, const char *request_id); /* router_wait.c */
/* Every second: MGET the cancel keys of up to ROUTER_CANCEL_BATCH held requests. */
void router_cancel_poll(struct router *r);

/* router_events.c: P:events on its own connection */
void router_events_state(struct redis *c, bool up, void *arg);
void router_events_read(struct router *r);
/* The outcome of an answer, for /metrics and /stats (model, node, code "ok" or the error). */
void router_count_outcome(struct router *r, const struct entry_event *e, const char *code,
                          double now);
/* The id route_request.id gives a request: a 64-bit hash of its request id. */
unsigned long long router_request_hash(const char *id, size_t n);
/* router_service.c: roles, the context guard, admission, model metadata */
int router_service_init(struct router *r);   /* 0, or an exit code (logged) */
void router_service_release(struct router *r);
/* Decide w's model before it is placed: 0 decided (w->rreq.model is it), 1 not yet (wait),
 * -1 answered with an error and taken out of the list (not freed: the caller frees it). */
int router_resolve(struct router *r, struct waiting *w, const struct route_node *nodes,
                   size_t n, double now);
/* A new request from P:requests: true when it may wait (else it was answered queue_full). */
bool router_admit(struct router *r, const struct waiting *w);
void router_service_event(struct router *r, const struct entry_event *e); /* done/failed */
void router_models_check(struct router *r, struct rnode *n); /* models_rev changed? HGET */
/* The metadata of model: from the first node whose record has it, loaded there preferred. */
const struct ollama_model *router_model_meta(const struct router *r, const char *model);
/* The context budget of model for a request with num_ctx (0: none of its own). */
long router_budget(const struct router *r, const char *model, long num_ctx);
void router_service(void *arg, struct gw_service *out); /* gateway_host.service */
void router_flights_refresh(struct router *r, double now); /* after each refresh */

/* router_preload.c: presets and the models kept loaded */
int router_preload_init(struct router *r);   /* 0, or an exit code (logged) */
void router_preload_release(struct router *r);
void router_preload_tick(struct router *r, double now); /* after each refresh */
/* Is a load of model (any spelling) under way per the router's records? */
bool router_preload_loading(const struct router *r, const char *model, double now);
void router_preload_state(const struct router *r, struct gw_service *out);
int router_set_config(void *arg, const char *name, char *err, size_t errlen);
int router_activate(struct router *r, const char *name, char *err, size_t errlen);

/* router_orch.c: requests run as several steps (orch.h) */
int router_orch_init(struct router *r);   /* 0, or an exit code (logged) */
int router_orch_start(struct router *r);  /* its timer, once the loop exists: 0, or -1 */
void router_orch_release(struct router *r);
/* A request read from P:requests: true when it is orchestrated, and then it was taken (its
 * run started or resumed, or it was already running, or it was answered with an error):
 * the caller holds it no further. */
bool router_orch_take(struct router *r, const struct resp_reply *entry_id,
                      const struct resp_reply *fields, const struct contract_request *req);
bool router_orch_cancel(struct router *r, const char *request_id);
/* XCLAIM ... JUSTID of the runs' entries (another router must not take them over). */
void router_orch_claim(struct router *r);

/* router_nodes.c */
size_t router_route_nodes(struct router *r, struct route_node *out, struct rnode **map,
                          size_t max);
long router_refresh_cb(struct loop *l, void *arg);
struct rnode *router_node(struct router *r, const char *id, bool create);
void router_nodes_release(struct router *r);

/* router_stats.c: answers, errors, in flight, latency and first token by node and model */
void router_bstats_event(struct router *r, const struct entry_event *e); /* any event */
void router_bstats_settle(struct router *r);  /* after each refresh: empty streams, 0 */
void router_bstats_copy(const struct router *r, struct gw_stats *st);

/* router_backends.c: URL backends, each a node runner (src/worker/) on the router's loop */
int router_backends_init(struct router *r); /* --backends: 0, or an exit code (logged) */
int router_backends_start(struct router *r); /* 0, or -1 (ENOMEM) */
void router_backends_free(struct router *r);  /* accepts r->be NULL */

#endif
