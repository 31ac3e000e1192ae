/* SPDX-License-Identifier: MIT */
/*
 * route_dispatch by tables: the late-bound sticky cost E = W + T + evict + displace + heat and
 * its edges (route_dispatch.h; defaults: service 15 000 ms, cold load 5 000 ms, prefill 50
 * tokens/s, conv_p 0.8; evict_reloads 3, not the default 4), every case run again with the nodes reversed; the
 * order in which held requests get a free slot (the highest response ratio, weighted by
 * priority);
 * early binding and the late comparison policies; what a pass records.
 */
#include "orion/route_dispatch.h"
#include "../t.h"

#include <math.h>

#define NOW 1700000100.0
#define M(...) ((const char *const[]){__VA_ARGS__})
#define NM(...) sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define MODELS(...) .models = M(__VA_ARGS__), .nmodels = NM(__VA_ARGS__)
#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define N(...) {.last_seen = NOW, .available = ROUTE_AVAIL_YES, .ram_percent = 30, __VA_ARGS__}
#define MAXN 3

static struct route_settings S;

/* A conversation: n messages of 400 bytes (104 tokens each), text "<tag><i>". */
static void chain(struct route_conv *c, size_t n, char tag)
{
    char text[400];

    route_conv_init(c);
    for (size_t i = 0; i < n; i++) {
        memset(text, 'x', sizeof(text));
        text[0] = tag;
        text[1] = (char)('a' + i);
        route_conv_add(c, i % 2 ? "user" : "assistant", text, sizeof(text));
    }
}

/* What a node's state holds before the decision. */
struct nset {
    double busy_ms, busy_ago; /* a flight expected to run busy_ms, sent busy_ago s before */
    char conv;                /* a live record of conversation `conv` (20 messages), 0 none */
    unsigned model_cap;
    double slope;             /* temperature trend, C/s (0: none) */
};

struct dcase {
    const char *name;
    struct route_node nodes[MAXN];
    struct nset set[MAXN];
    size_t n;
    char conv;      /* the request continues conversation `conv` (22 messages); 0: a new one */
    const char *want; /* node id, NULL: held */
    enum route_kind kind;
};

static const struct dcase cases[] = {
    {"resident and free beats a free node without the model",
     {N(.id = "a", MODELS("m")), N(.id = "b")}, {{0}}, 2, 0, "a", ROUTE_STICKY},
    /* E(a) = W + 15000, E(b) = 15000 + 5000 */
    {"resident busy 2000 ms < cold load 5000: held for it",
     {N(.id = "a", MODELS("m")), N(.id = "b")}, {{2000, 0, 0, 0, 0}}, 2, 0, NULL, 0},
    {"resident busy 6000 ms > cold load 5000: spill",
     {N(.id = "a", MODELS("m")), N(.id = "b")}, {{6000, 0, 0, 0, 0}}, 2, 0, "b", ROUTE_SPILL},
    {"resident busy 5000 ms = cold load 5000: equal E, the free slot",
     {N(.id = "a", MODELS("m")), N(.id = "b")}, {{5000, 0, 0, 0, 0}}, 2, 0, "b", ROUTE_SPILL},
    {"a run 1 s past its expected 9 s counts a third of it (3000): held",
     {N(.id = "a", MODELS("m")), N(.id = "b")}, {{9000, 10, 0, 0, 0}}, 2, 0, NULL, 0},
    {"a run 3 s into 9 s has 6000 left: spill",
     {N(.id = "a", MODELS("m")), N(.id = "b")}, {{9000, 3, 0, 0, 0}}, 2, 0, "b", ROUTE_SPILL},
    /* b holds as many models as it can: its load displaces phi, 3 x 5000 later */
    {"the spill would displace a model: 6000 < 5000 + 15000, held",
     {N(.id = "a", MODELS("m")), N(.id = "b", MODELS("phi"))},
     {{6000, 0, 0, 0, 0}, {0, 0, 0, 1, 0}}, 2, 0, NULL, 0},
    {"displacing costs nothing where the node has room",
     {N(.id = "a", MODELS("m")), N(.id = "b", MODELS("phi"))},
     {{6000, 0, 0, 0, 0}, {0, 0, 0, 2, 0}}, 2, 0, "b", ROUTE_SPILL},
    {"resident nowhere: a free node, cold",
     {N(.id = "a", MODELS("phi")), N(.id = "b", MODELS("qwen"))}, {{0}}, 2, 0, "a", ROUTE_COLD},
    /* conversation X: 2 080 tokens of history held by a; on b all of it is evaluated */
    {"its conversation's node busy 10 s, another free: held for the cache",
     {N(.id = "a", MODELS("m")), N(.id = "b", MODELS("m"))},
     {{10000, 0, 'X', 0, 0}}, 2, 'X', NULL, 0},
    {"its conversation's node busy 20 s: the free node",
     {N(.id = "a", MODELS("m")), N(.id = "b", MODELS("m"))},
     {{20000, 0, 'X', 0, 0}}, 2, 'X', "b", ROUTE_STICKY},
    {"its conversation's node free: there",
     {N(.id = "b", MODELS("m")), N(.id = "a", MODELS("m"))},
     {{0}, {0, 0, 'X', 0, 0}}, 2, 'X', "a", ROUTE_STICKY},
    {"a new chat does not push a live conversation out of its slot",
     {N(.id = "a", MODELS("m")), N(.id = "b", MODELS("m"))},
     {{0, 0, 'Y', 0, 0}}, 2, 0, "b", ROUTE_STICKY},
    {"a host cache keeps it: no cost, lowest id",
     {N(.id = "a", MODELS("m"), .host_cache = true), N(.id = "b", MODELS("m"))},
     {{0, 0, 'Y', 0, 0}}, 2, 0, "a", ROUTE_STICKY},
    /* 68 C rising 0.1 C/s: 74 C in 60 s, excess 0.8: E(a) = 15000 x 1.8 > 20000 */
    {"heading for max_temp: less new work, spill",
     {N(.id = "a", MODELS("m"), .has_temp = true, .temp_c = 68), N(.id = "b")},
     {{0, 0, 0, 0, 0.1}}, 2, 0, "b", ROUTE_SPILL},
    {"the same node flat at 68 C: there",
     {N(.id = "a", MODELS("m"), .has_temp = true, .temp_c = 68), N(.id = "b")},
     {{0}}, 2, 0, "a", ROUTE_STICKY},
    {"throttled: 15000 x 1.6 > 20000, spill",
     {N(.id = "a", MODELS("m"), .has_throttled = true, .throttled = 0x50005), N(.id = "b")},
     {{0}}, 2, 0, "b", ROUTE_SPILL},
    {"throttling only in the past: there",
     {N(.id = "a", MODELS("m"), .has_throttled = true, .throttled = 0x50000), N(.id = "b")},
     {{0}}, 2, 0, "a", ROUTE_STICKY},
    {"every node busy: the pass stops, held",
     {N(.id = "a", MODELS("m")), N(.id = "b")}, {{2000, 0, 0, 0, 0}, {9000, 0, 0, 0, 0}}, 2, 0,
     NULL, 0},
    {"a hot resident node is ignored",
     {N(.id = "a", MODELS("m"), .has_temp = true, .temp_c = 75.1), N(.id = "b")}, {{0}}, 2, 0,
     "b", ROUTE_COLD},
};

static void setup(struct route_state *st, const struct route_node *nd, const struct nset *ns)
{
    struct route_request busy = {.model = "m"};
    struct route_node_state *s;
    struct route_conv c;

    route_state_update_one(st, nd, &S, NOW);
    s = route_state_find(st, nd->id);
    s->model_cap = ns->model_cap;
    if (ns->busy_ms > 0)
        route_note_dispatch(st, nd, &busy, 777, ns->busy_ms, 0, 600, &S, NOW - ns->busy_ago);
    if (ns->conv) {
        chain(&c, 20, ns->conv);
        route_conv_note_sent(&s->conv, route_conv_model("m:latest"), &c, 0, 1, nd->host_cache,
                             NOW - 1);
    }
    if (ns->slope) {
        s->cond.has_slope = true;
        s->cond.slope = ns->slope;
    }
}

static void run_case(const struct dcase *c, bool reverse)
{
    static struct route_state st;
    struct route_node nodes[MAXN];
    struct route_conv conv;
    struct route_request req = {.model = "m", .priority = 2, .arrived = NOW, .id = 1,
                                .keep_alive_s = 600};
    const struct route_request *held[1] = {&req};
    struct route_assign out[1];
    size_t k, got;

    route_state_init(&st);
    for (size_t i = 0; i < c->n; i++) {
        k = reverse ? c->n - 1 - i : i;
        nodes[i] = c->nodes[k];
        setup(&st, &nodes[i], &c->set[k]);
    }
    if (c->conv) {
        chain(&conv, 22, c->conv);
        req.conv = &conv;
    } else {
        chain(&conv, 1, 'n');
        req.conv = &conv;
    }
    got = route_dispatch(nodes, c->n, held, 1, &S, &st, NOW, out, 1);
    is_str(got ? nodes[out[0].node].id : NULL, c->want, "%s%s (E %.0f)", c->name,
           reverse ? " (reversed)" : "", got ? out[0].expect_ms : 0);
    if (got && c->want)
        is_str(route_kind_name(out[0].kind), route_kind_name(c->kind), "%s%s: kind", c->name,
               reverse ? " (reversed)" : "");
}

static void test_cases(void)
{
    for (size_t i = 0; i < ELEMS(cases); i++) {
        run_case(&cases[i], false);
        run_case(&cases[i], true);
    }
}

/* Which held request a single free slot goes to: the response ratio (order_exp 1), then the
 * default, the ratio per second of run time (order_exp 2). */
static void test_order(void)
{
    static const struct {
        const char *name;
        double e;          /* order_exp */
        int pa, pb;        /* priorities of a and b */
        double aa, ab;     /* s waited */
        unsigned sa, sb;   /* service_ms */
        const char *want;
    } rows[] = {
        {"equal: the first", 1, 2, 2, 10, 10, 5000, 5000, "a"},
        {"b's ratio (5+5)/5 = 2 beats a's (10+100)/100", 1, 2, 2, 10, 5, 100000, 5000, "b"},
        {"a waited long enough: (200+100)/100 = 3 beats 2", 1, 2, 2, 200, 5, 100000, 5000, "a"},
        {"priority 3 doubles a's 1.1: 2.2 beats 2", 1, 3, 2, 10, 5, 100000, 5000, "a"},
        {"priority 3 doubles 1.05: 2.1 beats 2", 1, 3, 2, 5, 5, 100000, 5000, "a"},
        {"priority 1 halves a's 2: 1 loses to 2", 1, 1, 2, 5, 5, 5000, 5000, "b"},
        {"priority 1 that waited 20 s: 5 x 0.5 = 2.5 beats 2", 1, 1, 2, 20, 5, 5000, 5000, "a"},
        {"priority 0 is 2", 1, 0, 2, 10, 10, 5000, 5000, "a"},
        {"e 2, equal: the first", 2, 2, 2, 10, 10, 5000, 5000, "a"},
        {"e 2: (200+100)/100/100 = 0.03 loses to (5+5)/5/5 = 0.4", 2, 2, 2, 200, 5, 100000, 5000,
         "b"},
        {"e 2: a waited 4000 s: 41/100 = 0.41 beats 0.4", 2, 2, 2, 4000, 5, 100000, 5000, "a"},
        {"e 2: a waited 3890 s: 39.9/100 = 0.399 loses to 0.4", 2, 2, 2, 3890, 5, 100000, 5000, "b"},
        {"e 2: (10+10)/10/10 = 0.2 x 2 (priority 3) beats (5+5)/5/5 x 1/2", 2, 3, 1, 10, 5,
         10000, 5000, "a"},
        {"e 2: same T, the longer wait", 2, 2, 2, 30, 20, 8000, 8000, "a"},
    };
    struct route_node nd = N(.id = "x", MODELS("m"));
    struct route_request a = {.model = "m", .id = 1}, b = {.model = "m", .id = 2};
    const struct route_request *held[2] = {&a, &b};
    struct route_assign out[2];
    struct route_settings s = S;
    static struct route_state st;
    size_t got;

    ok(S.order_exp == 2, "order_exp: 2 by default");
    for (size_t i = 0; i < ELEMS(rows); i++) {
        route_state_init(&st);
        s.order_exp = rows[i].e;
        a.priority = rows[i].pa, b.priority = rows[i].pb;
        a.arrived = NOW - rows[i].aa, b.arrived = NOW - rows[i].ab;
        a.service_ms = rows[i].sa, b.service_ms = rows[i].sb;
        got = route_dispatch(&nd, 1, held, 2, &s, &st, NOW, out, 2);
        is_int(got, 1, "order: %s: one slot, one assignment", rows[i].name);
        is_str(got ? (out[0].req == 0 ? "a" : "b") : NULL, rows[i].want, "order: %s", rows[i].name);
    }
    s.order_arrival = true; /* b's ratio is higher, but a came first */
    route_state_init(&st);
    a.priority = b.priority = 2;
    a.arrived = NOW - 10, b.arrived = NOW - 5;
    a.service_ms = 100000, b.service_ms = 5000;
    got = route_dispatch(&nd, 1, held, 2, &s, &st, NOW, out, 2);
    ok(got == 1 && out[0].req == 0, "order_arrival: the first to come");
}

static void test_binding(void)
{
    struct route_node nodes[] = {N(.id = "a", MODELS("m")), N(.id = "b")};
    struct route_request r1 = {.model = "m", .id = 1}, r2 = {.model = "m", .id = 2};
    const struct route_request *held[2] = {&r1, &r2};
    struct route_assign out[2];
    struct route_settings s = S;
    static struct route_state st;
    const struct route_node_state *ns;
    size_t got;

    ok(!route_binds_late(&(struct route_settings){.policy = ROUTE_POLICY_LEAST_CONN}) &&
           route_binds_late(&S),
       "auto: sticky late, the comparison policies early");
    s.policy = ROUTE_POLICY_LEAST_CONN;
    route_state_init(&st);
    nodes[0].inflight = nodes[1].inflight = 1;
    got = route_dispatch(nodes, 2, held, 2, &s, &st, NOW, out, 2);
    ok(got == 2, "early binding: both sent although every node is busy");
    s.binding = ROUTE_BIND_LATE;
    route_state_init(&st);
    is_int(route_dispatch(nodes, 2, held, 2, &s, &st, NOW, out, 2), 0,
           "late least-conn: every node busy, both held");
    nodes[1].inflight = 0;
    got = route_dispatch(nodes, 2, held, 2, &s, &st, NOW, out, 2);
    ok(got == 1 && out[0].req == 0 && out[0].node == 1, "late least-conn: the first to b");
    ns = route_state_find(&st, "b");
    ok(ns && ns->queued == 1 && ns->nflight == 1 && ns->flight[0].id == 1 &&
           ns->flight[0].expect_ms == out[0].expect_ms && out[0].expect_ms > 0,
       "recorded at once: queued, a flight with its expected run time");
    is_int(route_dispatch(nodes, 2, held + 1, 1, &s, &st, NOW, out, 2), 0,
           "the next pass sees it: b is busy now");
    s = S;
    s.binding = ROUTE_BIND_EARLY;
    route_state_init(&st);
    nodes[0].inflight = 1;
    got = route_dispatch(nodes, 2, held, 2, &s, &st, NOW, out, 2);
    ok(got == 2, "sticky bound early: route_pick's rule, both sent");
    is_int(route_dispatch(nodes, 2, held, 2, &S, &st, NOW, out, 0), 0, "maxout 0: nothing");
    is_int(route_dispatch(nodes, 2, held, 0, &S, &st, NOW, out, 2), 0, "nothing held: nothing");
    r1.model = "";
    nodes[0].inflight = nodes[1].inflight = 0;
    route_state_init(&st);
    got = route_dispatch(nodes, 2, held, 2, &S, &st, NOW, out, 2);
    ok(got == 1 && out[0].req == 1, "a bad model name is never assigned; the next one is");
}

/* One early-bound pass over requests for 12 models (more than a pass keeps the residency of)
 * decides each as route_pick does on the state as the pass has left it before that request,
 * for every policy. */
static void test_pass_as_pick(void)
{
    static const char *const models[] = {"m0", "m1", "m2",  "m3",  "m4",  "m5",
                                         "m6", "m7", "m8", "m9", "m10", "m11"};
    struct route_node nodes[] = {
        N(.id = "a", .capacity = 2, .ram_total_mb = 8000, MODELS("m1", "m2:latest")),
        N(.id = "b", .ram_total_mb = 4000, MODELS("M7", "m9")),
        N(.id = "c", .capacity = 3, .ram_total_mb = 16000, .inflight = 1, MODELS("m11")),
        N(.id = "d", .has_temp = true, .temp_c = 80, MODELS("m0")),
    };
    static struct route_state st, ref;
    struct route_request rq[24];
    const struct route_request *held[24];
    struct route_assign out[24];
    struct route_result r;
    struct route_settings s = S;
    size_t got;
    int bad;

    for (size_t i = 0; i < ELEMS(rq); i++) {
        rq[i] = (struct route_request){.model = models[(i * 5) % ELEMS(models)], .id = i + 1,
                                       .arrived = NOW - 10 + (double)i, .rnd = i * 7919};
        held[i] = &rq[i];
    }
    for (int p = ROUTE_POLICY_STICKY; p <= ROUTE_POLICY_RANDOM; p++) {
        s.policy = (enum route_policy)p;
        s.binding = ROUTE_BIND_EARLY;
        route_state_init(&st);
        route_state_update(&st, nodes, ELEMS(nodes), &s, NOW);
        ref = st;
        got = route_dispatch(nodes, ELEMS(nodes), held, ELEMS(rq), &s, &st, NOW, out, 24);
        bad = got != ELEMS(rq);
        for (size_t k = 0; k < got && !bad; k++) {
            const struct route_request *q = held[out[k].req];
            bad = out[k].req != k ||
                  route_pick(nodes, ELEMS(nodes), q, &s, &ref, NOW, &r) != out[k].node ||
                  r.kind != out[k].kind;
            route_note_dispatch(&ref, &nodes[out[k].node], q, q->id, out[k].expect_ms,
                                out[k].cached, q->keep_alive_s, &s, NOW);
        }
        ok(!bad, "%s bound early: 24 requests for 12 models, each where route_pick puts it",
           route_policy_name(s.policy));
    }
}

int main(void)
{
    route_settings_init(&S);
    ok(S.evict_reloads == 4, "evict_reloads: 4 by default");
    S.evict_reloads = 3; /* what the tables' eviction figures were worked out with */
    test_cases();
    test_order();
    test_binding();
    test_pass_as_pick();
    return done_testing();
}
