/* SPDX-License-Identifier: MIT */
/*
 * route_name by tables: model names as keys (every rule of route.h "Model names", the caps,
 * the names that are already keys), route_has_model and route_model_eq, the names of the
 * policies and of the kinds of decision.
 */
#include "orion/route.h"
#include "../t.h"

#include <errno.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_norm(void)
{
    static const struct {
        const char *in, *want;
        int err;
    } cases[] = {
        {"gemma3", "gemma3:latest", 0},
        {"gemma3:latest", "gemma3:latest", 0},
        {"Gemma3:Latest", "gemma3:latest", 0},
        {"library/gemma3:latest", "gemma3:latest", 0},
        {"library/gemma3", "gemma3:latest", 0},
        {"registry.ollama.ai/library/gemma3", "gemma3:latest", 0},
        {"https://registry.ollama.ai/library/gemma3:4b", "gemma3:4b", 0},
        {"registry.ollama.ai/foo/bar", "foo/bar:latest", 0},
        {"hf.co/u/m:Q4_K_M", "hf.co/u/m:q4_k_m", 0},
        {"hf.co/u/m", "hf.co/u/m:latest", 0},
        {"localhost:5000/m", "localhost:5000/m:latest", 0},
        {"https://hf.co/x", "https://hf.co/x:latest", 0},
        {"gemma3:", "gemma3:latest", 0},
        {"llama3.2:3b", "llama3.2:3b", 0},
        {"gemma3@sha256:ABC", "gemma3:latest@sha256:abc", 0},
        /* names already keys come back as they are; near misses are normalised */
        {"r:1", "r:1", 0},
        {"l:1", "l:1", 0},
        {"h:1", "h:1", 0},
        {"library:1", "library:1", 0},
        {"http:1", "http:1", 0},
        {"x/library/y:1", "x/library/y:1", 0},
        {"m:1@a/b", "m:1@a/b", 0},
        {"m:1@sha:X", "m:1@sha:x", 0},
        {"m:@x", "m:latest@x", 0},
        {"m@x:1", "m:latest@x:1", 0},
        {"a:b/c", "a:b/c:latest", 0},
        {"library/library/x", "library/x:latest", 0},
        {"library/x:latest", "x:latest", 0},
        {"", NULL, EINVAL},
        {"library/", NULL, EINVAL},
        {"@sha256:x", NULL, EINVAL},
    };
    char out[ORION_MODEL_MAX + 1], big[ORION_MODEL_MAX + 2];
    int rc;

    for (size_t i = 0; i < ELEMS(cases); i++) {
        errno = 0;
        rc = route_model_norm(cases[i].in, out, sizeof(out));
        if (cases[i].want) {
            ok(rc == (int)strlen(cases[i].want), "norm '%s': length", cases[i].in);
            is_str(out, cases[i].want, "norm '%s'", cases[i].in);
        } else {
            ok(rc == -1 && errno == cases[i].err, "norm '%s': error", cases[i].in);
        }
    }
    memset(big, 'a', sizeof(big) - 1);
    big[ORION_MODEL_MAX - 6] = '\0'; /* 250 bytes + ":latest" = 257 > 256 */
    ok(route_model_norm(big, out, sizeof(out)) == -1 && errno == ENAMETOOLONG, "too long key");
    big[ORION_MODEL_MAX - 7] = '\0';
    ok(route_model_norm(big, out, sizeof(out)) == ORION_MODEL_MAX, "exactly the cap");
    ok(route_model_norm("gemma3", out, 13) == -1 && errno == ENAMETOOLONG, "small output");
    ok(route_model_norm("gemma3", out, 14) == 13, "output just fits");
    { /* route_has_model: names already keys compare as they are, others normalised */
        static const struct {
            const char *name, *key;
            bool want;
        } hm[] = {
            {"gemma3:1b", "gemma3:1b", true},     {"Gemma3:1B", "gemma3:1b", true},
            {"library/gemma3:1b", "gemma3:1b", true}, {"gemma3", "gemma3:latest", true},
            {"gemma3:", "gemma3:latest", true},   {"gemma3:1b", "gemma3:latest", false},
            {"hf.co/u/m:q4", "hf.co/u/m:q4", true}, {"hf.co/u/m", "hf.co/u/m:latest", true},
            {"m@sha256:ab", "m:latest@sha256:ab", true}, {"m:1@sha256:ab", "m:1@sha256:ab", true},
            {"https://hf.co/x:1", "https://hf.co/x:1", true}, {"", "", false},
            {"library/x:latest", "library/x:latest", false}, {"R:1", "r:1", true},
            {"m:1@a/b", "m:1@a/b", true}, {"a:b/c", "a:b/c", false},
        };
        for (size_t i = 0; i < ELEMS(hm); i++)
            is_int(route_has_model(&hm[i].name, 1, hm[i].key), hm[i].want, "has_model '%s' ~ '%s'",
                   hm[i].name, hm[i].key);
    }
    ok(route_model_eq("gemma3", "registry.ollama.ai/library/gemma3:latest"), "eq: full form");
    ok(!route_model_eq("gemma3", "gemma3:4b"), "eq: another tag");
    ok(route_model_eq("", ""), "eq: bad names compare with strcmp");
    ok(!route_model_eq("gemma3", NULL), "eq: NULL");
}

static void test_names(void)
{
    static const char *const policies[] = {"sticky", "first-fit", "least-conn", "round-robin",
                                           "random"};
    static const struct {
        const char *name;
        int want; /* enum route_policy, -1 unknown */
    } spellings[] = {
        {"least_conn", ROUTE_POLICY_LEAST_CONN}, {"round_robin", ROUTE_POLICY_ROUND_ROBIN},
        {"first_fit", ROUTE_POLICY_FIRST_FIT},   {"least-conn", ROUTE_POLICY_LEAST_CONN},
        {"least conn", -1},                      {"least-conn ", -1},
        {"least", -1},                           {"Sticky", -1},
        {"fastest", -1},                         {"", -1},
    };
    struct route_request a = {.priority = 3, .arrived = 10}, b = {.priority = 2, .arrived = 5};
    struct route_request c = {.priority = 0, .arrived = 7};
    enum route_policy p;

    for (size_t i = 0; i < ELEMS(policies); i++)
        ok(route_policy_parse(policies[i], &p) == 0 && p == (enum route_policy)i &&
               strcmp(route_policy_name(p), policies[i]) == 0,
           "policy '%s'", policies[i]);
    for (size_t i = 0; i < ELEMS(spellings); i++) {
        p = ROUTE_POLICY_STICKY;
        is_int(route_policy_parse(spellings[i].name, &p) == 0 ? (int)p : -1, spellings[i].want,
               "policy spelling '%s'", spellings[i].name);
    }
    ok(route_policy_parse(NULL, &p) == -1, "NULL policy");
    is_str(route_kind_name(ROUTE_QUEUED_RESIDENT), "queued-resident", "kind name");
    is_str(route_kind_name((enum route_kind)42), "?", "kind name out of range");
    ok(route_request_cmp(&a, &b) < 0, "higher priority first");
    ok(route_request_cmp(&b, &c) < 0, "same priority (0 = 2): older first");
    ok(route_request_cmp(&c, &b) > 0, "same priority: newer later");
    ok(route_request_cmp(&b, &b) == 0, "same request");
}

int main(void)
{
    test_norm();
    test_names();
    return done_testing();
}
