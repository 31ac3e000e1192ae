/* SPDX-License-Identifier: MIT */
/*
 * node.c: the routing view of a node from its health record, as the router, the HTTP front and
 * orionctl build it: what the record carries beyond eligibility (CPU use, the firmware's
 * throttling flags, the prompt cache that comes with Ollama 0.30) reaches the routing core.
 */
#include "orion/node.h"
#include "../t.h"

static void test_view(void)
{
    static const struct {
        const char *json;
        double cpu;
        bool has_throttled;
        unsigned long throttled;
        bool host_cache;
        const char *name;
    } rows[] = {
        {"{\"node_id\":\"a\",\"last_seen\":5}", -1, false, 0, false, "bare record: all unknown"},
        {"{\"node_id\":\"a\",\"last_seen\":5,\"cpu_percent\":37.5,\"throttled\":\"0x50005\"}", 37.5,
         true, 0x50005, false, "cpu and throttling flags passed on"},
        {"{\"node_id\":\"a\",\"last_seen\":5,\"ollama_version\":\"0.30.0\"}", -1, false, 0, true,
         "Ollama 0.30.0: host cache"},
        {"{\"node_id\":\"a\",\"last_seen\":5,\"ollama_version\":\"0.29.9\"}", -1, false, 0, false,
         "Ollama 0.29.9: no host cache"},
        {"{\"node_id\":\"a\",\"last_seen\":5,\"ollama_version\":\"0.0.0\"}", -1, false, 0, false,
         "a development build (0.0.0): no host cache assumed"},
        {"{\"node_id\":\"a\",\"last_seen\":5,\"version\":\"0.31.0\"}", -1, false, 0, false,
         "the worker's own version says nothing of Ollama's"},
    };
    struct health h;
    struct route_node rn;
    char err[160];

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (health_from_json(&h, rows[i].json, strlen(rows[i].json), err, sizeof(err)) < 0) {
            ok(0, "%s: %s", rows[i].name, err);
            continue;
        }
        node_route_view(&rn, "a", &h, false, 5, 2);
        ok(rn.cpu_percent == rows[i].cpu && rn.has_throttled == rows[i].has_throttled &&
               rn.throttled == rows[i].throttled && rn.host_cache == rows[i].host_cache &&
               rn.inflight == 2,
           "%s", rows[i].name);
        health_release(&h);
    }
    node_route_view(&rn, "a", NULL, false, 5, 0);
    ok(rn.cpu_percent < 0 && !rn.has_throttled && !rn.host_cache && rn.last_seen == 0,
       "no record: stale, nothing known");
}

int main(void)
{
    test_view();
    return done_testing();
}
