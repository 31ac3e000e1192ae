/* SPDX-License-Identifier: MIT */
/* The Redis client against a real redis-server: the stream commands the daemons use, ACL
 * auth, unix sockets, pipelining, a blocking read beside other work, timeouts, and a server
 * restart in the middle of a pipeline. */
#include "orion/log.h"
#include "orion/redis.h"
#include "../t.h"
#include "../testsrv.h"

#include <errno.h>

static struct testsrv srv;
static char err[256];

static struct resp_reply *cmd(struct redis_sync *s, const char *a0, const char *a1, const char *a2,
                              const char *a3, const char *a4, const char *a5, const char *a6,
                              const char *a7)
{
    return redis_sync_cmd(s, err, sizeof(err), a0, a1, a2, a3, a4, a5, a6, a7, (char *)NULL);
}

static void test_streams(struct redis_sync *s)
{
    struct resp_reply *r;
    const struct resp_reply *e;

    r = cmd(s, "XGROUP", "CREATE", "q", "g", "0", "MKSTREAM", NULL, NULL);
    ok(r && r->type == RESP_STATUS, "XGROUP CREATE MKSTREAM");
    resp_reply_free(r);
    r = cmd(s, "XGROUP", "CREATE", "q", "g", "0", "MKSTREAM", NULL, NULL);
    ok(resp_is_error(r, "BUSYGROUP"), "second XGROUP CREATE: BUSYGROUP");
    resp_reply_free(r);
    r = cmd(s, "XADD", "q", "*", "job", "a\r\nb", NULL, NULL, NULL);
    ok(r && r->type == RESP_BULK && strchr(r->str, '-'), "XADD gives an id (%s)", r ? r->str : "");
    resp_reply_free(r);
    r = cmd(s, "XREADGROUP", "GROUP", "g", "c1", "COUNT", "10", "STREAMS", "q");
    resp_reply_free(r); /* wrong arity: ids missing */
    r = redis_sync_cmd(s, err, sizeof(err), "XREADGROUP", "GROUP", "g", "c1", "COUNT", "10",
                       "STREAMS", "q", ">", (char *)NULL);
    e = resp_at(resp_at(resp_at(resp_at(r, 0), 1), 0), 1);
    ok(resp_str_eq(resp_field(e, "job"), "a\r\nb"), "XREADGROUP > returns the binary field");
    resp_reply_free(r);
    r = redis_sync_cmd(s, err, sizeof(err), "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "q", ">",
                       (char *)NULL);
    ok(r && r->type == RESP_NIL_ARRAY, "nothing new: nil array");
    resp_reply_free(r);
    r = redis_sync_cmd(s, err, sizeof(err), "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "q", "0",
                       (char *)NULL);
    e = resp_at(resp_at(resp_at(r, 0), 1), 0);
    ok(e && resp_at(e, 0)->type == RESP_BULK, "XREADGROUP 0 returns own pending entry");
    resp_reply_free(r);
    r = redis_sync_cmd(s, err, sizeof(err), "XAUTOCLAIM", "q", "g", "c2", "0", "0-0", (char *)NULL);
    ok(r && r->n == 3 && resp_at(r, 1)->n == 1, "XAUTOCLAIM (7.0: 3 elements) claims it");
    e = resp_at(resp_at(r, 1), 0);
    {
        char id[64];
        snprintf(id, sizeof(id), "%s", resp_at(e, 0)->str);
        resp_reply_free(r);
        r = cmd(s, "XACK", "q", "g", id, NULL, NULL, NULL, NULL);
        ok(r && r->type == RESP_INT && r->integer == 1, "XACK acknowledges once");
        resp_reply_free(r);
        r = cmd(s, "XACK", "q", "g", id, NULL, NULL, NULL, NULL);
        ok(r && r->integer == 0, "second XACK counts 0");
    }
    resp_reply_free(r);
}

static void test_hash_multi(struct redis_sync *s)
{
    struct resp_reply *r;

    r = cmd(s, "HSET", "h", "n1", "{\"a\":1}", "n2", "x", NULL, NULL);
    ok(r && r->integer == 2, "HSET two new fields");
    resp_reply_free(r);
    r = cmd(s, "HGETALL", "h", NULL, NULL, NULL, NULL, NULL, NULL);
    ok(r && r->n == 4 && resp_str_eq(resp_field(r, "n1"), "{\"a\":1}"), "HGETALL");
    resp_reply_free(r);
    r = cmd(s, "HDEL", "h", "n2", NULL, NULL, NULL, NULL, NULL);
    ok(r && r->integer == 1, "HDEL");
    resp_reply_free(r);
    resp_reply_free(cmd(s, "MULTI", NULL, NULL, NULL, NULL, NULL, NULL, NULL));
    r = cmd(s, "XADD", "q2", "*", "f", "v", NULL, NULL, NULL);
    ok(r && resp_str_eq(r, "QUEUED"), "queued inside MULTI");
    resp_reply_free(r);
    resp_reply_free(cmd(s, "XACK", "q", "g", "1-1", NULL, NULL, NULL, NULL));
    r = cmd(s, "EXEC", NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    ok(r && r->type == RESP_ARRAY && r->n == 2 && resp_at(r, 1)->type == RESP_INT,
       "EXEC returns one reply per command");
    resp_reply_free(r);
}

static void test_acl(void)
{
    struct redis_opts o = {srv.addr, "worker", "s3cret", 0, "acl", 0, 0, 0, 0};
    struct redis_sync *s;
    struct resp_reply *r;

    s = redis_sync_connect(&o, 2000, err, sizeof(err));
    ok(s != NULL, "AUTH user password with an ACL user (%s)", s ? "ok" : err);
    r = s ? cmd(s, "HSET", "orion:inference:health", "n", "1", NULL, NULL, NULL, NULL) : NULL;
    ok(r && r->type == RESP_INT, "ACL user may write its keys");
    resp_reply_free(r);
    r = s ? cmd(s, "GET", "other", NULL, NULL, NULL, NULL, NULL, NULL) : NULL;
    ok(resp_is_error(r, "NOPERM"), "ACL user denied elsewhere: NOPERM");
    resp_reply_free(r);
    redis_sync_free(s);
    o.password = "wrong";
    s = redis_sync_connect(&o, 1000, err, sizeof(err));
    ok(!s && strstr(err, "WRONGPASS"), "wrong password is a clear error: %s", err);
    redis_sync_free(s);
    o.addr = srv.sock;
    o.password = "s3cret";
    o.db = 3;
    s = redis_sync_connect(&o, 2000, err, sizeof(err));
    ok(s != NULL, "unix socket + AUTH + SELECT 3 (%s)", s ? "ok" : err);
    redis_sync_free(s);
}

/* Async part: pipelining, blocking read beside other commands, restart mid-pipeline. */
struct ctx {
    int replies, nulls, order_ok, ups, downs;
    long long last;
};

static void on_state(struct redis *r, bool up, void *arg)
{
    struct ctx *c = arg;

    (void)r;
    if (up)
        c->ups++;
    else
        c->downs++;
}

static void on_incr(struct redis *r, struct resp_reply *reply, void *arg)
{
    struct ctx *c = arg;

    (void)r;
    if (!reply) {
        c->nulls++;
        return;
    }
    c->replies++;
    if (reply->type == RESP_INT && reply->integer == c->last + 1)
        c->order_ok++;
    if (reply->type == RESP_INT)
        c->last = reply->integer;
}

static void spin(struct loop *l, int *flag, int want, long ms)
{
    int64_t end = loop_now() + ms;

    while (*flag < want && loop_now() < end)
        loop_once(l, 20);
}

static void test_async(void)
{
    struct loop *l = loop_new();
    struct ctx c = {0}, cb = {0};
    struct redis_opts o = {srv.addr, NULL, NULL, 0, "async", 0, 0, 50, 200};
    struct redis *r = redis_new(l, &o, on_state, &c), *blk = redis_new(l, &o, on_state, &cb);
    int issued = 0;

    redis_start(r);
    redis_start(blk);
    spin(l, &c.ups, 1, 3000);
    spin(l, &cb.ups, 1, 3000);
    ok(redis_up(r) && redis_up(blk), "two connections up");
    errno = 0;
    {
        const char *argv[] = {"XREADGROUP", "GROUP", "g", "blk", "BLOCK", "600", "STREAMS", "q", ">"};
        ok(redis_cmdv(blk, 5000, on_incr, &cb, 9, argv, NULL) == 0, "blocking XREADGROUP issued");
    }
    for (int i = 0; i < 1000; i++)
        issued += redis_cmd(r, on_incr, &c, "INCR", "ctr", (char *)NULL) == 0;
    spin(l, &c.replies, 1000, 5000);
    is_int(c.replies, 1000, "1000 pipelined commands answered while the other link blocks");
    is_int(c.order_ok, 1000, "replies matched in order");
    ok(cb.replies == 0, "blocked read still waiting");
    spin(l, &cb.replies, 1, 3000);
    is_int(cb.replies, 1, "blocking read times out with a reply (nil)");

    /* restart in the middle of a pipeline */
    for (int i = 0; i < 200; i++)
        redis_cmd(r, on_incr, &c, "INCR", "ctr", (char *)NULL);
    testsrv_kill(&srv);
    spin(l, &c.downs, 1, 3000);
    ok(c.downs == 1, "link loss reported once");
    ok(c.replies + c.nulls == 1200, "every command in flight answered or failed (%d + %d)",
       c.replies, c.nulls);
    errno = 0;
    ok(redis_cmd(r, on_incr, &c, "PING", (char *)NULL) < 0 && errno == ENOTCONN,
       "commands while down are refused with ENOTCONN");
    ok(*redis_error(r) != '\0', "error kept: %s", redis_error(r));
    testsrv_sleep_ms(300);
    ok(testsrv_spawn(&srv) == 0, "server restarted");
    spin(l, &c.ups, 2, 5000);
    ok(redis_up(r), "client reconnected by itself");
    c.replies = 0;
    redis_cmd(r, on_incr, &c, "PING", (char *)NULL);
    spin(l, &c.replies, 1, 2000);
    is_int(c.replies, 1, "commands work after reconnect");
    redis_free(r);
    redis_free(blk);
    loop_free(l);
}

static void test_timeout_and_refused(void)
{
    struct loop *l = loop_new();
    struct ctx c = {0};
    struct redis_opts o = {srv.addr, NULL, NULL, 0, "slow", 0, 300, 50, 200};
    struct redis *r = redis_new(l, &o, on_state, &c);
    struct redis_opts bad = {"127.0.0.1:1", NULL, NULL, 0, "refused", 0, 0, 50, 100};
    struct redis *down = redis_new(l, &bad, NULL, NULL);
    int64_t t0;

    redis_start(r);
    spin(l, &c.ups, 1, 3000);
    redis_cmd(r, on_incr, &c, "CLIENT", "PAUSE", "1500", (char *)NULL);
    spin(l, &c.replies, 1, 2000);
    t0 = loop_now();
    redis_cmd(r, on_incr, &c, "PING", (char *)NULL);
    spin(l, &c.nulls, 1, 3000);
    ok(c.nulls == 1 && loop_now() - t0 < 1200, "a command past its timeout fails (%ld ms)",
       (long)(loop_now() - t0));
    ok(strstr(redis_error(r), "timeout") != NULL, "reason: %s", redis_error(r));
    redis_start(down);
    for (int i = 0; i < 5; i++)
        loop_once(l, 50);
    ok(!redis_up(down) && strstr(redis_error(down), "refused"), "connect refused: %s",
       redis_error(down));
    redis_free(r);
    redis_free(down);
    loop_free(l);
}

int main(void)
{
    struct redis_opts o;
    struct redis_sync *s;

    log_init("test_redis", LOG_LVL_ERROR, false);
    if (testsrv_start(&srv, "user worker on >s3cret ~orion:* +@all\nuser default on nopass ~* +@all") < 0) {
        ok(0, "redis-server starts (is it installed?)");
        return done_testing();
    }
    memset(&o, 0, sizeof(o));
    o.addr = srv.addr;
    s = redis_sync_connect(&o, 2000, err, sizeof(err));
    ok(s != NULL, "connect over TCP");
    if (s) {
        test_streams(s);
        test_hash_multi(s);
        redis_sync_free(s);
    }
    {
        char v6[64];
        snprintf(v6, sizeof(v6), "[::1]:%d", srv.port);
        o.addr = v6;
        s = redis_sync_connect(&o, 2000, err, sizeof(err));
        ok(s != NULL || strstr(err, "address") || strstr(err, "resolve"),
           "IPv6 literal address [::1]:port (%s)", s ? "connected" : err);
        redis_sync_free(s);
        o.addr = "localhost:1";
        s = redis_sync_connect(&o, 1000, err, sizeof(err));
        ok(!s && strstr(err, "refused"), "a host name is resolved (%s)", err);
        o.addr = "no-such-host.invalid:6379";
        s = redis_sync_connect(&o, 2000, err, sizeof(err));
        ok(!s && strstr(err, "resolve"), "an unknown name is a clear error: %s", err);
        redis_sync_free(s);
    }
    test_acl();
    test_async();
    test_timeout_and_refused();
    testsrv_stop(&srv);
    return done_testing();
}
