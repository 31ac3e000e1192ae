/* SPDX-License-Identifier: MIT */
/*
 * admit: requests in flight counted per model (added, replaced, answered, a node's stream
 * emptied, expired), the waiting list's bound and the retry-after arithmetic at its edges.
 */
#include "orion/admit.h"
#include "../t.h"

static void test_flights(void)
{
    struct admit a;

    admit_init(&a);
    ok(admit_flight_add(&a, "r1", 2, "gemma3:1b", "pi-a", 10) == 0, "r1 in flight");
    ok(admit_flight_add(&a, "r2", 2, "gemma3:1b", "pi-b", 11) == 0, "r2 in flight");
    ok(admit_flight_add(&a, "r3", 2, "qwen2.5:0.5b", "pi-a", 12) == 0, "r3 in flight");
    is_int(admit_flight_count(&a, "gemma3:1b"), 2, "two of gemma3:1b");
    is_int(admit_flight_count(&a, "qwen2.5:0.5b"), 1, "one of qwen");
    is_int(admit_flight_count(&a, "llama3.2:1b"), 0, "none of llama");
    ok(admit_flight_add(&a, "r2", 2, "gemma3:1b", "pi-c", 13) == 0 && a.n == 3,
       "a request moved again is counted once");
    ok(admit_flight_done(&a, "r1", 2), "r1 answered");
    ok(!admit_flight_done(&a, "r1", 2), "... once");
    is_int(admit_flight_count(&a, "gemma3:1b"), 1, "one gemma3:1b left");
    is_int(admit_flight_node_idle(&a, "pi-a"), 1, "pi-a's stream is empty: r3 is over");
    is_int(admit_flight_count(&a, "qwen2.5:0.5b"), 0, "no qwen left");
    is_int(admit_flight_expire(&a, 13), 0, "r2 moved at 13 is not older than 13");
    is_int(admit_flight_expire(&a, 13.5), 1, "... and is older than 13.5");
    is_int(a.n, 0, "nothing in flight");
    for (int i = 0; i < 1000; i++) {
        char id[16];
        int n = snprintf(id, sizeof(id), "x%d", i);
        admit_flight_add(&a, id, (size_t)n, i % 2 ? "a:latest" : "b:latest", "n", i);
    }
    is_int(admit_flight_count(&a, "a:latest"), 500, "1000 flights: 500 of each");
    admit_release(&a);
    ok(a.n == 0 && a.f == NULL, "released");
}

static void test_bound(void)
{
    ok(!admit_full(1000000, 0), "0: unbounded");
    ok(!admit_full(9, 10), "9 of 10: room");
    ok(admit_full(10, 10), "10 of 10: full");
    is_int(admit_retry_after_ms(0, 1, 400), 1000, "at least 1 s");
    is_int(admit_retry_after_ms(10, 4, 3000), 9000, "11 x 3 s over 4 slots: 8.25 s, up to 9 s");
    is_int(admit_retry_after_ms(1000, 1, 15000), 60000, "at most 60 s");
    is_int(admit_retry_after_ms(1, 0, 0), 30000, "defaults: 1 slot, 15 s a request");
}

int main(void)
{
    test_flights();
    test_bound();
    return done_testing();
}
