/* SPDX-License-Identifier: MIT */
/*
 * roles: the default table by family, the seed's names matched to Ollama's, the request's
 * model field, the task and role chains, and the pick by table (each pick again with the
 * candidates reversed: the answer must not depend on their order).
 */
#include "orion/roles.h"
#include "../t.h"

#include <string.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define P ROLE_PRIMARY
#define F ROLE_FAST
#define C ROLE_CODER
#define T ROLE_THINKER
#define L ROLE_LONGCTX

static void test_names(void)
{
    is_str(role_name(ROLE_CODER), "coder", "coder's name");
    ok(role_name(ROLE_CODER | ROLE_FAST) == NULL, "two bits have no name");
    is_int(role_parse("longctx", 7), ROLE_LONGCTX, "longctx parses");
    is_int(role_parse("Coder", 5), 0, "names are lower case");
    is_int(role_parse("code", 4), 0, "a prefix is not a role");
}

static void test_defaults(void)
{
    static const struct {
        const char *model;
        unsigned want;
    } rows[] = {
        {"llama3.2:3b", F | P},          {"llama3.2", F | P},
        {"qwen2.5:7b", C | P},           {"qwen2.5:0.5b", C | P | F},
        {"qwen2.5-coder:1.5b", C | P | F}, {"qwen3-coder:30b", C | P | T},
        {"deepseek-r1:7b", T | P},       {"deepseek-r1:1.5b", T | P | F},
        {"granite-code:8b-instruct-128k-q4_K_M", C | L},
        {"granite-code:20b", C | T},     {"granite-code:8b", C},
        {"phi4:14b", P | T | C},         {"phi4-mini:3.8b", F | P},
        {"phi3:medium-128k", L | T},     {"phi3:mini", F | P},
        {"gpt-oss:20b", P | T},          {"registry.ollama.ai/library/phi4", P | T | C},
        {"nomic-embed-text", 0},         {"all-minilm:33m", 0},
        {"gemma3:1b", P | F},            {"gemma3:4b", P},
        {"mistral:7b", P},               {"hf.co/someone/thing:Q4_K_M", P},
        {"smollm2:135m", F},             {"Qwen2.5:7B", C | P},
    };

    for (size_t i = 0; i < ELEMS(rows); i++)
        is_int(role_defaults(rows[i].model), rows[i].want, "defaults of %s", rows[i].model);
}

static void test_match(void)
{
    static const struct {
        const char *key, *model;
        int want;
    } rows[] = {
        {"gemma3:1b", "gemma3:1b", 3},          {"gemma3", "gemma3:latest", 3},
        {"Gemma3:1B", "gemma3:1b", 3},          {"llama-3.2-3b", "llama3.2:3b", 2},
        {"qwen2.5-7b", "qwen2.5:7b", 2},        {"deepseek-r1-7b", "deepseek-r1:7b", 2},
        {"phi-3-medium-128k", "phi3:medium-128k", 2}, {"gpt-oss-20b", "gpt-oss:20b", 2},
        {"phi-4", "phi4:latest", 2},            {"phi-4", "phi4:14b", 1},
        {"gemma3", "gemma3:1b", 1},             {"llama3", "llama3.2:3b", 0},
        {"qwen2.5-7b", "qwen2.5:14b", 0},       {"", "gemma3:1b", 0},
        {"granite-8b-code-128k", "granite-code:8b", 0},
    };

    for (size_t i = 0; i < ELEMS(rows); i++)
        is_int(role_key_match(rows[i].key, rows[i].model), rows[i].want, "'%s' names '%s': %d",
               rows[i].key, rows[i].model, rows[i].want);
}

static void test_maps(void)
{
    struct role_map seed, preset;
    const struct role_map *both[] = {&seed, NULL, &preset};
    unsigned r = 0;

    role_map_init(&seed);
    role_map_init(&preset);
    ok(role_map_set(&seed, "phi-4", P | T | C) == 0 && role_map_set(&seed, "phi4:14b", F) == 0,
       "entries set");
    ok(role_map_set(&seed, "", P) < 0, "an empty key is refused");
    ok(role_map_lookup(&seed, "phi4:14b", &r) && r == F, "the exact entry beats the family one");
    ok(role_map_lookup(&seed, "phi4:latest", &r) && r == (P | T | C),
       "phi-4 names phi4:latest");
    ok(!role_map_lookup(&seed, "gemma3:1b", &r), "no entry for gemma3");
    ok(role_map_set(&seed, "phi-4", T) == 0 && seed.n == 2, "setting again replaces");
    ok(role_map_set(&preset, "gemma3", C) == 0, "preset entry");
    is_int(role_resolve(both, 3, "gemma3:1b"), C, "the second table has gemma3");
    is_int(role_resolve(both, 3, "phi4:mini"), T, "the first table wins (family phi-4)");
    is_int(role_resolve(both, 3, "llama3.2:1b"), F | P, "neither: the defaults");
    ok(!role_map_lookup(NULL, "x", &r), "no table");
    role_map_release(&seed);
    role_map_release(&preset);
}

static void test_spec(void)
{
    static const struct {
        const char *in, *model;
        enum role_spec_kind kind;
        unsigned role;
    } rows[] = {
        {NULL, "", ROLE_SPEC_AUTO, 0},          {"", "", ROLE_SPEC_AUTO, 0},
        {"auto", "auto", ROLE_SPEC_AUTO, 0},    {"AUTO", "AUTO", ROLE_SPEC_AUTO, 0},
        {"autox", "autox", ROLE_SPEC_MODEL, 0}, {"coder", "coder", ROLE_SPEC_ROLE, C},
        {"inference:coder", "coder", ROLE_SPEC_ROLE, C},
        {"local:gemma3:1b", "gemma3:1b", ROLE_SPEC_MODEL, 0},
        {"Inference:auto", "auto", ROLE_SPEC_AUTO, 0}, {"inference:", "", ROLE_SPEC_AUTO, 0},
        {"coder:latest", "coder:latest", ROLE_SPEC_MODEL, 0},
        {"local:inference:x", "inference:x", ROLE_SPEC_MODEL, 0},
    };

    for (size_t i = 0; i < ELEMS(rows); i++) {
        struct role_spec s;
        role_spec_parse(rows[i].in, &s);
        ok(s.kind == rows[i].kind && !strcmp(s.model, rows[i].model) && s.role == rows[i].role,
           "model field '%s'", rows[i].in ? rows[i].in : "(none)");
    }
}

static void test_chains(void)
{
    static const struct {
        const char *task;
        unsigned want[ROLE_CHAIN_MAX];
        size_t n;
        bool known;
    } rows[] = {
        {"code", {C, P, ROLE_ANY}, 3, true},     {"refactor", {C, P, ROLE_ANY}, 3, true},
        {"plan", {T, P, ROLE_ANY}, 3, true},     {"classify", {F, P, ROLE_ANY}, 3, true},
        {"document", {L, T, P, ROLE_ANY}, 4, true},
        {"summarize_long", {L, T, P, ROLE_ANY}, 4, true},
        {"chat", {P, ROLE_ANY}, 2, true},        {NULL, {P, ROLE_ANY}, 2, false},
        {"gardening", {P, ROLE_ANY}, 2, false},  {"Code", {P, ROLE_ANY}, 2, false},
    };
    unsigned ch[ROLE_CHAIN_MAX];

    for (size_t i = 0; i < ELEMS(rows); i++) {
        size_t n = role_chain_task(rows[i].task, ch);
        ok(n == rows[i].n && !memcmp(ch, rows[i].want, n * sizeof(*ch)) &&
               role_task_known(rows[i].task) == rows[i].known,
           "chain of task %s", rows[i].task ? rows[i].task : "(none)");
    }
    ok(role_chain_role(T, ch) == 3 && ch[0] == T && ch[1] == P && ch[2] == ROLE_ANY,
       "role thinker: thinker, primary, any");
    ok(role_chain_role(P, ch) == 2 && ch[0] == P && ch[1] == ROLE_ANY, "role primary");
    ok(role_chain_role(L, ch) == 4 && ch[1] == T, "role longctx falls back to thinker");
}

/* A pick case: candidates, a chain, the model wanted ("" none) and too_big. */
struct pick_case {
    const char *name;
    struct role_cand c[6];
    size_t n;
    unsigned chain[ROLE_CHAIN_MAX];
    size_t nchain;
    const char *want;
    bool too_big;
    long budget;
};

#define CAND(m, roles, res, free, used, cap) {m, roles, true, res, free, used, cap, false, true, 0}

static void run_pick(const struct pick_case *k, bool reversed)
{
    struct role_cand c[6];
    struct role_choice ch;
    int got;

    for (size_t i = 0; i < k->n; i++)
        c[i] = k->c[reversed ? k->n - 1 - i : i];
    got = role_pick(c, k->n, k->chain, k->nchain, &ch);
    ok((*k->want ? got >= 0 && !strcmp(c[got].model, k->want) : got < 0) &&
           ch.too_big == k->too_big && (!k->too_big || ch.budget == k->budget),
       "%s%s: %s", k->name, reversed ? " (reversed)" : "", *k->want ? k->want : "none");
}

static void test_pick(void)
{
    static const struct pick_case cases[] = {
        {"a resident coder with a free slot beats a cold one",
         {CAND("cold-coder", C, false, false, 0, 1), CAND("warm-coder", C, true, true, 0, 1),
          CAND("prim", P, true, true, 0, 1)}, 3, {C, P, ROLE_ANY}, 3, "warm-coder", false, 0},
        {"a busy resident coder beats a cold one",
         {CAND("cold-coder", C, false, false, 0, 1), CAND("busy-coder", C, true, false, 2, 1)},
         2, {C, P, ROLE_ANY}, 3, "busy-coder", false, 0},
        {"of two busy resident, the lower load",
         {CAND("b", C, true, false, 3, 2), CAND("a", C, true, false, 2, 1)}, 2,
         {C, P, ROLE_ANY}, 3, "b", false, 0},
        {"equal load: by name",
         {CAND("b", C, true, false, 2, 2), CAND("a", C, true, false, 1, 1)}, 2,
         {C, P, ROLE_ANY}, 3, "a", false, 0},
        {"no coder: primary",
         {CAND("f", F, true, true, 0, 1), CAND("p", P, false, false, 0, 1)}, 2,
         {C, P, ROLE_ANY}, 3, "p", false, 0},
        {"no coder, no primary: any", {CAND("f", F, false, false, 0, 1)}, 1, {C, P, ROLE_ANY},
         3, "f", false, 0},
        {"a chain without any stops", {CAND("f", F, false, false, 0, 1)}, 1, {C, P}, 2, "",
         false, 0},
        {"embedding models are never picked",
         {{"embed", P, false, true, true, 0, 1, false, true, 0}}, 1, {P, ROLE_ANY}, 2, "",
         false, 0},
        {"a preset member beats another cold one",
         {CAND("a", P, false, false, 0, 1), {"z", P, true, false, false, 0, 1, true, true, 0}},
         2, {P, ROLE_ANY}, 2, "z", false, 0},
        {"longctx first for documents",
         {CAND("long", L, false, false, 0, 1), CAND("think", T, true, true, 0, 1)}, 2,
         {L, T, P, ROLE_ANY}, 4, "long", false, 0},
        {"a longctx model too small: the next step",
         {{"long", L, true, false, false, 0, 1, false, false, 8192},
          CAND("think", T, false, false, 0, 1)}, 2, {L, T, P, ROLE_ANY}, 4, "think", false, 0},
        {"nothing fits: too big, the largest budget",
         {{"long", L, true, true, true, 0, 1, false, false, 8192},
          {"small", P, true, true, true, 0, 1, false, false, 2048}}, 2, {L, T, P, ROLE_ANY}, 4,
         "", true, 8192},
        {"no candidates", {CAND("x", 0, false, false, 0, 1)}, 0, {P, ROLE_ANY}, 2, "", false, 0},
    };

    for (size_t i = 0; i < ELEMS(cases); i++) {
        run_pick(&cases[i], false);
        run_pick(&cases[i], true);
    }
}

int main(void)
{
    test_names();
    test_defaults();
    test_match();
    test_maps();
    test_spec();
    test_chains();
    test_pick();
    return done_testing();
}
