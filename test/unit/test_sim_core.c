/* SPDX-License-Identifier: MIT */
/*
 * sim_core: ollama-sim's pure cores by tables. The token rule and the template (turn N's
 * prompt is a prefix of turn N+1's), chatPrompt's dropping, both generations' truncation
 * edges; the prompt cache of the Go runners (longest, multiuser) and of llama-server
 * (similarity, LRU, host cache, budget); structured output (exact values, bounds over many
 * seeds, $ref, steering, depth); Go's float, %q, base64 and duration formats; model names.
 */
#include "native.h" /* tools/ollama-sim (-I for test_sim_*) */
#include "../t.h"

#include <math.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct piece_case {
    const char *text;
    int tokens;
    size_t first;
};

static void test_pieces(void)
{
    static const struct piece_case c[] = {
        {"", 0, 0},
        {"Hello", 1, 5},
        {"Hello, world!", 4, 5},
        {"question", 2, 5}, /* words are cut every TOK_WORD_MAX bytes */
        {" x", 1, 2},       /* one space joins the word after it */
        {"  x", 2, 1},      /* a second space is a piece of its own */
        {"a\nb", 3, 1},     /* a newline too */
        {"\303\274ber", 1, 5}, /* bytes >= 0x80 are word bytes */
        {"x<>&", 4, 1},
        {"The sky is blue.", 5, 3},
    };
    size_t i;

    for (i = 0; i < ELEMS(c); i++) {
        is_int(tok_count(c[i].text, strlen(c[i].text)), c[i].tokens, "piece case %zu: %d tokens", i,
               c[i].tokens);
        is_int(tok_piece(c[i].text, strlen(c[i].text)), c[i].first, "  the first is %zu bytes",
               c[i].first);
    }
    ok(tok_id("a", 1) >= 256 && tok_id("a", 1) < TOK_BOS && tok_id("a", 1) == tok_id("a", 1) &&
           tok_id("a", 1) != tok_id(" a", 2),
       "piece ids are stable, below the special tokens, and the space counts");
}

static void render(struct tokv *t, const struct tok_msg *m, int n, int first)
{
    tokv_init(t);
    tok_render_chat(t, m, n, first, NULL, 0);
}

static void test_template(void)
{
    const struct tok_msg turn1[] = {{"system", "Be brief.", 9, NULL, 0},
                                    {"user", "Hi there", 8, NULL, 0}};
    const struct tok_msg turn2[] = {{"system", "Be brief.", 9, NULL, 0},
                                    {"user", "Hi there", 8, NULL, 0},
                                    {"assistant", "Hello friend.", 13, NULL, 0},
                                    {"user", "Why?", 4, NULL, 0}};
    const uint32_t img = 42;
    const struct tok_msg pic[] = {{"user", "What is this?", 13, &img, 1}};
    struct tokv a, b, ans;

    render(&a, turn1, 1, 0);
    is_int(a.n, 1 + 3 + 3 + 1 + 3, "BOS, START system END, 3 pieces, EOT, START assistant END");
    tokv_release(&a);
    render(&a, turn1, 2, 0);
    render(&b, turn2, 4, 0);
    tokv_init(&ans);
    tokv_text(&ans, "Hello friend.", 13);
    is_int(kv_lcp(a.v, a.n, b.v, b.n), a.n, "turn 1's prompt is a prefix of turn 2's");
    is_int(kv_lcp(b.v + a.n, b.n - a.n, ans.v, ans.n), ans.n,
           "followed by turn 1's answer as the slot keeps it");
    is_int(b.v[a.n + ans.n], TOK_EOT, "then the end of the assistant's turn");
    tokv_release(&a);
    tokv_release(&b);
    tokv_release(&ans);
    tokv_init(&a);
    tok_render_chat(&a, pic, 1, 0, NULL, 1);
    tokv_init(&b);
    tok_render_chat(&b, pic, 1, 0, NULL, 0);
    is_int(a.n - b.n, TOK_IMAGE_TOKENS, "a vision model's image adds TOK_IMAGE_TOKENS tokens");
    tokv_release(&a);
    tokv_release(&b);
}

static void test_fit(void)
{
    const struct tok_msg m[] = {{"system", "Be brief.", 9, NULL, 0},
                                {"user", "one two three four five six seven", 33, NULL, 0},
                                {"assistant", "ok", 2, NULL, 0},
                                {"user", "last", 4, NULL, 0}};
    struct tokv t;
    int all, from2, i;

    render(&t, m, 4, 0);
    all = t.n;
    tokv_release(&t);
    render(&t, m, 4, 2);
    from2 = t.n;
    tokv_release(&t);
    is_int(tok_chat_fit(m, 4, NULL, 0, all), 0, "num_ctx = the whole render: nothing dropped");
    is_int(tok_chat_fit(m, 4, NULL, 0, all - 1), 2,
           "one token less: the first user turn goes (dropping the system message alone changes "
           "nothing)");
    is_int(tok_chat_fit(m, 4, NULL, 0, from2), 2,
           "the render from message 2 fits: the system message stays");
    is_int(tok_chat_fit(m, 4, NULL, 0, from2 - 1), 3,
           "one less: only the system and the last message");
    is_int(tok_chat_fit(m, 4, NULL, 0, 5), 3, "the last message always stays");
    render(&t, m, 4, 3);
    for (i = 0; i < t.n && t.v[i] != TOK_START; i++)
        ;
    ok(t.n > i + 1 && t.v[i + 1] == tok_id("system", 6),
       "a dropped prefix keeps its system message");
    tokv_release(&t);
}

struct trunc_case {
    int n, gen;
    long ctx, keep;
    int want_n, want_cut;
};

static void test_truncate(void)
{
    static const struct trunc_case c[] = {
        {50, 24, 50, 4, 50, 0}, /* <= v0.24: up to num_ctx fits */
        {51, 24, 50, 4, 50, 1}, /* one over: cut to num_ctx */
        {100, 24, 50, 4, 50, 50},
        {100, 24, 50, 80, 50, 50}, /* num_keep capped at num_ctx - 1 */
        {49, 30, 50, 4, 49, 0},    /* >= v0.30: up to num_ctx - 1 fits */
        {50, 30, 50, 4, 28, 22},   /* 50 - max((50 - 5) / 2, 1): keep 4 + BOS */
        {100, 30, 50, 4, 28, 72},
        {100, 30, 50, -1, 49, 51}, /* num_keep -1 keeps everything it can: limit 50 - 1 */
    };
    size_t i;
    int k;

    for (i = 0; i < ELEMS(c); i++) {
        struct tokv t;
        int cut, keep = (c[i].keep < 0 ? c[i].n : (int)c[i].keep) + (c[i].gen >= 30);
        bool head = true, tail = true;

        tokv_init(&t);
        for (k = 0; k < c[i].n; k++)
            tokv_push(&t, (uint32_t)k);
        cut = tok_truncate(&t, c[i].ctx, c[i].keep, c[i].gen);
        is_int(t.n, c[i].want_n, "gen %d, %d tokens, num_ctx %ld, num_keep %ld: %d left", c[i].gen,
               c[i].n, c[i].ctx, c[i].keep, c[i].want_n);
        is_int(cut, c[i].want_cut, "  and %d removed", c[i].want_cut);
        keep = keep < c[i].ctx - 1 ? keep : (int)c[i].ctx - 1;
        keep = keep < t.n ? keep : t.n;
        for (k = 0; k < keep && cut; k++)
            head &= t.v[k] == (uint32_t)k;
        for (k = keep; k < t.n && cut; k++)
            tail &= t.v[k] == (uint32_t)(c[i].n - (t.n - k));
        ok(head && tail, "  the first num_keep tokens and the tail stay, in order");
        tokv_release(&t);
    }
}

static const uint32_t ans[5] = {7, 8, 9, 10, 11}; /* every answer, as the slot keeps it */

/* a chat's prompt at turn 1: a shared header (BOS + system), then its own 20 tokens; at turn 2
 * turn 1's prompt, its answer and 20 more of its own */
static int chat(uint32_t *v, uint32_t who, int turn)
{
    int n = 0, i;

    v[n++] = TOK_BOS;
    for (i = 0; i < 3; i++)
        v[n++] = 1000 + (uint32_t)i;
    for (i = 0; i < 20; i++)
        v[n++] = who * 100000 + (uint32_t)i;
    for (i = 0; turn > 1 && i < 5; i++)
        v[n++] = ans[i];
    for (i = 0; turn > 1 && i < 20; i++)
        v[n++] = who * 100000 + 50 + (uint32_t)i;
    return n;
}

static int use(struct kv_cache *kv, const uint32_t *p, int n, int *slot)
{
    int cached;

    *slot = kv_acquire(kv, p, n, &cached);
    kv_release(kv, *slot, ans, 5);
    return cached;
}

static void test_runner_cache(void)
{
    struct kv_cache kv;
    uint32_t a[200], b[200], a2[200];
    int na = chat(a, 1, 1), nb = chat(b, 2, 1), na2 = chat(a2, 1, 2), slot, c, busy;

    kv_init(&kv, KV_RUNNER, 2, 0);
    is_int(use(&kv, a, na, &slot), 0, "runner: a cold prompt evaluates everything");
    is_int(slot, 0, "  in slot 0 (ties go to the lowest index)");
    c = use(&kv, b, nb, &slot);
    is_int(slot, 0,
           "runner: another chat takes the occupied slot 0 (longest prefix: the shared header)");
    is_int(c, 4, "  and reuses the shared header only");
    is_int(use(&kv, a2, na2, &slot), 4, "runner: the first chat's next turn misses (clobbered)");
    is_int(use(&kv, a2, na2, &slot), na2 - 1,
           "runner: the same prompt again: all cached but one token");
    busy = kv_acquire(&kv, a2, na2, &c);
    is_int(kv_acquire(&kv, a2, na2, &c), 1 - busy, "runner: a busy slot is skipped");
    is_int(c, 0, "  and the free one (never used) holds nothing");
    ok(kv_acquire(&kv, a2, na2, &c) < 0, "runner: no free slot: -1");
    kv_clear(&kv);

    kv_init(&kv, KV_MULTIUSER, 2, 0);
    use(&kv, a, na, &slot);
    is_int(slot, 0, "multiuser: the first chat in slot 0");
    is_int(use(&kv, b, nb, &slot), 4,
           "multiuser: the second gets the oldest free slot and a copy of the header");
    is_int(slot, 1, "  slot 1, so slot 0 is left alone");
    is_int(use(&kv, a2, na2, &slot), na + 5,
           "multiuser: the first chat's next turn hits (its prompt and answer)");
    is_int(slot, 0, "  in slot 0");
    kv_clear(&kv);
}

static void test_server_cache(void)
{
    struct kv_cache kv;
    uint32_t a[200], b[200], a2[200];
    int na = chat(a, 1, 1), nb = chat(b, 2, 1), na2 = chat(a2, 1, 2), slot;

    kv_init(&kv, KV_SERVER, 2, 0);
    use(&kv, a, na, &slot);
    is_int(slot, 1, "server: empty slots go by LRU, ties to the highest index");
    kv_clear(&kv);

    kv_init(&kv, KV_SERVER, 1, 1000);
    use(&kv, a, na, &slot);
    is_int(use(&kv, b, nb, &slot), 4, "server, one slot: another chat reuses the header");
    is_int(kv_saved_count(&kv), 1, "  and the first chat went to the host cache");
    is_int(use(&kv, a2, na2, &slot), na + 5,
           "server: the first chat's next turn comes back from the host cache");
    is_int(kv_saved_count(&kv), 1, "  (the second chat saved, the first restored)");
    kv_clear(&kv);
    is_int(kv_saved_count(&kv), 0, "server: an unload drops the host cache");
    is_int(use(&kv, a2, na2, &slot), 0, "  and the slots");
    kv_clear(&kv);

    kv_init(&kv, KV_SERVER, 1, 0);
    use(&kv, a, na, &slot);
    use(&kv, b, nb, &slot);
    is_int(use(&kv, a2, na2, &slot), 4, "server with --cache-ram-mib 0: the first chat misses");
    kv_clear(&kv);

    kv_init(&kv, KV_SERVER, 1, 100);
    use(&kv, a, na, &slot);
    use(&kv, b, nb, &slot);
    use(&kv, a2, na2, &slot);
    ok(kv.saved_tokens <= 100 || kv_saved_count(&kv) == 1,
       "server: the host cache stays within its budget (one state may stay)");
    kv_clear(&kv);

    kv_init(&kv, KV_SERVER, 2, 10000);
    use(&kv, a, na, &slot);
    use(&kv, b, nb, &slot);
    is_int(slot, 1,
           "server, two slots: the second chat takes the first one's slot (4 of 24 shared > 0.1)");
    is_int(use(&kv, a2, na2, &slot), na + 5,
           "  the first chat's next turn is restored from the host cache");
    is_int(slot, 0, "  into the least recently used slot");
    is_int(kv_saved_count(&kv), 1,
           "  and the idle slot of the second chat is copied there when it starts");
    kv_clear(&kv);

    kv_init(&kv, KV_NONE, 1, 0);
    use(&kv, a, na, &slot);
    is_int(use(&kv, a, na, &slot), 0, "none: nothing is reused");
    kv_clear(&kv);
}

static char *gen_json(const char *schema, uint32_t seed, const struct schema_steer *st)
{
    cJSON *s = cJSON_Parse(schema);
    struct buf b;
    char *out;

    buf_init(&b, 1 << 20);
    schema_gen(s, seed, st, "An answer.", &b);
    out = buf_detach(&b, NULL);
    cJSON_Delete(s);
    return out;
}

struct schema_case {
    const char *schema;
    uint32_t seed;
    const char *want;
};

static void test_schema(void)
{
    static const struct schema_case c[] = {
        {"\"json\"", 1, "{\"answer\":\"An answer.\"}"},
        {"{\"type\":\"boolean\"}", 3, "true"},
        {"{\"type\":\"null\"}", 3, "null"},
        {"{\"enum\":[\"red\",\"green\",\"blue\"]}", 4, "\"green\""},
        {"{\"const\":{\"a\":1}}", 9, "{\"a\":1}"},
        {"{\"type\":\"integer\",\"minimum\":3,\"maximum\":7}", 50, "5"},
        {"{\"type\":\"number\",\"minimum\":0,\"maximum\":1}", 73, "0.73"},
        {"{\"type\":[\"null\",\"number\"],\"maximum\":10}", 0, "-90"},
        {"{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":2}", 7,
         "[NUM,NUM]"},
        {"{\"type\":\"string\",\"format\":\"date\"}", 0, "\"2025-01-01\""},
        {"{\"$defs\":{\"b\":{\"type\":\"boolean\"}},\"$ref\":\"#/$defs/b\"}", 2, "false"},
        {"{\"anyOf\":[{\"type\":\"null\"},{\"enum\":[1]}]}", 2, "1"},
    };
    size_t i;

    for (i = 0; i < ELEMS(c); i++) {
        char *got = gen_json(c[i].schema, c[i].seed, NULL);
        cJSON *parsed = cJSON_Parse(got);

        ok(parsed != NULL, "%s: valid JSON (%s)", c[i].schema, got);
        if (strncmp(c[i].want, "[NUM", 4) == 0)
            is_int(cJSON_GetArraySize(parsed), 2, "  two items (minItems = maxItems = 2)");
        else
            is_str(got, c[i].want, "  seed %u", c[i].seed);
        cJSON_Delete(parsed);
        orion_free(got);
    }
}

static void test_schema_bounds(void)
{
    const char *critic =
        "{\"type\":\"object\",\"properties\":{\"score\":{\"type\":\"number\",\"minimum\":0,"
        "\"maximum\":1},\"issues\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
        "\"minItems\":1,\"maxItems\":2}},\"required\":[\"score\",\"issues\"]}";
    struct schema_steer st = {true, 0.85}, high = {true, 7};
    bool in = true, same = true, steered;
    cJSON *parsed;
    uint32_t seed;
    char *a, *b;

    for (seed = 0; seed < 300; seed++) {
        cJSON *j;
        double v;
        int n;

        a = gen_json(critic, seed, NULL);
        b = gen_json(critic, seed, NULL);
        same &= strcmp(a, b) == 0;
        j = cJSON_Parse(a);
        v = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "score"));
        n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "issues"));
        in &= j && v >= 0 && v <= 1 && n >= 1 && n <= 2 && strncmp(a, "{\"score\":", 9) == 0;
        cJSON_Delete(j);
        orion_free(a);
        orion_free(b);
    }
    ok(same, "the critic schema: the same seed gives the same bytes (300 seeds)");
    ok(in, "  score within 0..1, issues 1..2 items, properties in the schema's order");
    a = gen_json(critic, 5, &st);
    b = gen_json(critic, 5, &high);
    steered = strncmp(a, "{\"score\":0.85,", 14) == 0 && strncmp(b, "{\"score\":1,", 11) == 0;
    ok(steered,
       "a steered score (0.85) is written as given, one out of bounds (7) is kept at maximum (%s, "
       "%s)",
       a, b);
    orion_free(a);
    orion_free(b);
    a = gen_json("{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#\"}}}", 1, NULL);
    parsed = cJSON_Parse(a);
    ok(strstr(a, "null") && parsed, "a schema that refers to itself ends in null at depth %d",
       SCHEMA_MAX_DEPTH);
    cJSON_Delete(parsed);
    orion_free(a);
}

struct float_case {
    double v;
    int bits;
    const char *want;
};

static void test_go_formats(void)
{
    /* what Go's encoding/json writes for these float32 / float64 values */
    static const struct float_case f[] = {
        {0.1f, 32, "0.1"},
        {1e-7f, 32, "1e-7"},
        {1.5e-7f, 32, "1.5e-7"},
        {0.000001f, 32, "0.000001"},
        {123456789.0f, 32, "123456790"},
        {1e21f, 32, "1e+21"},
        {-0.5f, 32, "-0.5"},
        {0, 32, "0"},
        {3.4028235e38f, 32, "3.4028235e+38"},
        {0.1f, 64, "0.10000000149011612"},
        {100, 64, "100"},
        {1e-10, 64, "1e-10"},
        {0.000123, 64, "0.000123"},
        {123.456, 64, "123.456"},
    };
    static const struct {
        const char *in, *want;
    } q[] = {
        {"\"xml\"", "\"\\\"xml\\\"\""},
        {"5", "\"5\""},
        {"a\\b\n", "\"a\\\\b\\n\""},
        {"\x01", "\"\\x01\""},
    };
    static const struct {
        const char *in;
        int want;
    } b64[] = {
        {"aGVsbG8=", -1}, {"", -1},         {"aGVsbG8", 4}, {"aGVs!G8=", 4},
        {"a===", 1},      {"aGVsbA==x", 8}, {"aGVsbA=", 7}, {"aGVs\nbG8=", -1},
    };
    size_t i;
    char err[128];
    long long ns;

    for (i = 0; i < ELEMS(f); i++) {
        struct buf b;

        buf_init(&b, 64);
        if (f[i].bits == 32)
            go_float32(&b, (float)f[i].v);
        else
            go_float64(&b, f[i].v);
        is_str(buf_data(&b), f[i].want, "float%d %s", f[i].bits, f[i].want);
        buf_release(&b);
    }
    for (i = 0; i < ELEMS(q); i++) {
        struct buf b;

        buf_init(&b, 64);
        go_q(&b, q[i].in, strlen(q[i].in));
        is_str(buf_data(&b), q[i].want, "%%q case %zu", i);
        buf_release(&b);
    }
    for (i = 0; i < ELEMS(b64); i++)
        is_int(go_b64_check(b64[i].in), b64[i].want, "base64 case %zu: %d", i, b64[i].want);
    ok(go_parse_duration("1h30m", &ns, err, sizeof err) == 0 && ns == 5400000000000LL,
       "duration 1h30m");
    ok(go_parse_duration("300", &ns, err, sizeof err) < 0 &&
           strcmp(err, "time: missing unit in duration \"300\"") == 0,
       "duration \"300\": missing unit");
}

static void test_names(void)
{
    static const struct {
        const char *name;
        bool ok;
        const char *full;
    } n[] = {
        {"llama3.2:1b", true, "registry.ollama.ai/library/llama3.2:1b"},
        {"gemma3", true, "registry.ollama.ai/library/gemma3:latest"},
        {"me/model:v1", true, "registry.ollama.ai/me/model:v1"},
        {"host.example:5000/me/model", true, "host.example:5000/me/model:latest"},
        {"", false, NULL},
        {"bad name", false, NULL},
        {"-x", false, NULL},
        {"a:b:c", false, NULL},
        {"a.b/m", false, NULL},
        {"h/n/m/x", false, NULL},
    };
    size_t i;

    for (i = 0; i < ELEMS(n); i++) {
        char full[ORION_MODEL_MAX + 64];

        is_int(sim_name_valid(n[i].name), n[i].ok, "name \"%s\": %s", n[i].name,
               n[i].ok ? "valid" : "invalid");
        if (n[i].full) {
            sim_full_name(n[i].name, full, sizeof full);
            is_str(full, n[i].full, "  its full name");
        }
    }
}

int main(void)
{
    test_pieces();
    test_template();
    test_fit();
    test_truncate();
    test_runner_cache();
    test_server_cache();
    test_schema();
    test_schema_bounds();
    test_go_formats();
    test_names();
    return done_testing();
}
