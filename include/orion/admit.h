/* SPDX-License-Identifier: MIT */
/*
 * admit: admission control's bookkeeping and arithmetic. A pure module: no I/O, no clock.
 *
 * The waiting list is bounded (--max-waiting): a new request that finds it full is answered
 * queue_full at once (retriable), never dropped. What the caller should wait before trying
 * again (admit_retry_after_ms): the time for the requests ahead of it to run on the cluster's
 * slots, service_ms x (waiting + 1) / capacity, rounded up to a whole second and kept within
 * 1 s .. 60 s.
 *
 * Requests in flight (--max-per-model): the requests the router moved to a node and has not
 * yet seen answered, each remembered by hashes (64-bit FNV-1a) of its request id, its model
 * key (route_model_norm) and its node, 32 bytes each. A request is counted from its move to
 * its done or failed event; a failover takes it out until it is moved again; when a node's
 * stream is empty every flight of that node is over (an answer whose event was missed); and a
 * flight older than the caller's limit is dropped, so a lost event cannot hold a model's slot
 * for ever.
 */
#ifndef ORION_ADMIT_H
#define ORION_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct admit_flight {
    uint64_t id, model, node;
    double since; /* the caller's clock, s */
};

struct admit {
    struct admit_flight *f;
    size_t n, cap;
};

uint64_t admit_hash(const char *s, size_t n);

void admit_init(struct admit *a);
void admit_release(struct admit *a);
/* A request moved to node: counted (again, if it was: replaced). 0, or -1 (ENOMEM). */
int admit_flight_add(struct admit *a, const char *id, size_t idn, const char *model_key,
                     const char *node, double now);
/* Its answer came (or it is being moved elsewhere): true when it was counted. */
bool admit_flight_done(struct admit *a, const char *id, size_t idn);
/* Requests of model_key in flight. */
size_t admit_flight_count(const struct admit *a, const char *model_key);
/* The node's stream is empty: its flights are over. Returns how many were dropped. */
size_t admit_flight_node_idle(struct admit *a, const char *node);
/* Drop the flights that started before `before`. Returns how many. */
size_t admit_flight_expire(struct admit *a, double before);

/* Is the waiting list full? max <= 0: unbounded. */
bool admit_full(size_t waiting, long max);
/* ms a caller refused for a full list should wait (see above). capacity 0 counts as 1,
 * service_ms <= 0 as 15000. */
long admit_retry_after_ms(size_t waiting, unsigned long capacity, double service_ms);

#endif
