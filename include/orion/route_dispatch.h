/* SPDX-License-Identifier: MIT */
/*
 * route_dispatch: which of the requests the router holds leave now, and for which node. A pure
 * module: no I/O, no clock, no log, no allocation; the router daemon and tools/routesim call
 * it on every event that can change the answer (a request arrives; a node's started, done or
 * failed event; a health refresh; a timer for deadlines) and send what it returns.
 *
 * Binding. A request can be bound to a node early (sent at once, to wait in that node's queue
 * behind its work) or late (held by the router until a node has a free slot, and then given
 * the best one). The comparison policies bind early, as ORION v1 and a load balancer do.
 * Sticky binds late: a request queued in a node's stream is committed to a guess of how long
 * the work ahead of it takes, and a request that waits in the router can still take the slot
 * that frees first, the node that loaded its model meanwhile or the one that holds its
 * conversation. (tools/routesim measures both for every policy: docs/BENCHMARKS.md.)
 * settings binding overrides the choice (ROUTE_BIND_LATE / ROUTE_BIND_EARLY).
 *
 * A pass (route_dispatch) looks at the held requests, which the caller keeps in arrival
 * order (oldest first), at most ROUTE_DISPATCH_SCAN of them, and stops early once no eligible
 * node has a free slot (a late-bound request cannot leave then). Late-bound sticky takes the
 * first ROUTE_ORDER_WINDOW of them in the order of their claim, highest first:
 *       (waited + T) / T^e x weight,  T the shortest run time it has on an eligible node
 *       (ms), e settings order_exp (default 2: the response ratio per ms of the slot it
 *       takes; 1: the response ratio itself), weight 2 for priority 3, 1/2 for priority 1,
 *       1 otherwise (0 is 2)
 * (equal: the older first), then the rest in arrival order: a freed slot goes to the request
 * it serves best relative to what it has waited, short ones first, and waiting raises any
 * request's claim, so none starves (a strict priority did: priority-1 requests waited
 * through whole peaks in routesim's day). The comparison policies, and sticky with settings
 * order_arrival, keep arrival order. For
 * each:
 *   early binding  route_pick's choice, free slot or not; WAIT: stays held.
 *   late, comparison policy  the policy's choice among the eligible nodes with a free slot;
 *                  none: stays held.
 *   late, sticky   the eligible node with the lowest expected cost (all in ms):
 *       E = W + T + evict + displace + heat
 *     T        the request's run time there: cold (0 when resident; else the node's, the
 *              model's learned or the default cold load, route_cost.c) + run x slow, where
 *              run = gen + (P - cached) / prefill x 1000 when the model's prompt-free run time
 *              gen and the prompt's tokens P are known, else service - cached / prefill x 1000
 *              (at least a tenth of service; service as route_pick's, route.h); cached = the
 *              tokens of the request's conversation in that node's cache (route_conv_cached)
 *              times the node's trust (route_note_finished; 1 until learned); prefill = the
 *              node's rate for the model (route_prefill_tps); slow = route_cond_slow.
 *     W        0 with a free slot (used = inflight + queued < capacity); else the work ahead,
 *              over the capacity: for each flight there max(expect - elapsed, expect / 3) (a
 *              run past its expected end is still expected to take a third of it), for each
 *              request counted in used without a flight record service / 2, and the T of the
 *              requests this pass already holds for that node.
 *     evict    a load that displaces another model: route.h's evict (0 when resident) x
 *              settings evict_reloads (default 4: counting one reload per displacement made
 *              routesim's steady run load 0.93 of nginx's models, three 0.52, at the same
 *              latency: a displaced model comes back and displaces another in turn; four
 *              brings the 3-node heat and day runs under half of nginx's loads at +0.01 on
 *              their mean: docs/BENCHMARKS.md).
 *     displace a request that does not continue the conversation in a slot it would take
 *              (every one of conv_slots slots of the model live) on a node without a host
 *              cache: that conversation's worth (route_conv_worth at the node's rate over slow,
 *              with its learned chance to go on, route_conv_chance).
 *     heat     route_cond_heat x T: a node heading for max_temp gets less new work.
 *   The lowest E wins; equal E: a free slot first, then resident, then route_pick's resident
 *   order (load, coolest, most free memory, id), so the order of the nodes never matters. A
 *   free winner is assigned; a busy winner holds the request for it (its T counts in that
 *   node's W for the requests after it in this pass) and the pass goes on.
 * Each assignment is recorded at once with route_note_dispatch (req->id, req->keep_alive_s,
 * the expected T and cached tokens), so the next one in the same pass sees it.
 *
 * Kinds in the result: sticky (resident, free slot), spill (not resident, resident elsewhere),
 * cold (resident nowhere), queued-resident (early binding onto a busy resident node).
 *
 * Wiring (the daemon and tools/routesim/peer.c do the same):
 *   a node's health record changed   route_state_update_one(st, &its route_node, s, now)
 *                                    (route_state_update for the whole list still works)
 *   a request read                   fill a route_request: model, priority, arrived, id (e.g.
 *                                    a hash of its entry id), keep_alive_s, and conv:
 *                                    route_conv_init + route_conv_add per message (role,
 *                                    content; images or tool calls through route_conv_extend)
 *                                    or prompt_tokens for a bare prompt; append it to held
 *   any event (a request read; a started, done or failed event; a health refresh; a 1 s
 *   timer)                           n = route_dispatch(...); send each out[i] to its node
 *                                    and drop it from held (a failed send: route_note_finished
 *                                    with no answer, and keep it held)
 *   started                          route_note_started(st, node, id)
 *   done                             route_note_finished(st, node, id, model, &answer, s, now)
 *                                    with the done event's durations (ms) and counts
 *   failed, or the node went stale   route_note_finished(..., NULL, ...) and hold it again
 * route_node.inflight then counts only what other routers sent there (queued is this
 * router's own count, kept by the note functions); cpu_percent, throttled and host_cache
 * (Ollama's version >= 0.30) come from the health record.
 */
#ifndef ORION_ROUTE_DISPATCH_H
#define ORION_ROUTE_DISPATCH_H

#include <stddef.h>

#include "orion/route.h"

#define ROUTE_DISPATCH_SCAN 512 /* held requests one pass looks at */
#define ROUTE_ORDER_WINDOW 64   /* of them, ordered by response ratio (late sticky) */

struct route_assign {
    size_t req;            /* index into held */
    int node;              /* index into nodes */
    enum route_kind kind;
    double expect_ms;      /* its expected run time there (T), recorded in the flight */
    unsigned long cached;  /* prompt tokens expected in the node's cache */
};

/* One pass over held[0..nheld) (arrival order, see above) on nodes[0..n): writes up to maxout
 * assignments to out (in the order they were made, out[].req in any order), records each in
 * st, returns how many. The requests not in out stay held. A request with a bad model name is
 * never assigned (the caller rejects those). */
size_t route_dispatch(const struct route_node *nodes, size_t n,
                      const struct route_request *const *held, size_t nheld,
                      const struct route_settings *s, struct route_state *st, double now,
                      struct route_assign *out, size_t maxout);

/* Is this pass late-bound (settings binding, or AUTO: sticky late, the others early)? */
bool route_binds_late(const struct route_settings *s);

#endif
