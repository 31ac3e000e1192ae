/* SPDX-License-Identifier: MIT */
/* The pure parts of the front's issue-23 endpoints: embedding batches cut into pieces at the
 * count and byte caps, pieces spread over nodes, base64 as OpenAI writes it (gateway_vec.c);
 * Ollama versions compared (gateway_compat.c). */
#include "../../src/front/gateway_int.h"
#include "../t.h"

#include <string.h>

struct plan_case {
    const char *name;
    size_t len[8], n, max_count, max_bytes;
    size_t want[8], npieces;
};

static const struct plan_case plans[] = {
    {"one piece", {3, 3, 3}, 3, 64, 100, {0}, 1},
    {"count cap 2", {3, 3, 3, 3, 3}, 5, 2, 100, {0, 2, 4}, 3},
    {"count cap exactly met", {3, 3, 3, 3}, 4, 2, 100, {0, 2}, 2},
    /* [a,b] is 2 + 3 + 1 + 3 = 9 bytes: a third input of 3 makes 13 */
    {"byte cap: 9 fits, 13 does not", {3, 3, 3}, 3, 64, 12, {0, 2}, 2},
    {"byte cap met exactly", {3, 3, 3}, 3, 64, 13, {0}, 1},
    {"an input larger than the cap is a piece alone", {3, 50, 3}, 3, 64, 20, {0, 1, 2}, 3},
    {"one input", {7}, 1, 1, 9, {0}, 1},
};

static void test_plan(void)
{
    for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
        const struct plan_case *c = &plans[i];
        size_t first[8], np = gw_embed_plan(c->len, c->n, c->max_count, c->max_bytes, first);

        is_int(np, c->npieces, "%s: pieces", c->name);
        ok(np == c->npieces && !memcmp(first, c->want, np * sizeof(size_t)), "%s: first inputs",
           c->name);
    }
}

static void test_nodes(void)
{
    const char *res[] = {"r1", "r2"}, *oth[] = {"o1"}, *out[5];

    is_int(gw_embed_nodes(res, 2, oth, 1, 5, out), 3, "three nodes used");
    ok(!strcmp(out[0], "r1") && !strcmp(out[1], "r2") && !strcmp(out[2], "o1") &&
           !strcmp(out[3], "r1") && !strcmp(out[4], "r2"),
       "round robin: resident first, then the others");
    is_int(gw_embed_nodes(res, 1, oth, 0, 3, out), 0, "one node: none pinned");
    ok(!out[0] && !out[1] && !out[2], "... every piece left to the router");
    is_int(gw_embed_nodes(res, 0, oth, 0, 2, out), 0, "no node: none pinned");
    is_int(gw_embed_nodes(res, 0, res, 2, 3, out), 2, "two installed, none resident");
    ok(!strcmp(out[0], "r1") && !strcmp(out[2], "r1"), "... round robin over them");
}

static void test_base64(void)
{
    static const struct {
        const char *in, *want;
    } b[] = {
        {"[1]", "AACAPw=="},                   /* 1.0f = 00 00 80 3f */
        {"[1,-2]", "AACAPwAAAMA="},            /* -2.0f = 00 00 00 c0 */
        {"[]", ""},
        {"[ 0.5 , 0 , 1e0 ]", "AAAAPwAAAAAAAIA/"}, /* 0.5f = 00 00 00 3f */
    };

    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
        struct buf out;
        buf_init(&out, 1024);
        ok(gw_vec_base64(b[i].in, strlen(b[i].in), &out) == 0, "base64 %s: written", b[i].in);
        is_str(buf_data(&out), b[i].want, "base64 %s", b[i].in);
        buf_release(&out);
    }
}

static void test_versions(void)
{
    static const struct {
        const char *a, *b;
        int want;
    } v[] = {
        {"0.12.6", "0.12.6", 0},      {"0.12.6", "0.12.10", -1},   {"0.9.0", "0.12.0", -1},
        {"1.0.0", "0.99.99", 1},      {"0.13.0-rc1", "0.13.0", -1}, {"0.13.0", "0.13.0-rc1", 1},
        {"0.13.0-rc1", "0.13.0-rc2", -1}, {"0.12", "0.12.0", 0},   {"0.0.0", "0.1.0", -1},
        {"dev", "0.1.0", -1},         {"0.12.6+abc", "0.12.6", 1},
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int c = gw_version_cmp(v[i].a, v[i].b), r = gw_version_cmp(v[i].b, v[i].a);
        ok((c > 0) - (c < 0) == v[i].want && (r > 0) - (r < 0) == -v[i].want, "%s vs %s: %d",
           v[i].a, v[i].b, v[i].want);
    }
}

int main(void)
{
    test_plan();
    test_nodes();
    test_base64();
    test_versions();
    return done_testing();
}
