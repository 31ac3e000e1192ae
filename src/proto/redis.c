/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous Redis connection: state machine
 *   DOWN --start/backoff--> CONNECTING --connected--> HANDSHAKE (AUTH, SELECT, PING) --> UP
 * and any failure goes back to DOWN with every command in flight failed, then a reconnect
 * after a backoff that doubles from backoff_min to backoff_max, with ±25 % jitter.
 * A Redis that is still loading its data set (AOF or RDB) accepts AUTH and SELECT but answers
 * -LOADING to PING and to every data command: the connection then stays in HANDSHAKE and
 * sends the handshake again on a timer (backoff_min doubling to 1 s) until PING answers, so
 * the owner sees "up" only once Redis can serve it.
 * A failure is logged when its text changes, and recovery once, so a Redis that stays down
 * does not flood the log.
 * Output is coalesced: a command is only appended to the output buffer; one deferred flush per
 * loop pass (loop_defer) writes everything queued in that pass with one write(2), or leaves
 * the rest to POLLOUT when the socket is full.
 * Sentinel mode adds a step before CONNECTING: the sentinels are asked where the master is
 * (sentinel.c, which also checks the address's ROLE), on every reconnect; a switch heard from
 * a sentinel drops the link and connects to the new master at once, without a backoff.
 */
#include "redis_int.h"

#include "orion/log.h"
#include "orion/net.h"
#include "orion/sentinel.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Never called: marks the handshake's own commands in the queue. */
static void handshake_marker(struct redis *r, struct resp_reply *reply, void *arg)
{
    (void)r;
    (void)reply;
    (void)arg;
}
static void io_cb(struct loop *l, int fd, int revents, void *arg);

/* What a connection keeps at rest: an output buffer of OUT_KEEP bytes and a queue of Q_KEEP
 * replies awaited (6 KiB), written through when made, so that the pages are resident from
 * the start and RSS does not step up a page the first time a burst (a takeover, a re-sync
 * after a Redis restart) reaches them. Bigger bursts grow past them and the output buffer
 * comes back to OUT_KEEP once it has drained. */
#define OUT_KEEP 4096
#define Q_KEEP 256

static void out_keep(struct redis *r);

static char *dup_or_null(const char *s) { return s ? orion_strdup(s) : NULL; }

struct redis *redis_new(struct loop *l, const struct redis_opts *o, redis_state_fn *on_state,
                        void *arg)
{
    struct redis *r = orion_calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->l = l;
    r->o = *o;
    r->o.sentinels = r->o.master_name = r->o.sentinel_user = r->o.sentinel_password = NULL;
    r->name = orion_strdup(o->name ? o->name : "redis");
    if (o->sentinels && redis_sentinel_init(r, o) < 0) {
        redis_free(r);
        return NULL;
    }
    if (!o->sentinels)
        r->addr = orion_strdup(o->addr ? o->addr : "127.0.0.1:6379");
    r->user = dup_or_null(o->user);
    r->password = dup_or_null(o->password);
    if (!r->addr || !r->name || (o->user && !r->user) || (o->password && !r->password)) {
        redis_free(r);
        return NULL;
    }
    if (!r->o.connect_timeout_ms)
        r->o.connect_timeout_ms = 5000;
    if (!r->o.cmd_timeout_ms)
        r->o.cmd_timeout_ms = 10000;
    if (!r->o.backoff_min_ms)
        r->o.backoff_min_ms = 100;
    if (!r->o.backoff_max_ms)
        r->o.backoff_max_ms = 5000;
    r->on_state = on_state;
    r->state_arg = arg;
    r->fd = -1;
    buf_init(&r->out, ORION_RESP_MAX_REPLY);
    resp_reader_init(&r->rd);
    out_keep(r);
    r->q = orion_malloc(Q_KEEP * sizeof(*r->q));
    if (r->q) { /* without it the queue grows from nothing, as it would anyway */
        memset(r->q, 0, Q_KEEP * sizeof(*r->q));
        r->qcap = Q_KEEP;
    }
    return r;
}

static void close_fd(struct redis *r)
{
    if (r->fd >= 0) {
        loop_unwatch(r->l, r->fd);
        close(r->fd);
        r->fd = -1;
    }
    r->want_out = false;
    if (r->flush_id) {
        loop_defer_cancel(r->l, r->flush_id);
        r->flush_id = 0;
    }
    if (r->timer) {
        loop_timer_cancel(r->l, r->timer);
        r->timer = 0;
    }
    if (r->loading_timer) {
        loop_timer_cancel(r->l, r->loading_timer);
        r->loading_timer = 0;
    }
    r->hs_loading = false;
    r->loading_backoff = 0;
}

void redis_free(struct redis *r)
{
    if (!r)
        return;
    close_fd(r);
    if (r->retry_timer)
        loop_timer_cancel(r->l, r->retry_timer);
    sentinel_free(r->sent);
    redis_wait_release(r);
    buf_release(&r->out);
    resp_reader_release(&r->rd);
    orion_free(r->q);
    orion_free(r->addr);
    orion_free(r->name);
    orion_free(r->user);
    orion_free(r->password);
    orion_free(r);
}

bool redis_up(const struct redis *r) { return r->st == R_UP; }
const char *redis_addr(const struct redis *r) { return r->addr; }
const char *redis_error(const struct redis *r) { return r->err; }
bool redis_err_loading(const char *err) { return err && !strncmp(err, "LOADING", 7); }
size_t redis_pending(const struct redis *r) { return r->qlen; }

static struct pending *q_at(struct redis *r, size_t i) { return &r->q[(r->qhead + i) % r->qcap]; }

static void out_keep(struct redis *r)
{
    if (r->out.cap > OUT_KEEP)
        buf_trim(&r->out, OUT_KEEP);
    if (!r->out.cap && buf_reserve(&r->out, OUT_KEEP - 1) == 0)
        memset(r->out.p, 0, r->out.cap);
}

static int q_push(struct redis *r, redis_reply_fn *cb, void *arg, int64_t deadline)
{
    struct pending *p;

    if (r->qlen == r->qcap) {
        size_t ncap = r->qcap ? r->qcap * 2 : 16;
        struct pending *nq = orion_malloc(ncap * sizeof(*nq));
        if (!nq)
            return -1;
        for (size_t i = 0; i < r->qlen; i++)
            nq[i] = *q_at(r, i);
        orion_free(r->q);
        r->q = nq;
        r->qcap = ncap;
        r->qhead = 0;
    }
    p = &r->q[(r->qhead + r->qlen) % r->qcap];
    p->cb = cb;
    p->arg = arg;
    p->deadline = deadline;
    r->qlen++;
    return 0;
}

static struct pending q_pop(struct redis *r)
{
    struct pending p = r->q[r->qhead];

    r->qhead = (r->qhead + 1) % r->qcap;
    if (--r->qlen == 0)
        r->qhead = 0; /* empty: start at the front, so only as much of the ring as was ever
                       * in flight at once is touched, not all of it as the head goes round */
    return p;
}

static long retry_cb(struct loop *l, void *arg)
{
    struct redis *r = arg;

    (void)l;
    r->retry_timer = 0;
    redis_start(r);
    return -1;
}

static void schedule_retry(struct redis *r)
{
    long d = r->backoff ? r->backoff : r->o.backoff_min_ms;
    long jitter = d / 4;

    r->backoff = d * 2 > r->o.backoff_max_ms ? r->o.backoff_max_ms : d * 2;
    if (jitter > 0)
        d += (long)(rand() % (2 * jitter + 1)) - jitter;
    r->retry_timer = loop_timer(r->l, d, retry_cb, r);
}

/* Go DOWN: fail everything in flight, tell the owner, schedule a reconnect. */
void redis_fail(struct redis *r, const char *fmt, ...)
{
    bool was_up = r->st == R_UP;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    if (strcmp(r->err, r->logged)) {
        log_warnx("%s %s: %s", r->name, r->addr, r->err);
        snprintf(r->logged, sizeof(r->logged), "%s", r->err);
    }
    r->announced_down = true;
    close_fd(r);
    r->st = R_DOWN;
    r->resolved = false; /* Sentinel mode: the next connect asks where the master is */
    buf_reset(&r->out);
    resp_reader_reset(&r->rd);
    while (r->qlen) {
        struct pending p = q_pop(r);
        if (p.cb && p.cb != handshake_marker)
            p.cb(r, NULL, p.arg);
    }
    if (was_up && r->on_state)
        r->on_state(r, false, r->state_arg);
    if (r->started && r->st == R_DOWN && !r->retry_timer)
        schedule_retry(r);
}

static void flush_out(struct redis *r)
{
    bool more;

    while (buf_size(&r->out)) {
        long n = net_write(r->fd, buf_data(&r->out), buf_size(&r->out));
        if (n < 0) {
            redis_fail(r, "write: %s", strerror(errno));
            return;
        }
        if (n == 0)
            break;
        buf_consume(&r->out, (size_t)n); /* an offset; compacted only when cheap (buf.c) */
    }
    more = buf_size(&r->out) > 0;
    if (!more)
        out_keep(r); /* a burst (a backlog, a takeover) should not pin a bigger one */
    if (more != r->want_out) {
        r->want_out = more;
        loop_set_events(r->l, r->fd, POLLIN | (more ? POLLOUT : 0));
    }
}

/* The deferred flush: everything queued during this loop pass, in one write. While the socket
 * is full (POLLOUT awaited) io_cb writes when it drains, so nothing is tried here. */
static void flush_cb(struct loop *l, void *arg)
{
    struct redis *r = arg;

    (void)l;
    r->flush_id = 0;
    if (r->fd >= 0 && r->st >= R_HANDSHAKE && !r->want_out)
        flush_out(r);
}

static void read_some(struct redis *r);

/* How many commands from the head of the queue up to the last one past its deadline. */
static size_t overdue(struct redis *r, int64_t now, int64_t *next)
{
    size_t n = 0;

    *next = -1;
    for (size_t i = 0; i < r->qlen; i++) {
        int64_t d = q_at(r, i)->deadline;
        if (d <= now)
            n = i + 1;
        else if (*next < 0 || d < *next)
            *next = d;
    }
    return n;
}

/* A reply already in the socket is not late: a pass reads 16 KiB, so when a deadline comes
 * the reply can be waiting behind others (a big reply, a burst, a loop that was slow to come
 * round). Read what is there until the n commands that are due are answered or nothing is
 * left to read. The link may fail meanwhile (r->fd < 0). */
static void catch_up(struct redis *r, size_t n)
{
    unsigned long end = r->answered + n;
    struct pollfd p;

    while (r->fd >= 0 && (long)(end - r->answered) > 0) {
        p.fd = r->fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 0) != 1)
            return;
        read_some(r);
    }
}

static long timeout_cb(struct loop *l, void *arg)
{
    struct redis *r = arg;
    int64_t now = loop_now(), next;
    size_t n;

    (void)l;
    if (r->st == R_CONNECTING) {
        r->timer = 0;
        redis_fail(r, "connect: timed out after %ld ms", r->o.connect_timeout_ms);
        return -1;
    }
    n = overdue(r, now, &next);
    if (n > 0) {
        catch_up(r, n);
        if (r->fd < 0)
            return -1; /* the link failed while reading: r->timer is gone with it */
        n = overdue(r, now, &next);
    }
    if (n > 0) {
        r->timer = 0;
        redis_fail(r, "no reply within the command timeout");
        return -1;
    }
    if (next < 0) {
        r->timer = 0;
        return -1;
    }
    return (long)(next - now);
}

static void arm_timer(struct redis *r, long ms)
{
    if (r->timer)
        loop_timer_cancel(r->l, r->timer);
    r->timer = loop_timer(r->l, ms, timeout_cb, r);
}

static int enqueue(struct redis *r, long timeout_ms, redis_reply_fn *cb, void *arg, int argc,
                   const char *const *argv, const size_t *len)
{
    size_t before = buf_size(&r->out);
    long t = timeout_ms > 0 ? timeout_ms : r->o.cmd_timeout_ms;

    if (resp_format(&r->out, argc, argv, len) < 0) {
        r->out.len = r->out.off + before; /* drop the partial command */
        return -1;
    }
    if (q_push(r, cb, arg, loop_now() + t) < 0) {
        r->out.len = r->out.off + before;
        return -1;
    }
    if (!r->timer)
        arm_timer(r, t);
    return 0;
}

static void start_handshake(struct redis *r);

static long loading_cb(struct loop *l, void *arg)
{
    struct redis *r = arg;

    (void)l;
    r->loading_timer = 0;
    start_handshake(r);
    return -1;
}

static bool is_loading(const struct resp_reply *reply)
{
    return reply->type == RESP_ERROR && redis_err_loading(reply->str);
}

static void handshake_reply(struct redis *r, struct resp_reply *reply)
{
    if (is_loading(reply)) {
        r->hs_loading = true; /* not up yet: the whole handshake again once its replies are in */
        snprintf(r->err, sizeof(r->err), "%s", reply->str);
    } else if (r->qlen == 0 && resp_is_error(reply, "NOPERM")) {
        /* PING (the last) refused by an ACL without +ping: up, without knowing whether Redis
         * still loads; the owners' retries on error replies cover that case */
        if (!r->ping_warned)
            log_info("%s %s: PING not permitted (%s); grant +ping so a reconnect waits until "
                     "Redis has loaded its data", r->name, r->addr, reply->str);
        r->ping_warned = true;
    } else if (reply->type == RESP_ERROR) {
        redis_fail(r, "handshake: %s", reply->str);
        return;
    }
    if (r->qlen > 0)
        return; /* more handshake replies to come */
    if (r->hs_loading) {
        long d = r->loading_backoff ? r->loading_backoff : r->o.backoff_min_ms;

        if (strcmp(r->err, r->logged)) {
            log_warnx("%s %s: %s; waiting", r->name, r->addr, r->err);
            snprintf(r->logged, sizeof(r->logged), "%s", r->err);
        }
        r->announced_down = true;
        r->hs_loading = false;
        r->loading_backoff = d * 2 > 1000 ? 1000 : d * 2;
        r->loading_timer = loop_timer(r->l, d, loading_cb, r);
        return;
    }
    r->loading_backoff = 0;
    r->st = R_UP;
    r->backoff = 0;
    if (r->sent && r->o.watch && !r->watching)
        redis_sentinel_watch(r);
    if (r->announced_down)
        log_info("%s %s: connected", r->name, r->addr);
    r->announced_down = false;
    r->logged[0] = '\0';
    r->err[0] = '\0';
    if (r->on_state)
        r->on_state(r, true, r->state_arg);
}

static void deliver(struct redis *r, struct resp_reply *reply)
{
    struct pending p;

    if (!r->qlen) {
        resp_reader_recycle(&r->rd, reply);
        redis_fail(r, "protocol error: a reply nobody asked for");
        return;
    }
    p = q_pop(r);
    r->answered++;
    if (p.cb == handshake_marker) {
        handshake_reply(r, reply);
        resp_reader_recycle(&r->rd, reply);
        return;
    }
    if (!p.cb) {
        resp_reader_recycle(&r->rd, reply);
        return;
    }
    r->cur = reply;
    r->taken = false;
    p.cb(r, reply, p.arg);
    r->cur = NULL;
    if (!r->taken)
        resp_reader_recycle(&r->rd, reply);
}

/* Sentinel mode: a reply saying this is no longer the master (delivered first, as any
 * reply) drops the link; the reconnect asks the sentinels. */
static void deliver_checked(struct redis *r, struct resp_reply *reply)
{
    char what[24] = "";

    if (r->sent && redis_err_not_master(reply))
        snprintf(what, sizeof(what), "%.*s", (int)strcspn(reply->str, " "), reply->str);
    deliver(r, reply);
    if (what[0] && r->fd >= 0)
        redis_fail(r, "answered -%s: not the master any more", what);
}

struct resp_reply *redis_take(struct redis *r)
{
    r->taken = true;
    return r->cur;
}

#define READ_BUF 16384
#define READ_MIN 4096

static void read_some(struct redis *r)
{
    struct resp_reply *reply;
    long n;
    int rc;
    /* Up to 16 KiB per pass into a buffer of 16 KiB (it grows only for an item that does not
     * fit): reserving 16 KiB past what is buffered doubled it to 32 KiB, half of it touched
     * only now and then, after a big reply. */
    size_t live = r->rd.in.len - r->rd.in.off;
    bool small = live < READ_BUF - READ_MIN;
    size_t cap = r->rd.in.cap;

    if (small)
        buf_compact(&r->rd.in); /* a partial item of under 12 KiB moves to the front */
    if (buf_reserve(&r->rd.in, small ? READ_BUF - 1 - live : READ_MIN) < 0) {
        redis_fail(r, "reply larger than %u bytes", ORION_RESP_MAX_REPLY);
        return;
    }
    /* A new buffer is written through once, so its pages are resident from the start: read()
     * touching them one by one, as a bigger reply first came, made RSS a high-water mark. */
    if (r->rd.in.cap != cap)
        memset(r->rd.in.p + r->rd.in.len, 0, r->rd.in.cap - r->rd.in.len);
    n = net_read(r->fd, r->rd.in.p + r->rd.in.len, r->rd.in.cap - r->rd.in.len - 1);
    if (n < 0) {
        redis_fail(r, "%s", errno ? strerror(errno) : "connection closed by server");
        return;
    }
    r->rd.in.len += (size_t)n;
    r->rd.in.p[r->rd.in.len] = '\0';
    while (r->fd >= 0 && (rc = resp_reader_get(&r->rd, &reply)) != 0) {
        if (rc < 0) {
            redis_fail(r, "%s", r->rd.errstr);
            return;
        }
        deliver_checked(r, reply);
    }
    if (r->fd >= 0)
        buf_trim(&r->rd.in, READ_BUF); /* a rare huge reply should not pin its buffer */
}

static void start_handshake(struct redis *r)
{
    char db[24];
    const char *auth[3] = {"AUTH", r->user ? r->user : r->password, r->password};
    const char *sel[2] = {"SELECT", db};
    const char *ping[1] = {"PING"};

    r->st = R_HANDSHAKE;
    snprintf(db, sizeof(db), "%ld", r->o.db);
    if (r->password && enqueue(r, 0, handshake_marker, NULL, r->user ? 3 : 2, auth, NULL) < 0)
        goto oom;
    if (enqueue(r, 0, handshake_marker, NULL, 2, sel, NULL) < 0)
        goto oom;
    if (enqueue(r, 0, handshake_marker, NULL, 1, ping, NULL) < 0)
        goto oom;
    flush_out(r);
    return;
oom:
    redis_fail(r, "handshake: out of memory");
}

static void io_cb(struct loop *l, int fd, int revents, void *arg)
{
    struct redis *r = arg;
    char err[128];

    (void)l;
    if (r->st == R_CONNECTING) {
        if (net_connect_done(fd, err, sizeof(err)) < 0) {
            redis_fail(r, "%s", err);
            return;
        }
        if (r->timer) {
            loop_timer_cancel(r->l, r->timer);
            r->timer = 0;
        }
        start_handshake(r);
        return;
    }
    if (revents & (POLLIN | POLLHUP | POLLERR))
        read_some(r);
    if (r->fd >= 0 && (revents & POLLOUT))
        flush_out(r);
}

void redis_start(struct redis *r)
{
    int pending;
    char err[128];

    r->started = true;
    if (r->st != R_DOWN || r->retry_timer)
        return;
    if (r->sent && !r->resolved) {
        redis_sentinel_resolve(r); /* calls redis_start again with an address */
        return;
    }
    r->fd = net_connect(r->addr, &pending, err, sizeof(err));
    if (r->fd < 0) {
        redis_fail(r, "%s", err);
        return;
    }
    if (loop_watch(r->l, r->fd, POLLOUT, io_cb, r) < 0) {
        redis_fail(r, "out of memory");
        return;
    }
    r->want_out = true;
    r->st = R_CONNECTING;
    arm_timer(r, r->o.connect_timeout_ms);
}

int redis_cmdv(struct redis *r, long timeout_ms, redis_reply_fn *cb, void *arg, int argc,
               const char *const *argv, const size_t *len)
{
    if (r->st != R_UP) {
        errno = ENOTCONN;
        return -1;
    }
    if (enqueue(r, timeout_ms, cb, arg, argc, argv, len) < 0)
        return -1;
    if (!r->flush_id && !(r->flush_id = loop_defer(r->l, flush_cb, r)) && !r->batch)
        flush_out(r); /* no memory to defer: write now, as before */
    return 0;
}

void redis_batch_begin(struct redis *r)
{
    r->batch = true;
    r->batch_out = buf_size(&r->out);
    r->batch_q = r->qlen;
}

void redis_batch_end(struct redis *r, bool keep)
{
    if (!r->batch)
        return;
    r->batch = false;
    /* nothing is written while a batch is open, and a failure closes the link (qlen 0) */
    if (!keep && r->st == R_UP && r->qlen >= r->batch_q && buf_size(&r->out) >= r->batch_out) {
        r->out.len = r->out.off + r->batch_out;
        r->out.p[r->out.len] = '\0';
        r->qlen = r->batch_q; /* the timer finds the next deadline by itself */
    }
    if (keep && r->st == R_UP && buf_size(&r->out) && !r->flush_id &&
        !(r->flush_id = loop_defer(r->l, flush_cb, r)))
        flush_out(r);
}

#define REDIS_MAX_ARGS 64

int redis_cmd(struct redis *r, redis_reply_fn *cb, void *arg, ...)
{
    const char *argv[REDIS_MAX_ARGS];
    int argc = 0;
    va_list ap;
    const char *s;

    va_start(ap, arg);
    while ((s = va_arg(ap, const char *)) != NULL && argc < REDIS_MAX_ARGS)
        argv[argc++] = s;
    va_end(ap);
    if (s) {
        errno = E2BIG;
        return -1;
    }
    return redis_cmdv(r, 0, cb, arg, argc, argv, NULL);
}
