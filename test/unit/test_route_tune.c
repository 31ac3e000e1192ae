/* SPDX-License-Identifier: MIT */
/*
 * route_tune by tables: every knob by name sets its own field and no other; values out of
 * range and unknown names are refused and change nothing; lists apply in order and stop at
 * the first bad item with a sentence naming it.
 */
#include "orion/route_tune.h"
#include "../t.h"

#include <math.h>
#include <string.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static double get(const struct route_settings *s, const char *name)
{
    if (!strcmp(name, "evict_reloads"))
        return s->evict_reloads;
    if (!strcmp(name, "heat_band"))
        return s->heat_band;
    if (!strcmp(name, "heat_horizon_s"))
        return s->heat_horizon_s;
    if (!strcmp(name, "conv_p"))
        return s->conv_p;
    if (!strcmp(name, "conv_keep_s"))
        return s->conv_keep_s;
    if (!strcmp(name, "prefill_tps"))
        return s->prefill_tps;
    if (!strcmp(name, "temp_margin"))
        return s->temp_margin;
    if (!strcmp(name, "order_exp"))
        return s->order_exp;
    return s->order_arrival ? 1 : 0;
}

static const char *const names[] = {"evict_reloads", "heat_band",   "heat_horizon_s",
                                    "conv_p",        "conv_keep_s", "prefill_tps",
                                    "temp_margin",   "order_exp",   "order_arrival"};

/* Every knob equal (compared by field: a struct's padding is not initialised). */
static bool same(const struct route_settings *a, const struct route_settings *b)
{
    for (size_t k = 0; k < ELEMS(names); k++)
        if (get(a, names[k]) != get(b, names[k]))
            return false;
    return true;
}

static void test_each(void)
{
    for (size_t k = 0; k < ELEMS(names); k++) {
        struct route_settings s, d;
        double v = k + 1 == ELEMS(names) ? 1 : 7.25;
        bool others = true;

        route_settings_init(&s);
        route_settings_init(&d);
        ok(route_tune_set(&s, names[k], v) == 0 && get(&s, names[k]) == v, "%s = %g", names[k],
           v);
        for (size_t j = 0; j < ELEMS(names); j++)
            if (j != k && get(&s, names[j]) != get(&d, names[j]))
                others = false;
        ok(others, "%s leaves the other knobs at their defaults", names[k]);
    }
}

static void test_refused(void)
{
    static const struct {
        const char *name;
        double v;
    } bad[] = {
        {"no_such_knob", 1}, {"evict_reloads", -1},   {"heat_band", NAN},  {"order_exp", INFINITY},
        {"order_arrival", 2}, {"order_arrival", 0.5}, {"", 1},
    };

    for (size_t c = 0; c < ELEMS(bad); c++) {
        struct route_settings s, d;

        route_settings_init(&s);
        route_settings_init(&d);
        ok(route_tune_set(&s, bad[c].name, bad[c].v) == -1 && same(&s, &d),
           "refused, settings unchanged: \"%s\" = %g", bad[c].name, bad[c].v);
    }
    ok(route_tune_set(NULL, "order_exp", 1) == -1, "no settings: refused");
}

static void test_lists(void)
{
    static const struct {
        const char *list;
        int rc;
        double evict, order_exp; /* after the call */
        const char *why;         /* a part of the sentence, or NULL */
    } cases[] = {
        {"", 0, 4, 2, NULL},
        {"evict_reloads=1", 0, 1, 2, NULL},
        {"evict_reloads=1,order_exp=1.5", 0, 1, 1.5, NULL},
        {"evict_reloads=1,evict_reloads=3", 0, 3, 2, NULL},
        {"evict_reloads=1,", 0, 1, 2, NULL},
        {"evict_reloads=1,bogus=2", -1, 1, 2, "\"bogus=2\""},
        {"order_exp=", -1, 4, 2, "\"order_exp=\""},
        {"order_exp=2x", -1, 4, 2, "\"order_exp=2x\""},
        {"order_exp", -1, 4, 2, "\"order_exp\""},
        {",order_exp=1", -1, 4, 2, "empty"},
        {"order_exp=1,,evict_reloads=0", -1, 4, 1, "empty"},
        {"evict_reloads=-2", -1, 4, 2, "\"evict_reloads=-2\""},
        {"order_exp=11111111111111111111111111111111111111111111111111111111111111111111", -1, 4,
         2, "overlong"},
    };

    for (size_t c = 0; c < ELEMS(cases); c++) {
        struct route_settings s;
        char why[160] = "";
        int rc;

        route_settings_init(&s);
        rc = route_tune_apply(&s, cases[c].list, why, sizeof why);
        ok(rc == cases[c].rc && s.evict_reloads == cases[c].evict &&
               s.order_exp == cases[c].order_exp &&
               (cases[c].why ? strstr(why, cases[c].why) != NULL : why[0] == '\0'),
           "\"%s\": rc %d, evict_reloads %g, order_exp %g, why \"%s\"", cases[c].list, rc,
           s.evict_reloads, s.order_exp, why);
    }
}

int main(void)
{
    test_each();
    test_refused();
    test_lists();
    return done_testing();
}
