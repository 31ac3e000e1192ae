/* SPDX-License-Identifier: MIT */
/*
 * route_cond: a node's condition beyond eligibility, from what its health already carries. A
 * pure module: no I/O, no clock, no allocation.
 *
 * Slowness (route_cond_slow), a factor >= 1 on the node's expected run times:
 *   throttling  any "now" bit of the Pi firmware's get_throttled flags (under-voltage, ARM
 *               frequency capped, throttled, soft temperature limit; metrics.h) multiplies by
 *               ROUTE_THROTTLE_SLOW = 1.6: a capped Pi 5 runs its cores at 1.5 GHz instead of
 *               2.4 (2.4 / 1.5 = 1.6). The "occurred" bits are history and count for nothing.
 *   outside     work outside Ollama: the node's CPU use read while the router had nothing
 *               in flight there since the previous reading (so it is not Ollama's) is the share
 *               u (0..1) taken by other programs; run times multiply by 1 + u (llama.cpp's
 *               threads then share the cores with them). A weighted mean, 1/2 for the newest;
 *               unknown until such a reading: 0.
 * Temperature trend (route_cond_update): the rise per second between successive readings
 * (health records with a newer last_seen), a weighted mean with 1/2 for the newest. Readings
 * less than 0.5 s apart are not compared. A node without a sensor has no trend.
 * Heading for the limit (route_cond_heat): with the trend rising, the temperature expected
 * after horizon_s seconds, t + slope x horizon_s, compared with the band below max_temp:
 *   excess = (predicted - (max_temp - band)) / band, 0 when not above the band's floor, capped
 *   at ROUTE_HEAT_MAX (4). 0 without a sensor, a trend, or a rise. The router adds excess x the
 *   request's run time to the node's cost, so a node heading for max_temp gets less new work
 *   before it crosses: at a predicted max_temp a run there counts double.
 */
#ifndef ORION_ROUTE_COND_H
#define ORION_ROUTE_COND_H

#include <stdbool.h>

#define ROUTE_THROTTLE_SLOW 1.6
#define ROUTE_THROTTLE_NOW 0xfUL /* the firmware's "now" bits 0-3 (metrics.h THROTTLE_NOW_MASK) */
#define ROUTE_HEAT_MAX 4.0

struct route_node; /* route.h */

/* Kept per node in the router's state; zeroed memory is "nothing known". */
struct route_cond {
    double temp, temp_at; /* last reading and its last_seen (0: none) */
    bool has_temp;        /* the last reading had a sensor */
    double slope;         /* C per second, weighted mean */
    bool has_slope;
    double outside; /* share of the CPU used outside Ollama, 0..1 */
    double busy_at; /* the last time the router sent or heard of work there */
};

/* A health reading of nd (only one with a newer last_seen counts); idle: the router has
 * nothing in flight there (its cpu_percent may then be outside work, see above). */
void route_cond_update(struct route_cond *c, const struct route_node *nd, bool idle);
/* The router sent work to the node, or heard it finished, at now. */
void route_cond_busy(struct route_cond *c, double now);
/* The factor on run times there (>= 1). c may be NULL (throttling only). */
double route_cond_slow(const struct route_cond *c, const struct route_node *nd);
/* How far the node is heading past the band below max_temp (see above), 0..ROUTE_HEAT_MAX. */
double route_cond_heat(const struct route_cond *c, const struct route_node *nd, double max_temp,
                       double band, double horizon_s);

#endif
