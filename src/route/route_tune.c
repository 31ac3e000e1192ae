/* SPDX-License-Identifier: MIT */
/*
 * route_tune: knobs by name (route_tune.h).
 */
#include "orion/route_tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double *field(struct route_settings *s, const char *name)
{
    static const char *const names[] = {"evict_reloads", "heat_band",   "heat_horizon_s",
                                        "conv_p",        "conv_keep_s", "prefill_tps",
                                        "temp_margin",   "order_exp"};
    double *const f[] = {&s->evict_reloads, &s->heat_band,   &s->heat_horizon_s,
                         &s->conv_p,        &s->conv_keep_s, &s->prefill_tps,
                         &s->temp_margin,   &s->order_exp};

    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (!strcmp(names[k], name))
            return f[k];
    return NULL;
}

int route_tune_set(struct route_settings *s, const char *name, double value)
{
    double *f;

    if (!s || !name || !isfinite(value) || value < 0)
        return -1;
    if (!strcmp(name, "order_arrival")) {
        if (value != 0 && value != 1)
            return -1;
        s->order_arrival = value != 0;
        return 0;
    }
    if (!(f = field(s, name)))
        return -1;
    *f = value;
    return 0;
}

int route_tune_apply(struct route_settings *s, const char *list, char *why, size_t whylen)
{
    char item[64], shown[64], *eq, *end = NULL;
    const char *p = list ? list : "", *comma;
    size_t n;
    double v = 0;

    while (*p) {
        comma = strchr(p, ',');
        n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0 || n >= sizeof(item)) {
            if (why && whylen)
                snprintf(why, whylen, "route-set: an empty or overlong item");
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        memcpy(shown, item, n + 1);
        eq = strchr(item, '=');
        if (eq) {
            *eq = '\0';
            v = strtod(eq + 1, &end);
        }
        if (!eq || end == eq + 1 || *end || route_tune_set(s, item, v) < 0) {
            if (why && whylen)
                snprintf(why, whylen,
                         "route-set: \"%s\" is not NAME=V with a known name and a value >= 0",
                         shown);
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}
