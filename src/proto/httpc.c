/* SPDX-License-Identifier: MIT */
/*
 * httpc: the HTTP/1.1 client. Each request owns one connection while it runs: an idle
 * keep-alive one from the pool, or a new one. A reused connection that the server closed
 * before sending a byte of the response is retried once on a new connection (the server
 * closed it idle; it never saw the request).
 *
 * Reentrancy: user callbacks may cancel, start requests or free the client. Every entry from
 * the loop counts c->depth; anything freed while it is > 0 is only marked dead, and reap()
 * frees it when the outermost entry returns.
 */
#include "orion/httpc.h"

#include "orion/net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ORION_VERSION
#define ORION_VERSION "dev"
#endif

#define READ_MAX (16u * 1024)
#define POOL_KEEP_MS 90000L /* an idle pooled connection is closed after this (Go: 90 s) */

enum { K_CONNECT, K_SEND, K_HEAD, K_BODY, K_IDLE };
enum { F_NONE, F_LENGTH, F_CHUNKED, F_CLOSE };

struct httpc {
    struct loop *l;
    char addr[300], host[300], prefix[256];
    struct httpc_opts o;
    struct kconn *conns;
    unsigned long connects;
    int depth;
    bool freeing;
};

struct httpc_req {
    struct httpc *c;
    struct kconn *k;
    struct httpc_cb cb;
    void *arg;
    struct buf out;         /* the request bytes, kept for a retry */
    bool is_head, retried, dead;
};

struct kconn {
    struct httpc *c;
    struct kconn *next, *prev;
    struct httpc_req *req;
    int fd, state, framing;
    struct buf in, body;
    size_t sent;
    unsigned long tmr;
    unsigned long long left;
    struct http_chunked ch;
    bool reused, got_bytes, keep, dead;
    char err[440];
};

static void k_io(struct loop *l, int fd, int revents, void *arg);
static int k_start_new(struct httpc *c, struct httpc_req *r);

/* --- lifetime ----------------------------------------------------------------------------- */

static void req_free(struct httpc_req *r)
{
    if (!r)
        return;
    buf_release(&r->out);
    orion_free(r);
}

static void k_unlink_free(struct kconn *k)
{
    struct httpc *c = k->c;

    if (k->fd >= 0) {
        loop_unwatch(c->l, k->fd);
        close(k->fd);
    }
    loop_timer_cancel(c->l, k->tmr);
    if (k->prev)
        k->prev->next = k->next;
    else
        c->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    req_free(k->req);
    buf_release(&k->in);
    buf_release(&k->body);
    orion_free(k);
}

/* Close now; inside a callback, only mark it (and its request) dead for reap(). */
static void k_close(struct kconn *k)
{
    struct httpc *c = k->c;

    if (c->depth == 0) {
        k_unlink_free(k);
        return;
    }
    if (k->fd >= 0) {
        loop_unwatch(c->l, k->fd);
        close(k->fd);
        k->fd = -1;
    }
    loop_timer_cancel(c->l, k->tmr);
    k->tmr = 0;
    if (k->req)
        k->req->dead = true;
    k->dead = true;
}

/* After the outermost loop entry: free what callbacks closed. */
static void reap(struct httpc *c)
{
    struct kconn *k, *next;

    if (c->depth)
        return;
    for (k = c->conns; k; k = next) {
        next = k->next;
        if (k->dead || c->freeing)
            k_unlink_free(k);
    }
    if (c->freeing)
        orion_free(c);
}

/* The request is over with an error: close the connection, report it once. */
static void k_fail(struct kconn *k, enum httpc_err kind, const char *msg)
{
    struct httpc_req *r = k->req;
    struct httpc *c = k->c;

    k->req = NULL;
    k_close(k);
    if (!r)
        return;
    if (!r->dead && r->cb.error) {
        c->depth++;
        r->cb.error(r->arg, kind, msg);
        c->depth--;
    }
    req_free(r);
}

static long k_deadline(struct loop *l, void *arg)
{
    struct kconn *k = arg;
    struct httpc *c = k->c;

    (void)l;
    k->tmr = 0;
    c->depth++;
    if (k->state == K_IDLE) {
        k_close(k);
    } else if (k->fd < 0) { /* the connect failed at once: reported from here, not the call */
        k_fail(k, HTTPC_UNREACHABLE, k->err);
    } else if (k->state == K_CONNECT) { /* nothing was sent: as safe to retry as a refusal */
        snprintf(k->err, sizeof(k->err), "connect to %s: no answer within %ld ms", c->addr,
                 c->o.connect_ms);
        k_fail(k, HTTPC_UNREACHABLE, k->err);
    } else {
        if (k->state == K_BODY)
            snprintf(k->err, sizeof(k->err), "no body bytes for %ld ms", c->o.idle_ms);
        else
            snprintf(k->err, sizeof(k->err), "no response head within %ld ms", c->o.header_ms);
        k_fail(k, HTTPC_TIMEOUT, k->err);
    }
    c->depth--;
    reap(c);
    return -1;
}

static void k_arm(struct kconn *k, long ms)
{
    loop_timer_cancel(k->c->l, k->tmr);
    k->tmr = loop_timer(k->c->l, ms, k_deadline, k);
}

/* --- response ----------------------------------------------------------------------------- */

/* The body is complete: pool the connection if it can carry another request, then report. */
static void k_done(struct kconn *k)
{
    struct httpc_req *r = k->req;
    struct httpc *c = k->c;
    size_t idle = 0;

    for (struct kconn *o = c->conns; o; o = o->next)
        idle += !o->dead && o->state == K_IDLE;
    k->req = NULL;
    if (k->keep && buf_size(&k->in) == 0 && idle < ORION_HTTPC_MAX_IDLE) {
        k->state = K_IDLE;
        k->reused = true;
        buf_reset(&k->in);
        buf_trim(&k->in, 0);
        buf_trim(&k->body, 0);
        loop_set_events(c->l, k->fd, POLLIN); /* an idle server close shows as readable */
        k_arm(k, POOL_KEEP_MS);
    } else {
        k_close(k);
    }
    if (!r->dead && r->cb.done) {
        c->depth++;
        r->cb.done(r->arg);
        c->depth--;
    }
    req_free(r);
}

static void k_data(struct kconn *k, const char *p, size_t n)
{
    struct httpc_req *r = k->req;

    if (n && r->cb.data) {
        k->c->depth++;
        r->cb.data(r->arg, p, n);
        k->c->depth--;
    }
}

/* Framing and keep-alive from the head. */
static void k_framing(struct kconn *k, const struct http_head *h)
{
    k->keep = h->minor == 1 ? !h->conn_close : h->conn_keepalive;
    if (http_response_bodyless(k->req->is_head ? "HEAD" : NULL, h->status)) {
        k->framing = F_NONE;
    } else if (h->chunked) {
        k->framing = F_CHUNKED;
        http_chunked_init(&k->ch);
    } else if (h->content_length >= 0) {
        k->framing = F_LENGTH;
        k->left = (unsigned long long)h->content_length;
    } else {
        k->framing = F_CLOSE;
        k->keep = false;
    }
}

/* 1: head taken, go on; 0: need more; -1: failed (k is closed). */
static int k_head(struct kconn *k)
{
    struct http_head h;
    int n = http_parse_response(buf_data(&k->in), buf_size(&k->in), &h);

    if (n == ORION_AGAIN)
        return 0;
    if (n < 0) {
        snprintf(k->err, sizeof(k->err), "%s",
                 buf_size(&k->in) > ORION_HTTP_MAX_HEAD ? "response head over the size cap"
                                                        : "malformed response head");
        k_fail(k, HTTPC_PROTO, k->err);
        return -1;
    }
    if (h.status >= 100 && h.status < 200 && h.status != 101) {
        buf_consume(&k->in, (size_t)n); /* 100 Continue and friends: the real head follows */
        return 1;
    }
    k_framing(k, &h);
    if (k->req->cb.head) {
        k->c->depth++;
        k->req->cb.head(k->req->arg, &h);
        k->c->depth--;
    }
    if (!k->req || k->req->dead || k->dead)
        return -1;
    buf_consume(&k->in, (size_t)n);
    k->state = K_BODY;
    k_arm(k, k->c->o.idle_ms);
    return 1;
}

/* Deliver body bytes in the input. 1: body complete; 0: need more; -1: gone. */
static int k_body(struct kconn *k)
{
    const char *p = buf_data(&k->in);
    size_t n = buf_size(&k->in), take = n;
    bool done = false;

    if (k->framing == F_NONE)
        return 1;
    if (k->framing == F_CHUNKED) {
        long used = http_chunked_feed(&k->ch, p, n, &k->body, &done);
        if (used < 0) {
            k_fail(k, errno == ENOMEM ? HTTPC_OOM : HTTPC_PROTO,
                   errno == ENOMEM ? "out of memory" : "malformed chunked body");
            return -1;
        }
        buf_consume(&k->in, (size_t)used);
        k_data(k, buf_data(&k->body), buf_size(&k->body));
        buf_reset(&k->body);
    } else {
        if (k->framing == F_LENGTH && take > k->left)
            take = (size_t)k->left;
        if (k->framing == F_LENGTH) {
            k->left -= take;
            done = k->left == 0;
        }
        k_data(k, p, take); /* before the consume: that may move the bytes */
        buf_consume(&k->in, take);
    }
    if (!k->req || k->req->dead || k->dead)
        return -1;
    return done ? 1 : 0;
}

static void k_input(struct kconn *k)
{
    int rc = 1;

    while (rc > 0 && k->state == K_HEAD)
        rc = k_head(k);
    if (rc < 0 || k->state != K_BODY)
        return;
    rc = k_body(k);
    if (rc > 0)
        k_done(k);
    else if (rc == 0)
        buf_compact(&k->in);
}

/* --- I/O ---------------------------------------------------------------------------------- */

/* The connection ended (EOF or error) while a request ran. */
static void k_eof(struct kconn *k, int err)
{
    struct httpc_req *r = k->req;

    if (k->state == K_BODY && k->framing == F_CLOSE) {
        k->keep = false;
        k_done(k);
        return;
    }
    if (r && k->reused && !k->got_bytes && !r->retried && k->state != K_BODY) {
        r->retried = true; /* the server closed the idle connection: once more, new */
        k->req = NULL;
        if (k_start_new(k->c, r) == 0) {
            k_close(k);
            return;
        }
        k->req = r;
        k_fail(k, HTTPC_OOM, "out of memory");
        return;
    }
    if (err)
        snprintf(k->err, sizeof(k->err), "connection lost: %s", strerror(err));
    else
        snprintf(k->err, sizeof(k->err), "connection closed %s",
                 k->state == K_BODY ? "in the middle of the body" : "before the response head");
    k_fail(k, HTTPC_EOF, k->err);
}

static void k_send(struct kconn *k)
{
    struct httpc_req *r = k->req;

    while (k->sent < buf_size(&r->out)) {
        long n = net_write(k->fd, buf_data(&r->out) + k->sent, buf_size(&r->out) - k->sent);
        if (n < 0) {
            k_eof(k, errno);
            return;
        }
        if (n == 0) {
            loop_set_events(k->c->l, k->fd, POLLIN | POLLOUT);
            return;
        }
        k->sent += (size_t)n;
    }
    k->state = K_HEAD;
    loop_set_events(k->c->l, k->fd, POLLIN);
}

static void k_read(struct kconn *k)
{
    char tmp[READ_MAX];
    long n = net_read(k->fd, tmp, sizeof(tmp));

    if (k->state == K_IDLE) { /* the server closed it, or sent what nobody asked for */
        k_close(k);
        return;
    }
    if (n == 0)
        return;
    if (n < 0) {
        k_eof(k, errno);
        return;
    }
    k->got_bytes = true;
    if (k->state == K_SEND) { /* an early answer (413, ...): stop sending, never reuse */
        k->state = K_HEAD;
        k->keep = false;
        loop_set_events(k->c->l, k->fd, POLLIN);
    }
    if (buf_append(&k->in, tmp, (size_t)n) < 0) {
        k_fail(k, errno == ENOMEM ? HTTPC_OOM : HTTPC_PROTO,
               errno == ENOMEM ? "out of memory" : "response head over the size cap");
        return;
    }
    if (k->state == K_BODY)
        k_arm(k, k->c->o.idle_ms);
    k_input(k);
}

static void k_connected(struct kconn *k)
{
    char err[100];

    if (net_connect_done(k->fd, err, sizeof(err)) < 0) {
        snprintf(k->err, sizeof(k->err), "%s: %s", k->c->addr, err); /* "connect: ..." */
        k_fail(k, HTTPC_UNREACHABLE, k->err);
        return;
    }
    k->state = K_SEND;
    k_arm(k, k->c->o.header_ms);
    k_send(k);
}

static void k_io(struct loop *l, int fd, int revents, void *arg)
{
    struct kconn *k = arg;
    struct httpc *c = k->c;

    (void)l;
    (void)fd;
    c->depth++;
    if (k->state == K_CONNECT) {
        k_connected(k);
    } else {
        if ((revents & POLLOUT) && k->state == K_SEND)
            k_send(k);
        if (!k->dead && (revents & (POLLIN | POLLHUP | POLLERR)))
            k_read(k);
    }
    c->depth--;
    reap(c);
}

/* --- requests ----------------------------------------------------------------------------- */

static void k_attach(struct kconn *k, struct httpc_req *r)
{
    k->req = r;
    r->k = k;
    k->sent = 0;
    k->got_bytes = false;
    k->keep = false;
    k->framing = F_NONE;
    buf_reset(&k->in);
}

/* A new connection for r. -1 only when out of memory; a failed connect is reported later. */
static int k_start_new(struct httpc *c, struct httpc_req *r)
{
    struct kconn *k = orion_calloc(1, sizeof(*k));
    int pending = 0;
    char why[100];

    if (!k)
        return -1;
    k->c = c;
    buf_init(&k->in, ORION_HTTP_MAX_HEAD + READ_MAX);
    buf_init(&k->body, ORION_HTTP_MAX_HEAD + 2 * READ_MAX);
    k->next = c->conns;
    if (c->conns)
        c->conns->prev = k;
    c->conns = k;
    k_attach(k, r);
    c->connects++;
    k->fd = net_connect(c->addr, &pending, why, sizeof(why));
    k->state = pending ? K_CONNECT : K_SEND;
    if (k->fd >= 0 && loop_watch(c->l, k->fd, POLLOUT, k_io, k) < 0) {
        close(k->fd);
        k->fd = -1;
        snprintf(why, sizeof(why), "out of memory");
    }
    if (k->fd < 0) {
        snprintf(k->err, sizeof(k->err), "%s: %s", c->addr, why);
        k_arm(k, 0);
    }
    else
        k_arm(k, pending ? c->o.connect_ms : c->o.header_ms);
    return 0;
}

static int build(struct httpc *c, struct httpc_req *r, const char *method, const char *path,
                 const char *ctype, const char *body, size_t len)
{
    struct buf *o = &r->out;
    bool want_len = body || len || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                    strcmp(method, "PATCH") == 0;

    if (buf_printf(o, "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: orion/%s\r\n", method,
                   c->prefix, path, c->host, ORION_VERSION) < 0 ||
        (ctype && buf_printf(o, "Content-Type: %s\r\n", ctype) < 0) ||
        (want_len && buf_printf(o, "Content-Length: %zu\r\n", body ? len : 0) < 0) ||
        buf_puts(o, "\r\n") < 0 || (body && len && buf_append(o, body, len) < 0))
        return -1;
    return 0;
}

struct httpc_req *httpc_request(struct httpc *c, const char *method, const char *path,
                                const char *content_type, const char *body, size_t len,
                                const struct httpc_cb *cb, void *arg)
{
    struct httpc_req *r = orion_calloc(1, sizeof(*r));
    struct kconn *k;

    if (!r)
        return NULL;
    buf_init(&r->out, (size_t)-1);
    r->c = c;
    r->cb = *cb;
    r->arg = arg;
    r->is_head = strcmp(method, "HEAD") == 0;
    if (build(c, r, method, path, content_type, body, len) < 0)
        goto out_free;
    for (k = c->conns; k; k = k->next)
        if (!k->dead && k->state == K_IDLE && !k->req)
            break;
    if (k) { /* reuse: sent from the loop, so that no callback runs inside this call */
        k_attach(k, r);
        k->state = K_SEND;
        k_arm(k, c->o.header_ms);
        loop_set_events(c->l, k->fd, POLLIN | POLLOUT);
        return r;
    }
    if (k_start_new(c, r) == 0)
        return r;
out_free:
    req_free(r);
    errno = ENOMEM;
    return NULL;
}

void httpc_cancel(struct httpc_req *r)
{
    struct kconn *k;

    if (!r)
        return;
    k = r->k;
    if (k && k->req == r) {
        k->req = NULL;
        k_close(k);
    }
    req_free(r);
}

/* --- client ------------------------------------------------------------------------------- */

/* "http://host:port[/prefix]", "host:port", "host" → addr, Host and prefix. */
static int parse_base(struct httpc *c, const char *base)
{
    const char *hp = base, *slash, *colon, *end;
    long port = 11434;
    size_t hlen;
    char *e;

    if (strncmp(base, "http://", 7) == 0)
        hp = base + 7;
    else if (strstr(base, "://"))
        return -1;
    slash = strchr(hp, '/');
    end = slash ? slash : hp + strlen(hp);
    colon = hp[0] == '[' ? memchr(hp, ']', (size_t)(end - hp)) : hp;
    if (!colon)
        return -1;
    colon = memchr(colon, ':', (size_t)(end - colon));
    hlen = (size_t)((colon ? colon : end) - hp);
    if (colon) {
        port = strtol(colon + 1, &e, 10);
        if (e != end || colon + 1 == end || port < 1 || port > 65535)
            return -1;
    }
    if (hlen == 0 || hlen > 255 || (hp[0] != '[' && memchr(hp, ']', hlen)) ||
        memchr(hp, '@', hlen) || memchr(hp, '?', (size_t)(end - hp)))
        return -1;
    snprintf(c->addr, sizeof(c->addr), "%.*s:%ld", (int)hlen, hp, port);
    memcpy(c->host, c->addr, sizeof(c->host));
    snprintf(c->prefix, sizeof(c->prefix), "%s", slash ? slash : "");
    hlen = strlen(c->prefix);
    while (hlen && c->prefix[hlen - 1] == '/')
        c->prefix[--hlen] = '\0';
    return slash && strlen(slash) >= sizeof(c->prefix) ? -1 : 0;
}

struct httpc *httpc_new(struct loop *l, const char *base, const struct httpc_opts *o)
{
    struct httpc *c = orion_calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->l = l;
    if (o)
        c->o = *o;
    c->o.connect_ms = c->o.connect_ms > 0 ? c->o.connect_ms : 3000;
    c->o.header_ms = c->o.header_ms > 0 ? c->o.header_ms : 600000;
    c->o.idle_ms = c->o.idle_ms > 0 ? c->o.idle_ms : 300000;
    if (!base || parse_base(c, base) < 0) {
        orion_free(c);
        errno = EINVAL;
        return NULL;
    }
    return c;
}

void httpc_free(struct httpc *c)
{
    if (!c)
        return;
    c->freeing = true;
    if (c->depth) { /* inside a callback: no more callbacks, freed when it returns */
        for (struct kconn *k = c->conns; k; k = k->next)
            k_close(k);
        return;
    }
    reap(c);
}

unsigned long httpc_connects(const struct httpc *c)
{
    return c->connects;
}

size_t httpc_idle(const struct httpc *c)
{
    size_t n = 0;

    for (const struct kconn *k = c->conns; k; k = k->next)
        n += !k->dead && k->state == K_IDLE && !k->req;
    return n;
}
