/* SPDX-License-Identifier: MIT */
/*
 * node: one node's status as the router, the HTTP front (/health, /backends, /stats) and
 * `orionctl status` show it, built the same way for all three and written as JSON by one
 * writer, so that they cannot disagree.
 *
 * Inputs: the node's health record (or none), whether P:drain lists it, when its record was
 * last seen changing on Redis's clock (node_seen), and how many requests sit in its stream
 * (routed there, not finished). Eligibility is route_eligible() on the routing view at `now`
 * (Redis's clock), with the router's hysteresis marks when a route state is given.
 *
 * JSON, one object per node (numbers with one decimal; null when unknown):
 *   {"node":ID,"eligible":B,"reason":"" | why not,"drained":B,"draining":B,
 *    "temp_c":N|null,"ram_percent":N|null,"cpu_percent":N|null,"inflight":N,"capacity":N,
 *    [router counters: "routed":N,"sticky":N,"queued_resident":N,"spill":N,"cold":N,
 *     "last_seen":N,"running":N,"queued":N,"loading":[names],]
 *    "models":[names loaded now]}
 * routed .. cold count the requests this router routed there, in all and by kind (the routed
 * events' kinds; queued_resident is the kind "queued-resident": each key appears once).
 * inflight is what sits in the node's stream (routed there, not finished); of it, running is
 * what its worker runs now (its health's inflight, at most inflight) and queued the rest;
 * loading, the models the router sent there that its health has not shown loaded since, while
 * work routed there is unfinished (a cold load under way, as far as the router knows).
 */
#ifndef ORION_NODE_H
#define ORION_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/buf.h"
#include "orion/health.h"
#include "orion/modelinfo.h"
#include "orion/route.h"

#define NODE_WHY_MAX 160
#define NODE_NCOUNTS 5 /* routed, sticky, queued, spill, cold */

struct node_view {
    const char *id;
    const struct health *h; /* NULL: no health record (stale, shown without numbers) */
    bool drained;           /* listed in P:drain */
    struct route_node rn;   /* the routing view; strings point into h */
    bool eligible;
    char why[NODE_WHY_MAX]; /* why not eligible ("" when eligible) */
    unsigned running, queued;   /* of rn.inflight: run by the worker now, waiting behind */
    bool has_counts;                    /* the router's counters below are written */
    unsigned long counts[NODE_NCOUNTS]; /* routed, sticky, queued, spill, cold */
    const char *loading[ORION_ROUTE_MAX_SENT]; /* models being loaded (router's view) */
    size_t nloading;
    const struct modelinfo *mi; /* its P:models record (NULL: none read yet) */
};

/*
 * When a node's record was last seen changing, on Redis's clock (s). A node's own clock may be
 * off: its last_seen is trusted only at first sight (and never past now); after that the
 * record counts as seen now whenever last_seen changes, and as seen at `seen` while it does
 * not. first: no earlier sight of it (the router's start, or a one-shot reader).
 */
double node_seen(double seen, double last_seen_before, double last_seen, double now, bool first);

/* The routing view of a node: strings point into h (NULL: no record, stale); seen from
 * node_seen; queued, the requests in its stream (the router passes those other routers sent:
 * route_dispatch.h). cpu_percent and throttled come from the record; host_cache is true when
 * its ollama_version is 0.30 or later (Ollama then keeps idle slots' prompts in host RAM). */
void node_route_view(struct route_node *o, const char *id, const struct health *h, bool drained,
                     double seen, unsigned long queued);
/* Fill v: id (kept as a pointer), h (may be NULL; kept), its routing view; no counters. */
void node_view_init(struct node_view *v, const char *id, const struct health *h, bool drained,
                    double seen, unsigned long queued);
/* Judge v at now: eligible and why. st may be NULL (no hysteresis marks). */
void node_view_judge(struct node_view *v, const struct route_settings *rs,
                     const struct route_state *st, double now);
/* Append v's JSON object to b: 0, or -1 (ENOBUFS/ENOMEM). */
int node_view_json(const struct node_view *v, struct buf *b);

#endif
