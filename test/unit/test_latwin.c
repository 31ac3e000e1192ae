/* SPDX-License-Identifier: MIT */
/*
 * latwin by tables: the figures (n, mean, p50, p95) of windows filled with known samples,
 * the nearest-rank edges of latwin.h (1..20: p50 10, p95 19; one sample: all equal to it),
 * the ring dropping its oldest samples past LATWIN_N, and refused samples. Each table row is
 * run again with its samples in reverse order: the figures do not depend on arrival order
 * while every sample is in the window.
 */
#include "orion/latwin.h"
#include "../t.h"

#include <math.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAXS 8

static void test_table(void)
{
    static const struct {
        const char *name;
        double s[MAXS];
        size_t ns;
        bool some;
        double mean, p50, p95;
    } cases[] = {
        {"empty: no figures", {0}, 0, false, 0, 0, 0},
        {"one sample: all figures are it", {42}, 1, true, 42, 42, 42},
        {"zero is a duration", {0}, 1, true, 0, 0, 0},
        {"two: p50 the lower (rank 1), p95 the higher (rank 2)", {10, 30}, 2, true, 20, 10, 30},
        {"three", {5, 1, 3}, 3, true, 3, 3, 5},
        {"four: p50 rank 2", {4, 3, 2, 1}, 4, true, 2.5, 2, 4},
        {"equal samples", {7, 7, 7, 7, 7}, 5, true, 7, 7, 7},
        {"one slow among eight: p95 is it, p50 not", {10, 10, 10, 10, 10, 10, 10, 900}, 8,
         true, 121.25, 10, 900},
        {"fractions kept (float)", {0.5, 1.5}, 2, true, 1, 0.5, 1.5},
    };

    for (size_t c = 0; c < ELEMS(cases); c++) {
        for (int rev = 0; rev < 2; rev++) {
            struct latwin w;
            struct latwin_sum s;
            bool got;

            latwin_init(&w);
            for (size_t i = 0; i < cases[c].ns; i++)
                latwin_add(&w, cases[c].s[rev ? cases[c].ns - 1 - i : i]);
            got = latwin_sum(&w, &s);
            ok(got == cases[c].some && s.n == cases[c].ns &&
                   fabs(s.mean - cases[c].mean) < 1e-6 && s.p50 == cases[c].p50 &&
                   s.p95 == cases[c].p95,
               "%s%s: n %zu mean %g p50 %g p95 %g", cases[c].name, rev ? " (reversed)" : "",
               s.n, s.mean, s.p50, s.p95);
        }
    }
}

/* The nearest-rank edges: 1..N sorted, rank of pct. */
static void test_rank(void)
{
    static const struct {
        size_t n;
        unsigned pct;
        double want;
    } cases[] = {
        {20, 50, 10}, {20, 95, 19}, {20, 100, 20}, {20, 1, 1}, {100, 95, 95}, {100, 96, 96},
        {64, 95, 61}, /* ceil(60.8) */ {64, 50, 32}, {1, 50, 1}, {1, 95, 1}, {3, 50, 2},
        {0, 50, 0},   /* nothing: 0, never a read */
    };
    float v[100];

    for (size_t i = 0; i < ELEMS(v); i++)
        v[i] = (float)(i + 1);
    for (size_t c = 0; c < ELEMS(cases); c++)
        ok(latwin_rank(v, cases[c].n, cases[c].pct) == cases[c].want, "1..%zu: p%u is %g",
           cases[c].n, cases[c].pct, cases[c].want);
}

/* 1..20 through the window, in and in reverse: p50 10, p95 19, mean 10.5 (the header's). */
static void test_twenty(void)
{
    for (int rev = 0; rev < 2; rev++) {
        struct latwin w;
        struct latwin_sum s;

        latwin_init(&w);
        for (int i = 1; i <= 20; i++)
            latwin_add(&w, rev ? 21 - i : i);
        latwin_sum(&w, &s);
        ok(s.n == 20 && s.p50 == 10 && s.p95 == 19 && s.mean == 10.5,
           "1..20%s: n 20, p50 10, p95 19, mean 10.5 (got %zu %g %g %g)", rev ? " reversed" : "",
           s.n, s.p50, s.p95, s.mean);
    }
}

/* The window holds the last LATWIN_N: after LATWIN_N slow samples and then LATWIN_N fast
 * ones, only the fast count; one sample short of that, one slow one is still in. */
static void test_ring(void)
{
    struct latwin w;
    struct latwin_sum s;

    latwin_init(&w);
    for (int i = 0; i < LATWIN_N; i++)
        latwin_add(&w, 1000);
    for (int i = 0; i < LATWIN_N - 1; i++)
        latwin_add(&w, 10);
    latwin_sum(&w, &s);
    ok(s.n == LATWIN_N && s.p95 == 10 && s.mean > 10 && s.mean < 30,
       "ring: one slow sample left of %d: p95 10, mean %g", LATWIN_N, s.mean);
    latwin_add(&w, 10);
    latwin_sum(&w, &s);
    ok(s.n == LATWIN_N && s.mean == 10 && s.p50 == 10 && s.p95 == 10,
       "ring: %d fast after %d slow: only the fast count", LATWIN_N, LATWIN_N);
    for (int i = 0; i < 3 * LATWIN_N + 5; i++)
        latwin_add(&w, i);
    latwin_sum(&w, &s);
    ok(s.n == LATWIN_N && s.p50 == 2 * LATWIN_N + 5 + LATWIN_N / 2 - 1,
       "ring: wrapped many times, p50 of the last %d (%g)", LATWIN_N, s.p50);
}

static void test_refused(void)
{
    struct latwin w;
    struct latwin_sum s;

    latwin_init(&w);
    ok(!latwin_add(&w, -1), "a negative sample is refused");
    ok(!latwin_add(&w, NAN), "NaN is refused");
    ok(!latwin_sum(&w, &s) && s.n == 0, "refused samples leave the window empty");
    ok(latwin_add(&w, 3), "a sample is taken");
}

int main(void)
{
    test_table();
    test_rank();
    test_twenty();
    test_ring();
    test_refused();
    return done_testing();
}
