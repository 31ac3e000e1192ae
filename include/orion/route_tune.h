/* SPDX-License-Identifier: MIT */
/*
 * route_tune: the routing core's tuning knobs by name, so an experiment can change one without
 * a rebuild: tools/routesim's --set NAME=V and the router's --route-set NAME=V,... A pure
 * module (no I/O, no allocation).
 *
 * The names and the route_settings fields they set:
 *   evict_reloads, heat_band, heat_horizon_s, conv_p, conv_keep_s, prefill_tps, temp_margin,
 *   order_exp        the numbers of the same names (route.h, route_dispatch.h)
 *   order_arrival    0 or 1: late-bound sticky keeps arrival order instead of the claim order
 * Values are finite and >= 0 (order_arrival: exactly 0 or 1); anything else is refused and
 * changes nothing.
 */
#ifndef ORION_ROUTE_TUNE_H
#define ORION_ROUTE_TUNE_H

#include "orion/route.h"

#include <stddef.h>

/* Set one knob. 0, or -1 (unknown name, or a value out of range; s unchanged). */
int route_tune_set(struct route_settings *s, const char *name, double value);

/* Apply "NAME=V,NAME=V" in order. 0, or -1 with a sentence in why (which item, and why), and
 * the items before the bad one applied (the caller starts from a copy to keep s whole). An
 * empty list is 0. */
int route_tune_apply(struct route_settings *s, const char *list, char *why, size_t whylen);

#endif
