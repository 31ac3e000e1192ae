/* SPDX-License-Identifier: MIT */
/*
 * The router's waiting list (router_wait.c, router_try_place) against a real redis-server:
 * order (priority, then arrival), deadlines answered no_available_nodes, cancel by request id
 * and through P:cancel, the pool of held requests and its limits, duplicates and bad entries.
 * Two routers live side by side in this process: nothing of a router is global.
 */
#include "../../src/router/router_int.h"
#include "orion/entry.h"
#include "orion/log.h"
#include "../t.h"
#include "../testsrv.h"

#include <stdarg.h>

static struct testsrv srv;
static struct redis_sync *rs;

static struct router_conf conf(const char *prefix)
{
    struct router_conf rc;

    memset(&rc, 0, sizeof(rc));
    rc.c.redis_addr = srv.addr;
    rc.c.prefix = prefix;
    rc.max_temp = 75;
    rc.max_ram = 90;
    rc.stale_after = 15;
    rc.queue_timeout = 600;
    rc.service_ms = 15000;
    rc.cold_load_ms = 5000;
    rc.load_factor = 125;
    rc.policy = "sticky";
    rc.router_id = "r1";
    return rc;
}

static void spin(struct router *r, long ms)
{
    int64_t end = loop_now() + ms;

    while (loop_now() < end)
        loop_once(r->l, 10);
}

static struct router *start(const struct router_conf *rc)
{
    int code;
    struct router *r = router_new(rc, &code);
    int64_t end = loop_now() + 3000 * t_slow();

    if (!r)
        return NULL;
    redis_start(r->cmd);
    while (!redis_up(r->cmd) && loop_now() < end)
        loop_once(r->l, 10);
    spin(r, 100);
    r->health_seen = true; /* no node: every request waits */
    return r;
}

/* Hold the entry [id, fields] (n words: field, value, ...) as XREADGROUP would give it. */
static void hold(struct router *r, const char *id, int n, ...)
{
    const char *words[32];
    struct buf b;
    struct resp_reader rd;
    struct resp_reply *e = NULL;
    va_list ap;

    va_start(ap, n);
    for (int i = 0; i < n && i < 32; i++)
        words[i] = va_arg(ap, const char *);
    va_end(ap);
    buf_init(&b, 1 << 20);
    buf_printf(&b, "*2\r\n$%zu\r\n%s\r\n", strlen(id), id);
    resp_format(&b, n < 32 ? n : 32, words, NULL);
    resp_reader_init(&rd);
    resp_reader_feed(&rd, buf_data(&b), buf_size(&b));
    if (resp_reader_get(&rd, &e) == 1)
        router_hold(r, e, r->keys.requests, CONTRACT_GROUP_ROUTER, 0);
    resp_reply_free(e);
    resp_reader_release(&rd);
    buf_release(&b);
}

/* The code of the answer on a callback stream ("" when none). */
static const char *answer_code(const char *cb)
{
    static char code[64];
    char err[128];
    struct resp_reply *x = redis_sync_cmd(rs, err, sizeof(err), "XRANGE", cb, "-", "+",
                                          (char *)NULL);
    const struct resp_reply *f = resp_at(resp_at(x, 0), 1), *c = resp_field(f, "code");

    snprintf(code, sizeof(code), "%s", c && c->type == RESP_BULK ? c->str : "");
    resp_reply_free(x);
    return code;
}

static bool waiting(const struct router *r, const char *request_id)
{
    for (size_t i = 0; i < r->nw; i++)
        if (entry_is(contract_request_id(&r->w[i]->req), request_id))
            return true;
    return false;
}

static void test_order_deadline(struct router *r)
{
    char id[5][32];
    long long now = (long long)(router_now(r) * 1000);

    for (int i = 0; i < 5; i++)
        snprintf(id[i], sizeof(id[i]), "%lld-%d", now - 5000 + i * 1000, i);
    hold(r, id[0], 8, "model", "m", "prompt", "p", "priority", "1", "request_id", "low");
    hold(r, id[1], 8, "model", "m", "prompt", "p", "priority", "3", "request_id", "high");
    hold(r, id[2], 6, "model", "m", "prompt", "p", "request_id", "normal-old");
    hold(r, id[3], 6, "model", "m", "prompt", "p", "request_id", "normal-new");
    /* waited 1 s of its 1 ms: past its deadline */
    hold(r, id[4], 10, "model", "m", "prompt", "p", "request_id", "late", "timeout_ms", "1",
         "callback", "t:cb:late");
    is_int(r->nw, 5, "five held");
    router_try_place(r);
    is_int(r->nw, 4, "the one past its deadline is dropped");
    ok(r->nw == 4 && entry_is(contract_request_id(&r->w[0]->req), "high"), "order: priority 3 first");
    ok(r->nw == 4 && entry_is(contract_request_id(&r->w[1]->req), "normal-old"),
       "order: then priority 2, older first");
    ok(r->nw == 4 && entry_is(contract_request_id(&r->w[2]->req), "normal-new"), "... then newer");
    ok(r->nw == 4 && entry_is(contract_request_id(&r->w[3]->req), "low"), "order: priority 1 last");
    spin(r, 200);
    is_str(answer_code("t:cb:late"), "no_available_nodes", "deadline: answered no_available_nodes");
    is_int(r->cnt.timeouts, 1, "deadline: counted");
    hold(r, id[1], 8, "model", "m", "prompt", "p", "priority", "3", "request_id", "high");
    is_int(r->nw, 4, "the same entry read again is held once");
    hold(r, "1-1", 6, "model", "a b", "prompt", "p", "callback", "t:cb:bad");
    is_int(r->nw, 4, "a bad entry is not held");
    spin(r, 200);
    is_str(answer_code("t:cb:bad"), "bad_request", "... it is answered bad_request");
}

static void test_cancel(struct router *r)
{
    long long now = (long long)(router_now(r) * 1000);
    char id[32], err[128];

    snprintf(id, sizeof(id), "%lld-9", now);
    hold(r, id, 8, "model", "m", "prompt", "p", "request_id", "c1", "callback", "t:cb:c1");
    snprintf(id, sizeof(id), "%lld-10", now);
    hold(r, id, 8, "model", "m", "prompt", "p", "request_id", "c2", "callback", "t:cb:c2");
    ok(router_cancel(r, "c1"), "cancel by id: it was waiting");
    ok(!waiting(r, "c1") && waiting(r, "c2"), "... it is gone, the other one stays");
    ok(!router_cancel(r, "c1") && !router_cancel(r, "nope"), "cancel of what is not held: false");
    spin(r, 200);
    is_str(answer_code("t:cb:c1"), "canceled", "... answered canceled");
    resp_reply_free(redis_sync_cmd(rs, err, sizeof(err), "SET", "t:cancel:c2", "1", (char *)NULL));
    router_cancel_poll(r);
    spin(r, 300);
    ok(!waiting(r, "c2"), "P:cancel: the poll finds it and drops it");
    is_str(answer_code("t:cb:c2"), "canceled", "... answered canceled");
}

static void test_pool(struct router *r)
{
    static char big[3000];
    long long now = (long long)(router_now(r) * 1000);
    size_t pooled = 0, before = r->nw;
    char id[32], rid[16];

    for (int i = 0; i < ROUTER_WAIT_POOL + 8; i++) {
        snprintf(id, sizeof(id), "%lld-%d", now, 100 + i);
        snprintf(rid, sizeof(rid), "p%d", i);
        hold(r, id, 6, "model", "m", "prompt", "p", "request_id", rid);
    }
    for (size_t i = 0; i < r->nw; i++)
        pooled += r->w[i]->pooled;
    is_int(r->nw, before + ROUTER_WAIT_POOL + 8, "pool: %d more held", ROUTER_WAIT_POOL + 8);
    is_int(pooled, ROUTER_WAIT_POOL, "pool: %d of them in the pool, the rest malloc'd",
           ROUTER_WAIT_POOL);
    is_int(r->nwait_free, 0, "pool: no free slot");
    ok(router_cancel(r, "p3"), "pool: one in the pool dropped");
    is_int(r->nwait_free, 1, "pool: its slot is free again");
    memset(big, 'x', sizeof(big) - 1);
    snprintf(id, sizeof(id), "%lld-%d", now, 999);
    hold(r, id, 6, "model", "m", "prompt", big, "request_id", "big");
    ok(waiting(r, "big") && !r->w[r->nw - 1]->pooled, "pool: a request over a slot is malloc'd");
    is_int(r->nwait_free, 1, "pool: ... and leaves the free slot");
    snprintf(id, sizeof(id), "%lld-%d", now, 1000);
    hold(r, id, 6, "model", "m", "prompt", "p", "request_id", "small");
    ok(waiting(r, "small") && r->w[r->nw - 1]->pooled, "pool: the next small one takes it");
}

int main(void)
{
    struct router_conf rc1, rc2;
    struct router *r1, *r2;
    char err[128];
    struct redis_opts o;

    log_init("test_router_wait", LOG_LVL_ERROR, false);
    if (testsrv_start(&srv, NULL) < 0) {
        ok(0, "redis-server started");
        return done_testing();
    }
    memset(&o, 0, sizeof(o));
    o.addr = srv.addr;
    rs = redis_sync_connect(&o, 2000, err, sizeof(err));
    rc1 = conf("t");
    rc2 = conf("u");
    r1 = start(&rc1);
    r2 = start(&rc2);
    ok(r1 && r2 && r1 != r2 && redis_up(r1->cmd) && redis_up(r2->cmd), "two routers, both up");
    if (r1 && r2) {
        test_order_deadline(r1);
        test_cancel(r1);
        test_pool(r1);
        is_int(r2->nw, 0, "the second router holds nothing of the first's");
        is_int(r2->nwait_free, ROUTER_WAIT_POOL, "... and has its own pool");
    }
    router_free(r1);
    router_free(r2);
    redis_sync_free(rs);
    testsrv_stop(&srv);
    return done_testing();
}
