/* SPDX-License-Identifier: MIT */
/*
 * svcconf: the seed's INFERENCE_MODEL_ROLES read as it is, roles from a file, the built-in
 * presets (every seed preset and the Pi ones), a user's presets file adding and replacing,
 * and the errors, each naming what is wrong.
 */
#include "orion/jsonw.h"
#include "orion/svcconf.h"
#include "../t.h"

#include <unistd.h>

static const char seed_roles[] =
    "{\"llama-3.2-3b\":[\"fast\"],\"qwen2.5-7b\":[\"coder\",\"primary\"],\"deepseek-r1-7b\":"
    "[\"thinker\"],\"granite-8b-code-128k\":[\"coder\",\"longctx\"],\"phi-4\":[\"primary\","
    "\"thinker\",\"coder\"],\"phi-3-medium-128k\":[\"longctx\",\"thinker\"],\"gpt-oss-20b\":"
    "[\"primary\",\"thinker\"],\"granite-20b-code\":[\"coder\",\"thinker\"]}";

static void test_roles(void)
{
    struct role_map m;
    char err[200] = "", path[] = "/tmp/orion-svcconf-XXXXXX";
    unsigned r = 0;
    int fd;

    role_map_init(&m);
    ok(svc_roles_load(&m, seed_roles, err, sizeof(err)) == 0 && m.n == 8,
       "the seed's INFERENCE_MODEL_ROLES as it is: 8 models (%s)", err);
    ok(role_map_lookup(&m, "llama3.2:3b", &r) && r == ROLE_FAST, "llama-3.2-3b names llama3.2:3b");
    ok(role_map_lookup(&m, "phi4:14b", &r) && r == (ROLE_PRIMARY | ROLE_THINKER | ROLE_CODER),
       "phi-4 names phi4:14b");
    ok(svc_roles_load(&m, " {\"gemma3\":\"coder\"}", err, sizeof(err)) == 0 &&
           role_map_lookup(&m, "gemma3:1b", &r) && r == ROLE_CODER, "one name as a string");
    ok(svc_roles_parse(&m, "{\"x\":[\"wizard\"]}", 17, err, sizeof(err)) < 0 &&
           strstr(err, "'x'"), "an unknown role is refused, naming the model: %s", err);
    ok(svc_roles_parse(&m, "[1]", 3, err, sizeof(err)) < 0, "not an object");
    ok(svc_roles_parse(&m, "{\"x\":7}", 7, err, sizeof(err)) < 0, "a number is not roles");
    fd = mkstemp(path);
    ok(fd >= 0 && write(fd, seed_roles, sizeof(seed_roles) - 1) > 0, "a roles file");
    close(fd);
    role_map_release(&m);
    role_map_init(&m);
    ok(svc_roles_load(&m, path, err, sizeof(err)) == 0 && m.n == 8, "read from the file");
    unlink(path);
    ok(svc_roles_load(&m, path, err, sizeof(err)) < 0 && strstr(err, path),
       "a missing file: %s", err);
    role_map_release(&m);
}

static int parse(struct preset_set *s, const char *json, char *err)
{
    return svc_presets_parse(s, json, strlen(json), err, 200);
}

static void test_presets(void)
{
    struct preset_set s;
    const struct preset *p;
    char err[200] = "";
    unsigned r = 0;
    const char user[] = "{\"models\":{\"gemma3:1b\":{\"memory_mb\":900}},\"presets\":{"
                        "\"d4\":{\"models\":[\"gemma3:1b\",\"qwen2.5:0.5b\"],\"mode\":\"debate\","
                        "\"memory_mb\":{\"qwen2.5:0.5b\":450},\"roles\":{\"gemma3:1b\":\"coder\"}},"
                        "\"MINE\":{\"models\":[\"llama3.2:1b\"]}}}";

    preset_set_init(&s);
    ok(svc_presets_load_default(&s, err, sizeof(err)) == 0, "the built-in presets (%s)", err);
    is_int(s.n, 56, "49 of the seed and 7 Pi-sized");
    p = preset_find(&s, "D4");
    ok(p && p->n == 2 && !strcmp(p->models[0], "deepseek-r1-7b") && !strcmp(p->mode, "critique"),
       "D4: deepseek-r1-7b + qwen2.5-7b, critique");
    ok(p && p->memory_mb[1] == 4506, "memory from the catalogue");
    ok(p && role_map_lookup(&p->roles, "deepseek-r1:7b", &r) &&
           r == (ROLE_THINKER | ROLE_PRIMARY), "roles from the catalogue, matching Ollama's name");
    p = preset_find(&s, "P6");
    ok(p && p->n == 8, "P6 holds all 8 models");
    p = preset_find(&s, "pi-d1");
    ok(p && !strcmp(p->mode, "pipeline") && role_map_lookup(&p->roles, "qwen2.5-coder:1.5b", &r) &&
           r == ROLE_CODER, "PI-D1: its own roles");
    ok(svc_presets_parse(&s, user, sizeof(user) - 1, err, sizeof(err)) == 0, "a user file (%s)",
       err);
    is_int(s.n, 57, "D4 replaced, MINE added");
    p = preset_find(&s, "D4");
    ok(p && !strcmp(p->mode, "debate") && p->memory_mb[0] == 900 && p->memory_mb[1] == 450,
       "the user's D4, memory from its catalogue and its own table");
    ok(p && role_map_lookup(&p->roles, "gemma3:1b", &r) && r == ROLE_CODER &&
           !role_map_lookup(&p->roles, "qwen2.5:0.5b", &r), "its roles");
    p = preset_find(&s, "mine");
    ok(p && !strcmp(p->mode, "single") && p->memory_mb[0] == 0, "defaults: single, unknown size");
    ok(svc_presets_parse(&s, "{\"presets\":{\"X\":{\"models\":[]}}}", 31, err, sizeof(err)) < 0 &&
           strstr(err, "'X'"), "no models: %s", err);
    ok(parse(&s, "{\"presets\":{\"X\":{\"models\":[\"a\"],\"mode\":\"vote\"}}}", err) < 0 &&
           strstr(err, "mode"), "a bad mode: %s", err);
    ok(svc_presets_parse(&s, "{\"presets\":{\"a b\":{\"models\":[\"a\"]}}}", 35, err,
                         sizeof(err)) < 0, "a bad name: %s", err);
    ok(svc_presets_parse(&s, "{\"presets\":[]}", 14, err, sizeof(err)) < 0, "presets not an object");
    ok(svc_presets_load_file(&s, "/nonexistent/presets.json", err, sizeof(err)) < 0,
       "a missing file: %s", err);
    preset_set_release(&s);
}

int main(void)
{
    json_init();
    test_roles();
    test_presets();
    return done_testing();
}
