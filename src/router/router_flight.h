/* SPDX-License-Identifier: MIT */
/*
 * router_flight: the requests this router moved to a node and has not yet heard the end of
 * (a done or failed event, a failover, or their absence from the node's stream), by the
 * number route_request.id gives them (a 64-bit hash of the request id). The router's core
 * keeps its own count (route_node_state.queued); this table is what lets the router tell its
 * own requests' events from other routers' and end each flight exactly once.
 *
 * An open-addressing table (linear probing, deletion by backward shift), doubled at 3/4 full;
 * id 0 is taken as 1 (0 marks an empty slot). No I/O: tested alone (test_router_flight.c).
 */
#ifndef ORION_ROUTER_FLIGHT_H
#define ORION_ROUTER_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>

struct rflight {
    unsigned long long id; /* 0: an empty slot */
    size_t node;           /* the router's index of the node */
    unsigned long seq;     /* the router's move number: which moves a stream read can show */
    double sent;           /* router clock, s */
};

struct rflights {
    struct rflight *slot; /* cap slots, NULL while empty */
    size_t cap, n;
};

/* Zeroed memory is an empty table too. */
void rflights_init(struct rflights *t);
void rflights_release(struct rflights *t);
/* f->id 0 is stored as 1. A flight of the same id is replaced (*replaced, when given, gets a
 * copy of it and true; else false). Returns 0, or -1 with errno ENOMEM (nothing changed). */
int rflights_put(struct rflights *t, const struct rflight *f, struct rflight *replaced,
                 bool *had);
/* The flight of id, or NULL. The pointer lives until the next put or del. */
struct rflight *rflights_find(const struct rflights *t, unsigned long long id);
/* Remove the flight of id; true when there was one (copied to *out when given). */
bool rflights_del(struct rflights *t, unsigned long long id, struct rflight *out);
/* The ids of node's flights with seq < before (before 0: all) into ids (at most max); returns
 * how many there are in all (more than max: call again with a bigger array). */
size_t rflights_of_node(const struct rflights *t, size_t node, unsigned long before,
                        unsigned long long *ids, size_t max);

#endif
