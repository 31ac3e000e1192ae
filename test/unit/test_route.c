/* SPDX-License-Identifier: MIT */
/*
 * route: table tests for every eligibility rule and threshold edge, hysteresis, the sticky
 * preference with bounded load, the other policies and the determinism of ties (every sticky
 * case also runs with the nodes in reverse order). The router's records and what it learns:
 * test_route_state.c; model names: test_route_name.c.
 */
#include "orion/placement.h"
#include "orion/route.h"
#include "../t.h"

#include <errno.h>
#include <math.h>

#define NOW 1700000100.0
#define M(...) ((const char *const[]){__VA_ARGS__})
#define NM(...) sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define MODELS(...) .models = M(__VA_ARGS__), .nmodels = NM(__VA_ARGS__)
#define INSTALLED(...) .installed = M(__VA_ARGS__), .ninstalled = NM(__VA_ARGS__)
#define LABELS(...) .labels = M(__VA_ARGS__), .nlabels = NM(__VA_ARGS__)
#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAXN 6

static struct route_settings S;

static void set_state(struct route_state *st, const char *id, bool hot, bool full,
                      unsigned queued)
{
    struct route_node_state *ns = &st->node[st->n++];

    snprintf(ns->id, sizeof(ns->id), "%s", id);
    ns->hot = hot;
    ns->full = full;
    ns->queued = queued;
}

struct elig_case {
    const char *name;
    struct route_node node;
    bool hot, full; /* hysteresis marks in the state */
    const char *model;
    bool want;
    const char *why;
};

static void test_eligibility(void)
{
    const struct elig_case cases[] = {
        {"fresh at exactly 15 s", {.id = "a", .last_seen = NOW - 15}, 0, 0, "m", true, ""},
        {"stale at 15.001 s", {.id = "a", .last_seen = NOW - 15.001}, 0, 0, "m", false,
         "stale: last seen 15.001 s ago"},
        {"stale at 16 s", {.id = "a", .last_seen = NOW - 16}, 0, 0, "m", false,
         "stale: last seen 16 s ago"},
        {"never seen", {.id = "a"}, 0, 0, "m", false, "stale: never seen"},
        {"stale for two weeks", {.id = "a", .last_seen = NOW - 1209600}, 0, 0, "m", false,
         "stale: last seen 1209600 s ago"},
        {"available unknown", {.id = "a", .last_seen = NOW}, 0, 0, "m", true, ""},
        {"available true", {.id = "a", .last_seen = NOW, .available = ROUTE_AVAIL_YES}, 0, 0,
         "m", true, ""},
        {"available false", {.id = "a", .last_seen = NOW, .available = ROUTE_AVAIL_NO}, 0, 0,
         "m", false, "unavailable"},
        {"draining", {.id = "a", .last_seen = NOW, .draining = true}, 0, 0, "m", false,
         "draining"},
        {"exactly 75 C", {.id = "a", .last_seen = NOW, .has_temp = 1, .temp_c = 75}, 0, 0, "m",
         true, ""},
        {"75.1 C", {.id = "a", .last_seen = NOW, .has_temp = 1, .temp_c = 75.1}, 0, 0, "m",
         false, "hot: 75.1 C > 75"},
        {"unknown temp", {.id = "a", .last_seen = NOW, .temp_c = 99}, 0, 0, "m", true, ""},
        {"exactly 90 %", {.id = "a", .last_seen = NOW, .ram_percent = 90}, 0, 0, "m", true, ""},
        {"90.1 %", {.id = "a", .last_seen = NOW, .ram_percent = 90.1}, 0, 0, "m", false,
         "full: ram 90.1 % > 90"},
        {"91 %", {.id = "a", .last_seen = NOW, .ram_percent = 91}, 0, 0, "m", false,
         "full: ram 91.0 % > 90"},
        {"unknown ram", {.id = "a", .last_seen = NOW, .ram_percent = -1}, 0, 0, "m", true, ""},
        {"not installed", {.id = "a", .last_seen = NOW, INSTALLED("phi3", "qwen3:4b")}, 0, 0,
         "gemma3", false, "model not installed"},
        {"installed, other spelling", {.id = "a", .last_seen = NOW, INSTALLED("gemma3:latest")},
         0, 0, "library/gemma3", true, ""},
        {"installed unknown", {.id = "a", .last_seen = NOW}, 0, 0, "gemma3", true, ""},
        {"hot mark, 74 C", {.id = "a", .last_seen = NOW, .has_temp = 1, .temp_c = 74}, 1, 0, "m",
         false, "hot: 74 C > 72 (cooling down)"},
        {"hot mark, 72 C", {.id = "a", .last_seen = NOW, .has_temp = 1, .temp_c = 72}, 1, 0, "m",
         true, ""},
        {"hot mark, no sensor", {.id = "a", .last_seen = NOW, .temp_c = 74}, 1, 0, "m", true, ""},
        {"full mark, 86 %", {.id = "a", .last_seen = NOW, .ram_percent = 86}, 0, 1, "m", false,
         "full: ram 86.0 % > 85 (freeing up)"},
        {"full mark, 85 %", {.id = "a", .last_seen = NOW, .ram_percent = 85}, 0, 1, "m", true,
         ""},
        {"stale before hot", {.id = "a", .last_seen = NOW - 20, .has_temp = 1, .temp_c = 90}, 0,
         0, "m", false, "stale: last seen 20 s ago"},
        {"unavailable before draining",
         {.id = "a", .last_seen = NOW, .available = ROUTE_AVAIL_NO, .draining = 1}, 0, 0, "m",
         false, "unavailable"},
        {"bad model name", {.id = "a", .last_seen = NOW}, 0, 0, "", false, "bad model name"},
    };
    struct route_state st;
    struct route_request req = {0};
    char why[128];
    bool got;

    for (size_t i = 0; i < ELEMS(cases); i++) {
        route_state_init(&st);
        set_state(&st, "a", cases[i].hot, cases[i].full, 0);
        req.model = cases[i].model;
        got = route_eligible(&cases[i].node, &req, &S, &st, NOW, why, sizeof(why));
        is_int(got, cases[i].want, "eligible: %s", cases[i].name);
        is_str(why, cases[i].why, "eligible: %s: reason", cases[i].name);
    }
}

static void test_labels_and_placement(void)
{
    struct route_node robot = {.id = "robot", .last_seen = NOW, .ram_total_mb = 3800,
                               LABELS("robot", "arm")};
    struct route_node master = {.id = "master", .last_seen = NOW, .ram_total_mb = 15800};
    struct route_request req = {.model = "gemma3", LABELS("gpu")};
    struct route_settings s = S;
    struct placement pl;
    char why[128], err[128];
    static const char rules[] = "# seeds\nnode robot exclude\n";

    ok(!route_eligible(&master, &req, &S, NULL, NOW, why, sizeof(why)), "label required");
    is_str(why, "missing label 'gpu'", "label reason");
    req.nlabels = 0;
    ok(placement_parse(&pl, "p.conf", rules, sizeof(rules) - 1, err, sizeof(err)) == 0,
       "placement parses");
    s.placement = &pl;
    ok(!route_eligible(&robot, &req, &s, NULL, NOW, why, sizeof(why)), "robot excluded");
    is_str(why, "excluded by placement rule 1 (line 2)", "placement reason");
    ok(route_eligible(&master, &req, &s, NULL, NOW, why, sizeof(why)), "master allowed");
    ok(route_eligible(&robot, NULL, &s, NULL, NOW, why, sizeof(why)),
       "node-level check ignores placement");
    req.node = "robot";
    s.placement = NULL;
    ok(!route_eligible(&master, &req, &s, NULL, NOW, why, sizeof(why)), "pinned: other node out");
    is_str(why, "the request is for node 'robot'", "pinned: reason");
    ok(route_eligible(&robot, &req, &s, NULL, NOW, why, sizeof(why)), "pinned: its node is in");
}

/* Hysteresis through route_state_update, one health refresh per step. */
static void test_hysteresis(void)
{
    static const double temps[] = {70, 76, 74, 73, 72.1, 72, 74, 75, 75.1, 73};
    static const bool temp_ok[] = {1, 0, 0, 0, 0, 1, 1, 1, 0, 0};
    static const double rams[] = {80, 91, 88, 86, 85, 90, 90.1, -1, 89};
    static const bool ram_ok[] = {1, 0, 0, 0, 1, 1, 0, 1, 1};
    struct route_node n = {.id = "a", .last_seen = NOW, .has_temp = true, .ram_percent = 10};
    struct route_state st;

    route_state_init(&st);
    for (size_t i = 0; i < ELEMS(temps); i++) {
        n.temp_c = temps[i];
        route_state_update(&st, &n, 1, &S, NOW);
        is_int(route_eligible(&n, NULL, &S, &st, NOW, NULL, 0), temp_ok[i],
               "hysteresis: step %zu at %g C", i, temps[i]);
    }
    n.temp_c = 50;
    for (size_t i = 0; i < ELEMS(rams); i++) {
        n.ram_percent = rams[i];
        route_state_update(&st, &n, 1, &S, NOW);
        is_int(route_eligible(&n, NULL, &S, &st, NOW, NULL, 0), ram_ok[i],
               "hysteresis: step %zu at %g %%", i, rams[i]);
    }
    n.ram_percent = 10;
    n.temp_c = 76; /* before the next refresh, the plain threshold still applies */
    ok(!route_eligible(&n, NULL, &S, &st, NOW, NULL, 0), "hot before the state update");
    route_state_update(&st, &n, 1, &S, NOW);
    n.has_temp = false;
    route_state_update(&st, &n, 1, &S, NOW);
    ok(route_eligible(&n, NULL, &S, &st, NOW, NULL, 0), "sensor gone: the mark is cleared");
}

struct pick_case {
    const char *name;
    struct route_node nodes[MAXN];
    size_t n;
    unsigned queued[MAXN]; /* router-local queued count per node */
    unsigned model_cap[MAXN]; /* learned model capacity per node (0 unknown) */
    const char *model;
    unsigned service_ms;
    const char *want; /* node id, NULL for -1 */
    enum route_kind kind;
};

#define N(...) {.last_seen = NOW, .available = ROUTE_AVAIL_YES, __VA_ARGS__}

static const struct pick_case sticky_cases[] = {
    {"resident beats a colder empty node",
     {N(.id = "a", .has_temp = 1, .temp_c = 70, .ram_percent = 80, MODELS("gemma3")),
      N(.id = "b", .has_temp = 1, .temp_c = 40, .ram_percent = 10)},
     2, {0}, {0}, "gemma3", 0, "a", ROUTE_STICKY},
    {"resident with a free slot wins even hot and full-ish",
     {N(.id = "a", .has_temp = 1, .temp_c = 75, .ram_percent = 90, MODELS("gemma3:latest")),
      N(.id = "b", .has_temp = 1, .temp_c = 30, .ram_percent = 5, .capacity = 4)},
     2, {0}, {0}, "library/gemma3", 0, "a", ROUTE_STICKY},
    {"residents: lowest load",
     {N(.id = "a", .capacity = 2, .inflight = 1, MODELS("gemma3")),
      N(.id = "b", .capacity = 1, MODELS("gemma3"))},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_STICKY},
    {"residents: load is inflight / capacity",
     {N(.id = "a", .capacity = 4, .inflight = 1, MODELS("gemma3")),
      N(.id = "b", .capacity = 2, .inflight = 1, MODELS("gemma3"))},
     2, {0}, {0}, "gemma3", 0, "a", ROUTE_STICKY},
    {"residents: same load, coolest",
     {N(.id = "a", .has_temp = 1, .temp_c = 70, MODELS("gemma3")),
      N(.id = "b", .has_temp = 1, .temp_c = 50, MODELS("gemma3"))},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_STICKY},
    {"residents: unknown temperature after known",
     {N(.id = "a", MODELS("gemma3")), N(.id = "b", .has_temp = 1, .temp_c = 70, MODELS("gemma3"))},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_STICKY},
    {"residents: same temp, most free MiB",
     {N(.id = "a", .ram_percent = 50, .ram_total_mb = 8000, MODELS("gemma3")),
      N(.id = "b", .ram_percent = 60, .ram_total_mb = 16000, MODELS("gemma3"))},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_STICKY},
    {"residents: all equal, lowest id",
     {N(.id = "b", MODELS("gemma3")), N(.id = "a", MODELS("gemma3"))},
     2, {0}, {0}, "gemma3", 0, "a", ROUTE_STICKY},
    {"router queue counts into the load",
     {N(.id = "a", MODELS("gemma3")), N(.id = "b")},
     2, {1, 0}, {0}, "gemma3", 0, "b", ROUTE_SPILL},
    {"resident full, wait 15000 / 2 > cold 5000: spill",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b")},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_SPILL},
    {"resident full, wait 3000 / 2 < cold 5000: queue",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b"), N(.id = "c", .inflight = 1)},
     3, {0}, {0}, "gemma3", 3000, "a", ROUTE_QUEUED_RESIDENT},
    {"resident full, wait 10000 / 2 = cold 5000: queue",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b"), N(.id = "c", .inflight = 1)},
     3, {0}, {0}, "gemma3", 10000, "a", ROUTE_QUEUED_RESIDENT},
    {"resident full, wait 10002 / 2 > cold 5000: spill",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b"), N(.id = "c", .inflight = 1)},
     3, {0}, {0}, "gemma3", 10002, "b", ROUTE_SPILL},
    {"per-node cold load cost 20000 > wait: queue",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", .cold_load_ms = 20000)},
     2, {0}, {0}, "gemma3", 0, "a", ROUTE_QUEUED_RESIDENT},
    /* U=8 C=4: bound = ceil(1.25 * 9 / 4) = 3, a may take a third */
    {"wait counts every request ahead: 1.5 x 4000 > 5000: spill",
     {N(.id = "a", .inflight = 2, MODELS("gemma3")), N(.id = "b"), N(.id = "c", .inflight = 3),
      N(.id = "d", .inflight = 3)},
     4, {0}, {0}, "gemma3", 4000, "b", ROUTE_SPILL},
    {"wait counts every request ahead: 1.5 x 3000 < 5000: queue",
     {N(.id = "a", .inflight = 2, MODELS("gemma3")), N(.id = "b"), N(.id = "c", .inflight = 3),
      N(.id = "d", .inflight = 3)},
     4, {0}, {0}, "gemma3", 3000, "a", ROUTE_QUEUED_RESIDENT},
    /* U=4 C=4, a capacity 2 holding 2: bound = ceil(1.25 * 5 * 2 / 4) = 4; wait (1 - 1/2) x
     * 12000 / 2 = 3000 */
    {"wait divides by capacity: 12000 / 2 / 2 < 5000: queue",
     {N(.id = "a", .capacity = 2, .inflight = 2, MODELS("gemma3")), N(.id = "b"),
      N(.id = "c", .inflight = 2)},
     3, {0}, {0}, "gemma3", 12000, "a", ROUTE_QUEUED_RESIDENT},
    /* U=3 C=5: bound = ceil(1.25 * 4 / 5) = exactly 1, a holds 1 -> past it */
    {"bound exactly 1.0: past the bound, spill",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b"), N(.id = "c", .inflight = 1),
      N(.id = "d", .inflight = 1), N(.id = "e")},
     5, {0}, {0}, "gemma3", 1000, "b", ROUTE_SPILL},
    /* U=3 C=4: bound = ceil(1.25 * 4 / 4) = 2, a may take a second */
    {"bound 1.25 -> 2: within, queue",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b"), N(.id = "c", .inflight = 1),
      N(.id = "d", .inflight = 1)},
     4, {0}, {0}, "gemma3", 1000, "a", ROUTE_QUEUED_RESIDENT},
    /* U=2 C=2: bound = ceil(1.25 * 3 / 2) = 2, a would hold 3 */
    {"resident past the bound, short wait, no eviction: spill anyway",
     {N(.id = "a", .inflight = 2, MODELS("gemma3")), N(.id = "b")},
     2, {0}, {0}, "gemma3", 1000, "b", ROUTE_SPILL},
    {"resident within bound, no free non-resident: queue",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", .inflight = 1)},
     2, {0}, {0}, "gemma3", 0, "a", ROUTE_QUEUED_RESIDENT},
    {"every node full and past the bound: queue on the best resident",
     {N(.id = "a", .inflight = 5, MODELS("gemma3")), N(.id = "c", .inflight = 6, MODELS("gemma3")),
      N(.id = "b", .inflight = 1)},
     3, {0}, {0}, "gemma3", 0, "a", ROUTE_QUEUED_RESIDENT},
    {"spill target: most free memory",
     {N(.id = "a", .inflight = 1, .ram_total_mb = 8000, MODELS("gemma3")),
      N(.id = "b", .ram_percent = 50, .ram_total_mb = 16000),
      N(.id = "c", .ram_percent = 20, .ram_total_mb = 8000)},
     3, {0}, {0}, "gemma3", 0, "b", ROUTE_SPILL},
    /* the spill's own cost: a load on a node that holds as many models as it can (model_cap)
     * displaces one; a displaced model with no other copy costs a cold load later */
    {"spill would evict a sole copy: wait 7500 <= 5000 + 5000: queue",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", MODELS("phi3"))},
     2, {0}, {0, 1}, "gemma3", 0, "a", ROUTE_QUEUED_RESIDENT},
    {"spill would evict a sole copy, long wait 10002 > 10000: spill",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", MODELS("phi3"))},
     2, {0}, {0, 1}, "gemma3", 20004, "b", ROUTE_SPILL},
    {"a copy elsewhere does not make the eviction free: queue",
     {N(.id = "a", .inflight = 1, MODELS("gemma3", "phi3")), N(.id = "b", MODELS("phi3"))},
     2, {0}, {0, 1}, "gemma3", 0, "a", ROUTE_QUEUED_RESIDENT},
    {"model_cap not reached: no eviction cost, spill",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", MODELS("phi3"))},
     2, {0}, {0, 2}, "gemma3", 0, "b", ROUTE_SPILL},
    /* every other node full of models too: the reload displaces another, evict = 2 x 5000 */
    {"every node full of models: eviction counts twice, wait 10002 <= 15000: queue",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", MODELS("phi3"))},
     2, {0}, {1, 1}, "gemma3", 20004, "a", ROUTE_QUEUED_RESIDENT},
    {"every node full of models: eviction counts twice, wait 15001 > 15000: spill",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", MODELS("phi3"))},
     2, {0}, {1, 1}, "gemma3", 30002, "b", ROUTE_SPILL},
    {"one other node with room: eviction counts once, wait 10002 > 10000: spill",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", MODELS("phi3")),
      N(.id = "c", .inflight = 1, MODELS("qwen3"))},
     3, {0}, {1, 1, 2}, "gemma3", 20004, "b", ROUTE_SPILL},
    {"an ineligible node with room does not count",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", MODELS("phi3")),
      N(.id = "c", .has_temp = 1, .temp_c = 80)},
     3, {0}, {1, 1, 0}, "gemma3", 20004, "a", ROUTE_QUEUED_RESIDENT},
    {"model_cap unknown: the one learned on a node with the same memory",
     {N(.id = "a", .inflight = 1, .ram_total_mb = 16000, MODELS("gemma3")),
      N(.id = "b", .ram_total_mb = 8000, MODELS("phi3")),
      N(.id = "c", .inflight = 1, .ram_total_mb = 8000, MODELS("qwen3"))},
     3, {0}, {0, 0, 1}, "gemma3", 0, "a", ROUTE_QUEUED_RESIDENT},
    {"model_cap unknown: not taken from a node with other memory",
     {N(.id = "a", .inflight = 1, .ram_total_mb = 16000, MODELS("gemma3")),
      N(.id = "b", .ram_total_mb = 8000, MODELS("phi3")),
      N(.id = "c", .inflight = 1, .ram_total_mb = 4000, MODELS("qwen3"))},
     3, {0}, {0, 0, 1}, "gemma3", 0, "b", ROUTE_SPILL},
    {"spill target: no eviction beats more free memory",
     {N(.id = "a", .inflight = 1, MODELS("gemma3")), N(.id = "b", .ram_percent = 10, MODELS("phi3")),
      N(.id = "c", .ram_percent = 50)},
     3, {0}, {0, 1, 0}, "gemma3", 0, "c", ROUTE_SPILL},
    /* U=2 C=2: a past its bound; the only spill evicts: the wait decides */
    {"past the bound, spill would evict, wait 1500 <= 10000: queue",
     {N(.id = "a", .inflight = 2, MODELS("gemma3")), N(.id = "b", MODELS("phi3"))},
     2, {0}, {0, 1}, "gemma3", 1000, "a", ROUTE_QUEUED_RESIDENT},
    {"past the bound, spill would evict, wait 10500 > 10000: spill",
     {N(.id = "a", .inflight = 2, MODELS("gemma3")), N(.id = "b", MODELS("phi3"))},
     2, {0}, {0, 1}, "gemma3", 7000, "b", ROUTE_SPILL},
    {"cold: a node with room beats more free memory",
     {N(.id = "a", .ram_percent = 10, MODELS("phi3")), N(.id = "b", .ram_percent = 50)},
     2, {0}, {1, 0}, "gemma3", 0, "b", ROUTE_COLD},
    {"cold: a free slot before room for the model",
     {N(.id = "a", .ram_percent = 10, MODELS("phi3")), N(.id = "b", .inflight = 1)},
     2, {0}, {1, 0}, "gemma3", 0, "a", ROUTE_COLD},
    {"cold: most free MiB",
     {N(.id = "a", .ram_percent = 50, .ram_total_mb = 8000),
      N(.id = "b", .ram_percent = 30, .ram_total_mb = 4000)},
     2, {0}, {0}, "gemma3", 0, "a", ROUTE_COLD},
    {"cold: a total unknown, lowest ram_percent",
     {N(.id = "a", .ram_percent = 50, .ram_total_mb = 8000), N(.id = "b", .ram_percent = 30)},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_COLD},
    {"cold: a free slot before more memory",
     {N(.id = "a", .ram_percent = 10, .inflight = 1), N(.id = "b", .ram_percent = 60)},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_COLD},
    {"cold: same memory, coolest",
     {N(.id = "a", .has_temp = 1, .temp_c = 60), N(.id = "b", .has_temp = 1, .temp_c = 55)},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_COLD},
    {"cold: same memory and temp, lowest load",
     {N(.id = "a", .capacity = 2, .inflight = 1), N(.id = "b", .capacity = 2)},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_COLD},
    {"cold: all equal, lowest id",
     {N(.id = "c"), N(.id = "b"), N(.id = "d")}, 3, {0}, {0}, "gemma3", 0, "b", ROUTE_COLD},
    {"ineligible resident is ignored",
     {N(.id = "a", .has_temp = 1, .temp_c = 75.1, MODELS("gemma3")), N(.id = "b")},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_COLD},
    {"other models do not count",
     {N(.id = "a", .ram_percent = 40, MODELS("phi3", "gemma3:4b")),
      N(.id = "b", .ram_percent = 20)},
     2, {0}, {0}, "gemma3", 0, "b", ROUTE_COLD},
    {"not installed anywhere: wait", {N(.id = "a", INSTALLED("phi3"))}, 1, {0}, {0}, "gemma3", 0,
     NULL, ROUTE_WAIT},
    {"no nodes: wait", {{0}}, 0, {0}, {0}, "gemma3", 0, NULL, ROUTE_WAIT},
    {"bad name: reject", {N(.id = "a")}, 1, {0}, {0}, "", 0, NULL, ROUTE_REJECT},
};

/* Run a case with the nodes in the given order (reverse: last first). */
static void run_pick(const struct pick_case *c, struct route_settings *s, bool reverse)
{
    struct route_node nodes[MAXN];
    struct route_state st;
    struct route_request req = {.model = c->model, .service_ms = c->service_ms};
    struct route_result r;
    size_t k;
    int got;

    route_state_init(&st);
    for (size_t i = 0; i < c->n; i++) {
        k = reverse ? c->n - 1 - i : i;
        nodes[i] = c->nodes[k];
        if (c->queued[k] || c->model_cap[k]) {
            set_state(&st, c->nodes[k].id, false, false, c->queued[k]);
            st.node[st.n - 1].model_cap = c->model_cap[k];
        }
    }
    got = route_pick(nodes, c->n, &req, s, &st, NOW, &r);
    is_int(got, r.node, "%s%s: return value", c->name, reverse ? " (reversed)" : "");
    is_str(got >= 0 ? nodes[got].id : NULL, c->want, "%s%s: node", c->name,
           reverse ? " (reversed)" : "");
    is_str(route_kind_name(r.kind), route_kind_name(c->kind), "%s%s: kind (%s)", c->name,
           reverse ? " (reversed)" : "", r.why);
}

static void test_sticky(void)
{
    struct route_settings s = S;

    for (size_t i = 0; i < ELEMS(sticky_cases); i++) {
        run_pick(&sticky_cases[i], &s, false);
        run_pick(&sticky_cases[i], &s, true);
    }
}

static void test_wait_reasons(void)
{
    struct route_node nodes[] = {
        N(.id = "a", .has_temp = 1, .temp_c = 80),
        N(.id = "b"),
        N(.id = "c"),
    };
    struct route_node many[40];
    struct route_request req = {.model = "gemma3"};
    struct route_result r;

    nodes[1].last_seen = NOW - 20;
    nodes[2].available = ROUTE_AVAIL_NO;
    ok(route_pick(nodes, 3, &req, &S, NULL, NOW, &r) == -1, "wait: -1");
    is_int(r.kind, ROUTE_WAIT, "wait: kind");
    is_str(r.why, "a: hot: 80 C > 75; b: stale: last seen 20 s ago; c: unavailable",
           "wait: every node's reason");
    for (size_t i = 0; i < ELEMS(many); i++) {
        many[i] = nodes[0];
        many[i].id = "a-node-with-a-rather-long-name";
    }
    route_pick(many, ELEMS(many), &req, &S, NULL, NOW, &r);
    ok(strlen(r.why) == sizeof(r.why) - 1 && strcmp(r.why + sizeof(r.why) - 4, "...") == 0,
       "wait: long summary cut with ...");
}

/* Two requests for a cold model, back to back: the second follows the first's record. */
static void test_back_to_back(void)
{
    struct route_node nodes[] = {
        N(.id = "a", .capacity = 2, .ram_percent = 30, .ram_total_mb = 8000),
        N(.id = "b", .capacity = 2, .ram_percent = 40, .ram_total_mb = 8000),
    };
    struct route_request req = {.model = "gemma3"};
    struct route_state st;
    struct route_result r;

    route_state_init(&st);
    route_state_update(&st, nodes, 2, &S, NOW);
    ok(route_pick(nodes, 2, &req, &S, &st, NOW, &r) == 0 && r.kind == ROUTE_COLD,
       "first cold request: a, cold");
    ok(route_note_sent(&st, "a", "gemma3", 600, NOW) == 0, "note_sent");
    nodes[0].ram_percent = 5; /* b now looks better for a cold load; a has the record */
    nodes[1].ram_percent = 1;
    ok(route_pick(nodes, 2, &req, &S, &st, NOW + 1, &r) == 0 && r.kind == ROUTE_STICKY,
       "second request: a again, sticky");
    req.model = "registry.ollama.ai/library/gemma3:latest";
    ok(route_pick(nodes, 2, &req, &S, &st, NOW + 1, &r) == 0, "any spelling follows the record");
    /* capacity 1: the record makes a resident; a short request queues behind it */
    nodes[0].capacity = nodes[1].capacity = 1;
    req.service_ms = 3000;
    ok(route_pick(nodes, 2, &req, &S, &st, NOW + 1, &r) == 0 && r.kind == ROUTE_QUEUED_RESIDENT,
       "capacity 1, short request: queued behind a");
    req.service_ms = 0;
    ok(route_pick(nodes, 2, &req, &S, &st, NOW + 1, &r) == 1 && r.kind == ROUTE_SPILL,
       "capacity 1, 15 s request: spills to b");
    route_note_done(&st, "a");
    ok(route_pick(nodes, 2, &req, &S, &st, NOW + 1, &r) == 0 && r.kind == ROUTE_STICKY,
       "after note_done: a is free again");
    route_note_done(&st, "a");
    is_int(route_state_find(&st, "a")->queued, 0, "queued does not go below 0");
}

static void test_max_nodes(void)
{
    struct route_node nodes[ORION_ROUTE_MAX_NODES + 6];
    struct route_request req = {.model = "gemma3"};
    struct route_result r;
    char ids[ORION_ROUTE_MAX_NODES + 6][8];

    for (size_t i = 0; i < ELEMS(nodes); i++) {
        snprintf(ids[i], sizeof(ids[i]), "n%02zu", i);
        nodes[i] = (struct route_node){.id = ids[i], .last_seen = NOW, .ram_percent = 50};
    }
    nodes[ELEMS(nodes) - 1].models = M("gemma3");
    nodes[ELEMS(nodes) - 1].nmodels = 1;
    ok(route_pick(nodes, ELEMS(nodes), &req, &S, NULL, NOW, &r) == 0 && r.kind == ROUTE_COLD,
       "nodes past ORION_ROUTE_MAX_NODES are not considered");
}

/* One table, every policy. d is hot: no policy ever picks it. */
static void test_policies(void)
{
    const struct route_node nodes[] = {
        N(.id = "a", .ram_total_mb = 16000, .ram_percent = 50, .has_temp = 1, .temp_c = 60,
          .inflight = 1, MODELS("gemma3")),
        N(.id = "b", .ram_total_mb = 8000, .ram_percent = 40, .has_temp = 1, .temp_c = 50,
          .capacity = 2, .inflight = 1, MODELS("gemma3")),
        N(.id = "c", .ram_total_mb = 8000, .ram_percent = 20, .has_temp = 1, .temp_c = 45,
          .capacity = 2),
        N(.id = "d", .ram_total_mb = 4000, .ram_percent = 10, .has_temp = 1, .temp_c = 80,
          MODELS("gemma3")),
    };
    static const struct {
        enum route_policy policy;
        const char *model, *rr_last, *want;
        enum route_kind kind;
    } cases[] = {
        {ROUTE_POLICY_STICKY, "gemma3", "", "b", ROUTE_STICKY},
        {ROUTE_POLICY_FIRST_FIT, "gemma3", "", "b", ROUTE_STICKY},
        {ROUTE_POLICY_LEAST_CONN, "gemma3", "", "c", ROUTE_SPILL},
        {ROUTE_POLICY_ROUND_ROBIN, "gemma3", "", "a", ROUTE_QUEUED_RESIDENT},
        {ROUTE_POLICY_ROUND_ROBIN, "gemma3", "a", "b", ROUTE_STICKY},
        {ROUTE_POLICY_ROUND_ROBIN, "gemma3", "b", "c", ROUTE_SPILL},
        {ROUTE_POLICY_ROUND_ROBIN, "gemma3", "c", "a", ROUTE_QUEUED_RESIDENT},
        {ROUTE_POLICY_STICKY, "phi3", "", "c", ROUTE_COLD},
        {ROUTE_POLICY_FIRST_FIT, "phi3", "", "c", ROUTE_COLD},
        {ROUTE_POLICY_LEAST_CONN, "phi3", "", "c", ROUTE_COLD},
        {ROUTE_POLICY_ROUND_ROBIN, "phi3", "c", "a", ROUTE_COLD},
    };
    static const char *const turns[] = {"a", "b", "c", "a"};
    struct route_settings s = S;
    struct route_state st;
    struct route_request req = {0};
    struct route_result r;
    int got;

    for (size_t i = 0; i < ELEMS(cases); i++) {
        route_state_init(&st);
        snprintf(st.rr_last, sizeof(st.rr_last), "%s", cases[i].rr_last);
        s.policy = cases[i].policy;
        req.model = cases[i].model;
        got = route_pick(nodes, ELEMS(nodes), &req, &s, &st, NOW, &r);
        is_str(got >= 0 ? nodes[got].id : NULL, cases[i].want, "%s %s after '%s': node",
               route_policy_name(cases[i].policy), cases[i].model, cases[i].rr_last);
        is_int(r.kind, cases[i].kind, "%s %s after '%s': kind", route_policy_name(cases[i].policy),
               cases[i].model, cases[i].rr_last);
    }
    /* round robin follows route_note_sent */
    route_state_init(&st);
    s.policy = ROUTE_POLICY_ROUND_ROBIN;
    req.model = "gemma3";
    for (int i = 0; i < 4; i++) {
        got = route_pick(nodes, ELEMS(nodes), &req, &s, &st, NOW, &r);
        is_str(nodes[got].id, turns[i], "round robin turn %d", i);
        route_note_sent(&st, nodes[got].id, req.model, 600, NOW);
    }
    for (int p = 0; p <= ROUTE_POLICY_RANDOM; p++) {
        struct route_node hot = nodes[3];

        s.policy = (enum route_policy)p;
        ok(route_pick(&hot, 1, &req, &s, NULL, NOW, &r) == -1 && r.kind == ROUTE_WAIT,
           "%s: a hot node only: wait", route_policy_name(s.policy));
    }
}

/* random: the same rnd gives the same node whatever the order; rnd 0..2999 spread over three
 * eligible nodes within 800..1200 each (a fixed sequence: no flakiness); never the hot one. */
static void test_random(void)
{
    struct route_node nodes[] = {
        N(.id = "a"), N(.id = "b", .inflight = 5, MODELS("gemma3")),
        N(.id = "c", .has_temp = 1, .temp_c = 80), N(.id = "d", .capacity = 4),
    };
    struct route_node rev[ELEMS(nodes)];
    struct route_settings s = S;
    struct route_request req = {.model = "gemma3"};
    struct route_result r, rr;
    int count[ELEMS(nodes)] = {0}, differ = 0;

    s.policy = ROUTE_POLICY_RANDOM;
    for (size_t i = 0; i < ELEMS(nodes); i++)
        rev[i] = nodes[ELEMS(nodes) - 1 - i];
    for (unsigned long k = 0; k < 3000; k++) {
        req.rnd = k * 2654435761UL;
        route_pick(nodes, ELEMS(nodes), &req, &s, NULL, NOW, &r);
        route_pick(rev, ELEMS(rev), &req, &s, NULL, NOW, &rr);
        if (r.node < 0 || rr.node < 0 || strcmp(nodes[r.node].id, rev[rr.node].id) != 0)
            differ++;
        else
            count[r.node]++;
    }
    is_int(differ, 0, "random: same rnd, same node with the nodes reversed");
    is_int(count[2], 0, "random: never the hot node");
    for (size_t i = 0; i < ELEMS(nodes); i++)
        if (i != 2)
            ok(count[i] >= 800 && count[i] <= 1200, "random: node %s chosen %d times of 3000",
               nodes[i].id, count[i]);
    req.rnd = 7;
    route_pick(nodes, ELEMS(nodes), &req, &s, NULL, NOW, &r);
    is_str(route_kind_name(r.kind),
           route_kind_name(r.node == 1 ? ROUTE_QUEUED_RESIDENT : ROUTE_SPILL),
           "random: kind classified after the choice (%s)", r.why);
}

static void test_defaults(void)
{
    struct route_settings s;

    route_settings_init(&s);
    ok(s.max_temp == 75 && s.max_ram == 90 && s.stale_after == 15, "default thresholds");
    ok(s.temp_margin == 3 && s.ram_margin == 5, "default hysteresis margins");
    ok(s.load_factor_pct == 125 && s.cold_load_ms == 5000 && s.service_ms == 15000,
       "default load factor and costs");
    is_int(s.cold_min_ms, 50, "default: a load from 50 ms is a cold load");
    ok(s.policy == ROUTE_POLICY_STICKY && s.placement == NULL, "default policy, no placement");
}

int main(void)
{
    route_settings_init(&S);
    test_defaults();
    test_eligibility();
    test_labels_and_placement();
    test_hysteresis();
    test_sticky();
    test_wait_reasons();
    test_back_to_back();
    test_max_nodes();
    test_policies();
    test_random();
    return done_testing();
}
