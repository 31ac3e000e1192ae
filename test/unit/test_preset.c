/* SPDX-License-Identifier: MIT */
/*
 * preset: the set (names any case, replacing, bad names, too many models) and placement by
 * tables: a Dual preset across a 16 GB and an 8 GB Pi, two equal models across two equal Pis,
 * a loaded model kept where it is, installed lists, ineligible nodes, models that fit nowhere.
 * Each placement again with the nodes reversed.
 */
#include "orion/preset.h"
#include "../t.h"

#include <errno.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define L(...) ((const char *const[]){__VA_ARGS__}), (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
#define NONE NULL, 0

static void test_set(void)
{
    struct preset_set s;
    struct preset *p;

    preset_set_init(&s);
    ok(preset_mode_ok("debate") && !preset_mode_ok("Debate") && !preset_mode_ok(NULL), "modes");
    p = preset_set_add(&s, "D4");
    ok(p && preset_add_model(p, "deepseek-r1:7b", 4700) == 0 &&
           preset_add_model(p, "qwen2.5:7b", 0) == 0, "D4 with two models");
    ok(preset_find(&s, "d4") == p && !preset_find(&s, "D5"), "found by name, any case");
    is_str(p->mode, "single", "mode defaults to single");
    p = preset_set_add(&s, "d4");
    ok(p && s.n == 1 && p->n == 0, "the same name again replaces it");
    ok(!preset_set_add(&s, "bad name") && errno == EINVAL, "a name with a space is refused");
    ok(!preset_set_add(&s, "") && !preset_set_add(&s, "a123456789012345678901234567890123"),
       "empty and 33-byte names are refused");
    for (int i = 0; i < PRESET_MAX_MODELS; i++)
        preset_add_model(p, "m", 1);
    ok(preset_add_model(p, "m", 1) < 0 && errno == EINVAL, "at most 8 models");
    preset_set_release(&s);
    ok(s.n == 0, "released");
}

struct place_case {
    const char *name;
    struct place_model m[4];
    size_t nm;
    struct place_node n[3];
    size_t nn;
    const char *want[4]; /* node id per model, NULL unplaced */
    bool loaded[4];
};

static void run(const struct place_case *k, bool reversed)
{
    struct place_node n[3];
    struct place_result r;
    bool good = true;
    size_t placed, want = 0;

    for (size_t i = 0; i < k->nn; i++)
        n[i] = k->n[reversed ? k->nn - 1 - i : i];
    placed = preset_place(k->m, k->nm, n, k->nn, &r);
    for (size_t i = 0; i < k->nm; i++) {
        want += k->want[i] != NULL;
        if (k->want[i] ? r.node[i] < 0 || strcmp(n[r.node[i]].id, k->want[i]) : r.node[i] >= 0)
            good = false;
        if (r.node[i] >= 0 && r.loaded[i] != k->loaded[i])
            good = false;
        if (!k->want[i] && !*r.why[i])
            good = false;
    }
    ok(good && placed == want, "%s%s", k->name, reversed ? " (nodes reversed)" : "");
}

static void test_place(void)
{
    const struct place_case cases[] = {
        {"a Dual preset of 9 + 5 GB: 16 GB Pi and 8 GB Pi",
         {{"phi4:14b", 9100}, {"qwen2.5:7b", 4700}}, 2,
         {{"pi16", true, 13000, NONE, NONE}, {"pi8", true, 6000, NONE, NONE}}, 2,
         {"pi16", "pi8"}, {false, false}},
        {"two 4.7 GB models on two 8 GB Pis: one each",
         {{"deepseek-r1:7b", 4700}, {"qwen2.5:7b", 4700}}, 2,
         {{"a", true, 6500, NONE, NONE}, {"b", true, 6500, NONE, NONE}}, 2, {"a", "b"},
         {false, false}},
        {"small models share the roomiest node",
         {{"gemma3:1b", 900}, {"qwen2.5:0.5b", 450}}, 2,
         {{"a", true, 6500, NONE, NONE}, {"b", true, 3000, NONE, NONE}}, 2, {"a", "a"},
         {false, false}},
        {"a loaded model stays where it is",
         {{"gemma3:1b", 900}, {"llama3.2:3b", 2300}}, 2,
         {{"a", true, 6500, NONE, NONE}, {"b", true, 100, NONE, L("gemma3:1b")}}, 2,
         {"b", "a"}, {true, false}},
        {"loaded on an ineligible node only: placed anew",
         {{"gemma3:1b", 900}}, 1,
         {{"a", true, 6500, NONE, NONE}, {"hot", false, 6500, NONE, L("gemma3:1b")}}, 2,
         {"a"}, {false}},
        {"only where it is installed",
         {{"gemma3:1b", 900}}, 1,
         {{"a", true, 6500, L("llama3.2:3b"), NONE}, {"b", true, 1000, L("gemma3:1b"), NONE}},
         2, {"b"}, {false}},
        {"too big for every node that has it",
         {{"phi4:14b", 9100}, {"gemma3:1b", 900}}, 2,
         {{"a", true, 6500, NONE, NONE}, {"b", true, 6500, NONE, NONE}}, 2, {NULL, "a"},
         {false, false}},
        {"installed nowhere",
         {{"phi4:14b", 9100}}, 1, {{"a", true, 16000, L("gemma3:1b"), NONE}}, 1, {NULL},
         {false}},
        {"unknown room takes what fits nowhere known; a known room comes first",
         {{"x", 0}, {"y", 500}}, 2, {{"a", true, -1, NONE, NONE}, {"b", true, 100, NONE, NONE}},
         2, {"b", "a"}, {false, false}},
        {"no eligible node", {{"x", 10}}, 1, {{"a", false, 6500, NONE, NONE}}, 1, {NULL},
         {false}},
    };

    for (size_t i = 0; i < ELEMS(cases); i++) {
        run(&cases[i], false);
        run(&cases[i], true);
    }
}

int main(void)
{
    test_set();
    test_place();
    return done_testing();
}
