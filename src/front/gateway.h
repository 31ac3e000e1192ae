/* SPDX-License-Identifier: MIT */
/*
 * gateway: the HTTP front. Ollama's native API (/api/chat, /api/generate, /api/tags, /api/ps,
 * /api/show, /api/version, /) and the OpenAI-compatible one (/v1/chat/completions,
 * /v1/completions, /v1/models) over the cluster, plus /health, /health/ready, /metrics,
 * /stats, /backends and the status page /ui. Every generation request becomes an entry on
 * P:requests (stream=true, request_id gw-<router id>-<n>, callback P:cb:gw:<router id>:<n>)
 * and its callback stream is relayed to the client as it fills. A client that goes away before
 * its answer gets SET P:cancel:<request_id> 1 EX 600, and host->cancel drops it at once when it
 * still waits in the router.
 *
 * The front meets the router only here: Redis (a command connection it is lent, and a reading
 * connection of its own), and the three calls of struct gateway_host. Run as a process of its
 * own, it would open its own command connection and build the host calls from Redis alone
 * (docs/ARCHITECTURE.md).
 */
#ifndef ORION_GATEWAY_H
#define ORION_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/conf.h"
#include "orion/latwin.h"
#include "orion/limits.h"
#include "orion/loop.h"
#include "orion/node.h"
#include "orion/preset.h"
#include "orion/redis.h"
#include "orion/roles.h"

#define GW_NKINDS 4          /* routing kinds counted: sticky, queued, spill, cold */
#define GW_MAX_OUTCOMES 256  /* (model, node, outcome) combinations counted */
#define GW_RECENT 20         /* the last answers kept */

/* One answer the workers reported on P:events. */
struct gw_recent {
    char request_id[64];
    char model[64];
    char node[ORION_NODE_ID_MAX + 1];
    char outcome[32];   /* ok, or the error code */
    double at;          /* router clock when read, Unix s */
    long long total_ms; /* Ollama's total_duration, ms; -1 unknown */
};

/* Answer statistics of one node (model "") or one (node, model): router_stats.c. */
#define GW_MAX_BSTATS 128
struct gw_bstat {
    const char *node, *model;
    unsigned long inflight, answered, errors;
    struct latwin_sum lat, ttft; /* ms over the recent window; n 0: none yet */
};

/* The router's counters, copied out. Names of outcomes point into the router: valid until
 * the front returns to the loop. */
struct gw_stats {
    unsigned long routed, kind[GW_NKINDS], timeouts, failovers, deadletter, bad, waiting_peak;
    size_t queue_depth; /* requests waiting in the router for a node */
    struct {
        const char *model, *node, *outcome;
        unsigned long n;
    } outcome[GW_MAX_OUTCOMES];
    size_t noutcomes;
    unsigned long outcomes_dropped; /* answers past the GW_MAX_OUTCOMES series */
    struct gw_recent recent[GW_RECENT]; /* newest first */
    size_t nrecent;
    struct gw_bstat bstat[GW_MAX_BSTATS]; /* names point into the router, as outcome's */
    size_t nbstat;
    unsigned long bstat_dropped; /* series past GW_MAX_BSTATS */
};

/* The service contract's state (docs/PROTOCOL.md): the active preset, the orchestration mode,
 * the role tables, and how far the models that must be loaded are. Pointers into the router:
 * valid until the front returns to the loop. */
#define GW_READY_MAX (2 * PRESET_MAX_MODELS)
struct gw_service {
    const char *config;                  /* the active preset's name, NULL none */
    const char *mode;                    /* the orchestration mode */
    const struct role_map *maps[2];      /* --model-roles, the preset's roles (NULL: none) */
    size_t wanted, loaded;               /* models that must be loaded; of them, loaded now */
    const char *loaded_models[GW_READY_MAX];
    size_t nloaded_models;
    const char *reason;                  /* why not all are loaded ("" when they are) */
    long max_waiting;                    /* the waiting list's bound (0 none) */
};

/* What the front may ask of the router that runs it, and nothing else. */
struct gateway_host {
    void *arg;
    /* Every node the router knows, judged now (node.h), and *now, the router's clock (Redis
     * TIME, Unix s). The array belongs to the router: valid until the front returns to the
     * loop. */
    size_t (*nodes)(void *arg, const struct node_view **out, double *now);
    /* A copy of the counters. */
    void (*stats)(void *arg, struct gw_stats *out);
    /* Drop the request with this request_id if it still waits in the router, answering it
     * "canceled" (its entry acknowledged); true when it was there. */
    bool (*cancel)(void *arg, const char *request_id);
    /* The service contract's state. */
    void (*service)(void *arg, struct gw_service *out);
    /* Make preset `name` active (POST /v1/config): 0, or -1 with a sentence in err and errno
     * ENOENT (no such preset). */
    int (*set_config)(void *arg, const char *name, char *err, size_t errlen);
};

struct gateway_conf {
    const struct conf_common *c; /* Redis settings for the front's reading connection, prefix */
    const char *id;              /* the router id in request ids and callback keys */
    const char *listen;          /* "HOST:PORT" */
    const char *token;           /* NULL or the bearer token (all but /health*) */
    int max_conns;               /* connections served at once (0: 256) */
    const struct placement *placement; /* the router's rules (NULL: none); they outlive the
                                          front. /api/pull goes where they allow */
};

struct gateway;
struct placement;

/* Listen and serve until gateway_free; cmd is the command connection the front is lent (the
 * router's). NULL with a sentence in err; errno EINVAL when the address or prefix is bad. */
struct gateway *gateway_new(struct loop *l, struct redis *cmd, const struct gateway_conf *conf,
                            const struct gateway_host *host, char *err, size_t errlen);
void gateway_free(struct gateway *g); /* accepts NULL */

#endif
