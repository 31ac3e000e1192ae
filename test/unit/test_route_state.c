/* SPDX-License-Identifier: MIT */
/*
 * route_state: the router's own records by tables: residency records and their expiry, the
 * state's node index with hundreds of nodes, forgetting nodes, learning from answers (run,
 * cold-load and prefill times, cache hits), the eviction cost and the learned model capacity.
 */
#include "orion/route.h"
#include "../t.h"

#include <errno.h>
#include <math.h>

#define NOW 1700000100.0
#define M(...) ((const char *const[]){__VA_ARGS__})
#define NM(...) sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define MODELS(...) .models = M(__VA_ARGS__), .nmodels = NM(__VA_ARGS__)
#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define N(...) {.last_seen = NOW, .available = ROUTE_AVAIL_YES, __VA_ARGS__}

static struct route_settings S;

static void test_records(void)
{
    struct route_node n = N(.id = "a");
    struct route_state st;
    struct route_node_state *ns;
    char key[16];

    route_state_init(&st);
    route_note_sent(&st, "a", "gemma3", 600, NOW);
    ok(route_resident(&n, "gemma3:latest", &st, NOW + 599.9), "record alive before keep_alive");
    ok(!route_resident(&n, "gemma3:latest", &st, NOW + 600), "record expired at keep_alive");
    ok(!route_resident(&n, "gemma3:latest", NULL, NOW), "no state: no record");
    route_note_sent(&st, "a", "gemma3:latest", 900, NOW);
    ns = route_state_find(&st, "a");
    is_int(ns->nsent, 1, "same model: one record");
    ok(ns->sent[0].expires == NOW + 900, "same model: expiry extended");
    route_note_sent(&st, "a", "Gemma3", 10, NOW);
    ok(ns->sent[0].expires == NOW + 900, "a shorter keep_alive does not shorten it");
    route_note_sent(&st, "a", "gemma3", 0, NOW + 1);
    ok(!route_resident(&n, "gemma3:latest", &st, NOW + 1), "keep_alive 0 (unload) ends the record");
    route_note_sent(&st, "a", "gemma3", 900, NOW);
    route_state_update(&st, &n, 1, &S, NOW + 900);
    is_int(ns->nsent, 0, "update drops expired records");
    route_note_sent(&st, "a", "forever", -1, NOW);
    ok(route_resident(&n, "forever:latest", &st, NOW + 1e9), "keep_alive < 0: no expiry");
    for (int i = 0; i < ORION_ROUTE_MAX_SENT; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        route_note_sent(&st, "a", key, 100 + i, NOW);
    }
    is_int(ns->nsent, ORION_ROUTE_MAX_SENT, "records capped");
    ok(route_resident(&n, "forever:latest", &st, NOW), "full: the longest record stays");
    ok(!route_resident(&n, "m0:latest", &st, NOW), "full: the first to expire was replaced");
    ok(route_resident(&n, "m3:latest", &st, NOW), "full: the newest is there");
    errno = 0;
    ok(route_note_sent(&st, "a", "", 1, NOW) == -1 && errno == EINVAL, "note_sent: bad name");
    ok(route_note_sent(&st, NULL, "x", 1, NOW) == -1, "note_sent: no node id");

    /* a record stands in for a load the health cannot show yet, not for an evicted model */
    route_state_init(&st);
    n.models = NULL, n.nmodels = 0;
    route_note_sent(&st, "a", "gemma3", 600, NOW);
    route_state_update(&st, &n, 1, &S, NOW + 1);
    ok(route_resident(&n, "gemma3:latest", &st, NOW + 1), "not loaded yet: the record stays");
    n.models = M("gemma3:latest"), n.nmodels = 1;
    route_state_update(&st, &n, 1, &S, NOW + 2);
    n.models = M("phi3"), n.nmodels = 1;
    ok(route_resident(&n, "gemma3:latest", &st, NOW + 2),
       "loaded, then gone: resident until the next update");
    route_state_update(&st, &n, 1, &S, NOW + 3);
    ok(!route_resident(&n, "gemma3:latest", &st, NOW + 3), "loaded, then gone: record dropped");
    is_int(route_state_find(&st, "a")->nsent, 0, "loaded, then gone: no record left");
    route_note_sent(&st, "a", "gemma3", 600, NOW + 4);
    route_state_update(&st, &n, 1, &S, NOW + 5);
    ok(route_resident(&n, "gemma3:latest", &st, NOW + 5), "sent again: a new record");
}

static void test_state_update(void)
{
    struct route_node nodes[ORION_ROUTE_MAX_NODES + 1];
    struct route_state st;
    char ids[ORION_ROUTE_MAX_NODES + 1][8];

    route_state_init(&st);
    for (size_t i = 0; i < ELEMS(nodes); i++) {
        snprintf(ids[i], sizeof(ids[i]), "n%02zu", i);
        nodes[i] = (struct route_node){.id = ids[i], .last_seen = NOW};
    }
    errno = 0;
    ok(route_state_update(&st, nodes, ELEMS(nodes), &S, NOW) == -1 && errno == ENOBUFS,
       "update: more nodes than the state holds");
    is_int(st.n, ORION_ROUTE_MAX_NODES, "update: state full");
    ok(route_state_update(&st, nodes + 60, 3, &S, NOW) == 0, "update: 3 nodes");
    is_int(st.n, 3, "update: unlisted nodes forgotten");
    ok(route_state_find(&st, "n61") && !route_state_find(&st, "n00"), "update: the right ones");
}

/* 200 nodes, one free slot each, requests for one model: every node is used exactly once,
 * through the state (queued counts) and its id index, also after nodes leave and return. */
static void test_many_nodes(void)
{
    enum { N = 200 };
    static struct route_node nodes[N];
    static struct route_state st;
    static char ids[N][12];
    static int hits[N];
    static const char *const loaded[] = {"gemma3"};
    struct route_request req = {.model = "gemma3", .priority = 2, .arrived = NOW};
    struct route_result r;
    int used = 0, twice = 0, misses = 0;

    ok(N <= ORION_ROUTE_MAX_NODES, "ORION_ROUTE_MAX_NODES (%d) covers %d nodes",
       ORION_ROUTE_MAX_NODES, N);
    route_state_init(&st);
    for (size_t i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "rb%03zu", i);
        nodes[i] = (struct route_node){.id = ids[i], .last_seen = NOW, .ram_percent = 30,
                                       .capacity = 1, .models = loaded, .nmodels = 1};
    }
    ok(route_state_update(&st, nodes, N, &S, NOW) == 0 && st.n == N, "update: %d nodes kept", N);
    for (size_t i = 0; i < N; i++)
        misses += route_state_find(&st, ids[i]) != &st.node[i];
    is_int(misses, 0, "find: every node's own state");
    ok(!route_state_find(&st, "rb200") && !route_state_find(&st, ""), "find: unknown ids");
    for (int k = 0; k < N; k++) {
        if (route_pick(nodes, N, &req, &S, &st, NOW, &r) < 0 || r.kind != ROUTE_STICKY)
            break;
        route_note_sent(&st, nodes[r.node].id, req.model, 300, NOW);
        if (hits[r.node]++)
            twice++;
    }
    for (int i = 0; i < N; i++)
        used += hits[i] > 0;
    is_int(used, N, "%d sticky requests went to %d different nodes", N, used);
    is_int(twice, 0, "no node got two while another was free");
    ok(route_pick(nodes, N, &req, &S, &st, NOW, &r) >= 0 && r.kind == ROUTE_QUEUED_RESIDENT,
       "request %d queues: every node is full", N + 1);
    /* the first 50 leave: positions move; the index follows */
    ok(route_state_update(&st, nodes + 50, N - 50, &S, NOW) == 0 && st.n == N - 50,
       "update: 50 nodes left");
    misses = 0;
    for (size_t i = 50; i < N; i++) {
        const struct route_node_state *ns = route_state_find(&st, ids[i]);
        misses += !ns || strcmp(ns->id, ids[i]) || ns->queued != 1;
    }
    is_int(misses, 0, "find after removal: the right state, queued count kept");
    ok(!route_state_find(&st, ids[0]) && !route_state_find(&st, ids[49]), "find: gone ones");
    ok(route_state_update(&st, nodes, N, &S, NOW) == 0 && st.n == N, "update: they are back");
    ok(route_state_find(&st, ids[7]) && route_state_find(&st, ids[7])->queued == 0,
       "find: a returning node starts afresh");
}

/* route_note_answer: what is learned from answers, and that route_pick uses it. */
static void test_learning(void)
{
    struct route_node nodes[] = {
        N(.id = "a", .inflight = 1, MODELS("gemma3")),
        N(.id = "b"),
    };
    struct route_request req = {.model = "gemma3"};
    const struct route_learned *l;
    struct route_state st;
    struct route_result r;
    char key[16];

    route_state_init(&st);
    errno = 0;
    ok(route_note_answer(&st, "", 100, 0, &S, NOW) == -1 && errno == EINVAL, "answer: bad name");
    ok(route_note_answer(&st, "m", -1, 0, &S, NOW) == -1, "answer: negative total");
    ok(route_note_answer(&st, "m", 100, -1, &S, NOW) == -1, "answer: negative load");
    ok(route_note_answer(&st, "m", NAN, 0, &S, NOW) == -1, "answer: NaN total");
    ok(route_note_answer(&st, "m", 100, INFINITY, &S, NOW) == -1, "answer: infinite load");
    ok(route_note_answer(&st, "m", 100, 101, &S, NOW) == -1, "answer: load above total");
    ok(route_note_answer(&st, "m", 86400e3 + 1, 0, &S, NOW) == -1, "answer: above 24 h");
    is_int(st.nlearned, 0, "answer: nothing learned from bad ones");
    ok(st.service_ms == 0, "answer: no run time yet");

    is_int(route_pick(nodes, 2, &req, &S, &st, NOW, &r), 1, "defaults: 15000 / 2 > 5000, spill");
    ok(route_note_answer(&st, "Gemma3:latest", 8030, 30, &S, NOW) == 0, "answer: warm");
    l = route_learned_find(&st, "gemma3:latest");
    ok(l && l->service_ms == 8000 && l->cold_ms == 0, "first answer sets the run time (8000)");
    ok(st.service_ms == 8000, "and the run time over all models");
    is_int(route_pick(nodes, 2, &req, &S, &st, NOW, &r), 0, "learned: 8000 / 2 <= 5000, queue");
    is_int(r.kind, ROUTE_QUEUED_RESIDENT, "learned: kind (%s)", r.why);
    ok(route_note_answer(&st, "gemma3", 10050, 2050, &S, NOW + 1) == 0, "answer: cold");
    ok(l->service_ms == 8000 && l->cold_ms == 2050, "cold: load_duration 2050 learned");
    is_int(route_pick(nodes, 2, &req, &S, &st, NOW, &r), 1, "learned: 4000 > cold 2050, spill");
    ok(route_note_answer(&st, "gemma3", 12000 + 4050, 4050, &S, NOW + 2) == 0, "answer: cold");
    ok(l->service_ms == 9000 && l->cold_ms == 2550, "weighted mean: 1/4 of the newest");
    ok(route_note_answer(&st, "gemma3", 9049, 49, &S, NOW + 3) == 0 && l->cold_ms == 2550,
       "load 49 ms < cold_min_ms: not a cold load");
    ok(route_note_answer(&st, "gemma3", 9050, 50, &S, NOW + 3) == 0 && l->cold_ms != 2550,
       "load 50 ms = cold_min_ms: a cold load");
    ok(route_note_answer(&st, "gemma3", 0, 0, &S, NOW + 4) == 0 && l->service_ms == 9000 &&
           st.service_ms == 9000,
       "total_duration 0: no run time to learn");
    nodes[1].cold_load_ms = 20000;
    is_int(route_pick(nodes, 2, &req, &S, &st, NOW, &r), 0, "the node's own cold_load_ms first");
    nodes[1].cold_load_ms = 0;
    req.service_ms = 1000;
    ok(route_pick(nodes, 2, &req, &S, &st, NOW, &r) == 0 && r.kind == ROUTE_QUEUED_RESIDENT,
       "the request's service_ms before the learned one");
    req.service_ms = 0;

    /* a model without answers: the run time over all models, the default cold load */
    route_state_init(&st);
    route_note_answer(&st, "phi3", 9000, 0, &S, NOW);
    ok(route_pick(nodes, 2, &req, &S, &st, NOW, &r) == 0 && r.kind == ROUTE_QUEUED_RESIDENT,
       "unknown model: 9000 over all models / 2 <= 5000, queue");
    route_note_answer(&st, "phi3", 9000, 1000, &S, NOW); /* phi3 loads in 1000 ms */
    ok(route_pick(nodes, 2, &req, &S, &st, NOW, &r) == 0,
       "another model's cold load is not this one's");

    route_state_init(&st);
    for (int i = 0; i < ROUTE_MAX_LEARNED; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        route_note_answer(&st, key, 1000 + i, 0, &S, NOW + i);
    }
    route_note_answer(&st, "m0", 1000, 0, &S, NOW + 100); /* m1 is now the oldest */
    route_note_answer(&st, "newer", 500, 0, &S, NOW + 101);
    is_int(st.nlearned, ROUTE_MAX_LEARNED, "learned: capped");
    ok(route_learned_find(&st, "newer:latest") && route_learned_find(&st, "m0:latest") &&
           !route_learned_find(&st, "m1:latest"),
       "learned: full, the one updated longest ago is replaced");
    ok(!route_learned_find(NULL, "m0:latest") && !route_learned_find(&st, NULL),
       "learned_find: NULL");
}

/* The eviction cost uses each displaced model's own cold load; a cold request goes where it
 * displaces the cheapest. */
static void test_eviction(void)
{
    struct route_node nodes[] = {
        N(.id = "a", .inflight = 1, MODELS("gemma3")),
        N(.id = "b", MODELS("phi3", "qwen3")),
        N(.id = "c", MODELS("big", "qwen3")),
    };
    struct route_request req = {.model = "gemma3", .service_ms = 6000};
    struct route_state st;
    struct route_result r;

    route_state_init(&st);
    route_state_update(&st, nodes, 2, &S, NOW);
    route_state_find(&st, "b")->model_cap = 2;
    route_note_answer(&st, "phi3", 1000, 1000, &S, NOW);
    route_note_answer(&st, "qwen3", 3000, 3000, &S, NOW);
    route_note_answer(&st, "gemma3", 7000, 1000, &S, NOW); /* cold 1000 */
    /* wait 3000; cost 1000 + mean(1000, 3000) = 3000: queue */
    ok(route_pick(nodes, 2, &req, &S, &st, NOW, &r) == 0 && r.kind == ROUTE_QUEUED_RESIDENT,
       "eviction: the mean of the displaced models' own cold loads, 3000 = 3000: queue (%s)",
       r.why);
    req.service_ms = 6002;
    ok(route_pick(nodes, 2, &req, &S, &st, NOW, &r) == 1 && r.kind == ROUTE_SPILL,
       "eviction: 3001 > 3000: spill (%s)", r.why);
    route_state_update(&st, nodes, 3, &S, NOW);
    route_state_find(&st, "b")->model_cap = 2;
    route_state_find(&st, "c")->model_cap = 2;
    route_note_answer(&st, "big", 9000, 9000, &S, NOW);
    req.model = "llama";
    ok(route_pick(nodes, 3, &req, &S, &st, NOW, &r) == 1 && r.kind == ROUTE_COLD,
       "cold, every node full of models: where the displaced reload costs least (%s)", r.why);
}

/* model_cap from successive health updates. */
static void test_model_cap(void)
{
    struct route_node n = N(.id = "a", MODELS("x"));
    struct route_state st;
    struct route_node_state *ns;

    route_state_init(&st);
    route_state_update(&st, &n, 1, &S, NOW);
    ns = route_state_find(&st, "a");
    n.models = M("x", "y"), n.nmodels = 2;
    route_state_update(&st, &n, 1, &S, NOW + 1);
    is_int(ns->model_cap, 0, "a load without a loss: capacity unknown");
    n.models = M("y:latest", "z"), n.nmodels = 2;
    route_state_update(&st, &n, 1, &S, NOW + 2);
    is_int(ns->model_cap, 2, "x gone while z came: it held 2");
    n.models = M("y"), n.nmodels = 1;
    route_state_update(&st, &n, 1, &S, NOW + 3);
    is_int(ns->model_cap, 2, "z gone while idle (keep_alive ran out): still 2");
    n.models = M("y", "p", "q"), n.nmodels = 3;
    route_state_update(&st, &n, 1, &S, NOW + 4);
    is_int(ns->model_cap, 3, "3 loaded: at least 3");
    n.models = M("y", "p"), n.nmodels = 2;
    n.inflight = 1;
    route_state_update(&st, &n, 1, &S, NOW + 5);
    is_int(ns->model_cap, 3, "q gone while busy: it held 3");
    n.models = M("Y", "P"); /* same models, other spelling: nothing gone */
    route_state_update(&st, &n, 1, &S, NOW + 6);
    n.models = M("y"), n.nmodels = 1;
    route_state_update(&st, &n, 1, &S, NOW + 7);
    is_int(ns->model_cap, 2, "p gone while busy: it held 2");
    n.nmodels = 0;
    route_state_update(&st, &n, 1, &S, NOW + 8);
    is_int(ns->model_cap, 2, "nothing loaded (Ollama down?): not an eviction");
    n.models = M("k"), n.nmodels = 1;
    route_state_update(&st, &n, 1, &S, NOW + 9);
    is_int(ns->model_cap, 2, "after an empty list nothing was lost");

    route_state_init(&st);
    n.models = M("a", "b"), n.nmodels = 2;
    n.inflight = 1;
    route_state_update(&st, &n, 1, &S, NOW);
    n.models = M("c"), n.nmodels = 1;
    route_state_update(&st, &n, 1, &S, NOW + 1);
    is_int(route_state_find(&st, "a")->model_cap, 2, "two gone, one came: it held 2");
    route_state_init(&st);
    route_state_update(&st, &n, 1, &S, NOW);
    is_int(route_state_find(&st, "a")->model_cap, 0, "first sight: nothing to compare");
}

/* A node with more models than one update keeps the keys of (20 > 16): the records of the
 * later ones are read as those of the first. */
static void test_many_models(void)
{
    static char names[21][8];
    static const char *list[21];
    struct route_node n = N(.id = "a");
    struct route_state st;
    struct route_node_state *ns;

    for (size_t i = 0; i < ELEMS(names); i++) {
        snprintf(names[i], sizeof(names[i]), "m%zu", i);
        list[i] = names[i];
    }
    route_state_init(&st);
    route_note_sent(&st, "a", "m18", 600, NOW);
    route_note_sent(&st, "a", "m3", 600, NOW);
    n.models = list;
    n.nmodels = 20;
    route_state_update(&st, &n, 1, &S, NOW + 1);
    ns = route_state_find(&st, "a");
    is_int(ns->nseen, 20, "20 models: every one counted");
    ok(ns->nsent == 2 && ns->sent[0].seen && ns->sent[1].seen, "20 models: both records seen");
    list[18] = names[20];
    route_state_update(&st, &n, 1, &S, NOW + 2);
    ok(!route_resident(&n, "m18:latest", &st, NOW + 2), "the 19th model gone: its record too");
    ok(route_resident(&n, "m3:latest", &st, NOW + 2), "the 4th still there: its record stays");
    list[18] = names[18];
}

/* An unload this router sent (keep_alive 0): the model is not resident there, although the
 * node's list, written before it went, still shows it; until a list without it, a new send,
 * or ROUTE_UNLOAD_HOLD_S. route_pick then prefers the node that keeps it, in either order. */
static void test_unload_mark(void)
{
    struct route_node two[2] = {N(.id = "a", MODELS("gemma3")), N(.id = "b", MODELS("gemma3"))};
    struct route_node *n = &two[0];
    struct route_request req = {.model = "gemma3"};
    struct route_result res;
    struct route_state st;
    struct route_node_state *ns;

    route_state_init(&st);
    route_state_update(&st, two, 2, &S, NOW);
    ok(route_resident(n, "gemma3:latest", &st, NOW), "listed: resident");
    route_note_sent(&st, "a", "gemma3", 0, NOW);
    ns = route_state_find(&st, "a");
    ok(!route_resident(n, "gemma3:latest", &st, NOW), "unloaded by the router: not resident, "
                                                       "though the list still shows it");
    ok(route_unloaded(ns, "gemma3:latest", NOW + ROUTE_UNLOAD_HOLD_S - 0.001),
       "the mark holds until just before ROUTE_UNLOAD_HOLD_S");
    ok(route_resident(n, "gemma3:latest", &st, NOW + ROUTE_UNLOAD_HOLD_S),
       "... and at it the list is believed again (loaded since)");
    ok(route_resident(&two[1], "gemma3:latest", &st, NOW), "the mark is that node's only");
    route_note_done(&st, "a");
    is_int(route_pick(two, 2, &req, &S, &st, NOW + 1, &res), 1, "sticky: the node that keeps it");
    is_int(res.kind, ROUTE_STICKY, "... as a sticky choice");
    {
        struct route_node rev[2] = {two[1], two[0]};
        is_int(route_pick(rev, 2, &req, &S, &st, NOW + 1, &res), 0, "... nodes reversed: the same");
    }
    route_state_update(&st, two, 2, &S, NOW + 2);
    ok(!route_resident(n, "gemma3:latest", &st, NOW + 2),
       "a list that still shows it: the mark stays");
    n->models = M("phi3"), n->nmodels = 1;
    route_state_update(&st, two, 2, &S, NOW + 3);
    is_int(ns->nsent, 0, "a list without it: the mark is dropped");
    n->models = M("gemma3"), n->nmodels = 1;
    ok(route_resident(n, "gemma3:latest", &st, NOW + 3),
       "... and a later list that shows it counts");
    route_note_sent(&st, "a", "gemma3", 0, NOW + 4);
    route_note_sent(&st, "a", "gemma3", 600, NOW + 5);
    ok(route_resident(n, "gemma3:latest", &st, NOW + 5) &&
           !route_unloaded(ns, "gemma3:latest", NOW + 5),
       "sent again with keep_alive 600: resident by its record");
    ok(ns->sent[0].expires == NOW + 605, "... until that keep_alive ends");
}

int main(void)
{
    route_settings_init(&S);
    test_records();
    test_unload_mark();
    test_state_update();
    test_many_nodes();
    test_learning();
    test_eviction();
    test_model_cap();
    test_many_models();
    return done_testing();
}
