/* SPDX-License-Identifier: MIT */
/*
 * sentinel + struct redis's Sentinel mode, against fake sentinels served on the test's own
 * loop (each answers GET-MASTER-ADDR-BY-NAME as told: an address, null, an error; takes AUTH;
 * takes SUBSCRIBE and can push +switch-master) and two real redis-servers, a master and its
 * replica, whose ROLE is real. Covered: the walk past a sentinel that is down, one that does
 * not know the master, one that lies (names the replica), one that refuses; the list's order
 * afterwards; every sentinel failing; AUTH to the sentinels; a connection that comes up on
 * the master through a liar, moves on +switch-master, and drops a link that answers
 * -READONLY to find the master again; bad settings; redis_wait (WAIT one at a time, the
 * callers that ask meanwhile sharing the next; a replica that does not answer in time).
 */
#include "orion/redis.h"
#include "orion/sentinel.h"
#include "../t.h"
#include "../testsrv.h"

#include <errno.h>
#include <poll.h>

#define MAXC 16

struct fake {
    struct loop *l;
    int lfd, port;
    char addr[64];
    char answer[64];      /* "ip:port", "" for null, "-..." for an error reply */
    const char *password; /* AUTH needed */
    int fd[MAXC];
    bool authed[MAXC], sub[MAXC];
    struct resp_reader rd[MAXC];
    unsigned long asked;
};

static void put(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0) {
            if (w < 0 && errno == EAGAIN) {
                testsrv_sleep_ms(1);
                continue;
            }
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void fake_drop(struct fake *f, int i)
{
    loop_unwatch(f->l, f->fd[i]);
    close(f->fd[i]);
    resp_reader_release(&f->rd[i]);
    f->fd[i] = -1;
}

static void answer(struct fake *f, int i, const struct resp_reply *c)
{
    const struct resp_reply *a0 = resp_at(c, 0), *a1 = resp_at(c, 1), *a2 = resp_at(c, 2);
    char out[256];
    int fd = f->fd[i];

    if (resp_str_eq(a0, "AUTH")) {
        const struct resp_reply *pw = c->n == 3 ? a2 : a1;
        if (!f->password)
            put(fd, "-ERR AUTH <password> called without any password configured for the "
                    "default user. Are you sure your configuration is correct?\r\n");
        else if (pw && resp_str_eq(pw, f->password))
            f->authed[i] = true, put(fd, "+OK\r\n");
        else
            put(fd, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    } else if (f->password && !f->authed[i]) {
        put(fd, "-NOAUTH Authentication required.\r\n");
    } else if (resp_str_eq(a0, "SENTINEL") && resp_str_eq(a1, "GET-MASTER-ADDR-BY-NAME")) {
        char ip[64];
        const char *colon = strrchr(f->answer, ':');
        f->asked++;
        if (!resp_str_eq(a2, "mymaster") || !f->answer[0]) {
            put(fd, "*-1\r\n");
        } else if (f->answer[0] == '-') {
            snprintf(out, sizeof(out), "%s\r\n", f->answer);
            put(fd, out);
        } else {
            snprintf(ip, sizeof(ip), "%.*s", (int)(colon - f->answer), f->answer);
            snprintf(out, sizeof(out), "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(ip), ip,
                     strlen(colon + 1), colon + 1);
            put(fd, out);
        }
    } else if (resp_str_eq(a0, "SUBSCRIBE")) {
        f->sub[i] = true;
        put(fd, "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n");
    } else if (resp_str_eq(a0, "PING")) {
        put(fd, f->sub[i] ? "*2\r\n$4\r\npong\r\n$0\r\n\r\n" : "+PONG\r\n");
    } else {
        put(fd, "-ERR unknown command\r\n");
    }
}

static void conn_cb(struct loop *l, int fd, int revents, void *arg)
{
    struct fake *f = arg;
    char buf[4096];
    ssize_t n;
    int i;
    struct resp_reply *c;

    (void)l;
    (void)revents;
    for (i = 0; i < MAXC && f->fd[i] != fd; i++)
        ;
    if (i == MAXC)
        return;
    n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        fake_drop(f, i);
        return;
    }
    resp_reader_feed(&f->rd[i], buf, (size_t)n);
    while (resp_reader_get(&f->rd[i], &c) == 1) {
        answer(f, i, c);
        resp_reply_free(c);
    }
}

static void accept_cb(struct loop *l, int lfd, int revents, void *arg)
{
    struct fake *f = arg;
    int fd;

    (void)revents;
    while ((fd = net_accept(lfd)) >= 0) {
        int i;
        for (i = 0; i < MAXC && f->fd[i] >= 0; i++)
            ;
        if (i == MAXC) {
            close(fd);
            continue;
        }
        f->fd[i] = fd;
        f->authed[i] = f->sub[i] = false;
        resp_reader_init(&f->rd[i]);
        loop_watch(l, fd, POLLIN, conn_cb, f);
    }
}

static void fake_start(struct fake *f, struct loop *l, const char *answer_addr)
{
    char err[128];

    memset(f, 0, sizeof(*f));
    f->l = l;
    for (int i = 0; i < MAXC; i++)
        f->fd[i] = -1;
    f->lfd = net_listen("127.0.0.1:0", err, sizeof(err));
    f->port = net_local_port(f->lfd);
    snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%d", f->port);
    snprintf(f->answer, sizeof(f->answer), "%s", answer_addr ? answer_addr : "");
    loop_watch(l, f->lfd, POLLIN, accept_cb, f);
}

static void fake_stop(struct fake *f)
{
    for (int i = 0; i < MAXC; i++)
        if (f->fd[i] >= 0)
            fake_drop(f, i);
    loop_unwatch(f->l, f->lfd);
    close(f->lfd);
}

/* A +switch-master message to every subscribed connection. */
static int fake_switch(struct fake *f, const char *old, const char *to)
{
    char payload[200], msg[300], oip[64], nip[64];
    const char *oc = strrchr(old, ':'), *nc = strrchr(to, ':');
    int n = 0;

    snprintf(oip, sizeof(oip), "%.*s", (int)(oc - old), old);
    snprintf(nip, sizeof(nip), "%.*s", (int)(nc - to), to);
    snprintf(payload, sizeof(payload), "mymaster %s %s %s %s", oip, oc + 1, nip, nc + 1);
    snprintf(msg, sizeof(msg), "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$%zu\r\n%s\r\n",
             strlen(payload), payload);
    for (int i = 0; i < MAXC; i++)
        if (f->fd[i] >= 0 && f->sub[i]) {
            put(f->fd[i], msg);
            n++;
        }
    return n;
}

static int fake_subscribed(const struct fake *f)
{
    int n = 0;
    for (int i = 0; i < MAXC; i++)
        n += f->fd[i] >= 0 && f->sub[i];
    return n;
}

/* --- the sentinel module ---------------------------------------------------------------- */

struct result {
    bool done;
    char addr[64], err[600];
};

static void on_addr(struct sentinel *s, const char *addr, const char *err, void *arg)
{
    struct result *res = arg;

    (void)s;
    res->done = true;
    snprintf(res->addr, sizeof(res->addr), "%s", addr ? addr : "");
    snprintf(res->err, sizeof(res->err), "%s", err ? err : "");
}

static bool spin_until(struct loop *l, bool *flag, long ms)
{
    int64_t end = loop_now() + ms * t_slow();

    while (!*flag && loop_now() < end)
        loop_once(l, 20);
    return *flag;
}

static struct testsrv m, rp; /* the master and its replica */

static void test_resolve(struct loop *l)
{
    struct fake b, c, d, e;
    char list[400], err[200], down[64];
    struct sentinel_opts o = {list, "mymaster", NULL, NULL, NULL, NULL, "test", 0};
    struct sentinel *s;
    struct result res = {0};
    const struct sentinel_list *sl;

    snprintf(down, sizeof(down), "127.0.0.1:%d", testsrv_free_port());
    fake_start(&b, l, "");          /* knows no master of that name */
    fake_start(&c, l, rp.addr);     /* lies: names the replica */
    fake_start(&d, l, "-NOPERM this user has no permissions");
    fake_start(&e, l, m.addr);      /* honest */
    snprintf(list, sizeof(list), "%s,%s,%s,%s,%s", down, b.addr, c.addr, d.addr, e.addr);
    s = sentinel_new(l, &o, err, sizeof(err));
    ok(s != NULL, "sentinel_new with 5 sentinels");
    ok(sentinel_resolve(s, on_addr, &res) == 0, "resolve started");
    ok(!res.done, "the answer comes later, never inside the call");
    ok(spin_until(l, &res.done, 5000), "resolve: answered");
    is_str(res.addr, m.addr, "resolve: past one down, one unknown, a liar and a refusal: the master");
    sl = sentinel_list(s);
    is_str(sl->addr[0], e.addr, "the sentinel that named the master is first now");
    is_str(sl->addr[sl->n - 1], d.addr, "the last one passed over is last");
    ok(sentinel_list_find(sl, c.addr) > 0, "the liar is no longer ahead of it");
    /* again: only the one that answered well is asked */
    b.asked = c.asked = d.asked = e.asked = 0;
    res.done = false;
    sentinel_resolve(s, on_addr, &res);
    spin_until(l, &res.done, 5000);
    is_str(res.addr, m.addr, "second resolve: the master");
    is_int(e.asked, 1, "second resolve: asked the good sentinel once");
    is_int(b.asked + c.asked + d.asked, 0, "second resolve: asked no other");
    /* a resolve cancelled: no callback */
    res.done = false;
    sentinel_resolve(s, on_addr, &res);
    sentinel_cancel(s);
    {
        bool never = false;
        spin_until(l, &never, 300);
    }
    ok(!res.done, "a cancelled resolve never calls back");
    sentinel_free(s);

    /* every sentinel failing: the error says what each said */
    snprintf(list, sizeof(list), "%s,%s,%s", down, b.addr, c.addr);
    s = sentinel_new(l, &o, err, sizeof(err));
    res.done = false;
    sentinel_resolve(s, on_addr, &res);
    spin_until(l, &res.done, 5000);
    is_str(res.addr, "", "all failing: no address");
    ok(strstr(res.err, down) && strstr(res.err, "refused"), "the error names the one down (%s)",
       res.err);
    ok(strstr(res.err, "knows no master named mymaster") != NULL, "... the one that knows none");
    ok(strstr(res.err, "is a replica") != NULL, "... and the liar's replica");
    sentinel_free(s);

    /* AUTH to the sentinels */
    e.password = "s3cret";
    snprintf(list, sizeof(list), "%s", e.addr);
    o.password = "s3cret";
    s = sentinel_new(l, &o, err, sizeof(err));
    res.done = false;
    sentinel_resolve(s, on_addr, &res);
    spin_until(l, &res.done, 5000);
    is_str(res.addr, m.addr, "AUTH with the sentinel's password: the master");
    sentinel_free(s);
    o.password = "wrong";
    s = sentinel_new(l, &o, err, sizeof(err));
    res.done = false;
    sentinel_resolve(s, on_addr, &res);
    spin_until(l, &res.done, 5000);
    ok(strstr(res.err, "AUTH: WRONGPASS") != NULL, "a wrong sentinel password: said (%s)",
       res.err);
    sentinel_free(s);
    o.password = NULL;
    s = sentinel_new(l, &o, err, sizeof(err));
    res.done = false;
    sentinel_resolve(s, on_addr, &res);
    spin_until(l, &res.done, 5000);
    ok(strstr(res.err, "NOAUTH") != NULL, "no password for a sentinel that wants one: said");
    sentinel_free(s);
    /* freed with a resolve running: nothing runs later */
    s = sentinel_new(l, &o, err, sizeof(err));
    res.done = false;
    sentinel_resolve(s, on_addr, &res);
    loop_once(l, 0);
    sentinel_free(s);
    {
        bool never = false;
        spin_until(l, &never, 200);
    }
    ok(!res.done, "freed while resolving: no callback");
    e.password = NULL;
    fake_stop(&b);
    fake_stop(&c);
    fake_stop(&d);
    fake_stop(&e);
}

static void test_bad_settings(struct loop *l)
{
    static const struct {
        const char *list, *name, *err;
    } cases[] = {
        {"127.0.0.1", "mymaster", "not HOST:PORT"},
        {"", "mymaster", "empty item"},
        {"127.0.0.1:26379", "", "master name"},
        {"127.0.0.1:26379", "my master", "master name"},
        {"127.0.0.1:26379,127.0.0.1:26379", "mymaster", "listed twice"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sentinel_opts o = {cases[i].list, cases[i].name, NULL, NULL, NULL, NULL, "t", 0};
        char err[200] = "";
        struct sentinel *s;
        errno = 0;
        s = sentinel_new(l, &o, err, sizeof(err));
        ok(!s && errno == EINVAL && strstr(err, cases[i].err),
           "bad settings '%s' / '%s': EINVAL, '%s' (%s)", cases[i].list, cases[i].name,
           cases[i].err, err);
    }
}

/* --- a connection in Sentinel mode ---------------------------------------------------- */

struct conn {
    int ups, downs;
    bool up, got;
    struct resp_reply *reply;
    char err[200];
};

static void conn_state(struct redis *r, bool up, void *arg)
{
    struct conn *c = arg;

    (void)r;
    c->up = up;
    if (up)
        c->ups++;
    else
        c->downs++;
}

static void conn_reply(struct redis *r, struct resp_reply *reply, void *arg)
{
    struct conn *c = arg;

    c->got = true;
    snprintf(c->err, sizeof(c->err), "%s",
             !reply ? "(link lost)" : reply->type == RESP_ERROR ? reply->str : "");
    (void)r;
}

static bool sync_cmd(struct testsrv *s, const char *a, const char *b, const char *c)
{
    struct redis_opts o = {s->addr, NULL, NULL, 0, "test", 0, 0, 0, 0};
    char err[128];
    struct redis_sync *y = redis_sync_connect(&o, 2000, err, sizeof(err));
    struct resp_reply *r = y ? redis_sync_cmd(y, err, sizeof(err), a, b, c, (char *)NULL) : NULL;
    bool good = r && r->type != RESP_ERROR;

    resp_reply_free(r);
    redis_sync_free(y);
    return good;
}

static bool addr_is(struct loop *l, struct redis *r, struct conn *c, const char *want, long ms)
{
    int64_t end = loop_now() + ms * t_slow();

    while (loop_now() < end && !(c->up && !strcmp(redis_addr(r), want)))
        loop_once(l, 20);
    return c->up && !strcmp(redis_addr(r), want);
}

static void test_redis_mode(struct loop *l)
{
    struct fake c, e;
    char list[200], mport[16], rport[16];
    struct redis_opts o = {NULL, NULL, NULL, 0, "redis", 0, 0, 0, 0, list, "mymaster", NULL,
                           NULL, true};
    struct conn st = {0};
    struct redis *r;
    int ups;
    bool moved;

    fake_start(&c, l, rp.addr); /* the liar comes first */
    fake_start(&e, l, m.addr);
    snprintf(list, sizeof(list), "%s,%s", c.addr, e.addr);
    r = redis_new(l, &o, conn_state, &st);
    ok(r != NULL, "redis_new in Sentinel mode");
    is_str(redis_addr(r), "(master mymaster)", "before the sentinels answered: the master's name");
    redis_start(r);
    moved = addr_is(l, r, &st, m.addr, 5000);
    ok(moved, "up on the master, past the liar (%s)", redis_addr(r));
    st.got = false;
    redis_cmd(r, conn_reply, &st, "SET", "k", "1", (char *)NULL);
    spin_until(l, &st.got, 3000);
    is_str(st.err, "", "a write works there");
    {
        int64_t end = loop_now() + 5000 * t_slow();
        while (loop_now() < end && fake_subscribed(&e) == 0)
            loop_once(l, 20);
    }
    is_int(fake_subscribed(&e), 1, "watching the sentinel that named the master");
    is_int(fake_subscribed(&c), 0, "not the liar");

    /* a failover: the replica is promoted and the sentinels say so */
    ok(sync_cmd(&rp, "REPLICAOF", "NO", "ONE"), "the replica promoted");
    snprintf(mport, sizeof(mport), "%d", rp.port);
    snprintf(e.answer, sizeof(e.answer), "%s", rp.addr);
    snprintf(c.answer, sizeof(c.answer), "%s", m.addr); /* the liar names the old one now */
    ups = st.ups;
    is_int(fake_switch(&e, m.addr, rp.addr), 1, "+switch-master sent");
    moved = addr_is(l, r, &st, rp.addr, 5000);
    ok(moved, "moved to the new master on the message (%s)", redis_addr(r));
    ok(st.ups == ups + 1 && st.downs >= 1, "the owner saw the link go down and up again");
    st.got = false;
    redis_cmd(r, conn_reply, &st, "SET", "k", "2", (char *)NULL);
    spin_until(l, &st.got, 3000);
    is_str(st.err, "", "a write works on the new master");

    /* the old master rejoins as a replica, then the roles swap back without a message: a
     * write answered -READONLY drops the link, and the sentinels are asked again */
    snprintf(rport, sizeof(rport), "%d", rp.port);
    ok(sync_cmd(&m, "REPLICAOF", "127.0.0.1", rport), "the old master follows the new one");
    ok(sync_cmd(&m, "REPLICAOF", "NO", "ONE"), "... and is promoted again");
    snprintf(mport, sizeof(mport), "%d", m.port);
    ok(sync_cmd(&rp, "REPLICAOF", "127.0.0.1", mport), "the other one demoted");
    snprintf(e.answer, sizeof(e.answer), "%s", m.addr);
    st.got = false;
    redis_cmd(r, conn_reply, &st, "SET", "k", "3", (char *)NULL);
    spin_until(l, &st.got, 3000);
    ok(!strncmp(st.err, "READONLY", 8), "the write on the demoted master: -READONLY (%s)",
       st.err);
    moved = addr_is(l, r, &st, m.addr, 5000);
    ok(moved, "found the master again (%s)", redis_addr(r));
    st.got = false;
    redis_cmd(r, conn_reply, &st, "SET", "k", "4", (char *)NULL);
    spin_until(l, &st.got, 3000);
    is_str(st.err, "", "a write works there");

    /* the watched sentinel goes away: the watch moves to the other one */
    fake_stop(&e);
    {
        int64_t end = loop_now() + 8000 * t_slow();
        while (loop_now() < end && fake_subscribed(&c) == 0)
            loop_once(l, 20);
    }
    is_int(fake_subscribed(&c), 1, "the watch moved to the sentinel still up");
    redis_free(r);
    fake_stop(&c);
}

/* --- redis_wait ------------------------------------------------------------------------ */

struct waited {
    int n, ok, nulls;
};

static void on_wait(struct redis *r, struct resp_reply *reply, void *arg)
{
    struct waited *w = arg;

    w->n++;
    w->ok += redis_replicated(r, reply);
    w->nulls += !reply;
}

static long long wait_calls(struct testsrv *s)
{
    struct redis_opts o = {s->addr, NULL, NULL, 0, "test", 0, 0, 0, 0};
    char err[128];
    struct redis_sync *y = redis_sync_connect(&o, 2000, err, sizeof(err));
    struct resp_reply *r = y ? redis_sync_cmd(y, err, sizeof(err), "INFO", "commandstats",
                                              (char *)NULL) : NULL;
    const char *p = r && r->type == RESP_BULK ? strstr(r->str, "cmdstat_wait:calls=") : NULL;
    long long n = p ? strtoll(p + 19, NULL, 10) : 0;

    resp_reply_free(r);
    redis_sync_free(y);
    return n;
}

static void test_wait(struct loop *l)
{
    struct redis_opts o = {m.addr, NULL, NULL, 0, "redis", 0, 0, 0, 0};
    struct conn st = {0};
    struct waited w = {0};
    struct redis *r;
    long long before;
    int64_t end;

    {
        char mport[16];
        snprintf(mport, sizeof(mport), "%d", m.port);
        ok(sync_cmd(&m, "REPLICAOF", "NO", "ONE") &&
               sync_cmd(&rp, "REPLICAOF", "127.0.0.1", mport),
           "the pair as it began: m the master, rp its replica");
    }
    o.min_replicas = 1;
    o.wait_timeout_ms = 2000;
    r = redis_new(l, &o, conn_state, &st);
    redis_start(r);
    end = loop_now() + 5000 * t_slow();
    while (!st.up && loop_now() < end)
        loop_once(l, 20);
    /* the replica must be linked before a WAIT can count it */
    end = loop_now() + 10000 * t_slow();
    while (loop_now() < end) {
        redis_cmd(r, NULL, NULL, "SET", "w", "0", (char *)NULL);
        w.n = 0;
        redis_wait(r, on_wait, &w);
        while (w.n == 0 && loop_now() < end)
            loop_once(l, 20);
        if (w.ok)
            break;
    }
    ok(w.ok == 1, "a write and WAIT 1: the replica has it");
    before = wait_calls(&m);
    memset(&w, 0, sizeof(w));
    {
        int asked = 0;
        for (int i = 0; i < 20; i++) {
            redis_cmd(r, NULL, NULL, "INCR", "w", (char *)NULL);
            asked += redis_wait(r, on_wait, &w) == 0;
        }
        is_int(asked, 20, "20 writes, each followed by redis_wait");
    }
    end = loop_now() + 10000 * t_slow();
    while (w.n < 20 && loop_now() < end)
        loop_once(l, 20);
    is_int(w.ok, 20, "20 writes, each waited for: all replicated");
    ok(wait_calls(&m) - before <= 2, "... with at most 2 WAITs sent (%lld)",
       wait_calls(&m) - before);
    redis_free(r);

    /* two replicas wanted, one there: not replicated, after the timeout */
    memset(&st, 0, sizeof(st));
    o.min_replicas = 2;
    o.wait_timeout_ms = 100;
    r = redis_new(l, &o, conn_state, &st);
    redis_start(r);
    end = loop_now() + 5000 * t_slow();
    while (!st.up && loop_now() < end)
        loop_once(l, 20);
    memset(&w, 0, sizeof(w));
    redis_cmd(r, NULL, NULL, "INCR", "w", (char *)NULL);
    redis_wait(r, on_wait, &w);
    end = loop_now() + 5000 * t_slow();
    while (w.n < 1 && loop_now() < end)
        loop_once(l, 20);
    ok(w.n == 1 && w.ok == 0 && w.nulls == 0, "WAIT 2 with one replica: an answer, not enough");
    /* the link lost under a WAIT: NULL to every caller, those waiting for the next too */
    memset(&w, 0, sizeof(w));
    o.wait_timeout_ms = 60000;
    redis_free(r);
    memset(&st, 0, sizeof(st));
    r = redis_new(l, &o, conn_state, &st);
    redis_start(r);
    end = loop_now() + 5000 * t_slow();
    while (!st.up && loop_now() < end)
        loop_once(l, 20);
    redis_wait(r, on_wait, &w);
    redis_wait(r, on_wait, &w);
    loop_once(l, 50);
    {
        struct redis_opts ko = {m.addr, NULL, NULL, 0, "test", 0, 0, 0, 0};
        char err[128];
        struct redis_sync *y = redis_sync_connect(&ko, 2000, err, sizeof(err));
        struct resp_reply *x = y ? redis_sync_cmd(y, err, sizeof(err), "CLIENT", "KILL",
                                                  "TYPE", "normal", "SKIPME", "yes",
                                                  (char *)NULL) : NULL;
        resp_reply_free(x);
        redis_sync_free(y);
    }
    end = loop_now() + 5000 * t_slow();
    while (w.n < 2 && loop_now() < end)
        loop_once(l, 20);
    ok(w.n == 2 && w.nulls == 2, "link lost under WAIT: both callers hear NULL (%d, %d)", w.n,
       w.nulls);
    redis_free(r);
    o.min_replicas = 0;
    r = redis_new(l, &o, conn_state, &st);
    errno = 5;
    ok(redis_wait(r, on_wait, &w) < 0 && errno == 0, "min_replicas 0: nothing sent, errno 0");
    redis_free(r);
}

int main(void)
{
    struct loop *l = loop_new();
    char extra[64];

    if (testsrv_start(&m, NULL) < 0) {
        printf("1..0 # skip no redis-server\n");
        return 0;
    }
    snprintf(extra, sizeof(extra), "replicaof 127.0.0.1 %d", m.port);
    if (testsrv_start(&rp, extra) < 0) {
        ok(0, "replica started");
        testsrv_stop(&m);
        return done_testing();
    }
    test_resolve(l);
    test_bad_settings(l);
    test_redis_mode(l);
    test_wait(l);
    testsrv_stop(&rp);
    testsrv_stop(&m);
    loop_free(l);
    return done_testing();
}
