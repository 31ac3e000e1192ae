/* SPDX-License-Identifier: MIT */
/*
 * modelinfo: a record written and read back the same, unknown fields left unknown, the
 * revision, lookups by any spelling, and every error.
 */
#include "orion/jsonw.h"
#include "orion/modelinfo.h"
#include "../t.h"

static void test_roundtrip(void)
{
    struct ollama_model ms[2];
    struct modelinfo mi, back;
    struct buf a, b;
    char err[160], r1[17], r2[17];

    memset(ms, 0, sizeof(ms));
    snprintf(ms[0].name, sizeof(ms[0].name), "gemma3:4b");
    snprintf(ms[0].family, sizeof(ms[0].family), "gemma3");
    ms[0].size = 3338801804LL;
    ms[0].has_caps = true;
    ms[0].caps = OLLAMA_CAP_COMPLETION | OLLAMA_CAP_VISION;
    ms[0].context_length = 131072;
    ms[0].loaded = true;
    ms[0].ram = 3815773490LL;
    ms[0].loaded_ctx = 4096;
    snprintf(ms[1].name, sizeof(ms[1].name), "qwen2.5:0.5b");
    ms[1].num_ctx = 8192;
    modelinfo_init(&mi);
    snprintf(mi.node_id, sizeof(mi.node_id), "pi-a");
    mi.updated = 1755508504;
    mi.m = ms;
    mi.n = 2;
    buf_init(&a, 1 << 20);
    buf_init(&b, 1 << 20);
    ok(modelinfo_to_json(&mi, &a) == 0, "written");
    modelinfo_init(&back);
    ok(modelinfo_from_json(&back, buf_data(&a), buf_size(&a), err, sizeof(err)) == 0,
       "read back (%s)", buf_data(&a));
    ok(modelinfo_to_json(&back, &b) == 0 && buf_size(&a) == buf_size(&b) &&
           !memcmp(buf_data(&a), buf_data(&b), buf_size(&a)), "the same text again");
    ok(back.n == 2 && back.m[0].caps == ms[0].caps && back.m[0].loaded_ctx == 4096 &&
           back.m[1].num_ctx == 8192 && !back.m[1].has_caps, "the fields");
    ok(modelinfo_find(&back, "Gemma3:4B") == &back.m[0], "found by any spelling");
    ok(!modelinfo_find(&back, "gemma3:1b") && !modelinfo_find(NULL, "x"), "not found");
    modelinfo_rev(buf_data(&a), buf_size(&a), r1);
    modelinfo_rev(buf_data(&a), buf_size(&a) - 1, r2);
    ok(strlen(r1) == 16 && strcmp(r1, r2), "the revision is 16 hex digits and follows the text");
    modelinfo_release(&back);
    buf_release(&a);
    buf_release(&b);
}

static void test_errors(void)
{
    static const char *const bad[] = {
        "", "[]", "{}", "{\"node_id\":\"\",\"models\":[]}", "{\"node_id\":\"a\"}",
        "{\"node_id\":\"a\",\"models\":{}}", "{\"node_id\":\"a\",\"models\":[{\"size\":1}]}",
        "{\"node_id\":7,\"models\":[]}", "{\"node_id\":\"a\",\"models\":[",
    };
    struct modelinfo mi;
    char err[160];

    modelinfo_init(&mi);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ok(modelinfo_from_json(&mi, bad[i], strlen(bad[i]), err, sizeof(err)) < 0 && err[0] &&
               mi.n == 0 && !mi.m, "'%s' refused: %s", bad[i], err);
    }
    ok(modelinfo_from_json(&mi, "{\"node_id\":\"a\",\"models\":[{\"name\":\"x\",\"size\":\"7\","
                                "\"capabilities\":\"vision\",\"loaded\":1}],\"extra\":[1]}", 97, err,
                           sizeof(err)) == 0 && mi.n == 1 && mi.m[0].size == 0 &&
           !mi.m[0].has_caps && !mi.m[0].loaded, "wrong types are unknown, extras ignored");
    modelinfo_release(&mi);
}

int main(void)
{
    json_init();
    test_roundtrip();
    test_errors();
    return done_testing();
}
