/* SPDX-License-Identifier: MIT */
/*
 * routesim's invariants (nothing here is timed): a lone request on an idle Pi takes exactly
 * load + prompt + answer at the catalogue's rates; every request is answered exactly once by
 * every peer in every scenario (none lost by the router's policies, also with nodes dying);
 * the router never sends to a node its own records call hot, full or stale; a run is a
 * function of its seed; on one node the early-bound policies cannot differ; the figures are
 * ordered (p50 <= p95 <= p99, TTFT <= total).
 */
#include "sim.h"   /* tools/routesim (-I for test_routesim) */
#include "stats.h" /* the same */
#include "../t.h"

#include <math.h>
#include <stdlib.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A trace of one request for model m on one idle node with disk MB/s. */
static void lone(struct trace *t, int m, double disk, unsigned prompt, unsigned out)
{
    static struct treq r;

    memset(t, 0, sizeof(*t));
    memset(&r, 0, sizeof(r));
    t->r = &r;
    t->n = 1;
    t->nnodes = 1;
    t->ambient = 20;
    t->end = 10;
    snprintf(t->node[0].id, sizeof(t->node[0].id), "pi-000");
    t->node[0].ram_mb = 8000;
    t->node[0].disk_mbps = disk;
    t->node[0].heat_k = 20;
    t->node[0].tau = 120;
    r.arrive = 10;
    r.after = -1;
    r.model = m;
    r.prio = 2;
    r.kind = RK_SINGLE;
    r.out_tokens = out;
    r.pr.n = 1;
    r.pr.seg[0] = 42;
    r.pr.cum[0] = prompt;
    r.measured = true;
    route_conv_init(&r.conv);
    route_conv_add(&r.conv, "user", "x", 1);
}

static void test_lone(void)
{
    struct trace t;
    struct runout o;
    double load, ttft, total;

    for (int m = 0; m < NMODELS; m++) {
        lone(&t, m, 70, 400, 200);
        load = 1.0 + models[m].file_mb / 70;
        ttft = load + 400 / models[m].pp_tps;
        total = ttft + 200 / models[m].gen_tps;
        for (int p = 0; p < P_N; p++) {
            ok(run_sim(&t, (enum peer)p, 1, &o) == 0, "lone %s, %s: runs", models[m].name,
               peer_names[p]);
            ok(fabs(o.r[0].first - o.r[0].arrive - ttft) < 1e-6 &&
                   fabs(o.r[0].done - o.r[0].arrive - total) < 1e-6 && o.cold_loads == 1,
               "lone %s from SD, %s: TTFT %.3f s, total %.3f s, one load (got %.3f, %.3f)",
               models[m].name, peer_names[p], ttft, total, o.r[0].first - o.r[0].arrive,
               o.r[0].done - o.r[0].arrive);
            runout_free(&o);
        }
    }
}

/* Every scenario, small: conservation, no loss by the router, eligibility kept. */
static void test_conservation(void)
{
    struct trace t;
    struct runout o;
    double fig[F_N];
    size_t answered, bad, below;

    for (int sc = 0; sc < SC_N; sc++) {
        ok(trace_build(&t, (enum scen)sc, sc == SC_DEATH ? 10 : 3, 300, 7) == 0, "%s: trace",
           scen_names[sc]);
        for (int p = 0; p < P_N; p++) {
            if (run_sim(&t, (enum peer)p, 7, &o) < 0) {
                ok(0, "%s, %s: run", scen_names[sc], peer_names[p]);
                continue;
            }
            answered = bad = below = 0;
            for (size_t i = 0; i < t.n; i++) {
                below += o.r[i].done >= 0 && !o.r[i].lost &&
                         o.r[i].done - o.r[i].arrive < req_floor(&t, i) - 1e-9;
                answered += o.r[i].done >= 0;
                bad += o.r[i].done >= 0 && (o.r[i].done < o.r[i].arrive ||
                                            (!o.r[i].lost && o.r[i].first > o.r[i].done));
            }
            is_int(o.answers, t.n, "%s, %s: one answer (or error) per request", scen_names[sc],
                   peer_names[p]);
            ok(answered == t.n && bad == 0, "%s, %s: every request ends, after it arrived",
               scen_names[sc], peer_names[p]);
            is_int(below, 0, "%s, %s: no answer faster than its floor", scen_names[sc],
                   peer_names[p]);
            if (p != P_NGINX)
                ok(o.lost == 0, "%s, %s: nothing lost", scen_names[sc], peer_names[p]);
            if (p != P_NGINX && p != P_CLAIRVOYANT)
                is_int(o.hot_sends_health, 0, "%s, %s: no send to a node hot, full or stale by "
                                              "the router's records",
                       scen_names[sc], peer_names[p]);
            run_figures(&t, &o, fig);
            ok(fig[F_P50] <= fig[F_P95] && fig[F_P95] <= fig[F_P99] && fig[F_TMEAN] <= fig[F_MEAN],
               "%s, %s: p50 <= p95 <= p99, TTFT <= total", scen_names[sc], peer_names[p]);
            runout_free(&o);
        }
        trace_free(&t);
    }
}

static void test_determinism(void)
{
    struct trace t, u;
    struct runout a, b;
    bool same = true;

    trace_build(&t, SC_CHAT, 3, 200, 3);
    trace_build(&u, SC_CHAT, 3, 200, 3);
    ok(t.n == u.n && memcmp(t.r, u.r, t.n * sizeof(*t.r)) == 0, "same seed, same trace");
    trace_free(&u);
    trace_build(&u, SC_CHAT, 3, 200, 4);
    ok(t.n != u.n || memcmp(t.r, u.r, t.n * sizeof(*t.r)) != 0, "another seed, another trace");
    trace_free(&u);
    for (int p = 0; p < P_N; p++) {
        run_sim(&t, (enum peer)p, 3, &a);
        run_sim(&t, (enum peer)p, 3, &b);
        same = same && memcmp(a.r, b.r, t.n * sizeof(*a.r)) == 0 && a.events == b.events;
        runout_free(&a);
        runout_free(&b);
    }
    ok(same, "every peer: the same seed gives the same run, event for event");
    trace_free(&t);
}

/* One node: the early-bound policies all send every request there at once, in arrival order. */
static void test_one_node(void)
{
    static const enum peer early[] = {P_FIRST_FIT, P_LEAST_CONN, P_ROUND_ROBIN, P_RANDOM};
    struct trace t;
    struct runout ref, o;
    bool same = true;

    trace_build(&t, SC_STEADY, 1, 150, 5);
    run_sim(&t, early[0], 5, &ref);
    for (size_t k = 1; k < ELEMS(early); k++) {
        run_sim(&t, early[k], 5, &o);
        for (size_t i = 0; i < t.n; i++)
            same = same && o.r[i].done == ref.r[i].done;
        runout_free(&o);
    }
    ok(same, "one node: first-fit, least-conn, round-robin and random answer alike");
    runout_free(&ref);
    trace_free(&t);
}

int main(void)
{
    test_lone();
    test_conservation();
    test_determinism();
    test_one_node();
    return done_testing();
}
