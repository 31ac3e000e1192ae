/* SPDX-License-Identifier: MIT */
/*
 * route_conv: the prefix chain of a request's messages and the records of what a node's cache
 * holds, by tables: token estimates, the tail kept, what continues what (continuation,
 * regenerate, a changed message, another model, past ctx_tokens), slots with and without a
 * host cache, the victim a request would displace, a record's worth, the table's capacity.
 */
#include "orion/route_conv.h"
#include "../t.h"

#include <math.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1700000000.0

/* A chain of n messages "m0".."m{n-1}" of 40 bytes each (14 tokens each). */
static void chain(struct route_conv *c, size_t n, const char *tag)
{
    char text[40];

    route_conv_init(c);
    for (size_t i = 0; i < n; i++) {
        memset(text, 'x', sizeof(text));
        snprintf(text, sizeof(text), "%s%zu", tag, i);
        route_conv_add(c, i == 0 ? "system" : i % 2 ? "user" : "assistant", text, sizeof(text));
    }
}

static void test_tokens(void)
{
    static const struct {
        size_t len;
        unsigned long want;
    } rows[] = {{0, 4}, {1, 5}, {4, 5}, {5, 6}, {8, 6}, {400, 104}};
    struct route_conv c;
    char big[400];

    memset(big, 'x', sizeof(big));
    for (size_t i = 0; i < ELEMS(rows); i++) {
        route_conv_init(&c);
        route_conv_add(&c, "user", big, rows[i].len);
        is_int(route_conv_tokens(&c), rows[i].want, "tokens of a %zu-byte message", rows[i].len);
    }
    chain(&c, 3, "m");
    is_int(route_conv_tokens(&c), 3 * 14, "three messages of 40 bytes: 3 x 14 tokens");
    is_int(route_conv_tokens_at(&c, 0), 14, "tokens through message 0");
    route_conv_extend(&c, "12345678", 8);
    is_int(route_conv_tokens(&c), 3 * 14 + 2, "extend: 8 more bytes, 2 more tokens");
    route_conv_init(&c);
    route_conv_extend(&c, "x", 1);
    is_int(c.n, 0, "extend before any message: no-op");
}

static void test_chain(void)
{
    struct route_conv a, b;
    unsigned long long h;

    chain(&a, 4, "m");
    chain(&b, 4, "m");
    ok(route_conv_hash_at(&a, 3) == route_conv_hash_at(&b, 3), "same messages, same chain");
    chain(&b, 5, "m");
    ok(route_conv_hash_at(&a, 3) == route_conv_hash_at(&b, 3), "a longer chat shares the prefix");
    chain(&b, 4, "n");
    ok(route_conv_hash_at(&a, 0) != route_conv_hash_at(&b, 0), "other text, other chain");
    route_conv_init(&b);
    route_conv_add(&b, "user", "m0", 2);
    route_conv_init(&a);
    route_conv_add(&a, "system", "m0", 2);
    ok(route_conv_hash_at(&a, 0) != route_conv_hash_at(&b, 0), "other role, other chain");
    route_conv_init(&a);
    route_conv_add(&a, "us", "erm0", 4);
    ok(route_conv_hash_at(&a, 0) != route_conv_hash_at(&b, 0),
       "role and text are separated: 'us'+'erm0' is not 'user'+'m0'");
    h = route_conv_hash_at(&b, 0);
    route_conv_extend(&b, "img", 3);
    ok(route_conv_hash_at(&b, 0) != h, "extend changes the last message's hash");
    chain(&a, ROUTE_CONV_TAIL + 1, "m");
    ok(route_conv_hash_at(&a, 0) == 0 && route_conv_tokens_at(&a, 0) == 0,
       "message 0 of %d: not kept", ROUTE_CONV_TAIL + 1);
    ok(route_conv_hash_at(&a, 1) != 0 && route_conv_tokens_at(&a, 1) == 2 * 14,
       "message 1 of %d: kept, tokens through it", ROUTE_CONV_TAIL + 1);
    ok(route_conv_hash_at(&a, ROUTE_CONV_TAIL + 1) == 0, "past the end: 0");
    ok(route_conv_model("gemma3:1b") != route_conv_model("gemma3:4b"), "model hashes differ");
}

/* Continuation: a record of prompt n messages, a request of rn messages. */
static void test_match(void)
{
    static const struct {
        const char *name;
        unsigned long rec_n;
        const char *rec_tag; /* the record's chain's text */
        size_t req_n;
        const char *model;   /* the request's model */
        unsigned long ctx;
        unsigned long want;
    } rows[] = {
        {"next turn (n + 2): through the answer", 3, "m", 5, "a", 4096, 4 * 14},
        {"two turns later", 3, "m", 7, "a", 4096, 4 * 14},
        {"n + 1: through the last message it had", 3, "m", 4, "a", 4096, 3 * 14},
        {"regenerate (n): through message n - 1", 3, "m", 3, "a", 4096, 3 * 14},
        {"shorter than the record: no", 3, "m", 2, "a", 4096, 0},
        {"another conversation: no", 3, "o", 5, "a", 4096, 0},
        {"another model: no", 3, "m", 5, "b", 4096, 0},
        {"exactly ctx_tokens: yes", 3, "m", 5, "a", 5 * 14, 4 * 14},
        {"one token past ctx_tokens: no (Ollama cuts it)", 3, "m", 5, "a", 5 * 14 - 1, 0},
        {"ctx_tokens 0: no limit", 3, "m", 5, "a", 0, 4 * 14},
        {"record older than the kept tail: no", 1, "m", ROUTE_CONV_TAIL + 1, "a", 0, 0},
    };
    struct route_conv_table t;
    struct route_conv rc, q;
    int r;

    for (size_t i = 0; i < ELEMS(rows); i++) {
        memset(&t, 0, sizeof(t));
        chain(&rc, rows[i].rec_n, rows[i].rec_tag);
        route_conv_note_sent(&t, route_conv_model("a"), &rc, 100, 1, false, NOW);
        chain(&q, rows[i].req_n, "m");
        is_int(route_conv_cached(&t, route_conv_model(rows[i].model), &q, rows[i].ctx, &r),
               rows[i].want, "match: %s", rows[i].name);
        is_int(r, rows[i].want ? 0 : -1, "match: %s: record index", rows[i].name);
    }
    memset(&t, 0, sizeof(t));
    ok(route_conv_cached(&t, 1, NULL, 0, &r) == 0 && r == -1, "no chain: nothing cached");
    ok(route_conv_cached(NULL, 1, &q, 0, NULL) == 0, "no table: nothing cached");
}

/* Slots: what each node keeps after a sequence of sends of conversations A, B, C. */
static void test_slots(void)
{
    struct route_conv a, b, c, a2;
    struct route_conv_table t;
    unsigned long m = route_conv_model("a");

    chain(&a, 3, "A");
    chain(&b, 3, "B");
    chain(&c, 3, "C");
    chain(&a2, 5, "A");

    memset(&t, 0, sizeof(t));
    route_conv_note_sent(&t, m, &a, 50, 1, false, NOW);
    route_conv_note_sent(&t, m, &b, 50, 1, false, NOW + 1);
    ok(t.n == 1 && !route_conv_cached(&t, m, &a2, 0, NULL),
       "1 slot, no host cache: B pushed A out");
    is_int(t.rec[0].tokens, 3 * 14 + 50, "a record holds its prompt and its answer");

    memset(&t, 0, sizeof(t));
    route_conv_note_sent(&t, m, &a, 50, 1, true, NOW);
    route_conv_note_sent(&t, m, &b, 50, 1, true, NOW + 1);
    ok(t.n == 2 && route_conv_cached(&t, m, &a2, 0, NULL) == 4 * 14,
       "1 slot, host cache: A parked, still a hit");
    ok(!t.rec[0].live && t.rec[1].live, "host cache: A parked, B live");
    route_conv_note_sent(&t, m, &a2, 50, 1, true, NOW + 2);
    ok(t.n == 2 && t.rec[0].live && !t.rec[1].live && t.rec[0].n == 5,
       "A's next turn: A back in the slot (5 messages), B parked");

    memset(&t, 0, sizeof(t));
    route_conv_note_sent(&t, m, &a, 50, 2, false, NOW);
    route_conv_note_sent(&t, m, &b, 50, 2, false, NOW + 1);
    ok(t.n == 2 && t.rec[0].live && t.rec[1].live, "2 slots: A and B both live");
    route_conv_note_sent(&t, m, &c, 50, 2, false, NOW + 2);
    ok(t.n == 2 && !route_conv_cached(&t, m, &a2, 0, NULL),
       "2 slots, C: the least recent (A) goes");
    route_conv_note_sent(&t, route_conv_model("b"), &a, 50, 1, false, NOW + 3);
    is_int(t.n, 3, "another model has its own slot");
    route_conv_note_sent(&t, m, NULL, 50, 2, false, NOW + 4);
    ok(t.n == 3 && route_conv_cached(&t, m, &b, 0, NULL) == 0,
       "a prompt without a chain takes a slot: B, the least recent, went");
    route_conv_drop_model(&t, m);
    ok(t.n == 1 && t.rec[0].model == route_conv_model("b"), "drop_model: only that model's go");

    memset(&t, 0, sizeof(t)); /* capacity: the least recent parked, then live, is replaced */
    for (int i = 0; i < ROUTE_CONV_PER_NODE; i++) {
        struct route_conv x;
        char tag[4] = {'c', (char)('0' + i), 0, 0};
        chain(&x, 3, tag);
        route_conv_note_sent(&t, (unsigned long)i, &x, 50, 1, i < 4, NOW + i);
    }
    t.rec[5].live = false;
    route_conv_note_sent(&t, 99, &a, 50, 1, false, NOW + 10);
    ok(t.n == ROUTE_CONV_PER_NODE && t.rec[5].model == 99, "full: the parked one was replaced");
    route_conv_note_sent(&t, 98, &b, 50, 1, false, NOW + 11);
    ok(t.rec[0].model == 98, "full, none parked: the least recent live one was replaced");
}

static void test_victim(void)
{
    struct route_conv a, b, a2;
    struct route_conv_table t;
    unsigned long m = route_conv_model("a");

    chain(&a, 3, "A");
    chain(&b, 3, "B");
    chain(&a2, 5, "A");
    memset(&t, 0, sizeof(t));
    is_int(route_conv_victim(&t, m, &b, 1, 0), -1, "victim: empty node");
    route_conv_note_sent(&t, m, &a, 50, 1, false, NOW);
    is_int(route_conv_victim(&t, m, &b, 1, 0), 0, "victim: B would push A out");
    is_int(route_conv_victim(&t, m, &a2, 1, 0), -1, "victim: A's next turn takes its own slot");
    is_int(route_conv_victim(&t, m, NULL, 1, 0), 0, "victim: a prompt without a chain too");
    is_int(route_conv_victim(&t, m, &b, 2, 0), -1, "victim: 2 slots, one free");
    is_int(route_conv_victim(&t, route_conv_model("b"), &b, 1, 0), -1, "victim: another model");
    is_int(route_conv_victim(&t, m, &a2, 1, 4 * 14), 0,
           "victim: A's next turn past ctx_tokens misses, so it displaces");
    is_int(route_conv_victim(NULL, m, &a2, 1, 0), -1, "victim: no table");
}

static void test_worth(void)
{
    static const struct {
        double idle, tps, p, keep;
        bool live;
        double want;
    } rows[] = {
        {0, 50, 0.8, 600, true, 0.8 * 1000 / 50 * 1000}, /* 16 000 ms */
        {300, 50, 0.8, 600, true, 8000},
        {599, 50, 0.8, 600, true, 0.8 * (1 - 599.0 / 600) * 20000},
        {600, 50, 0.8, 600, true, 0},
        {-5, 50, 0.8, 600, true, 16000}, /* used "in the future": not more than fresh */
        {0, 50, 0.8, 600, false, 0},     /* parked: still in the host cache */
        {0, 0, 0.8, 600, true, 0},
        {0, 50, 0.8, 0, true, 0},
    };
    struct route_conv_rec r = {0};

    r.tokens = 1000;
    for (size_t i = 0; i < ELEMS(rows); i++) {
        r.used = NOW - rows[i].idle;
        r.live = rows[i].live;
        ok(fabs(route_conv_worth(&r, rows[i].tps, rows[i].p, rows[i].keep, NOW) - rows[i].want) <
               1e-6,
           "worth: idle %g s, %g t/s, p %g, keep %g, %s: %g ms", rows[i].idle, rows[i].tps,
           rows[i].p, rows[i].keep, rows[i].live ? "live" : "parked", rows[i].want);
    }
}

/* The learned chance of going on, by what was counted. */
static void test_chance(void)
{
    struct route_conv_stats s;
    struct route_conv_rec fresh = {.n = 2}, longer = {.n = 6};
    struct route_conv c[4];
    double p;

    for (size_t i = 0; i < 4; i++)
        chain(&c[i], 2 + 2 * i, "m"); /* 2, 4, 6, 8 messages */
    memset(&s, 0, sizeof(s));
    ok(fabs(route_conv_chance(&s, &fresh, 0.8) - 0.8) < 1e-12 &&
           fabs(route_conv_chance(&s, &longer, 0.8) - 0.8) < 1e-12,
       "chance: nothing counted: the prior");
    for (int i = 0; i < 1000; i++)
        route_conv_count(&s, &c[0]);
    p = route_conv_chance(&s, &fresh, 0.8);
    ok(p < 0.01, "chance: only first prompts: a fresh one goes on with %g", p);
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 1000; i++)
        for (size_t k = 0; k < 4; k++)
            route_conv_count(&s, &c[k]);
    p = route_conv_chance(&s, &fresh, 0.8);
    ok(p > 0.99 && p <= 1, "chance: every chat of 4 turns: a first prompt goes on (%g)", p);
    p = route_conv_chance(&s, &longer, 0.8);
    ok(fabs(p - 2.0 / 3) < 0.01, "chance: a later turn goes on 2 times in 3 (%g)", p);
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 100; i++)
        route_conv_count(&s, &c[1]);
    ok(route_conv_chance(&s, &fresh, 0.8) == 1, "chance: clamped at 1");
    route_conv_count(&s, NULL);
    ok(s.c[0] == 0, "chance: no chain, nothing counted");
}

int main(void)
{
    test_tokens();
    test_chain();
    test_match();
    test_slots();
    test_victim();
    test_worth();
    test_chance();
    return done_testing();
}
