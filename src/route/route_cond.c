/* SPDX-License-Identifier: MIT */
/*
 * route_cond: throttling, work outside Ollama and the temperature trend turned into a slowness
 * factor and a heat excess for the routing cost. Formulas in route_cond.h.
 */
#include "orion/route_cond.h"
#include "orion/route.h"

void route_cond_update(struct route_cond *c, const struct route_node *nd, bool idle)
{
    double dt = nd->last_seen - c->temp_at, rise;

    if (nd->last_seen <= 0 || dt <= 0)
        return; /* the same reading again */
    if (idle && nd->cpu_percent >= 0 && c->temp_at > 0 && c->busy_at < c->temp_at &&
        nd->inflight == 0) {
        double u = nd->cpu_percent / 100;
        c->outside += ((u > 1 ? 1 : u) - c->outside) / 2;
    }
    if (nd->has_temp && c->has_temp && dt >= 0.5) {
        rise = (nd->temp_c - c->temp) / dt;
        c->slope = c->has_slope ? c->slope + (rise - c->slope) / 2 : rise;
        c->has_slope = true;
    } else if (!nd->has_temp) {
        c->has_slope = false;
    }
    c->has_temp = nd->has_temp;
    c->temp = nd->temp_c;
    c->temp_at = nd->last_seen;
}

void route_cond_busy(struct route_cond *c, double now)
{
    if (now > c->busy_at)
        c->busy_at = now;
}

double route_cond_slow(const struct route_cond *c, const struct route_node *nd)
{
    double f = 1;

    if (nd->has_throttled && (nd->throttled & ROUTE_THROTTLE_NOW))
        f *= ROUTE_THROTTLE_SLOW;
    if (c && c->outside > 0)
        f *= 1 + c->outside;
    return f;
}

double route_cond_heat(const struct route_cond *c, const struct route_node *nd, double max_temp,
                       double band, double horizon_s)
{
    double predicted, excess;

    if (!c || !nd->has_temp || !c->has_slope || c->slope <= 0 || band <= 0)
        return 0;
    predicted = nd->temp_c + c->slope * horizon_s;
    excess = (predicted - (max_temp - band)) / band;
    if (excess <= 0)
        return 0;
    return excess > ROUTE_HEAT_MAX ? ROUTE_HEAT_MAX : excess;
}
