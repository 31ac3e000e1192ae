/* SPDX-License-Identifier: MIT */
/* ollama_models' pure half: a pull's progress lines and /api/version's answer, by table. */
#include "orion/ollama_models.h"
#include "../t.h"

#include <string.h>

struct pcase {
    const char *name, *line;
    int rc; /* 0 progress, 1 error line, -1 refused */
    const char *status, *digest;
    long long total, completed;
};

static const struct pcase lines[] = {
    {"manifest", "{\"status\":\"pulling manifest\"}", 0, "pulling manifest", "", -1, -1},
    {"a layer", "{\"status\":\"pulling 387943920238\",\"digest\":\"sha256:38\",\"total\":397813217,"
                "\"completed\":24000000}", 0, "pulling 387943920238", "sha256:38", 397813217,
     24000000},
    {"a layer, nothing yet", "{\"status\":\"pulling x\",\"digest\":\"d\",\"total\":5}", 0,
     "pulling x", "d", 5, -1},
    {"success", "{\"status\":\"success\"}", 0, "success", "", -1, -1},
    {"unknown fields are fine", "{\"status\":\"s\",\"future\":[1]}", 0, "s", "", -1, -1},
    {"null digest", "{\"status\":\"s\",\"digest\":null}", 0, "s", "", -1, -1},
    {"an error line", "{\"error\":\"pull model manifest: file does not exist\"}", 1, NULL, NULL,
     0, 0},
    {"no status", "{\"digest\":\"d\"}", -1, NULL, NULL, 0, 0},
    {"status a number", "{\"status\":5}", -1, NULL, NULL, 0, 0},
    {"negative total", "{\"status\":\"s\",\"total\":-1}", -1, NULL, NULL, 0, 0},
    {"completed a string", "{\"status\":\"s\",\"completed\":\"5\"}", -1, NULL, NULL, 0, 0},
    {"huge total", "{\"status\":\"s\",\"total\":1e30}", -1, NULL, NULL, 0, 0},
    {"not an object", "[\"status\"]", -1, NULL, NULL, 0, 0},
    {"not JSON", "{\"status\":", -1, NULL, NULL, 0, 0},
    {"a digest too long",
     "{\"status\":\"s\",\"digest\":\"sha256:0123456789012345678901234567890123456789012345678901"
     "2345678901234567890123456789\"}", -1, NULL, NULL, 0, 0},
};

static void test_progress(void)
{
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        const struct pcase *c = &lines[i];
        struct ollama_progress p;
        char err[128] = "";
        int rc = ollama_progress_parse(c->line, strlen(c->line), &p, err, sizeof(err));

        is_int(rc, c->rc, "%s: %d", c->name, c->rc);
        if (c->rc == 0 && rc == 0)
            ok(!strcmp(p.status, c->status) && !strcmp(p.digest, c->digest) &&
                   p.total == c->total && p.completed == c->completed, "%s: fields", c->name);
        if (c->rc == 1 && rc == 1)
            is_str(err, "pull model manifest: file does not exist", "%s: the sentence", c->name);
    }
}

static void test_version(void)
{
    char v[65];

    ok(ollama_version_parse("{\"version\":\"0.12.6\"}", 20, v, sizeof(v)) == 0 &&
           !strcmp(v, "0.12.6"), "version read");
    ok(ollama_version_parse("{\"version\":\"\"}", 14, v, sizeof(v)) < 0, "empty: refused");
    ok(ollama_version_parse("{\"version\":6}", 13, v, sizeof(v)) < 0, "a number: refused");
    ok(ollama_version_parse("404 page not found", 18, v, sizeof(v)) < 0, "not JSON: refused");
    ok(ollama_version_parse("{\"version\":\"0.12.6\"}", 20, v, 4) < 0, "no room: refused");
}

int main(void)
{
    test_progress();
    test_version();
    return done_testing();
}
