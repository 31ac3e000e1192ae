/* SPDX-License-Identifier: MIT */
/* Health record <-> JSON: round trip, defaults, every class of bad input, allocation failures. */
#include "orion/contract.h"
#include "orion/health.h"
#include "../t.h"

#include <math.h>

static void test_roundtrip(void)
{
    struct health h, g;
    struct buf b;
    const char *models[] = {"gemma3:1b", "llama3.2:1b"}, *labels[] = {"big"};
    char err[200];

    health_init(&h);
    snprintf(h.node_id, sizeof(h.node_id), "pi5");
    h.cpu_percent = 12.345;
    h.ram_percent = 41.25;
    h.ram_used_mb = 3300;
    h.ram_total_mb = 7810;
    h.has_temp = true;
    h.temp_c = 61.234;
    h.last_seen = 1795377295;
    h.inflight = 1;
    h.capacity = 2;
    h.load1 = 1.5;
    h.has_throttled = true;
    h.throttled = 0x50005;
    snprintf(h.version, sizeof(h.version), "0.1.0");
    health_set_list(&h.models, &h.nmodels, models, 2);
    health_set_list(&h.installed, &h.ninstalled, models, 2);
    health_set_list(&h.labels, &h.nlabels, labels, 1);
    buf_init(&b, 1 << 16);
    ok(health_to_json(&h, &b) == 0, "to JSON");
    is_str(buf_data(&b),
           "{\"node_id\":\"pi5\",\"cpu_percent\":12.3,\"ram_percent\":41.2,\"ram_used_mb\":3300,"
           "\"ram_total_mb\":7810,\"temp_c\":61.234,\"models\":[\"gemma3:1b\",\"llama3.2:1b\"],"
           "\"available\":true,\"last_seen\":1795377295,\"installed\":[\"gemma3:1b\","
           "\"llama3.2:1b\"],\"capacity\":2,\"inflight\":1,\"ollama_up\":true,\"draining\":false,"
           "\"labels\":[\"big\"],\"version\":\"0.1.0\",\"load1\":1.5,\"throttled\":\"0x50005\"}",
           "the contract's names and units");
    ok(health_from_json(&g, buf_data(&b), buf_size(&b), err, sizeof(err)) == 0, "back from JSON");
    ok(!strcmp(g.node_id, "pi5") && g.nmodels == 2 && !strcmp(g.models[1], "llama3.2:1b") &&
           g.has_temp && fabs(g.temp_c - 61.234) < 1e-9 && g.capacity == 2 && g.throttled == 0x50005,
       "round trip keeps the values");
    health_release(&g);
    h.has_temp = false;
    buf_reset(&b);
    health_to_json(&h, &b);
    ok(strstr(buf_data(&b), "\"temp_c\":null") != NULL, "no sensor: temp_c null");
    h.cpu_percent = 1e300; /* found by fuzzing: fixed notation overflowed a buffer */
    buf_reset(&b);
    ok(health_to_json(&h, &b) == 0 && strstr(buf_data(&b), "\"cpu_percent\":1e+300"),
       "absurd numbers are written in exponent form");
    health_release(&h);
    buf_release(&b);
}

static void test_defaults(void)
{
    struct health h;
    char err[200];
    const char *j = "{\"node_id\":\"n\",\"last_seen\":5,\"future_field\":{\"x\":[1,2]}}";

    ok(health_from_json(&h, j, strlen(j), err, sizeof(err)) == 0, "only required fields: %s", err);
    ok(h.available && h.capacity == 1 && h.ollama_up && !h.draining && !h.has_temp &&
           h.nmodels == 0 && h.load1 < 0,
       "defaults for every optional field; unknown fields ignored");
    health_release(&h);
}

struct bad {
    const char *name, *json, *err;
};

static const struct bad bads[] = {
    {"not JSON", "{\"node_id\":", "not valid JSON"},
    {"array", "[1,2]", "not a JSON object"},
    {"no node_id", "{\"last_seen\":1}", "'node_id' is missing"},
    {"no last_seen", "{\"node_id\":\"n\"}", "'last_seen' is missing"},
    {"node_id number", "{\"node_id\":5,\"last_seen\":1}", "'node_id' is not a string"},
    {"last_seen string", "{\"node_id\":\"n\",\"last_seen\":\"now\"}", "'last_seen' is not a number"},
    {"temp string", "{\"node_id\":\"n\",\"last_seen\":1,\"temp_c\":\"hot\"}", "'temp_c'"},
    {"models object", "{\"node_id\":\"n\",\"last_seen\":1,\"models\":{}}", "'models'"},
    {"models numbers", "{\"node_id\":\"n\",\"last_seen\":1,\"models\":[1]}", "'models'"},
    {"available string", "{\"node_id\":\"n\",\"last_seen\":1,\"available\":\"yes\"}", "'available'"},
    {"capacity huge", "{\"node_id\":\"n\",\"last_seen\":1,\"capacity\":1e300}", "'capacity'"},
    {"throttled number", "{\"node_id\":\"n\",\"last_seen\":1,\"throttled\":5}", "'throttled'"},
    {"last_seen negative", "{\"node_id\":\"n\",\"last_seen\":-5}", "'last_seen'"},
};

static void test_bad(void)
{
    char deep[400], longid[200], err[200];
    struct health h;

    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        int rc = health_from_json(&h, bads[i].json, strlen(bads[i].json), err, sizeof(err));
        ok(rc < 0 && strstr(err, bads[i].err), "%s: %s", bads[i].name, err);
        ok(h.nmodels == 0 && h.models == NULL, "%s: nothing left to free", bads[i].name);
    }
    snprintf(deep, sizeof(deep), "{\"node_id\":\"n\",\"last_seen\":1,\"x\":");
    for (int i = 0; i < 80; i++)
        strcat(deep, "[");
    for (int i = 0; i < 80; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    ok(health_from_json(&h, deep, strlen(deep), err, sizeof(err)) < 0 && strstr(err, "deeper"),
       "nesting past the limit: %s", err);
    memset(longid, 'a', 150);
    snprintf(longid + 150, 50, "\",\"last_seen\":1}");
    memmove(longid + 12, longid, 166);
    memcpy(longid, "{\"node_id\":\"", 12);
    ok(health_from_json(&h, longid, strlen(longid), err, sizeof(err)) < 0, "node_id too long: %s", err);
    ok(health_from_json(&h, "", 0, err, sizeof(err)) < 0, "empty input");
}

static void test_many_models(void)
{
    struct buf b;
    struct health h;
    char err[200];

    buf_init(&b, 1 << 16);
    buf_puts(&b, "{\"node_id\":\"n\",\"last_seen\":1,\"models\":[");
    for (int i = 0; i < 100; i++)
        buf_printf(&b, "%s\"m%d\"", i ? "," : "", i);
    buf_puts(&b, "]}");
    ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) == 0 &&
           h.nmodels == HEALTH_MAX_MODELS,
       "a long list keeps its first %d entries", HEALTH_MAX_MODELS);
    health_release(&h);
    buf_release(&b);
}

static void test_oom(void)
{
    const char *j = "{\"node_id\":\"n\",\"last_seen\":1,\"models\":[\"a\",\"b\"],\"installed\":[\"c\"]}";
    unsigned long n;
    int passed = 0;
    char err[200];

    for (n = 1; n < 200 && !passed; n++) {
        struct health h;
        orion_alloc_fail_at(n);
        passed = health_from_json(&h, j, strlen(j), err, sizeof(err)) == 0;
        orion_alloc_fail_at(0);
        if (passed)
            ok(h.nmodels == 2 && h.ninstalled == 1, "parsed once allocations succeed");
        health_release(&h);
    }
    ok(passed && n > 2, "every allocation failure before that fails cleanly (%lu runs)", n - 1);
}

int main(void)
{
    contract_json_init();
    test_roundtrip();
    test_defaults();
    test_bad();
    test_many_models();
    test_oom();
    return done_testing();
}
