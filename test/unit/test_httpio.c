/* SPDX-License-Identifier: MIT */
/* httpc against httpd on 127.0.0.1 in one loop, and raw sockets against httpd: framing,
 * streaming, keep-alive reuse, pipelining, limits, timeouts, refused connects, a server that
 * dies mid-chunk, cancel. */
#include "orion/httpc.h"
#include "orion/httpd.h"
#include "orion/net.h"
#include "../t.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static struct loop *L;
static struct httpd *S;
static int chunks_written, slow_started, slow_closed, abandon_closed, abandon_rc, ended_closed;
static struct httpd_req *stream_req, *ended_req;

struct res {
    int status, done, err, ndata, written_at_first;
    enum httpc_err kind;
    struct buf body;
    char msg[256];
};

static void r_head(void *arg, const struct http_head *h)
{
    ((struct res *)arg)->status = h->status;
}

static void r_data(void *arg, const char *p, size_t n)
{
    struct res *r = arg;

    if (r->ndata++ == 0)
        r->written_at_first = chunks_written;
    buf_append(&r->body, p, n);
}

static void r_done(void *arg)
{
    ((struct res *)arg)->done = 1;
}

static void r_error(void *arg, enum httpc_err kind, const char *msg)
{
    struct res *r = arg;

    r->err = 1;
    r->kind = kind;
    snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static const struct httpc_cb CB = {r_head, r_data, r_done, r_error};

static void res_init(struct res *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, 1 << 20);
}

static void spin(int *flag, long ms)
{
    int64_t end = loop_now() + ms;

    while (!*flag && loop_now() < end)
        loop_once(L, 10);
}

static long stream_tick(struct loop *l, void *arg)
{
    char line[64];

    (void)l;
    (void)arg;
    if (chunks_written == 3) {
        httpd_end(stream_req);
        stream_req = NULL;
        return -1;
    }
    snprintf(line, sizeof(line), "{\"n\":%d}\n", chunks_written++);
    httpd_write_chunk(stream_req, line, strlen(line));
    return 30;
}

static void on_slow_close(void *arg)
{
    (void)arg;
    slow_closed = 1;
}

/* A handler that answers from on_close (a cancel path that ends the response) must get -1,
 * and the connection must not be touched: it is being freed. */
static void on_abandon(void *arg)
{
    struct httpd_req *r = arg;

    abandon_rc = httpd_write_chunk(r, "x", 1) + httpd_end(r) + httpd_respond(r, 200, NULL, "", 0);
    abandon_closed = 1;
}

static void on_ended_close(void *arg)
{
    (void)arg;
    ended_closed++;
}

static void handler(void *arg, struct httpd_req *r, const struct httpd_request *req)
{
    static const char *const ct[] = {"Content-Type: application/json; charset=utf-8", NULL};

    (void)arg;
    if (strcmp(req->path, "/len") == 0) {
        httpd_respond(r, 200, ct, "hello world", 11);
    } else if (strcmp(req->path, "/echo") == 0) {
        httpd_respond(r, 200, NULL, req->body, req->body_len);
    } else if (strcmp(req->path, "/query") == 0) {
        httpd_respond(r, 200, NULL, req->query, strlen(req->query));
    } else if (strcmp(req->path, "/stream") == 0) {
        static const char *const nd[] = {"Content-Type: application/x-ndjson", NULL};
        chunks_written = 0;
        stream_req = r;
        httpd_start_chunked(r, 200, nd);
        loop_timer(L, 0, stream_tick, NULL);
    } else if (strcmp(req->path, "/abandon") == 0) {
        httpd_start_chunked(r, 200, NULL);
        httpd_on_close(r, on_abandon, r);
    } else if (strcmp(req->path, "/ended") == 0) { /* the test writes and ends it */
        httpd_start_chunked(r, 200, NULL);
        httpd_on_close(r, on_ended_close, NULL);
        ended_req = r;
    } else if (strcmp(req->path, "/stall") == 0) { /* one chunk, then nothing */
        httpd_start_chunked(r, 200, NULL);
        httpd_write_chunk(r, "a", 1);
        httpd_on_close(r, on_slow_close, NULL);
    } else if (strcmp(req->path, "/slow") == 0) {
        slow_started = 1;
        httpd_on_close(r, on_slow_close, NULL);
    } else {
        httpd_respond(r, 404, NULL, "404 page not found", 18);
    }
}

/* A blocking raw client: connect, send, read everything until EOF or ms pass (loop runs). */
static int raw_connect(int port)
{
    char addr[64], err[128];
    int pending, fd;

    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    fd = net_connect(addr, &pending, err, sizeof(err));
    while (pending) {
        struct pollfd p = {fd, POLLOUT, 0};
        loop_once(L, 5);
        if (poll(&p, 1, 0) == 1)
            pending = 0;
    }
    return fd;
}

static void raw_send(int fd, const char *p, size_t n)
{
    while (n) {
        long w = net_write(fd, p, n);
        if (w < 0)
            return;
        p += w;
        n -= (size_t)w;
        loop_once(L, 1);
    }
}

/* Read into out until EOF (returns 1), or until `until` appears, or ms pass (0). */
static int raw_read(int fd, struct buf *out, const char *until, long ms)
{
    int64_t end = loop_now() + ms;
    char tmp[4096];

    while (loop_now() < end) {
        long n = net_read(fd, tmp, sizeof(tmp));
        if (n < 0)
            return 1;
        if (n > 0)
            buf_append(out, tmp, (size_t)n);
        if (until && strstr(buf_data(out), until))
            return 0;
        if (n == 0)
            loop_once(L, 5);
    }
    return 0;
}

static char *raw_exchange(int port, const char *req, size_t n, const char *until, long ms,
                          int *eof)
{
    struct buf out;
    int fd = raw_connect(port);

    buf_init(&out, 1 << 22);
    raw_send(fd, req, n);
    *eof = raw_read(fd, &out, until, ms);
    close(fd);
    return buf_detach(&out, NULL);
}

static struct res *get(struct httpc *c, const char *method, const char *path, const char *body)
{
    static struct res r;

    buf_release(&r.body);
    res_init(&r);
    if (!httpc_request(c, method, path, body ? "application/json" : NULL, body,
                       body ? strlen(body) : 0, &CB, &r))
        r.err = 1;
    while (!r.done && !r.err)
        if (loop_once(L, 50) < 0)
            break;
    return &r;
}

static void test_client(int port)
{
    char base[64];
    struct httpc *c;
    struct res *r;

    snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
    c = httpc_new(L, base, NULL);
    ok(c != NULL, "httpc_new %s", base);
    r = get(c, "GET", "/len", NULL);
    ok(r->done && r->status == 200, "Content-Length response done, 200");
    is_str(buf_data(&r->body), "hello world", "Content-Length body");
    r = get(c, "POST", "/echo", "{\"model\":\"m\"}");
    is_str(buf_data(&r->body), "{\"model\":\"m\"}", "POST body echoed");
    r = get(c, "GET", "/query?a=1&b=2", NULL);
    is_str(buf_data(&r->body), "a=1&b=2", "query split off the path");
    r = get(c, "HEAD", "/len", NULL);
    ok(r->done && r->status == 200 && buf_size(&r->body) == 0, "HEAD: no body, done");
    is_int(httpc_connects(c), 1, "keep-alive: four requests on one connection");
    r = get(c, "GET", "/stream", NULL);
    ok(r->done, "chunked stream done");
    is_str(buf_data(&r->body), "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n", "chunked body de-chunked");
    ok(r->ndata >= 3 && r->written_at_first < 3, "stream delivered incrementally (%d pieces)",
       r->ndata);
    r = get(c, "GET", "/nothere", NULL);
    ok(r->done && r->status == 404, "404 answered");
    is_int(httpc_connects(c), 1, "still one connection");
    is_int(httpd_conns(S), 1, "server saw one connection");
    httpc_free(c);
}

static void test_raw(int port)
{
    static const char pipe2[] = "GET /len HTTP/1.1\r\nHost: x\r\n\r\n"
                                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond"
                                "GET /query?third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    static const char chunked[] = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                  "Connection: close\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n"
                                  "0\r\nX-T: 1\r\n\r\n";
    static const char smuggle[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    static const char big[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n";
    static const char te[] = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n";
    static const char old[] = "GET /stream HTTP/1.0\r\n\r\n";
    static const char async2[] = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
                                 "GET /len HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    static const char order[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json; "
                                "charset=utf-8\r\nDate: ";
    char *out, *a, *b, *c3;
    struct buf hdr;
    int eof;

    out = raw_exchange(port, pipe2, sizeof(pipe2) - 1, NULL, 3000, &eof);
    a = strstr(out, "hello world");
    b = strstr(out, "second");
    c3 = strstr(out, "\r\n\r\nthird");
    ok(eof && a && b && c3 && a < b && b < c3, "pipelined: three answers in order, then close");
    if (!a)
        printf("# eof %d got: %s\n", eof, out);
    ok(strstr(out, "Connection: close\r\n\r\nthird") != NULL, "Connection: close echoed");
    ok(strncmp(out, order, strlen(order)) == 0, "header order: handler's, then Date");
    free(out);
    out = raw_exchange(port, chunked, sizeof(chunked) - 1, NULL, 3000, &eof);
    ok(strstr(out, "Content-Length: 11\r\nConnection: close\r\n\r\nhello world") != NULL,
       "chunked request body de-chunked");
    free(out);
    out = raw_exchange(port, smuggle, sizeof(smuggle) - 1, NULL, 3000, &eof);
    ok(eof && strncmp(out, "HTTP/1.1 400 ", 13) == 0, "Content-Length + chunked: 400, close");
    free(out);
    out = raw_exchange(port, big, sizeof(big) - 1, NULL, 3000, &eof);
    ok(eof && strncmp(out, "HTTP/1.1 413 ", 13) == 0, "body over max_body: 413, close");
    free(out);
    out = raw_exchange(port, te, sizeof(te) - 1, NULL, 3000, &eof);
    ok(eof && strncmp(out, "HTTP/1.1 501 ", 13) == 0, "unknown transfer-coding: 501");
    free(out);
    buf_init(&hdr, 1 << 20);
    buf_puts(&hdr, "GET /len HTTP/1.1\r\nHost: x\r\n");
    while (buf_size(&hdr) < 20000)
        buf_puts(&hdr, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    buf_puts(&hdr, "\r\n");
    out = raw_exchange(port, buf_data(&hdr), buf_size(&hdr), NULL, 3000, &eof);
    ok(eof && strncmp(out, "HTTP/1.1 431 ", 13) == 0, "head over 16 KiB: 431, close");
    free(out);
    buf_release(&hdr);
    out = raw_exchange(port, async2, sizeof(async2) - 1, NULL, 3000, &eof);
    a = strstr(out, "Transfer-Encoding: chunked");
    b = strstr(out, "8\r\n{\"n\":2}\n\r\n0\r\n\r\nHTTP/1.1 200 OK");
    ok(eof && a && b && strstr(b, "hello world"),
       "pipelined behind a streamed answer: waits for its end, then answered");
    free(out);
    out = raw_exchange(port, old, sizeof(old) - 1, NULL, 3000, &eof);
    ok(eof && !strstr(out, "Transfer-Encoding") &&
           strstr(out, "\r\n\r\n{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n") != NULL,
       "HTTP/1.0 stream: no chunks, close-delimited");
    free(out);
}

static void test_timeouts(void)
{
    struct httpd_opts o = {2, 150, 300, 1000};
    char err[128];
    struct httpd *s = httpd_new(L, "127.0.0.1:0", &o, handler, NULL, err, sizeof(err));
    struct buf out;
    int64_t t0;
    int fd, fd2, fd3, eof;

    ok(s != NULL, "second server (max 2 conns, head 150 ms, idle 300 ms)");
    buf_init(&out, 1 << 16);
    fd = raw_connect(httpd_port(s));
    raw_send(fd, "GET /len HTTP/1.1\r\n", 19);
    t0 = loop_now();
    eof = raw_read(fd, &out, NULL, 2000);
    ok(eof && loop_now() - t0 < 1000 && buf_size(&out) == 0,
       "slowloris: closed after the head timeout (%lld ms)", (long long)(loop_now() - t0));
    close(fd);
    fd = raw_connect(httpd_port(s));
    raw_send(fd, "GET /len HTTP/1.1\r\nHost: x\r\n\r\n", 30);
    buf_reset(&out);
    raw_read(fd, &out, "hello world", 2000);
    t0 = loop_now();
    eof = raw_read(fd, &out, NULL, 2000);
    ok(eof && loop_now() - t0 >= 250, "idle keep-alive connection closed after idle_ms");
    close(fd);
    fd = raw_connect(httpd_port(s));
    fd2 = raw_connect(httpd_port(s));
    fd3 = raw_connect(httpd_port(s));
    buf_reset(&out);
    eof = raw_read(fd3, &out, NULL, 2000);
    ok(eof && strncmp(buf_data(&out), "HTTP/1.1 503 ", 13) == 0, "over max_conns: 503, close");
    close(fd);
    close(fd2);
    close(fd3);
    buf_release(&out);
    httpd_free(s);
}

/* A one-shot raw server: answers any request with `reply`, then closes. */
struct raw_srv {
    int lfd, fd;
    const char *reply;
};

static void raw_srv_io(struct loop *l, int fd, int revents, void *arg)
{
    struct raw_srv *s = arg;
    char tmp[4096];

    (void)revents;
    if (fd == s->lfd) {
        s->fd = net_accept(fd);
        if (s->fd >= 0)
            loop_watch(l, s->fd, POLLIN, raw_srv_io, s);
        return;
    }
    if (net_read(fd, tmp, sizeof(tmp)) != 0) {
        net_write(fd, s->reply, strlen(s->reply));
        loop_unwatch(l, fd);
        close(fd);
    }
}

static struct res *raw_srv_get(const char *reply, long header_ms)
{
    static struct res r;
    struct httpc_opts o = {0, header_ms, 0};
    struct raw_srv s = {-1, -1, reply};
    char err[128], base[64];
    struct httpc *c;

    s.lfd = net_listen("127.0.0.1:0", err, sizeof(err));
    loop_watch(L, s.lfd, POLLIN, raw_srv_io, &s);
    snprintf(base, sizeof(base), "127.0.0.1:%d", net_local_port(s.lfd));
    c = httpc_new(L, base, &o);
    buf_release(&r.body);
    res_init(&r);
    httpc_request(c, "GET", "/", NULL, NULL, 0, &CB, &r);
    while (!r.done && !r.err)
        loop_once(L, 50);
    httpc_free(c);
    loop_unwatch(L, s.lfd);
    close(s.lfd);
    return &r;
}

static void test_failures(int port)
{
    char err[128], base[64];
    struct httpc *c;
    struct res r, *rr;
    struct httpc_req *q;
    int lfd, dead_port, zero = 0;

    lfd = net_listen("127.0.0.1:0", err, sizeof(err));
    dead_port = net_local_port(lfd);
    close(lfd);
    snprintf(base, sizeof(base), "127.0.0.1:%d", dead_port);
    c = httpc_new(L, base, NULL);
    res_init(&r);
    httpc_request(c, "GET", "/", NULL, NULL, 0, &CB, &r);
    ok(!r.err && !r.done, "no callback inside httpc_request");
    spin(&r.err, 3000);
    ok(r.err && r.kind == HTTPC_UNREACHABLE, "connect refused: HTTPC_UNREACHABLE (%s)", r.msg);
    httpc_free(c);
    buf_release(&r.body);

    rr = raw_srv_get("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", 0);
    ok(rr->err && (rr->kind == HTTPC_EOF || rr->kind == HTTPC_PROTO),
       "server closes mid-chunk: error %d (%s)", rr->kind, rr->msg);
    rr = raw_srv_get("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0);
    ok(rr->err && rr->kind == HTTPC_EOF, "server closes mid-body: HTTPC_EOF (%s)", rr->msg);
    rr = raw_srv_get("HTTP/1.1 200 OK\r\n\r\nclose-delimited", 0);
    ok(rr->done && strcmp(buf_data(&rr->body), "close-delimited") == 0, "body ended by close");
    rr = raw_srv_get("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0);
    ok(rr->err && rr->kind == HTTPC_PROTO, "differing Content-Lengths: HTTPC_PROTO");
    rr = raw_srv_get("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0);
    ok(rr->err && rr->kind == HTTPC_PROTO, "bad chunk size: HTTPC_PROTO (%s)", rr->msg);

    snprintf(base, sizeof(base), "http://127.0.0.1:%d/", port);
    c = httpc_new(L, base, &(struct httpc_opts){0, 100, 0});
    res_init(&r);
    httpc_request(c, "GET", "/slow", NULL, NULL, 0, &CB, &r);
    spin(&r.err, 3000);
    ok(r.err && r.kind == HTTPC_TIMEOUT, "no head within header_ms: HTTPC_TIMEOUT (%s)", r.msg);
    spin(&slow_closed, 2000);
    ok(slow_closed, "server's on_close ran when the client left");
    slow_closed = 0;
    buf_reset(&r.body);
    r.err = 0;
    httpc_free(c);
    c = httpc_new(L, base, NULL);
    q = httpc_request(c, "GET", "/slow", NULL, NULL, 0, &CB, &r);
    spin(&zero, 100);
    httpc_cancel(q);
    spin(&slow_closed, 2000);
    ok(slow_closed && !r.err && !r.done, "cancel: server saw the close, no client callback");
    spin(&zero, 100);
    ok(!r.err && !r.done, "cancel: still no callback later");
    buf_release(&r.body);
    httpc_free(c);
}

/* The client left while the response ran; on_close tries to end it. */
static void test_abandon(int port)
{
    char base[64];
    struct httpc *c;
    struct httpc_req *q;
    struct res r;

    snprintf(base, sizeof(base), "127.0.0.1:%d", port);
    c = httpc_new(L, base, NULL);
    res_init(&r);
    q = httpc_request(c, "GET", "/abandon", NULL, NULL, 0, &CB, &r);
    while (!r.status && !r.err)
        loop_once(L, 50);
    httpc_cancel(q);
    spin(&abandon_closed, 2000);
    ok(abandon_closed && abandon_rc == -3, "httpd_* from on_close: -1 each, nothing touched");
    buf_release(&r.body);
    httpc_free(c);
}

/* The client is gone (reset) when the owner writes its last chunk and ends the response: the
 * writes and httpd_end fail, and on_close must not run afterwards (the owner has let go of
 * what it would be given: the ollama-sim freed its request there and crashed on the call). */
static void test_end_after_reset(int port)
{
    static const char req[] = "GET /ended HTTP/1.1\r\nHost: x\r\n\r\n";
    struct linger lg = {1, 0};
    struct buf out;
    int fd = raw_connect(port), zero = 0, before, rc = 0;

    buf_init(&out, 1 << 16);
    raw_send(fd, req, sizeof(req) - 1);
    raw_read(fd, &out, "\r\n\r\n", 2000);
    ok(ended_req != NULL && strstr(buf_data(&out), "200 OK"), "/ended: head out");
    before = httpd_conns(S);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd); /* a reset, as kill -9 of a client with unread bytes gives */
    for (int i = 0; i < 3; i++)
        rc += httpd_write_chunk(ended_req, "token", 5);
    rc = rc < 0 && httpd_end(ended_req) < 0 && errno == EPIPE;
    ended_req = NULL;
    spin(&zero, 300);
    ok(rc, "writes after the reset fail, httpd_end returns -1 (EPIPE)");
    ok(ended_closed == 0, "no on_close after httpd_end, though the client had gone (%d)",
       ended_closed);
    ok(httpd_conns(S) == before - 1, "the connection is freed (%d -> %d)", before, httpd_conns(S));
    buf_release(&out);
}

/* A pooled connection that the server closed is found dead on reuse: the request goes out
 * again on a new connection, and the caller never sees the failure. */
static void test_stale_reuse(void)
{
    struct raw_srv s = {-1, -1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
    char err[128], base[64];
    struct httpc *c;
    struct res r;

    s.lfd = net_listen("127.0.0.1:0", err, sizeof(err));
    loop_watch(L, s.lfd, POLLIN, raw_srv_io, &s);
    snprintf(base, sizeof(base), "127.0.0.1:%d", net_local_port(s.lfd));
    c = httpc_new(L, base, NULL);
    res_init(&r);
    for (int i = 0; i < 2; i++) {
        buf_release(&r.body);
        res_init(&r);
        httpc_request(c, "GET", "/", NULL, NULL, 0, &CB, &r);
        while (!r.done && !r.err)
            loop_once(L, 50);
        ok(r.done && strcmp(buf_data(&r.body), "ok") == 0, "request %d after a server close", i);
    }
    is_int(httpc_connects(c), 2, "a new connection for the second request");
    buf_release(&r.body);
    httpc_free(c);
    loop_unwatch(L, s.lfd);
    close(s.lfd);
}

/* No body bytes within idle_ms; a base without a port means Ollama's 11434. */
static void test_body_idle(int port)
{
    char base[64];
    struct httpc *c;
    struct res r;

    snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
    c = httpc_new(L, base, &(struct httpc_opts){0, 0, 150});
    res_init(&r);
    httpc_request(c, "GET", "/stall", NULL, NULL, 0, &CB, &r);
    spin(&r.err, 3000);
    ok(r.err && r.kind == HTTPC_TIMEOUT && r.status == 200 && buf_size(&r.body) == 1,
       "no body bytes within idle_ms: HTTPC_TIMEOUT after the head (%s)", r.msg);
    spin(&slow_closed, 2000);
    ok(slow_closed, "server's on_close ran for the stalled stream");
    slow_closed = 0;
    buf_release(&r.body);
    httpc_free(c);
    c = httpc_new(L, "127.0.0.1", NULL);
    res_init(&r);
    httpc_request(c, "GET", "/", NULL, NULL, 0, &CB, &r);
    while (!r.done && !r.err)
        loop_once(L, 50);
    if (r.err)
        ok(strstr(r.msg, "127.0.0.1:11434") != NULL, "\"127.0.0.1\": port 11434 (%s)", r.msg);
    else
        printf("ok %d # skip something answers on 127.0.0.1:11434\n", ++t_count);
    buf_release(&r.body);
    httpc_free(c);
}

/* A listener whose accept queue is full drops SYNs: the connect hangs until connect_ms. */
static void test_connect_timeout(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[4], pending;
    char err[128], base[64];
    struct httpc *c;
    struct res r;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 0) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
        printf("ok %d # skip no listener for the connect timeout\n", ++t_count);
        return;
    }
    snprintf(base, sizeof(base), "127.0.0.1:%d", ntohs(a.sin_port));
    for (int i = 0; i < 4; i++)
        fill[i] = net_connect(base, &pending, err, sizeof(err));
    c = httpc_new(L, base, &(struct httpc_opts){200, 0, 0});
    res_init(&r);
    httpc_request(c, "GET", "/", NULL, NULL, 0, &CB, &r);
    spin(&r.err, 3000);
    if (r.err && r.kind == HTTPC_EOF) /* the kernel took the SYN after all */
        printf("ok %d # skip accept queue not full here\n", ++t_count);
    else
        ok(r.err && r.kind == HTTPC_UNREACHABLE && strstr(r.msg, "200 ms"),
           "no connect within connect_ms: HTTPC_UNREACHABLE (%s)", r.msg);
    buf_release(&r.body);
    httpc_free(c);
    for (int i = 0; i < 4; i++)
        if (fill[i] >= 0)
            close(fill[i]);
    close(lfd);
}

/* A daemon stopping with a request still in its handler: httpd_free runs its on_close, so
 * the owner lets go of it instead of keeping a pointer into freed memory. */
static void test_free_tells(void)
{
    static const char get[] = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = raw_connect(httpd_port(S));

    slow_started = slow_closed = 0;
    raw_send(fd, get, sizeof(get) - 1);
    spin(&slow_started, 3000);
    ok(slow_started && !slow_closed, "a request waits in its handler");
    httpd_free(S);
    is_int(slow_closed, 1, "httpd_free: its on_close ran once");
    close(fd);
}

int main(void)
{
    struct httpd_opts o = {0, 0, 0, 1 << 20};
    char err[128];

    ok(httpc_new(NULL, "https://x", NULL) == NULL && errno == EINVAL, "https:// refused");
    ok(httpc_new(NULL, "host:99999", NULL) == NULL, "port out of range refused");
    L = loop_new();
    S = httpd_new(L, "127.0.0.1:0", &o, handler, NULL, err, sizeof(err));
    ok(S != NULL && httpd_port(S) > 0, "server on 127.0.0.1:%d", S ? httpd_port(S) : 0);
    test_client(httpd_port(S));
    test_raw(httpd_port(S));
    test_failures(httpd_port(S));
    test_timeouts();
    test_abandon(httpd_port(S));
    test_end_after_reset(httpd_port(S));
    test_stale_reuse();
    test_body_idle(httpd_port(S));
    test_connect_timeout();
    test_free_tells();
    loop_free(L);
    return done_testing();
}
