/* SPDX-License-Identifier: MIT */
/*
 * router_flight: the router's own requests in flight. Table rows for the edges (id 0, the same
 * id twice, a node's flights before a move number), then 20 000 random puts and deletes
 * checked against a plain array after each step, with ids chosen to collide in the table.
 */
#include "../../src/router/router_flight.h"
#include "orion/buf.h"
#include "../t.h"

#include <errno.h>

static void test_edges(void)
{
    struct rflights t;
    struct rflight f = {0, 3, 7, 1.5}, old;
    unsigned long long ids[4];
    bool had;

    rflights_init(&t);
    ok(!rflights_find(&t, 5) && !rflights_del(&t, 5, NULL), "empty: nothing found or deleted");
    ok(rflights_put(&t, &f, NULL, &had) == 0 && !had && t.n == 1, "id 0 is put");
    ok(rflights_find(&t, 0) && rflights_find(&t, 0) == rflights_find(&t, 1),
       "... and found as 1 (0 marks an empty slot)");
    f.id = 42;
    f.node = 3;
    f.seq = 9;
    rflights_put(&t, &f, NULL, NULL);
    f.node = 4;
    f.seq = 11;
    ok(rflights_put(&t, &f, &old, &had) == 0 && had && old.node == 3 && old.seq == 9 && t.n == 2,
       "the same id again replaces it and gives back the old one");
    is_int(rflights_find(&t, 42)->node, 4, "... the new one stands");
    f.id = 43;
    f.node = 3;
    f.seq = 12;
    rflights_put(&t, &f, NULL, NULL);
    is_int(rflights_of_node(&t, 3, 0, ids, 4), 2, "node 3: two flights");
    is_int(rflights_of_node(&t, 3, 12, ids, 4), 1, "node 3: one moved before move 12");
    ok(ids[0] == 1, "... the first one");
    is_int(rflights_of_node(&t, 3, 0, ids, 1), 2, "a short array: the count of all");
    ok(rflights_del(&t, 42, &old) && old.node == 4 && !rflights_find(&t, 42) && t.n == 2,
       "deleted, its copy given back");
    rflights_release(&t);
    ok(!t.slot && !t.n && !rflights_find(&t, 43), "released: empty again");
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define N 600
static void test_random(void)
{
    struct rflights t;
    unsigned long long model[N];
    size_t nmodel = 0, bad = 0;
    struct rflight f;

    rflights_init(&t);
    for (int step = 0; step < 20000; step++) {
        if (nmodel && (next() % 100 < 45 || nmodel == N)) {
            size_t k = (size_t)(next() % nmodel);
            if (!rflights_del(&t, model[k], NULL))
                bad++;
            model[k] = model[--nmodel];
        } else {
            /* ids that share their low 40 bits: long probe runs, wrapping the table */
            unsigned long long id = (next() % 1024) << 40 | 0x1234567ULL;
            bool dup = false;
            for (size_t i = 0; i < nmodel; i++)
                dup = dup || model[i] == id;
            memset(&f, 0, sizeof(f));
            f.id = id;
            f.node = (size_t)(id >> 40);
            if (rflights_put(&t, &f, NULL, NULL) < 0)
                bad++;
            if (!dup)
                model[nmodel++] = id;
        }
        if (t.n != nmodel)
            bad++;
        for (size_t i = 0; i < nmodel && step % 97 == 0; i++)
            if (!rflights_find(&t, model[i]) || rflights_find(&t, model[i])->node != model[i] >> 40)
                bad++;
    }
    for (size_t i = 0; i < nmodel; i++)
        if (!rflights_find(&t, model[i]))
            bad++;
    is_int(bad, 0, "20 000 random puts and deletes agree with a plain list (%zu left)", nmodel);
    rflights_release(&t);
}

static void test_oom(void)
{
    struct rflights t;
    struct rflight f = {7, 0, 0, 0};

    rflights_init(&t);
    orion_alloc_fail_at(1);
    errno = 0;
    ok(rflights_put(&t, &f, NULL, NULL) < 0 && errno == ENOMEM && !t.n, "no memory: -1 ENOMEM");
    orion_alloc_fail_at(0);
    ok(rflights_put(&t, &f, NULL, NULL) == 0 && rflights_find(&t, 7), "then it goes in");
    rflights_release(&t);
}

int main(void)
{
    test_edges();
    test_random();
    test_oom();
    return done_testing();
}
