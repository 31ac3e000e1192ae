/* SPDX-License-Identifier: MIT */
/*
 * router: the orion-inference-router daemon. Takes requests from P:requests (group
 * inference-router) and holds them (still pending in the group, so a crash loses nothing);
 * route_dispatch() decides which leave for which node's stream, on every event that can change
 * the answer: a request read, a node's started/done/failed event, a health refresh, a timer.
 * Sticky binds late (a request leaves when a node has a free slot for it), the comparison
 * policies early (at once, queued on the node). It answers requests past their deadline and
 * moves the work of dead nodes elsewhere.
 */
#ifndef ORION_ROUTER_H
#define ORION_ROUTER_H

#include "orion/conf.h"

struct router_conf {
    struct conf_common c;
    double max_temp, max_ram;
    long stale_after, queue_timeout;
    long service_ms, cold_load_ms, load_factor; /* spill rule defaults (route.h) */
    long takeover_ms; /* a waiting request idle this long belongs to a router that died */
    const char *policy, *placement, *router_id, *http_listen, *http_token;
    const char *binding;   /* "auto" (or NULL), "late", "early" */
    const char *route_set; /* NAME=V,... over the routing core's defaults (route_tune.h) */
    /* URL backends (router_backends.c): the list, and their probe interval (s), most requests
     * at once, connect and read (response head) timeouts (s) */
    const char *backends;
    long backend_interval, backend_parallel, connect_timeout, read_timeout;
    /* the service contract (docs/PROTOCOL.md): roles, presets, admission, the context guard */
    const char *model_roles, *presets, *config, *preload, *orchestration_mode, *queue_strategy;
    long max_waiting, max_per_model, default_priority, default_num_ctx, max_concurrent;
    /* orchestration (orch.h): the seed's knobs */
    long critique_max_rounds, debate_max_rounds;
    double critique_threshold, ensemble_min_agreement;
    const char *debate_reconcile_model, *ensemble_synthesis_model, *pipeline_stages;
};

/* Run until SIGTERM/SIGINT. Returns the process exit code (0, 100 config, 111 system). */
int router_run(const struct router_conf *rc);

#endif
