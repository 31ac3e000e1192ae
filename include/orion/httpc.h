/* SPDX-License-Identifier: MIT */
/*
 * httpc: an HTTP/1.1 client on struct loop, for Ollama. One request at a time per connection;
 * idle keep-alive connections to the same base are reused, more are opened as needed.
 * Requests carry Host, User-Agent: orion/<version> and Content-Length. Responses are framed by
 * Content-Length, chunked, or connection close. Timeouts: connect_ms for the connect,
 * header_ms from the request until the whole head (long: Ollama answers only after a cold
 * model load), idle_ms between body bytes. Caps (ORION_HTTP_MAX_HEAD, ...) give HTTPC_PROTO.
 */
#ifndef ORION_HTTPC_H
#define ORION_HTTPC_H

#include <stddef.h>

#include "orion/http.h"
#include "orion/loop.h"

/* UNREACHABLE: the request never reached the server (refused, no route, unknown name, no
 * connect within connect_ms), so it is safe to send elsewhere. TIMEOUT: no head within
 * header_ms or no body bytes for idle_ms. PROTO: a malformed response or one over a cap.
 * EOF: the connection ended before the response did. */
enum httpc_err { HTTPC_UNREACHABLE = 1, HTTPC_TIMEOUT, HTTPC_PROTO, HTTPC_EOF, HTTPC_OOM };

struct httpc_opts {
    long connect_ms, header_ms, idle_ms; /* 0 = defaults 3000, 600000, 300000 */
};

struct httpc_cb {
    /* status + headers; views valid during the call */
    void (*head)(void *arg, const struct http_head *h);
    void (*data)(void *arg, const char *p, size_t n); /* de-chunked body bytes as they arrive */
    void (*done)(void *arg);                          /* body complete; the request is over */
    void (*error)(void *arg, enum httpc_err kind, const char *msg); /* the request is over */
};

struct httpc;
struct httpc_req;

/* base: "http://host:port[/prefix]" or "host:port" or "host" (port 11434). NULL on bad URL
 * (errno EINVAL) */
struct httpc *httpc_new(struct loop *l, const char *base, const struct httpc_opts *o);
void httpc_free(struct httpc *c); /* cancels everything, no callbacks */
/* Start a request (one at a time per connection; idle keep-alive connections are reused, more
 * opened as needed). body may be NULL. Exactly one of done/error runs later (never inside this
 * call). NULL with errno ENOMEM. Any callback may call httpc_cancel/httpc_request/httpc_free. */
struct httpc_req *httpc_request(struct httpc *c, const char *method, const char *path,
                                const char *content_type, const char *body, size_t len,
                                const struct httpc_cb *cb, void *arg);
/* Closes its connection; no callback afterwards. Only while the request runs (not from its own
 * done/error callback, after which r is gone). */
void httpc_cancel(struct httpc_req *r);

/* Connections opened so far (for tests: reuse keeps this at 1). */
unsigned long httpc_connects(const struct httpc *c);
/* Idle keep-alive connections kept in the pool. */
size_t httpc_idle(const struct httpc *c);

#endif
