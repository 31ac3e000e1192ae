/* SPDX-License-Identifier: MIT */
/*
 * httpd: the HTTP/1.1 server. One request at a time per connection: bytes of pipelined
 * requests wait in the input buffer until the response before them has ended, which answers
 * them in order without a queue. Bad input is answered (400/413/431/501) and then the
 * connection is half-closed and drained for a moment ("lingering close") so the client reads
 * the answer instead of a reset.
 *
 * Reentrancy: the handler and the httpd_* calls it makes never free the connection. Anything
 * that must close it from inside such a call is deferred to a zero-delay timer (kick), and so
 * is the processing of the next pipelined request after an asynchronous response.
 */
#include "orion/httpd.h"

#include "orion/net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX (16u * 1024)  /* bytes read per wakeup */
#define LINGER_MS 500          /* drain time after an error answer */
#define ACCEPT_MAX 64          /* connections accepted per wakeup */

enum { HC_IDLE, HC_HEAD, HC_BODY, HC_HANDLER, HC_LINGER };

struct httpd {
    struct loop *l;
    int lfd, port, nconns;
    struct httpd_opts o;
    httpd_handler *h;
    void *arg;
    struct hconn *conns;
};

struct hconn {
    struct httpd *s;
    struct hconn *next, *prev;
    int fd, state;
    struct buf in, out;
    unsigned long tmr, kick;
    struct httpd_req *cur;
    struct http_chunked ch;
    unsigned long long need;   /* Content-Length body bytes still to read */
    bool closing, broken;      /* close once out is flushed; a write failed */
};

struct httpd_req {
    struct hconn *c;
    struct httpd_request pub;
    struct http_head head;
    char *raw, *strs;
    struct buf body;
    bool is_head, close_after, echo_close, keepalive10, started, chunked, raw_stream;
    void (*on_close)(void *arg);
    void *on_close_arg;
};

static void process(struct hconn *c);
static void conn_events(struct hconn *c);

/* --- connection lifetime ------------------------------------------------------------------ */

static void req_free(struct httpd_req *r)
{
    if (!r)
        return;
    buf_release(&r->body);
    orion_free(r->raw);
    orion_free(r->strs);
    orion_free(r);
}

static void conn_free(struct hconn *c, bool notify)
{
    struct httpd_req *r = c->cur;
    struct httpd *s = c->s;

    loop_unwatch(s->l, c->fd);
    close(c->fd);
    loop_timer_cancel(s->l, c->tmr);
    loop_timer_cancel(s->l, c->kick);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    buf_release(&c->in);
    buf_release(&c->out);
    if (r && c->state == HC_HANDLER && notify && r->on_close) {
        c->broken = true; /* httpd_* calls from on_close return -1 (EPIPE), touch nothing */
        r->on_close(r->on_close_arg);
    }
    req_free(r);
    orion_free(c);
}

static long conn_deadline(struct loop *l, void *arg)
{
    struct hconn *c = arg;

    (void)l;
    c->tmr = 0;
    conn_free(c, true);
    return -1;
}

static void arm(struct hconn *c, long ms)
{
    loop_timer_cancel(c->s->l, c->tmr);
    c->tmr = ms > 0 ? loop_timer(c->s->l, ms, conn_deadline, c) : 0;
}

static long conn_kick(struct loop *l, void *arg)
{
    struct hconn *c = arg;

    (void)l;
    c->kick = 0;
    if (c->broken)
        conn_free(c, true);
    else
        process(c);
    return -1;
}

/* From inside the handler or an httpd_* call: continue (or close) once the stack unwinds. */
static void kick_later(struct hconn *c)
{
    if (!c->kick)
        c->kick = loop_timer(c->s->l, 0, conn_kick, c);
}

/* --- output ------------------------------------------------------------------------------- */

/* Write what is pending. 0 (maybe still pending) or -1 on a write error. */
static int flush(struct hconn *c)
{
    while (buf_size(&c->out)) {
        long n = net_write(c->fd, buf_data(&c->out), buf_size(&c->out));
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        buf_consume(&c->out, (size_t)n);
    }
    if (buf_size(&c->out) == 0) {
        buf_compact(&c->out);
        if (c->closing && c->state != HC_LINGER && !c->cur) {
            shutdown(c->fd, SHUT_WR);
            c->state = HC_LINGER;
            arm(c, LINGER_MS);
        }
    }
    conn_events(c);
    return 0;
}

/* Flush from a call the user made: a failure closes the connection later. */
static int flush_user(struct hconn *c)
{
    if (c->broken || flush(c) < 0) {
        c->broken = true;
        kick_later(c);
        return -1;
    }
    return 0;
}

static void conn_events(struct hconn *c)
{
    int ev = 0;

    /* Reading stops only during a response, after a head's worth of pipelined bytes; until
     * then a read still notices the client leaving. Otherwise process() keeps the buffer
     * under ORION_HTTP_MAX_HEAD, so a read always fits. */
    if (c->state != HC_HANDLER || buf_size(&c->in) < ORION_HTTP_MAX_HEAD)
        ev |= POLLIN;
    if (buf_size(&c->out))
        ev |= POLLOUT;
    loop_set_events(c->s->l, c->fd, ev);
}

/* Answer a protocol error and close. */
static void fail(struct hconn *c, int status)
{
    const char *reason = http_reason(status);

    req_free(c->cur);
    c->cur = NULL;
    buf_printf(&c->out,
               "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Length: %zu\r\nConnection: close\r\n\r\n%d %s",
               status, reason, strlen(reason) + 4, status, reason);
    c->closing = true;
    c->state = HC_IDLE;
    if (flush(c) < 0)
        conn_free(c, false);
}

/* --- requests ----------------------------------------------------------------------------- */

/* Copy a NUL-terminated string of n bytes to *o and advance it. */
static const char *put_str(char **o, const char *p, size_t n)
{
    char *s = *o;

    memcpy(s, p, n);
    s[n] = '\0';
    *o += n + 1;
    return s;
}

/* The request keeps its own copy of the head: the input buffer moves on while it runs. */
static struct httpd_req *req_new(struct hconn *c, const char *p, size_t n)
{
    struct httpd_req *r = orion_calloc(1, sizeof(*r));
    const char *q;
    char *o;
    size_t plen;
    int st;

    if (!r)
        return NULL;
    buf_init(&r->body, c->s->o.max_body);
    r->c = c;
    r->raw = orion_strndup(p, n);
    if (!r->raw || http_parse_request(r->raw, n, &r->head, &st) != (int)n)
        goto out_free;
    r->strs = o = orion_malloc(r->head.method_len + r->head.target_len + 3);
    if (!r->strs)
        goto out_free;
    q = memchr(r->head.target, '?', r->head.target_len);
    plen = q ? (size_t)(q - r->head.target) : r->head.target_len;
    r->pub.method = put_str(&o, r->head.method, r->head.method_len);
    r->pub.path = put_str(&o, r->head.target, plen);
    r->pub.query = put_str(&o, q ? q + 1 : "", q ? r->head.target_len - plen - 1 : 0);
    r->pub.head = &r->head;
    r->is_head = strcmp(r->pub.method, "HEAD") == 0;
    r->keepalive10 = r->head.minor == 0 && r->head.conn_keepalive && !r->head.conn_close;
    r->echo_close = r->head.conn_close;
    r->close_after = r->head.conn_close || (r->head.minor == 0 && !r->keepalive10);
    return r;
out_free:
    req_free(r);
    return NULL;
}

static void dispatch(struct hconn *c)
{
    struct httpd_req *r = c->cur;

    arm(c, 0);
    c->state = HC_HANDLER;
    r->pub.body = buf_data(&r->body);
    r->pub.body_len = buf_size(&r->body);
    c->s->h(c->s->arg, r, &r->pub);
}

/* A head is complete: set up reading its body. 1 to go on, 0 to stop. */
static int begin_body(struct hconn *c)
{
    struct httpd_req *r = c->cur;
    const struct http_header *ex = http_find(&r->head, "expect");

    if (r->head.content_length > (long long)c->s->o.max_body) {
        fail(c, 413);
        return 0;
    }
    if (!r->head.chunked && r->head.content_length <= 0) {
        dispatch(c);
        return 1;
    }
    if (ex && r->head.minor == 1 && http_header_is(ex, "100-continue"))
        buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
    http_chunked_init(&c->ch);
    c->need = r->head.chunked ? 0 : (unsigned long long)r->head.content_length;
    c->state = HC_BODY;
    arm(c, c->s->o.idle_ms);
    return 1;
}

/* 1: a request was taken (go on), 0: wait for more input or stop. */
static int read_head(struct hconn *c)
{
    struct http_head h;
    int st, n;

    if (buf_size(&c->in) == 0)
        return 0;
    if (c->state == HC_IDLE) { /* the first byte of the next request: the head clock starts */
        c->state = HC_HEAD;
        arm(c, c->s->o.header_ms);
    }
    n = http_parse_request(buf_data(&c->in), buf_size(&c->in), &h, &st);
    if (n == ORION_AGAIN)
        return 0;
    if (n < 0) {
        fail(c, st);
        return 0;
    }
    c->cur = req_new(c, buf_data(&c->in), (size_t)n);
    if (!c->cur) {
        fail(c, 500);
        return 0;
    }
    buf_consume(&c->in, (size_t)n);
    return begin_body(c);
}

static int read_body(struct hconn *c)
{
    struct httpd_req *r = c->cur;
    bool done = false;

    if (r->head.chunked) {
        long n = http_chunked_feed(&c->ch, buf_data(&c->in), buf_size(&c->in), &r->body, &done);
        if (n < 0) {
            fail(c, errno == ENOBUFS ? 413 : errno == ENOMEM ? 500 : 400);
            return 0;
        }
        buf_consume(&c->in, (size_t)n);
    } else {
        size_t take = buf_size(&c->in) < c->need ? buf_size(&c->in) : (size_t)c->need;
        if (buf_append(&r->body, buf_data(&c->in), take) < 0) {
            fail(c, 500);
            return 0;
        }
        buf_consume(&c->in, take);
        c->need -= take;
        done = c->need == 0;
    }
    if (!done)
        return 0;
    dispatch(c);
    return 1;
}

/* Take requests from the input while no response is running. */
static void process(struct hconn *c)
{
    struct httpd *s = c->s;

    while (!c->closing && !c->broken && (!c->cur || c->state == HC_BODY)) {
        int go = c->state == HC_BODY ? read_body(c) : read_head(c);
        if (!go)
            break;
    }
    /* fail() may have freed the connection on a write error: it is gone from the list then */
    for (struct hconn *k = s->conns; k; k = k->next)
        if (k == c) {
            if (c->state != HC_LINGER)
                buf_compact(&c->in);
            conn_events(c);
            break;
        }
}

static void conn_io(struct loop *l, int fd, int revents, void *arg)
{
    struct hconn *c = arg;
    char tmp[READ_MAX];
    long n;

    (void)l;
    if ((revents & POLLOUT) && flush(c) < 0) {
        conn_free(c, true);
        return;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    n = net_read(fd, tmp, sizeof(tmp));
    if (n < 0) {
        conn_free(c, true);
        return;
    }
    if (n == 0 || c->state == HC_LINGER)
        return;
    if (buf_append(&c->in, tmp, (size_t)n) < 0) {
        conn_free(c, true);
        return;
    }
    if (c->state == HC_BODY)
        arm(c, c->s->o.idle_ms);
    if (!c->cur || c->state == HC_BODY)
        process(c);
    else
        conn_events(c);
}

/* --- listener ----------------------------------------------------------------------------- */

static void refuse(int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "Content-Length: 24\r\nConnection: close\r\n\r\n"
                               "503 too many connections";

    if (net_write(fd, busy, sizeof(busy) - 1) > 0)
        shutdown(fd, SHUT_WR);
    close(fd);
}

static void conn_new(struct httpd *s, int fd)
{
    struct hconn *c = orion_calloc(1, sizeof(*c));

    if (!c || loop_watch(s->l, fd, POLLIN, conn_io, c) < 0) {
        orion_free(c);
        close(fd);
        return;
    }
    c->s = s;
    c->fd = fd;
    buf_init(&c->in, ORION_HTTP_MAX_HEAD + READ_MAX);
    buf_init(&c->out, ORION_HTTP_MAX_OUT);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    c->state = HC_HEAD; /* a new connection has header_ms to send its first head */
    arm(c, s->o.header_ms);
}

static void on_accept(struct loop *l, int lfd, int revents, void *arg)
{
    struct httpd *s = arg;

    (void)l;
    (void)revents;
    for (int i = 0; i < ACCEPT_MAX; i++) {
        int fd = net_accept(lfd);
        if (fd < 0)
            return;
        if (s->nconns >= s->o.max_conns)
            refuse(fd);
        else
            conn_new(s, fd);
    }
}

struct httpd *httpd_new(struct loop *l, const char *listen, const struct httpd_opts *o,
                        httpd_handler *h, void *arg, char *err, size_t errlen)
{
    struct httpd *s = orion_calloc(1, sizeof(*s));

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (o)
        s->o = *o;
    s->o.max_conns = s->o.max_conns > 0 ? s->o.max_conns : 256;
    s->o.header_ms = s->o.header_ms > 0 ? s->o.header_ms : 10000;
    s->o.idle_ms = s->o.idle_ms > 0 ? s->o.idle_ms : 60000;
    s->o.max_body = s->o.max_body > 0 ? s->o.max_body : ORION_HTTP_MAX_BODY;
    s->l = l;
    s->h = h;
    s->arg = arg;
    s->lfd = net_listen(listen, err, errlen);
    if (s->lfd < 0)
        goto out_free;
    s->port = net_local_port(s->lfd);
    if (loop_watch(l, s->lfd, POLLIN, on_accept, s) < 0) {
        snprintf(err, errlen, "out of memory");
        close(s->lfd);
        goto out_free;
    }
    return s;
out_free:
    orion_free(s);
    return NULL;
}

int httpd_port(const struct httpd *s)
{
    return s->port;
}

int httpd_conns(const struct httpd *s)
{
    return s->nconns;
}

void httpd_close_all(struct httpd *s)
{
    while (s->conns) /* the head each time: an on_close may change the list */
        conn_free(s->conns, true);
}

void httpd_free(struct httpd *s)
{
    if (!s)
        return;
    httpd_close_all(s);
    loop_unwatch(s->l, s->lfd);
    close(s->lfd);
    orion_free(s);
}

/* --- responses ---------------------------------------------------------------------------- */

static void put_head(struct httpd_req *r, int status, const char *const *headers)
{
    http_put_head(&r->c->out, status, headers, (long long)time(NULL));
}

/* The response is over: free the request, then go on with the next (or close). */
static void req_end(struct httpd_req *r)
{
    struct hconn *c = r->c;

    c->cur = NULL;
    c->state = HC_IDLE;
    arm(c, c->s->o.idle_ms);
    if (r->close_after)
        c->closing = true;
    req_free(r);
    if (flush_user(c) == 0)
        kick_later(c);
}

static bool wrong_state(const struct httpd_req *r)
{
    if (!r || r->c->broken) {
        errno = r ? EPIPE : EINVAL;
        return true;
    }
    return false;
}

/* httpd_respond and httpd_end end the request for the caller even when the client is already
 * gone (a write failed: -1, EPIPE): the caller lets go of what on_close would be given, so
 * on_close must not run when the kick or a read error frees the connection afterwards. */
static void caller_done(struct httpd_req *r)
{
    if (r && r->c->broken)
        r->on_close = NULL;
}

int httpd_respond(struct httpd_req *r, int status, const char *const *headers, const char *body,
                  size_t len)
{
    struct buf *o;
    bool nobody;

    caller_done(r);
    if (wrong_state(r) || r->started) {
        errno = r && r->started ? EINVAL : errno;
        return -1;
    }
    o = &r->c->out;
    r->started = true;
    nobody = http_response_bodyless(NULL, status);
    put_head(r, status, headers);
    if (!nobody)
        buf_printf(o, "Content-Length: %zu\r\n", len);
    if (r->echo_close)
        buf_puts(o, "Connection: close\r\n");
    else if (r->keepalive10)
        buf_puts(o, "Connection: keep-alive\r\n");
    buf_puts(o, "\r\n");
    if (!nobody && !r->is_head && len)
        buf_append(o, body, len);
    req_end(r);
    return 0;
}

int httpd_start_chunked(struct httpd_req *r, int status, const char *const *headers)
{
    struct buf *o;

    if (wrong_state(r) || r->started) {
        errno = r && r->started ? EINVAL : errno;
        return -1;
    }
    o = &r->c->out;
    r->started = r->chunked = true;
    r->raw_stream = r->head.minor == 0;
    if (r->raw_stream)
        r->close_after = true; /* HTTP/1.0 has no chunks: the close ends the body */
    put_head(r, status, headers);
    if (r->echo_close)
        buf_puts(o, "Connection: close\r\n");
    if (!r->raw_stream)
        buf_puts(o, "Transfer-Encoding: chunked\r\n");
    buf_puts(o, "\r\n");
    return flush_user(r->c);
}

int httpd_write_chunk(struct httpd_req *r, const char *p, size_t n)
{
    struct buf *o;
    int rc = 0;

    if (wrong_state(r) || !r->chunked) {
        errno = r && !r->chunked ? EINVAL : errno;
        return -1;
    }
    if (n == 0 || r->is_head)
        return 0; /* an empty chunk would end the body */
    o = &r->c->out;
    if (!r->raw_stream)
        rc = buf_printf(o, "%zx\r\n", n);
    if (rc == 0)
        rc = buf_append(o, p, n);
    if (rc == 0 && !r->raw_stream)
        rc = buf_puts(o, "\r\n");
    if (rc < 0) { /* the client does not read: give up on it */
        r->c->broken = true;
        kick_later(r->c);
        return -1;
    }
    return flush_user(r->c);
}

int httpd_end(struct httpd_req *r)
{
    caller_done(r);
    if (wrong_state(r) || !r->chunked) {
        errno = r && !r->chunked ? EINVAL : errno;
        return -1;
    }
    if (!r->raw_stream && !r->is_head)
        buf_puts(&r->c->out, "0\r\n\r\n");
    req_end(r);
    return 0;
}

void httpd_on_close(struct httpd_req *r, void (*cb)(void *arg), void *arg)
{
    r->on_close = cb;
    r->on_close_arg = arg;
}
