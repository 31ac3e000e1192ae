/* SPDX-License-Identifier: MIT */
/*
 * Health record <-> JSON: the exact text written, round trips, defaults and unknown extras,
 * every class of bad input (table-driven, and every truncation of a good record against a
 * guard page), and allocation failures at every point.
 */
#include "orion/contract.h"
#include "orion/jsonw.h"
#include "orion/health.h"
#include "../guard.h"
#include "../t.h"

#include <errno.h>
#include <math.h>

static const char *models[] = {"gemma3:1b", "llama3.2:1b"}, *labels[] = {"big"};

static void fill(struct health *h)
{
    health_init(h);
    snprintf(h->node_id, sizeof(h->node_id), "pi5");
    h->cpu_percent = 12.345;
    h->ram_percent = 41.25;
    h->ram_used_mb = 3300;
    h->ram_total_mb = 7810;
    h->has_temp = true;
    h->temp_c = 61.234;
    h->last_seen = 1795377295;
    h->inflight = 1;
    h->capacity = 2;
    h->has_load = true;
    h->load1 = 1.5;
    h->has_throttled = true;
    h->throttled = 0x50005;
    snprintf(h->version, sizeof(h->version), "0.1.0");
    snprintf(h->ollama_version, sizeof(h->ollama_version), "0.30.1");
    h->has_ollama_version = true;
    health_set_list(&h->models, &h->nmodels, models, 2);
    health_set_list(&h->installed, &h->ninstalled, models, 2);
    health_set_list(&h->labels, &h->nlabels, labels, 1);
}

static const char full_json[] =
    "{\"node_id\":\"pi5\",\"cpu_percent\":12.3,\"ram_percent\":41.2,\"ram_used_mb\":3300,"
    "\"ram_total_mb\":7810,\"temp_c\":61.234,\"models\":[\"gemma3:1b\",\"llama3.2:1b\"],"
    "\"available\":true,\"last_seen\":1795377295,\"installed\":[\"gemma3:1b\","
    "\"llama3.2:1b\"],\"capacity\":2,\"inflight\":1,\"ollama_up\":true,\"draining\":false,"
    "\"labels\":[\"big\"],\"version\":\"0.1.0\",\"ollama_version\":\"0.30.1\",\"load1\":1.5,"
    "\"throttled\":\"0x50005\"}";

static void test_write(void)
{
    struct health h;
    struct buf b;

    fill(&h);
    buf_init(&b, 1 << 16);
    ok(health_to_json(&h, &b) == 0, "to JSON");
    is_str(buf_data(&b), full_json, "the contract's names and units, compact");
    health_release(&h);

    health_init(&h);
    snprintf(h.node_id, sizeof(h.node_id), "vm \"1\"");
    h.last_seen = 5;
    buf_reset(&b);
    ok(health_to_json(&h, &b) == 0, "a fresh worker record");
    is_str(buf_data(&b),
           "{\"node_id\":\"vm \\\"1\\\"\",\"cpu_percent\":0,\"ram_percent\":0,\"ram_used_mb\":0,"
           "\"ram_total_mb\":0,\"temp_c\":null,\"models\":[],\"available\":true,\"last_seen\":5,"
           "\"capacity\":1,\"inflight\":0,\"ollama_up\":true,\"draining\":false,\"labels\":[],"
           "\"version\":\"\"}",
           "no sensor: temp_c null; unknown installed, load1, throttled left out");
    h.cpu_percent = h.ram_percent = -1;
    h.has_installed = true;
    h.has_capacity = h.has_inflight = h.has_ollama_up = h.has_draining = false;
    h.has_labels = h.has_version = false;
    buf_reset(&b);
    health_to_json(&h, &b);
    is_str(buf_data(&b),
           "{\"node_id\":\"vm \\\"1\\\"\",\"cpu_percent\":null,\"ram_percent\":null,"
           "\"ram_used_mb\":0,\"ram_total_mb\":0,\"temp_c\":null,\"models\":[],\"available\":true,"
           "\"last_seen\":5,\"installed\":[]}",
           "unknown cpu and ram are null; a known empty installed list is written");
    h.cpu_percent = 1e300; /* found by fuzzing: fixed notation overflowed a buffer */
    h.ram_percent = 99.96;
    h.has_temp = true;
    h.temp_c = -0.0001;
    buf_reset(&b);
    ok(health_to_json(&h, &b) == 0 && strstr(buf_data(&b), "\"cpu_percent\":1e+300") &&
           strstr(buf_data(&b), "\"ram_percent\":100,") && strstr(buf_data(&b), "\"temp_c\":0,"),
       "absurd numbers in exponent form, 99.96 -> 100, -0.0001 -> 0: %s", buf_data(&b));
    health_release(&h);
    buf_release(&b);
    buf_init(&b, 20);
    fill(&h);
    errno = 0;
    ok(health_to_json(&h, &b) < 0 && errno == ENOBUFS, "a buffer cap is an error (ENOBUFS)");
    health_release(&h);
    buf_release(&b);
}

static void test_roundtrip(void)
{
    struct health h, g;
    struct buf b, c;
    char err[200] = "";

    fill(&h);
    buf_init(&b, 1 << 16);
    buf_init(&c, 1 << 16);
    health_to_json(&h, &b);
    ok(health_from_json(&g, buf_data(&b), buf_size(&b), err, sizeof(err)) == 0, "back: %s", err);
    ok(!strcmp(g.node_id, "pi5") && g.nmodels == 2 && !strcmp(g.models[1], "llama3.2:1b") &&
           g.has_temp && fabs(g.temp_c - 61.234) < 1e-9 && g.last_seen == 1795377295 &&
           fabs(g.cpu_percent - 12.3) < 1e-9 && g.ram_used_mb == 3300 && g.ram_total_mb == 7810,
       "round trip keeps the seed fields");
    ok(g.has_installed && g.ninstalled == 2 && g.has_capacity && g.capacity == 2 &&
           g.has_inflight && g.inflight == 1 && g.has_ollama_up && g.ollama_up &&
           g.has_draining && !g.draining && g.has_labels && g.nlabels == 1 && g.has_version &&
           !strcmp(g.version, "0.1.0") && g.has_load && fabs(g.load1 - 1.5) < 1e-9 &&
           g.has_throttled && g.throttled == 0x50005 && g.has_ollama_version &&
           !strcmp(g.ollama_version, "0.30.1"),
       "round trip keeps every extra, known");
    health_to_json(&g, &c);
    is_str(buf_data(&c), buf_data(&b), "written again: the same text");
    health_release(&g);
    health_release(&h);
    buf_release(&b);
    buf_release(&c);
}

static void test_defaults(void)
{
    struct health h;
    char err[200] = "";
    const char *j =
        " \n{\"node_id\":\"n\",\"last_seen\":5,\"future\":{\"x\":[1,{\"y\":null}]}}\r\n";
    const char *seed = "{\"node_id\":\"pi4-a\",\"cpu_percent\":3.5,\"ram_percent\":22.1,"
                       "\"ram_used_mb\":1800,\"ram_total_mb\":7810,\"temp_c\":null,"
                       "\"models\":[],\"available\":false,\"last_seen\":1700000000.75}";

    ok(health_from_json(&h, j, strlen(j), err, sizeof(err)) == 0, "only required fields: %s",
       err);
    ok(h.available && h.capacity == 1 && h.inflight == 0 && h.ollama_up && !h.draining &&
           !h.has_temp && h.nmodels == 0 && h.load1 < 0 && h.cpu_percent < 0 &&
           h.ram_percent < 0,
       "defaults for every optional field; unknown fields ignored");
    ok(!h.has_installed && !h.has_capacity && !h.has_inflight && !h.has_ollama_up &&
           !h.has_draining && !h.has_labels && !h.has_version && !h.has_load &&
           !h.has_throttled && !h.has_ollama_version,
       "every missing extra is unknown");
    health_release(&h);
    ok(health_from_json(&h, seed, strlen(seed), err, sizeof(err)) == 0 && !h.available &&
           !h.has_temp && h.last_seen == 1700000000 && h.ram_total_mb == 7810,
       "a seed record (fractional last_seen, temp_c null): %s", err);
    health_release(&h);
    j = "{\"node_id\":\"n\",\"last_seen\":5,\"installed\":[],\"throttled\":327685,"
        "\"cpu_percent\":100.04,\"ram_percent\":null,\"models\":null,\"load1\":null}";
    ok(health_from_json(&h, j, strlen(j), err, sizeof(err)) == 0 && h.has_installed &&
           h.ninstalled == 0 && h.has_throttled && h.throttled == 0x50005 &&
           h.cpu_percent == 100 && h.ram_percent < 0 && !h.has_load,
       "known empty installed, throttled as a number, 100.04 %% clamped, nulls unknown: %s",
       err);
    health_release(&h);
}

struct bad {
    const char *name, *json, *err;
};

#define R "{\"node_id\":\"n\",\"last_seen\":1,"
static const struct bad bads[] = {
    {"empty", "", "empty input"},
    {"white space only", " \n\t", "empty input"},
    {"truncated", "{\"node_id\":", "not closed"},
    {"array", "[1,2]", "not a JSON object"},
    {"string", "\"pi4\"", "not a JSON object"},
    {"number", "42", "not a JSON object"},
    {"null", "null", "not a JSON object"},
    {"trailing garbage", R "\"x\":1}xyz", "bytes after the object"},
    {"two objects", R "\"x\":1} {}", "bytes after the object"},
    {"bad syntax inside", R "\"x\":tru}", "not valid JSON"},
    {"bracket mismatch", "{\"node_id\":\"n\"]", "not valid JSON"},
    {"NUL inside", "{\"node_id\":\"n\",\0\"last_seen\":1}", "not valid JSON"},
    {"no node_id", "{\"last_seen\":1}", "'node_id' is missing"},
    {"node_id null", "{\"node_id\":null,\"last_seen\":1}", "'node_id' is missing"},
    {"empty node_id", "{\"node_id\":\"\",\"last_seen\":1}", "'node_id' is empty"},
    {"node_id number", "{\"node_id\":5,\"last_seen\":1}", "'node_id' is not a string"},
    {"node_id 65 bytes",
     "{\"node_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
     "\"last_seen\":1}",
     "'node_id' is longer than 64 bytes"},
    {"no last_seen", "{\"node_id\":\"n\"}", "'last_seen' is missing"},
    {"last_seen string", "{\"node_id\":\"n\",\"last_seen\":\"now\"}",
     "'last_seen' is not a number"},
    {"last_seen negative", "{\"node_id\":\"n\",\"last_seen\":-5}",
     "'last_seen' is not a number in"},
    {"last_seen in ms", "{\"node_id\":\"n\",\"last_seen\":1700000000000}", "'last_seen'"},
    {"cpu string", R "\"cpu_percent\":\"5\"}", "'cpu_percent' is not a number"},
    {"ram bool", R "\"ram_percent\":true}", "'ram_percent' is not a number"},
    {"ram_used negative", R "\"ram_used_mb\":-1}", "'ram_used_mb' is not a number in range"},
    {"ram_total fraction", R "\"ram_total_mb\":1.5}", "'ram_total_mb' is not a whole number"},
    {"temp string", R "\"temp_c\":\"hot\"}", "'temp_c' is not a number"},
    {"temp in millidegrees", R "\"temp_c\":61234}", "'temp_c' is not a number in range"},
    {"models object", R "\"models\":{}}", "'models' is not an array"},
    {"models numbers", R "\"models\":[1]}", "'models' is not an array of strings"},
    {"models nested", R "\"models\":[[\"a\"]]}", "'models' is not an array of strings"},
    {"available string", R "\"available\":\"yes\"}", "'available' is not true or false"},
    {"installed string", R "\"installed\":\"gemma3\"}", "'installed' is not an array"},
    {"labels number", R "\"labels\":[\"a\",2]}", "'labels' is not an array of strings"},
    {"label over 32 bytes", R "\"labels\":[\"abcdefghijklmnopqrstuvwxyz0123456\"]}",
     "'labels' has a name longer than 32 bytes"},
    {"capacity huge", R "\"capacity\":1e300}", "'capacity' is not a number in range"},
    {"capacity negative", R "\"capacity\":-1}", "'capacity'"},
    {"inflight string", R "\"inflight\":\"1\"}", "'inflight' is not a number"},
    {"ollama_up number", R "\"ollama_up\":1}", "'ollama_up' is not true or false"},
    {"draining string", R "\"draining\":\"no\"}", "'draining' is not true or false"},
    {"version number", R "\"version\":1}", "'version' is not a string"},
    {"ollama_version number", R "\"ollama_version\":0.12}", "'ollama_version' is not a string"},
    {"version too long",
     R "\"version\":\"0123456789012345678901234567890123456789012345678901234567890123456\"}",
     "'version' is longer than 64 bytes"},
    {"ollama_version number", R "\"ollama_version\":30}", "'ollama_version' is not a string"},
    {"load1 negative", R "\"load1\":-1}", "'load1'"},
    {"throttled bool", R "\"throttled\":true}", "'throttled' is not a number"},
    {"throttled without 0x", R "\"throttled\":\"50005\"}", "'throttled' is not a hex string"},
    {"throttled bad hex", R "\"throttled\":\"0xzz\"}", "'throttled' is not a hex string"},
    {"throttled too wide", R "\"throttled\":\"0x123456789\"}", "'throttled'"},
    {"throttled negative", R "\"throttled\":-1}", "'throttled'"},
};

static void test_bad(void)
{
    char err[200];
    struct health h;

    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        size_t len = strlen(bads[i].json) + (strstr(bads[i].name, "NUL") ? 20 : 0);
        int rc;
        snprintf(err, sizeof(err), "(none)");
        rc = health_from_json(&h, bads[i].json, len, err, sizeof(err));
        ok(rc < 0 && strstr(err, bads[i].err), "%s: %s", bads[i].name, err);
        ok(h.nmodels == 0 && h.models == NULL && h.installed == NULL && h.labels == NULL,
           "%s: nothing left to free", bads[i].name);
    }
    ok(health_from_json(&h, "{}", 2, NULL, 0) < 0, "no room for the reason: still -1");
}

/* n nested arrays as the value of "x" */
static void nested(struct buf *b, int n, const char *inner)
{
    buf_reset(b);
    buf_puts(b, R "\"x\":");
    for (int i = 0; i < n; i++)
        buf_putc(b, '[');
    buf_puts(b, inner);
    for (int i = 0; i < n; i++)
        buf_putc(b, ']');
    buf_putc(b, '}');
}

static void test_caps(void)
{
    struct buf b;
    struct health h;
    char err[200] = "", name[ORION_MODEL_MAX + 2];

    buf_init(&b, 1 << 22);
    nested(&b, ORION_JSON_MAX_DEPTH - 1, "");
    ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) == 0,
       "%d levels in all: fine (%s)", ORION_JSON_MAX_DEPTH, err);
    health_release(&h);
    nested(&b, ORION_JSON_MAX_DEPTH, "");
    ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) < 0 &&
           strstr(err, "nested deeper than 64 levels"),
       "one more: %s", err);
    nested(&b, 100000, "");
    ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) < 0 &&
           strstr(err, "deeper"),
       "100000 levels: refused before cJSON builds anything");
    nested(&b, 1, "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{\"");
    ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) == 0,
       "brackets and escaped quotes inside strings do not count: %s", err);
    health_release(&h);

    for (int n = ORION_HEALTH_MAX_LIST; n <= ORION_HEALTH_MAX_LIST + 1; n++) {
        buf_reset(&b);
        buf_puts(&b, R "\"installed\":[");
        for (int i = 0; i < n; i++)
            buf_printf(&b, "%s\"m%d\"", i ? "," : "", i);
        buf_puts(&b, "]}");
        if (n == ORION_HEALTH_MAX_LIST)
            ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) == 0 &&
                   h.ninstalled == (size_t)n && !strcmp(h.installed[n - 1], "m255"),
               "%d installed models: all kept", n);
        else
            ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) < 0 &&
                   strstr(err, "'installed' has more than 256 entries"),
               "%d: an error, never a silent truncation: %s", n, err);
        health_release(&h);
    }
    memset(name, 'm', ORION_MODEL_MAX);
    name[ORION_MODEL_MAX] = '\0';
    buf_reset(&b);
    buf_printf(&b, R "\"models\":[\"%s\"]}", name);
    ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) == 0 &&
           strlen(h.models[0]) == ORION_MODEL_MAX,
       "a %d-byte model name: fine", ORION_MODEL_MAX);
    health_release(&h);
    buf_reset(&b);
    buf_printf(&b, R "\"models\":[\"%sm\"]}", name);
    ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) < 0 &&
           strstr(err, "'models' has a name longer than 256 bytes"),
       "one byte more: %s", err);
    buf_reset(&b);
    buf_puts(&b, R "\"pad\":\"");
    for (size_t i = 0; i < ORION_HEALTH_MAX_JSON; i++)
        buf_putc(&b, 'x');
    buf_puts(&b, "\"}");
    ok(health_from_json(&h, buf_data(&b), buf_size(&b), err, sizeof(err)) < 0 &&
           strstr(err, "longer than"),
       "a record over ORION_HEALTH_MAX_JSON: %s", err);
    errno = 0;
    ok(health_set_list(&h.models, &h.nmodels, NULL, ORION_HEALTH_MAX_LIST + 1) < 0 &&
           errno == EINVAL && h.nmodels == 0,
       "health_set_list refuses more than the cap");
    buf_release(&b);
}

/* Every truncation of a good record fails cleanly, and the whole one parses, each against a
 * guard page so that reading one byte too far faults. */
static void test_truncations(void)
{
    size_t len = strlen(full_json), failed = 0;
    struct health h;
    struct guard g;
    char err[200];

    for (size_t n = 0; n <= len; n++) {
        const char *p = guard_place(&g, full_json, n);
        int rc = p ? health_from_json(&h, p, n, err, sizeof(err)) : -99;
        if (rc == -99 || (rc == 0) != (n == len))
            failed++;
        health_release(&h);
        guard_free(&g);
    }
    is_int(failed, 0, "every one of %zu truncations refused, the whole record read", len);
}

static void test_oom(void)
{
    unsigned long n;
    int passed = 0;
    char err[200];
    struct health h, g;
    struct buf b;

    for (n = 1; n < 1000 && !passed; n++) {
        orion_alloc_fail_at(n);
        passed = health_from_json(&h, full_json, strlen(full_json), err, sizeof(err)) == 0;
        orion_alloc_fail_at(0);
        if (passed)
            ok(h.nmodels == 2 && h.ninstalled == 2 && h.nlabels == 1, "parsed once allocations "
                                                                      "succeed");
        health_release(&h);
    }
    ok(passed && n > 2, "from JSON: every earlier allocation failure fails cleanly (%lu runs)",
       n - 1);
    fill(&g);
    passed = 0;
    for (n = 1; n < 1000 && !passed; n++) {
        buf_init(&b, 1 << 16);
        orion_alloc_fail_at(n);
        passed = health_to_json(&g, &b) == 0;
        orion_alloc_fail_at(0);
        if (passed)
            is_str(buf_data(&b), full_json, "written once allocations succeed");
        buf_release(&b);
    }
    ok(passed && n > 2, "to JSON: every earlier allocation failure fails cleanly (%lu runs)",
       n - 1);
    passed = 0;
    for (n = 1; n < 100 && !passed; n++) {
        orion_alloc_fail_at(n);
        passed = health_set_list(&g.models, &g.nmodels, models, 2) == 0;
        orion_alloc_fail_at(0);
        if (!passed && (g.nmodels || g.models))
            break;
    }
    ok(passed && g.nmodels == 2, "health_set_list: failures leave an empty list (%lu runs)",
       n - 1);
    health_release(&g);
}

int main(void)
{
    json_init(); /* cJSON allocates through orion_malloc: failures can be injected */
    test_write();
    test_roundtrip();
    test_defaults();
    test_bad();
    test_caps();
    test_truncations();
    test_oom();
    return done_testing();
}
