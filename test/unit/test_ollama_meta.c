/* SPDX-License-Identifier: MIT */
/*
 * ollama_meta: /api/tags, /api/ps and /api/show bodies as Ollama (and ollama-sim) write them,
 * fields of the wrong type left unknown, and every shape error.
 */
#include "orion/jsonw.h"
#include "orion/ollama_meta.h"
#include "orion/buf.h"
#include "../t.h"

static const char tags[] =
    "{\"models\":[{\"name\":\"gemma3:4b\",\"model\":\"gemma3:4b\",\"modified_at\":\"2025-08-18T09:15:04Z\","
    "\"size\":3338801804,\"digest\":\"a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a\","
    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"gemma3\",\"families\":[\"gemma3\"],"
    "\"parameter_size\":\"4.3B\",\"quantization_level\":\"Q4_K_M\"},\"capabilities\":[\"completion\",\"vision\"]},"
    "{\"name\":\"nomic-embed-text:latest\",\"size\":\"big\",\"details\":7}]}";
static const char ps[] =
    "{\"models\":[{\"name\":\"gemma3:1b\",\"model\":\"gemma3:1b\",\"size\":931000000,\"digest\":\"x\","
    "\"details\":{\"family\":\"gemma3\"},\"expires_at\":\"2025-08-18T09:20:04Z\",\"size_vram\":0,"
    "\"context_length\":4096}]}";
static const char show[] =
    "{\"license\":\"x\",\"modelfile\":\"# Modelfile\",\"parameters\":\"stop                           \\\"<end>\\\"\\n"
    "num_ctx                        8192\\ntemperature 1\",\"template\":\"{{ .Prompt }}\","
    "\"details\":{\"family\":\"nomic-bert\",\"parameter_size\":\"137M\",\"quantization_level\":\"F16\"},"
    "\"model_info\":{\"general.architecture\":\"nomic-bert\",\"general.file_type\":1,"
    "\"llama.context_length\":9,\"nomic-bert.context_length\":2048},\"capabilities\":[\"embedding\"]}";

static void test_tags_ps(void)
{
    struct ollama_model *m;
    size_t n;
    char err[160];

    ok(ollama_parse_tags(tags, sizeof(tags) - 1, &m, &n, err, sizeof(err)) == 0 && n == 2,
       "tags: two models");
    is_str(m[0].name, "gemma3:4b", "name");
    ok(m[0].size == 3338801804LL, "size on disk");
    is_str(m[0].family, "gemma3", "family");
    is_str(m[0].params, "4.3B", "parameter_size");
    is_str(m[0].quant, "Q4_K_M", "quantization_level");
    ok(m[0].has_caps && m[0].caps == (OLLAMA_CAP_COMPLETION | OLLAMA_CAP_VISION), "capabilities");
    ok(!m[0].loaded, "tags: not loaded");
    ok(m[1].size == 0 && !m[1].has_caps && !m[1].family[0], "wrong types are unknown");
    orion_free(m);
    ok(ollama_parse_ps(ps, sizeof(ps) - 1, &m, &n, err, sizeof(err)) == 0 && n == 1, "ps: one");
    ok(m[0].loaded && m[0].ram == 931000000LL && m[0].loaded_ctx == 4096 && m[0].size == 0,
       "ps: loaded, its memory and num_ctx in force");
    orion_free(m);
    ok(ollama_parse_tags("{\"models\":null}", 15, &m, &n, err, sizeof(err)) == 0 && n == 0 && !m,
       "models null: none");
    ok(ollama_parse_tags("{}", 2, &m, &n, err, sizeof(err)) == 0 && n == 0, "no models: none");
}

static void test_errors(void)
{
    static const char *const bad[] = {
        "", "[]", "{\"models\":{}}", "{\"models\":[{}]}", "{\"models\":[{\"name\":\"\"}]}",
        "{\"models\":[{\"name\":7}]}", "{\"models\":[", "nul",
    };
    struct ollama_model *m, one;
    size_t n;
    char err[160];
    struct buf b;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ok(ollama_parse_tags(bad[i], strlen(bad[i]), &m, &n, err, sizeof(err)) < 0 && err[0] &&
               !m && !n, "tags '%s' refused (%s)", bad[i], err);
    }
    buf_init(&b, 1 << 20);
    buf_puts(&b, "{\"models\":[");
    for (int i = 0; i <= ORION_HEALTH_MAX_LIST; i++)
        buf_printf(&b, "%s{\"name\":\"m%d\"}", i ? "," : "", i);
    buf_puts(&b, "]}");
    ok(ollama_parse_tags(buf_data(&b), buf_size(&b), &m, &n, err, sizeof(err)) < 0,
       "more than %d models refused", ORION_HEALTH_MAX_LIST);
    buf_reset(&b);
    for (int i = 0; i < 100; i++)
        buf_putc(&b, '[');
    ok(ollama_parse_show(buf_data(&b), buf_size(&b), &one, err, sizeof(err)) < 0,
       "nesting of 100 refused before parsing");
    buf_reset(&b);
    buf_puts(&b, "{\"models\":[{\"name\":\"");
    for (int i = 0; i <= ORION_MODEL_MAX; i++)
        buf_putc(&b, 'a');
    buf_puts(&b, "\"}]}");
    ok(ollama_parse_ps(buf_data(&b), buf_size(&b), &m, &n, err, sizeof(err)) < 0,
       "a name over %d bytes refused", ORION_MODEL_MAX);
    buf_release(&b);
}

static void test_show(void)
{
    struct ollama_model m;
    char err[160];

    memset(&m, 0, sizeof(m));
    ok(ollama_parse_show(show, sizeof(show) - 1, &m, err, sizeof(err)) == 0, "show parses");
    is_int(m.context_length, 2048, "context_length of the architecture's key");
    is_int(m.num_ctx, 8192, "the Modelfile's num_ctx");
    ok(m.shown && m.has_caps && m.caps == OLLAMA_CAP_EMBEDDING, "capabilities, shown");
    is_str(m.family, "nomic-bert", "family from details");
    memset(&m, 0, sizeof(m));
    ok(ollama_parse_show("{\"model_info\":{\"x.context_length\":131072},\"parameters\":\"\"}", 58,
                         &m, err, sizeof(err)) == 0 && m.context_length == 131072 && !m.num_ctx,
       "no architecture: the first *.context_length; no num_ctx line");
    is_str(ollama_cap_name(OLLAMA_CAP_VISION), "vision", "cap name");
    is_int(ollama_cap_parse("insert"), OLLAMA_CAP_INSERT, "cap parse");
    is_int(ollama_cap_parse("flying"), 0, "unknown cap");
}

int main(void)
{
    json_init();
    test_tags_ps();
    test_errors();
    test_show();
    return done_testing();
}
