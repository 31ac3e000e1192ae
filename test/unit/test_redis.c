/* SPDX-License-Identifier: MIT */
/* The Redis client against a real redis-server: the stream commands the daemons use, ACL
 * auth, unix sockets, pipelining, a blocking read beside other work, timeouts, and a server
 * restart in the middle of a pipeline. Then against a fake server in this process, whose bytes
 * the test reads itself: commands queued in one loop pass go out together, a partial write of
 * a big pipeline resumes where it stopped, and commands never written fail on link loss. */
#include "orion/log.h"
#include "orion/redis.h"
#include "../t.h"
#include "../testsrv.h"

#include <errno.h>
#include <poll.h>

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
    int64_t end = loop_now() + ms * t_slow();

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

/* The fake server's side: what arrived on sfd so far (nothing waits). */
static size_t drain(int sfd, struct buf *got, size_t max)
{
    char chunk[65536];
    size_t n = 0;
    long k;

    while (n < max && (k = net_read(sfd, chunk, sizeof(chunk) < max - n ? sizeof(chunk)
                                                                        : max - n)) > 0) {
        buf_append(got, chunk, (size_t)k);
        n += (size_t)k;
    }
    return n;
}

static bool readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};

    return poll(&p, 1, 0) == 1;
}

static void answer_ints(int sfd, int from, int n)
{
    char line[32];

    for (int i = 0; i < n; i++) {
        int k = snprintf(line, sizeof(line), ":%d\r\n", from + i);
        if (write(sfd, line, (size_t)k) != k)
            break;
    }
}

/* The fake server accepts r's connection on lfd and answers its handshake as Redis would
 * (+PONG for PING, else +OK). The server's socket, or -1; *saw_select: SELECT 0 was sent. */
static int fake_accept(struct loop *l, struct redis *r, int lfd, bool *saw_select)
{
    struct resp_reader hs;
    struct resp_reply *hc;
    struct buf got;
    int sfd = -1;
    int64_t end;

    redis_start(r);
    for (end = loop_now() + 2000 * t_slow(); sfd < 0 && loop_now() < end;) {
        loop_once(l, 10);
        sfd = net_accept(lfd);
    }
    if (sfd < 0)
        return -1;
    *saw_select = false;
    buf_init(&got, 1u << 20);
    resp_reader_init(&hs);
    for (end = loop_now() + 3000 * t_slow(); !redis_up(r) && loop_now() < end;) {
        loop_once(l, 10);
        buf_reset(&got);
        drain(sfd, &got, 1u << 20);
        resp_reader_feed(&hs, buf_data(&got), buf_size(&got));
        while (resp_reader_get(&hs, &hc) == 1) {
            bool ping = resp_str_eq(resp_at(hc, 0), "PING");
            *saw_select = *saw_select || (resp_str_eq(resp_at(hc, 0), "SELECT") &&
                                          resp_str_eq(resp_at(hc, 1), "0"));
            resp_reply_free(hc);
            if (write(sfd, ping ? "+PONG\r\n" : "+OK\r\n", ping ? 7 : 5) < 0)
                break;
        }
    }
    resp_reader_release(&hs);
    buf_release(&got);
    return sfd;
}

static void test_fake_server(void)
{
    struct loop *l = loop_new();
    struct ctx c = {0};
    char addr[64], key[32];
    int lfd = net_listen("127.0.0.1:0", err, sizeof(err)), sfd = -1;
    /* No command of this connection may time out during the test: the partial-write case
     * below is judged by progress (a stall fails it), and how long a build takes to queue
     * 16 MiB (ASan copies the output buffer at each step of its growth: 10-20 s on two loaded
     * cores) is no part of what it checks. Timeouts have their own tests. */
    struct redis_opts o = {addr, NULL, NULL, 0, "fake", 0, 3600 * 1000L, 50, 200};
    struct redis *r;
    struct buf got, want;
    static char big[65536];
    const size_t nbig = 256;
    int64_t end;
    bool saw_select;

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", net_local_port(lfd));
    r = redis_new(l, &o, on_state, &c);
    buf_init(&got, 64u << 20);
    buf_init(&want, 64u << 20);
    sfd = fake_accept(l, r, lfd, &saw_select);
    ok(sfd >= 0, "fake: the client connected");
    ok(saw_select, "fake: the handshake selects db 0");
    spin(l, &c.ups, 1, 2000);
    ok(redis_up(r), "fake: up");

    /* 100 commands queued in one pass: none written at once, all by the next pass */
    buf_reset(&got);
    buf_reset(&want);
    for (int i = 0; i < 100; i++) {
        const char *argv[] = {"SET", key, "v"};
        snprintf(key, sizeof(key), "k%d", i);
        redis_cmdv(r, 0, on_incr, &c, 3, argv, NULL);
        resp_format(&want, 3, argv, NULL);
    }
    ok(!readable(sfd), "fake: queued commands are not written one by one");
    loop_once(l, 0);
    drain(sfd, &got, 1u << 20);
    is_mem(buf_data(&got), buf_size(&got), buf_data(&want), buf_size(&want),
           "fake: the next loop pass wrote all 100 in order (%zu bytes)", buf_size(&want));
    answer_ints(sfd, 1, 100);
    spin(l, &c.replies, 100, 2000);
    ok(c.replies == 100 && c.order_ok == 100, "fake: 100 replies, matched in order");

    /* 16 MiB queued at once: the socket takes part; the rest follows as it drains */
    buf_reset(&got);
    buf_reset(&want);
    buf_reserve(&got, nbig * (sizeof(big) + 64));
    buf_reserve(&want, nbig * (sizeof(big) + 64));
    for (size_t i = 0; i < nbig; i++) {
        const char *argv[] = {"SET", key, big};
        size_t len[] = {3, 0, sizeof(big)};
        len[1] = (size_t)snprintf(key, sizeof(key), "big%zu", i);
        memset(big, 'a' + (int)(i % 26), sizeof(big));
        redis_cmdv(r, 0, on_incr, &c, 3, argv, len);
        resp_format(&want, 3, argv, len);
    }
    loop_once(l, 0);
    drain(sfd, &got, 64u << 20);
    ok(buf_size(&got) < buf_size(&want), "fake: the first pass wrote only part (%zu of %zu bytes)",
       buf_size(&got), buf_size(&want));
    /* a slow reader: the client writes in many pieces; it fails only when no byte comes for
     * 5 s (x ORION_SLOW), however long the whole takes */
    end = loop_now() + 5000 * t_slow();
    while (buf_size(&got) < buf_size(&want) && loop_now() < end) {
        loop_once(l, 10);
        if (drain(sfd, &got, 256u << 10) > 0)
            end = loop_now() + 5000 * t_slow();
    }
    ok(buf_size(&got) == buf_size(&want) && !memcmp(buf_data(&got), buf_data(&want), buf_size(&want)),
       "fake: after partial writes the server got every byte once, in order (%zu of %zu)",
       buf_size(&got), buf_size(&want));
    is_int(redis_pending(r), nbig, "fake: all still awaiting replies");
    answer_ints(sfd, 101, (int)nbig);
    spin(l, &c.replies, 100 + (int)nbig, 3000);
    ok(c.replies == 100 + (int)nbig && c.order_ok == c.replies, "fake: %d replies, in order",
       c.replies);

    /* a batch dropped at its end leaves no trace; a kept one goes out whole */
    buf_reset(&got);
    buf_reset(&want);
    redis_cmd(r, on_incr, &c, "SET", "before", "1", (char *)NULL);
    redis_batch_begin(r);
    redis_cmd(r, on_incr, &c, "MULTI", (char *)NULL);
    redis_cmd(r, on_incr, &c, "SET", "dropped", "1", (char *)NULL);
    is_int(redis_pending(r), 3, "batch: queued inside it count until the end");
    redis_batch_end(r, false);
    is_int(redis_pending(r), 1, "batch: dropped at the end, only the command before it is left");
    redis_batch_begin(r);
    redis_cmd(r, on_incr, &c, "SET", "kept", "1", (char *)NULL);
    redis_batch_end(r, true);
    {
        const char *a1[] = {"SET", "before", "1"}, *a2[] = {"SET", "kept", "1"};
        resp_format(&want, 3, a1, NULL);
        resp_format(&want, 3, a2, NULL);
    }
    loop_once(l, 0);
    drain(sfd, &got, 1u << 20);
    is_mem(buf_data(&got), buf_size(&got), buf_data(&want), buf_size(&want),
           "batch: the server got the command before and the kept batch, nothing of the dropped one");
    answer_ints(sfd, 101 + (int)nbig, 2);
    spin(l, &c.replies, 102 + (int)nbig, 2000);
    ok(c.replies == 102 + (int)nbig && c.order_ok == c.replies && c.nulls == 0,
       "batch: 2 replies in order, no callback for the dropped commands");

    /* commands queued but not yet written when the link drops are failed, once each */
    for (int i = 0; i < 10; i++)
        redis_cmd(r, on_incr, &c, "PING", (char *)NULL);
    close(sfd);
    spin(l, &c.nulls, 10, 3000);
    ok(c.nulls == 10 && c.downs == 1, "fake: link loss fails the 10 queued commands (%d), once",
       c.nulls);
    for (int i = 0; i < 5; i++)
        loop_once(l, 10);
    is_int(c.nulls, 10, "fake: no command failed twice");
    redis_free(r);
    close(lfd);
    buf_release(&got);
    buf_release(&want);
    loop_free(l);
}

/* A reply that is in the socket when its command's deadline comes is delivered, not failed:
 * the server writes 20 replies of 2 KiB (41 KB, more than one loop pass reads) before the
 * deadline, and the client's loop runs only after it. A command whose reply is not there
 * still fails at its deadline. */
static void test_fake_late_reply(void)
{
    struct loop *l = loop_new();
    struct ctx c = {0};
    char addr[64];
    int lfd = net_listen("127.0.0.1:0", err, sizeof(err)), sfd;
    long timeout = 300 * t_slow();
    struct redis_opts o = {addr, NULL, NULL, 0, "late", 0, timeout, 50, 200};
    struct redis *r;
    struct buf got, replies;
    static char val[2048];
    bool saw_select;
    long wrote;

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", net_local_port(lfd));
    r = redis_new(l, &o, on_state, &c);
    sfd = fake_accept(l, r, lfd, &saw_select);
    spin(l, &c.ups, 1, 2000);
    ok(sfd >= 0 && redis_up(r), "late: up");
    buf_init(&got, 1u << 20);
    buf_init(&replies, 1u << 20);
    memset(val, 'v', sizeof(val));
    for (int i = 0; i < 20; i++) {
        redis_cmd(r, on_incr, &c, "GET", "k", (char *)NULL);
        buf_printf(&replies, "$%zu\r\n", sizeof(val));
        buf_append(&replies, val, sizeof(val));
        buf_puts(&replies, "\r\n");
    }
    loop_once(l, 0); /* writes them */
    drain(sfd, &got, 1u << 20);
    is_int((long long)buf_size(&got), 20 * 20, "late: the 20 commands arrived");
    wrote = write(sfd, buf_data(&replies), buf_size(&replies));
    is_int(wrote, (long long)buf_size(&replies), "late: the server wrote the 20 replies at once");
    testsrv_sleep_ms(timeout + 100); /* every deadline has passed: the loop has not run since */
    loop_once(l, 0);
    ok(c.replies == 20 && c.nulls == 0,
       "late: the 20 replies in the socket at the deadline were delivered (%d), none failed (%d)",
       c.replies, c.nulls);
    ok(redis_up(r) && c.downs == 0, "late: the link stayed up");
    redis_cmd(r, on_incr, &c, "GET", "k", (char *)NULL);
    spin(l, &c.nulls, 1, 3000);
    ok(c.nulls == 1 && strstr(redis_error(r), "timeout"),
       "late: a command whose reply is not there still fails at its deadline (%s)",
       redis_error(r));
    redis_free(r);
    if (sfd >= 0)
        close(sfd);
    close(lfd);
    buf_release(&got);
    buf_release(&replies);
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
    test_fake_server();
    test_fake_late_reply();
    return done_testing();
}
