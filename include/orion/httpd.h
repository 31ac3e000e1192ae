/* SPDX-License-Identifier: MIT */
/*
 * httpd: an HTTP/1.1 server on struct loop. Keep-alive, pipelined requests answered in order,
 * Content-Length and chunked request bodies. Bad input gets 400/413/431/501 and a close; a
 * head not complete within header_ms (slowloris) and a connection idle for idle_ms are closed;
 * past max_conns a new connection gets 503 and a close.
 */
#ifndef ORION_HTTPD_H
#define ORION_HTTPD_H

#include <stddef.h>

#include "orion/http.h"
#include "orion/loop.h"

struct httpd_opts {
    int max_conns;
    long header_ms, idle_ms;
    size_t max_body;
}; /* 0 = 256, 10000, 60000, ORION_HTTP_MAX_BODY */

struct httpd_request { /* valid until the response ends or the client goes away */
    const char *method, *path, *query; /* NUL-terminated copies; query "" when none */
    const struct http_head *head;
    const char *body;
    size_t body_len; /* de-chunked */
};

struct httpd;
struct httpd_req;

typedef void httpd_handler(void *arg, struct httpd_req *r, const struct httpd_request *req);

/* listen: "HOST:PORT" (port 0 picks one). NULL with a sentence in err. */
struct httpd *httpd_new(struct loop *l, const char *listen, const struct httpd_opts *o,
                        httpd_handler *h, void *arg, char *err, size_t errlen);
int httpd_port(const struct httpd *s);
/* Closes every connection as httpd_close_all does (the on_close callback of every request still
 * in its handler runs, so no owner keeps a pointer to a freed request), then stops listening
 * and frees s. Not from inside a handler or on_close. */
void httpd_free(struct httpd *s);
/* Closes every connection as if each client had left: the on_close callback of every request
 * still in its handler runs (so its owner can drop it before httpd_free). Keeps listening.
 * Not from inside a handler or on_close. */
void httpd_close_all(struct httpd *s);

/* headers: "Name: value" strings, NULL-terminated, written in that order, then Date, then
 * Content-Length or Transfer-Encoding: chunked (Go's order). No Connection header unless the
 * client sent Connection: close (then echoed, and the connection closes after). HEAD: no body.
 * All return 0 or -1 (ENOMEM, or EINVAL when called in the wrong state). */
int httpd_respond(struct httpd_req *r, int status, const char *const *headers, const char *body,
                  size_t len);
int httpd_start_chunked(struct httpd_req *r, int status,
                        const char *const *headers);       /* HTTP/1.0: close-delimited */
/* one chunk per call, flushed */
int httpd_write_chunk(struct httpd_req *r, const char *p, size_t n);
int httpd_end(struct httpd_req *r); /* terminating chunk; the request is over */
/* The client went away before the response ended: cb runs once, then r is gone. Once the
 * handler has called httpd_respond or httpd_end for r, cb never runs for it, even when that
 * call failed (-1, EPIPE) because the client had already gone. */
void httpd_on_close(struct httpd_req *r, void (*cb)(void *arg), void *arg);

/* Open connections (for tests). */
int httpd_conns(const struct httpd *s);

#endif
