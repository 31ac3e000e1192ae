/* SPDX-License-Identifier: MIT */
/*
 * route_cond and route_learn by tables: throttle flags and outside work as slowness, the
 * temperature trend and its heat excess (edges of route_cond.h), the trend in eligibility
 * ("heading past"), learning from answers (prefill rates, hits by rate and by cached count,
 * trust, run time without the prompt), the flights, and route_state_update_one.
 */
#include "orion/route.h"
#include "../t.h"

#include <errno.h>
#include <math.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1700000000.0
#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static struct route_settings S;

static void test_slow(void)
{
    static const struct {
        bool has;
        unsigned long flags;
        double outside, want;
    } rows[] = {
        {false, 0, 0, 1},           {true, 0, 0, 1},
        {true, 0x1, 0, 1.6},        {true, 0x2, 0, 1.6}, /* under-voltage; capped */
        {true, 0x4, 0, 1.6},        {true, 0x8, 0, 1.6}, /* throttled; soft limit */
        {true, 0x50000, 0, 1},      {true, 0x50005, 0, 1.6}, /* occurred only; both */
        {false, 0x5, 0, 1},         {true, 0, 0.5, 1.5},
        {true, 0x4, 0.25, 1.6 * 1.25},
    };
    struct route_node nd = {.id = "a"};
    struct route_cond c = {0};

    for (size_t i = 0; i < ELEMS(rows); i++) {
        nd.has_throttled = rows[i].has;
        nd.throttled = rows[i].flags;
        c.outside = rows[i].outside;
        ok(NEAR(route_cond_slow(&c, &nd), rows[i].want), "slow: flags %s0x%lx, outside %g: %g",
           rows[i].has ? "" : "(unknown) ", rows[i].flags, rows[i].outside, rows[i].want);
    }
    ok(NEAR(route_cond_slow(NULL, &nd), 1.6), "slow: no state, flags only");
}

/* Successive readings: (last_seen, temp, cpu, idle) -> slope, outside. */
static void test_trend(void)
{
    static const struct {
        double at, temp, cpu;
        bool sensor, idle;
        double slope, outside; /* after the reading; slope NAN: none */
    } steps[] = {
        {100, 60, 40, true, true, NAN, 0},      /* first reading: nothing to compare */
        {105, 61, 40, true, true, 0.2, 0.2},    /* +1 C in 5 s; idle: 40 % is outside work */
        {105, 70, 90, true, true, 0.2, 0.2},    /* the same reading again: ignored */
        {110, 63, 80, true, false, 0.3, 0.2},   /* +0.4/s, weighted 1/2; busy: not outside */
        {110.3, 64, 0, true, true, 0.3, 0.1},   /* 0.3 s later: too close for a slope */
        {115.3, 62, 0, true, true, -0.05, 0.05}, /* -2 C in 5 s: 0.3 + (-0.4 - 0.3) / 2 */
        {120.3, 62, -1, false, true, NAN, 0.05}, /* no sensor: no trend; cpu unknown */
        {125.3, 50, 0, true, true, NAN, 0.025},  /* sensor back: nothing to compare yet */
    };
    struct route_node nd = {.id = "a"};
    struct route_cond c = {0};

    for (size_t i = 0; i < ELEMS(steps); i++) {
        nd.last_seen = steps[i].at;
        nd.has_temp = steps[i].sensor;
        nd.temp_c = steps[i].temp;
        nd.cpu_percent = steps[i].cpu;
        if (i == 3)
            route_cond_busy(&c, 107);
        route_cond_update(&c, &nd, steps[i].idle);
        if (isnan(steps[i].slope))
            ok(!c.has_slope, "trend step %zu: no slope", i);
        else
            ok(c.has_slope && fabs(c.slope - steps[i].slope) < 1e-9,
               "trend step %zu: slope %g (got %g)", i, steps[i].slope, c.slope);
        ok(fabs(c.outside - steps[i].outside) < 1e-9, "trend step %zu: outside %g (got %g)", i,
           steps[i].outside, c.outside);
    }
}

static void test_heat(void)
{
    static const struct {
        double temp, slope;
        bool sensor, has_slope;
        double want;
    } rows[] = {
        {65, 0.1, true, true, 0.2},   /* 65 + 6 = 71: (71 - 70) / 5 */
        {64, 0.1, true, true, 0},     /* 70: the band's floor, not above */
        {60, 0.1, true, true, 0},
        {70, 0.25, true, true, 3},    /* 85: (85 - 70) / 5 */
        {74, 1, true, true, 4},       /* capped at ROUTE_HEAT_MAX */
        {74, 0, true, true, 0},       /* flat */
        {74, -0.1, true, true, 0},    /* cooling */
        {74, 0.5, false, true, 0},    /* no sensor */
        {74, 0.5, true, false, 0},    /* no trend yet */
    };
    struct route_node nd = {.id = "a"};
    struct route_cond c = {0};

    for (size_t i = 0; i < ELEMS(rows); i++) {
        nd.has_temp = rows[i].sensor;
        nd.temp_c = rows[i].temp;
        c.slope = rows[i].slope;
        c.has_slope = rows[i].has_slope;
        ok(NEAR(route_cond_heat(&c, &nd, 75, 5, 60), rows[i].want),
           "heat: %g C, %+g C/s over 60 s: excess %g", rows[i].temp, rows[i].slope, rows[i].want);
    }
    ok(route_cond_heat(NULL, &nd, 75, 5, 60) == 0, "heat: no state");
    c.has_slope = true;
    c.slope = 1;
    nd.has_temp = true;
    ok(route_cond_heat(&c, &nd, 75, 0, 60) == 0, "heat: band 0 is off");
}

/* The trend in eligibility: 73.5 C read at t, rising 0.2 C/s. */
static void test_heading(void)
{
    static const struct {
        double after;
        bool want;
        const char *why;
    } rows[] = {
        {0, true, ""},    {7, true, ""},   /* 74.9 */
        {7.5, true, ""},                    /* exactly 75.0: not past */
        {7.6, false, "hot: heading past 75 C (73.5 C, +0.2 C/s for 8 s)"},
        {10, false, "hot: heading past 75 C (73.5 C, +0.2 C/s for 10 s)"},
    };
    struct route_node nd = {.id = "a", .available = ROUTE_AVAIL_YES, .has_temp = true};
    struct route_state st;
    char why[128];

    route_state_init(&st);
    nd.last_seen = NOW - 5;
    nd.temp_c = 72.5;
    route_state_update(&st, &nd, 1, &S, NOW - 5);
    nd.last_seen = NOW;
    nd.temp_c = 73.5;
    route_state_update(&st, &nd, 1, &S, NOW);
    for (size_t i = 0; i < ELEMS(rows); i++) {
        is_int(route_eligible(&nd, NULL, &S, &st, NOW + rows[i].after, why, sizeof(why)),
               rows[i].want, "heading: %g s after 73.5 C at +0.2 C/s", rows[i].after);
        is_str(why, rows[i].why, "heading: %g s: reason", rows[i].after);
    }
    nd.last_seen = NOW + 1; /* a newer record than the state's: no extrapolation from it */
    ok(route_eligible(&nd, NULL, &S, &st, NOW + 10, NULL, 0),
       "heading: only from the reading held");
    ok(route_eligible(&nd, NULL, &S, NULL, NOW + 10, NULL, 0), "heading: no state, no trend");
}

static void answer(struct route_answer *a, double total, double load, double prompt_ms,
                   long prompt_n, long eval_n, long cached)
{
    route_answer_init(a);
    a->total_ms = total;
    a->load_ms = load;
    a->prompt_ms = prompt_ms;
    a->eval_ms = total - load - prompt_ms;
    a->prompt_count = prompt_n;
    a->eval_count = eval_n;
    a->cached_count = cached;
}

/* Answers one after the other on node a, model m: hit or miss, and what is learned. */
static void test_learn(void)
{
    static const struct {
        const char *name;
        double total, load, prompt_ms;
        long prompt_n, cached;
        unsigned long expect_cached; /* the flight's */
        int hit;
        double rate, trust; /* node's rate for m after; trust after (NAN: none) */
    } rows[] = {
        {"first miss teaches the rate", 20000, 1000, 10000, 500, -1, 0, 0, 50, NAN},
        {"20x the rate: a hit, rate kept", 12000, 0, 1000, 1000, -1, 800, 1, 50, 1},
        {"2.9x: a miss, rate learned", 9000, 0, 2000, 290, -1, 0, 0, 50 + (145 - 50) / 4.0, 1},
        {"expected a hit, missed: trust falls", 9000, 0, 8000, 500, -1, 400, 0,
         73.75 + (62.5 - 73.75) / 4, 1 - 1.0 / 8},
        {"31 tokens: too few to time", 9000, 0, 3100, 31, -1, 0, 0, 70.9375, 0.875},
        {"cached count reported: hit, rate from the rest", 9000, 0, 1000, 500, 430, 500, 1,
         70.9375 + (70 - 70.9375) / 4, 0.875 + (1 - 0.875) / 8},
        {"cached count 0: a miss", 9000, 0, 2000, 140, 0, 0, 0,
         70.703125 + (70 - 70.703125) / 4, 0.890625},
        {"no prompt figures: nothing", 9000, 0, -1, -1, -1, 0, 0, 70.52734375, 0.890625},
    };
    struct route_node nd = {.id = "a", .last_seen = NOW};
    struct route_request req = {.model = "m", .keep_alive_s = 600};
    struct route_state st;
    struct route_answer a;
    const struct route_node_state *ns;
    const struct route_learned *l;

    route_state_init(&st);
    for (size_t i = 0; i < ELEMS(rows); i++) {
        answer(&a, rows[i].total, rows[i].load, rows[i].prompt_ms, rows[i].prompt_n, 40,
               rows[i].cached);
        route_note_dispatch(&st, &nd, &req, i, 5000, rows[i].expect_cached, 600, &S, NOW);
        is_int(route_note_finished(&st, "a", i, "m", &a, &S, NOW + i), rows[i].hit, "learn: %s",
               rows[i].name);
        ns = route_state_find(&st, "a");
        ok(fabs(route_prefill_tps(&st, "a", "m:latest", &S) - rows[i].rate) < 1e-9,
           "learn: %s: rate %g (got %g)", rows[i].name, rows[i].rate,
           route_prefill_tps(&st, "a", "m:latest", &S));
        if (isnan(rows[i].trust))
            ok(!ns->has_trust, "learn: %s: no trust yet", rows[i].name);
        else
            ok(ns->has_trust && fabs(ns->trust - rows[i].trust) < 1e-9,
               "learn: %s: trust %g (got %g)", rows[i].name, rows[i].trust, ns->trust);
        ok(ns->nflight == 0 && ns->queued == 0, "learn: %s: flight ended", rows[i].name);
    }
    l = route_learned_find(&st, "m:latest");
    ok(l && NEAR(l->gen_ms, 6993.26171875),
       "learn: run time without the prompt, weighted 1/4 (got %g)", l ? l->gen_ms : 0);
    ok(l && l->answer_tokens == 40, "learn: answer length");
    ok(fabs(route_prefill_tps(&st, "b", "m:latest", &S) - l->prefill_tps) < 1e-9,
       "rate: another node: the model's over all nodes");
    ok(route_prefill_tps(&st, "a", "other:latest", &S) == 50, "rate: unknown model: settings");
}

static void test_flights(void)
{
    struct route_node nd = {.id = "a", .last_seen = NOW};
    struct route_request req = {.model = "m"};
    struct route_state st;
    struct route_answer a;
    struct route_node_state *ns;

    route_state_init(&st);
    for (unsigned long long i = 0; i < ROUTE_MAX_FLIGHT + 2; i++)
        route_note_dispatch(&st, &nd, &req, i, 1000.0 * (double)i, 0, 600, &S, NOW);
    ns = route_state_find(&st, "a");
    ok(ns->queued == ROUTE_MAX_FLIGHT + 2 && ns->nflight == ROUTE_MAX_FLIGHT,
       "flights: %d kept of %d sent", ROUTE_MAX_FLIGHT, ROUTE_MAX_FLIGHT + 2);
    route_note_started(&st, "a", 3);
    ok(ns->flight[3].started && !ns->flight[2].started, "started: that flight only");
    route_note_finished(&st, "a", 3, "m", NULL, &S, NOW + 1);
    ok(ns->queued == ROUTE_MAX_FLIGHT + 1 && ns->nflight == ROUTE_MAX_FLIGHT - 1,
       "failed (no answer): flight gone, queued - 1");
    route_note_finished(&st, "a", ROUTE_MAX_FLIGHT + 1, "m", NULL, &S, NOW + 1);
    ok(ns->queued == ROUTE_MAX_FLIGHT && ns->nflight == ROUTE_MAX_FLIGHT - 1,
       "an untracked flight: queued - 1 only");
    answer(&a, 100, 200, 0, 1, 1, -1);
    errno = 0;
    ok(route_note_finished(&st, "a", 0, "m", &a, &S, NOW + 1) == -1 && errno == EINVAL &&
           ns->nflight == ROUTE_MAX_FLIGHT - 2,
       "bad answer (load above total): EINVAL, the flight still ends");
    ok(route_note_finished(&st, "zz", 0, "m", NULL, &S, NOW) == 0, "unknown node: nothing");
}

static void test_update_one(void)
{
    struct route_node n[2] = {{.id = "a", .last_seen = NOW, .has_temp = true, .temp_c = 80},
                              {.id = "b", .last_seen = NOW}};
    struct route_state st;

    route_state_init(&st);
    route_state_update(&st, n, 2, &S, NOW);
    n[1].has_temp = true;
    n[1].temp_c = 76;
    ok(route_state_update_one(&st, &n[1], &S, NOW) == 0, "update_one: 0");
    ok(st.n == 2 && route_state_find(&st, "a")->hot && route_state_find(&st, "b")->hot,
       "update_one: b marked hot, a kept");
    n[0].id = NULL;
    errno = 0;
    ok(route_state_update_one(&st, &n[0], &S, NOW) == -1 && errno == ENOBUFS, "update_one: no id");
}

int main(void)
{
    route_settings_init(&S);
    test_slow();
    test_trend();
    test_heat();
    test_heading();
    test_learn();
    test_flights();
    test_update_one();
    return done_testing();
}
