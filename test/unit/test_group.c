/* SPDX-License-Identifier: MIT */
/*
 * The consumer-group reader (group.c). Against a real redis-server: a consumer's own pending
 * entries come before new ones, page by page as room allows; no room pauses it; a group that
 * was destroyed is created again and reading goes on. Against a fake server in this process:
 * -LOADING to XGROUP CREATE and to both kinds of read is waited out and retried.
 */
#include "orion/group.h"
#include "orion/log.h"
#include "orion/net.h"
#include "../t.h"
#include "../testsrv.h"

#include <poll.h>

static struct testsrv srv;

struct rd {
    struct group g;
    struct redis *cmd, *blk;
    size_t room;
    char taken[64][48]; /* ids, "|" where caught_up ran */
    size_t n, batches;
};

static size_t room_cb(void *arg) { return ((struct rd *)arg)->room; }

static void take_cb(void *arg, const struct resp_reply *e)
{
    struct rd *x = arg;
    const struct resp_reply *id = resp_at(e, 0);

    if (x->n < 64)
        snprintf(x->taken[x->n++], sizeof(x->taken[0]), "%s", id ? id->str : "?");
}

static void taken_cb(void *arg) { ((struct rd *)arg)->batches++; }

static void caught_up_cb(void *arg)
{
    struct rd *x = arg;

    if (x->n < 64)
        snprintf(x->taken[x->n++], sizeof(x->taken[0]), "|");
}

static void state_cb(struct redis *c, bool up, void *arg) { group_link(&((struct rd *)arg)->g, c, up); }

/* one_link: the blocking reads go over the command connection too (the fake serves one). */
static void rd_open(struct rd *x, struct loop *l, const char *addr, const char *key, long block_ms,
                    bool one_link)
{
    struct redis_opts o = {addr, NULL, NULL, 0, "test", 0, 0, 50, 200};
    const struct group_opts go = {key, "g", "c1", block_ms, block_ms + 5000 * t_slow(), room_cb,
                                  take_cb, taken_cb, caught_up_cb, x};

    memset(x, 0, sizeof(*x));
    x->room = 100;
    x->cmd = redis_new(l, &o, state_cb, x);
    x->blk = one_link ? NULL : redis_new(l, &o, group_redis_state, &x->g);
    group_init(&x->g, l, x->cmd, one_link ? x->cmd : x->blk, &go);
    redis_start(x->cmd);
    if (x->blk)
        redis_start(x->blk);
}

static void rd_close(struct rd *x)
{
    group_stop(&x->g);
    redis_free(x->cmd);
    redis_free(x->blk);
}

/* Turn the loop until x has taken n entries (and marks) or the time is up. */
static void spin_until(struct loop *l, const size_t *v, size_t n, long ms)
{
    int64_t end = loop_now() + ms * t_slow();

    while (*v < n && loop_now() < end)
        loop_once(l, 20);
}

static void spin_ms(struct loop *l, long ms)
{
    int64_t end = loop_now() + ms;

    while (loop_now() < end)
        loop_once(l, 20);
}

static struct resp_reply *sync_cmd(struct redis_sync *s, const char *const *argv, int argc)
{
    char err[128];

    return redis_sync_cmdv(s, argc, argv, NULL, err, sizeof(err));
}

static void run(struct redis_sync *s, int argc, ...)
{
    const char *argv[16];
    va_list ap;

    va_start(ap, argc);
    for (int i = 0; i < argc && i < 16; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    resp_reply_free(sync_cmd(s, argv, argc));
}

static void test_real(void)
{
    struct loop *l = loop_new();
    struct redis_opts o = {srv.addr, NULL, NULL, 0, "test", 0, 0, 0, 0};
    char err[128], id[8][24];
    struct redis_sync *s = redis_sync_connect(&o, 2000, err, sizeof(err));
    struct rd x;

    /* e1..e5 on the stream; c1 took e1..e3 before (pending), then e6 came */
    for (int i = 0; i < 6; i++)
        snprintf(id[i], sizeof(id[i]), "%d-1", i + 1);
    run(s, 6, "XGROUP", "CREATE", "s1", "g", "0", "MKSTREAM");
    for (int i = 0; i < 5; i++)
        run(s, 5, "XADD", "s1", id[i], "k", "v");
    run(s, 9, "XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", "s1", ">");
    run(s, 5, "XADD", "s1", id[5], "k", "v");

    rd_open(&x, l, srv.addr, "s1", 200, false);
    x.room = 2; /* pages of 2 */
    spin_until(l, &x.n, 7, 3000);
    is_int(x.n, 7, "real: 6 entries and the caught-up mark");
    is_str(x.taken[0], "1-1", "real: the pending entries first, oldest first");
    is_str(x.taken[1], "2-1", "real: ... 2-1");
    is_str(x.taken[2], "3-1", "real: ... 3-1 (a second page)");
    is_str(x.taken[3], "|", "real: caught up after the pending ones");
    is_str(x.taken[4], "4-1", "real: then the new ones: 4-1");
    is_str(x.taken[6], "6-1", "real: ... and 6-1");

    x.room = 0; /* no room: nothing is read, even when entries come */
    spin_ms(l, 400);
    run(s, 5, "XADD", "s1", "7-1", "k", "v");
    spin_ms(l, 600);
    is_int(x.n, 7, "real: no room, nothing taken");
    x.room = 5;
    group_read(&x.g);
    spin_until(l, &x.n, 8, 3000);
    is_str(x.n == 8 ? x.taken[7] : "", "7-1", "real: room again: group_read takes 7-1");

    /* the group is destroyed (the entries taken were answered and deleted meanwhile) */
    for (int i = 0; i < 6; i++)
        run(s, 3, "XDEL", "s1", id[i]);
    run(s, 3, "XDEL", "s1", "7-1");
    run(s, 4, "XGROUP", "DESTROY", "s1", "g");
    run(s, 5, "XADD", "s1", "8-1", "k", "v");
    spin_until(l, &x.n, 10, 5000);
    is_int(x.n, 10, "real: after NOGROUP, caught up again and one more taken");
    is_str(x.n > 8 ? x.taken[8] : "", "|", "real: the group again, its pending entries read first");
    is_str(x.n > 9 ? x.taken[9] : "", "8-1", "real: the entry added after the destroy is taken");
    {
        const char *argv[] = {"XINFO", "GROUPS", "s1"};
        struct resp_reply *r = sync_cmd(s, argv, 3);
        ok(r && r->type == RESP_ARRAY && r->n == 1, "real: the group exists again");
        resp_reply_free(r);
    }
    rd_close(&x);
    redis_sync_free(s);
    loop_free(l);
}

/* --- the fake server ------------------------------------------------------------------- */

struct fake {
    int lfd, fd;
    struct resp_reader rd;
    int creates, history, reads; /* commands seen */
};

static void fake_reply(struct fake *f, const char *s)
{
    if (write(f->fd, s, strlen(s)) < 0) {
        /* the client went away: the checks say so */
    }
}

static const char loading[] = "-LOADING Redis is loading the dataset in memory\r\n";

/* Answer what arrived: the handshake as Redis would, XGROUP CREATE -LOADING once, each read
 * -LOADING once, then an empty page of pending entries and one new entry (later reads block:
 * no answer). */
static void fake_serve(struct fake *f)
{
    char chunk[4096];
    long k;
    struct resp_reply *c;

    if (f->fd < 0)
        f->fd = net_accept(f->lfd);
    if (f->fd < 0)
        return;
    while ((k = net_read(f->fd, chunk, sizeof(chunk))) > 0)
        resp_reader_feed(&f->rd, chunk, (size_t)k);
    while (resp_reader_get(&f->rd, &c) == 1) {
        const struct resp_reply *a0 = resp_at(c, 0);
        if (resp_str_eq(a0, "PING"))
            fake_reply(f, "+PONG\r\n");
        else if (resp_str_eq(a0, "XGROUP"))
            fake_reply(f, f->creates++ ? "+OK\r\n" : loading);
        else if (resp_str_eq(a0, "XREADGROUP") && !resp_str_eq(resp_at(c, 6), "BLOCK"))
            fake_reply(f, f->history++ ? "*1\r\n*2\r\n$2\r\nsf\r\n*0\r\n" : loading);
        else if (resp_str_eq(a0, "XREADGROUP") && f->reads++ == 0)
            fake_reply(f, loading);
        else if (resp_str_eq(a0, "XREADGROUP") && f->reads == 2)
            fake_reply(f, "*1\r\n*2\r\n$2\r\nsf\r\n*1\r\n*2\r\n$3\r\n9-1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
        else if (!resp_str_eq(a0, "XREADGROUP"))
            fake_reply(f, "+OK\r\n");
        resp_reply_free(c);
    }
}

static void test_loading(void)
{
    struct loop *l = loop_new();
    struct fake f;
    char err[128], addr[64];
    struct rd x;
    int64_t end;

    memset(&f, 0, sizeof(f));
    f.fd = -1;
    f.lfd = net_listen("127.0.0.1:0", err, sizeof(err));
    resp_reader_init(&f.rd);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", net_local_port(f.lfd));
    rd_open(&x, l, addr, "sf", 1000, true);
    end = loop_now() + 6000 * t_slow();
    while (x.n < 2 && loop_now() < end) {
        loop_once(l, 20);
        fake_serve(&f);
    }
    is_int(f.creates, 2, "loading: XGROUP CREATE sent again after -LOADING");
    is_int(f.history, 2, "loading: the pending read sent again after -LOADING");
    ok(f.reads >= 2, "loading: the new read sent again after -LOADING (%d)", f.reads);
    is_int(x.n, 2, "loading: caught up, then the new entry taken");
    is_str(x.taken[1], "9-1", "loading: the entry is 9-1");
    is_int(x.batches, 1, "loading: taken ran once, after the batch");
    rd_close(&x);
    if (f.fd >= 0)
        close(f.fd);
    close(f.lfd);
    resp_reader_release(&f.rd);
    loop_free(l);
}

int main(void)
{
    log_init("test_group", LOG_LVL_ERROR, false);
    if (testsrv_start(&srv, NULL) < 0) {
        ok(0, "redis-server started");
        return done_testing();
    }
    test_real();
    testsrv_stop(&srv);
    test_loading();
    return done_testing();
}
