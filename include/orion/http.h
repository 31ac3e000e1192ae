/* SPDX-License-Identifier: MIT */
/*
 * http: HTTP/1.x message framing, pure (no I/O, no log, no loop). A head parser for requests
 * and responses, a chunked transfer-coding decoder, an NDJSON line splitter (Ollama's stream
 * format) and a Server-Sent-Events splitter (the OpenAI-compatible stream format).
 *
 * Head parsers return the bytes of the head (incl. the blank line), ORION_AGAIN while the
 * head is incomplete, or -1. Views in struct http_head point into the parsed input and die
 * with it. Caps: ORION_HTTP_MAX_HEAD, ORION_HTTP_MAX_HEADERS, ORION_HTTP_MAX_TRAILERS,
 * ORION_HTTP_MAX_LINE (limits.h).
 */
#ifndef ORION_HTTP_H
#define ORION_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/buf.h"
#include "orion/limits.h"

struct http_header {
    const char *name, *value;
    size_t name_len, value_len;
};

struct http_head { /* views into the parsed input */
    const char *method, *target;
    size_t method_len, target_len; /* requests */
    int minor;                     /* HTTP/1.<minor>: 0 or 1 */
    int status;
    const char *reason;
    size_t reason_len; /* responses */
    struct http_header h[ORION_HTTP_MAX_HEADERS];
    size_t nh;
    long long content_length; /* -1: none */
    bool chunked, conn_close, conn_keepalive;
};

/* >0: bytes of the head (incl. the blank line); ORION_AGAIN; -1 with *status set to the answer
 * the server should give (400 bad syntax, 431 head too large, 501 unknown transfer-coding, 400
 * for both Content-Length and Transfer-Encoding or differing Content-Lengths). */
int http_parse_request(const char *p, size_t n, struct http_head *out, int *status);
int http_parse_response(const char *p, size_t n, struct http_head *out); /* >0, ORION_AGAIN, -1 */
/* First header of that name, or NULL; case-insensitive. */
const struct http_header *http_find(const struct http_head *h, const char *name);
/* The whole value equals value, case-insensitive. */
bool http_header_is(const struct http_header *hd, const char *value);
/* value, a comma-separated list, holds token (case-insensitive), e.g. "keep-alive, Upgrade". */
bool http_header_has_token(const struct http_header *hd, const char *token);
/* Whether a response to this request method with this status carries no body (HEAD, 1xx, 204,
 * 304): the client must not wait for one even with Content-Length set. */
bool http_response_bodyless(const char *method, int status);

/* Chunked decoder:
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 * A bare LF is accepted where CRLF is expected (as Go and nginx do). */
struct http_chunked {
    int state;
    unsigned long long left;
    size_t line, trailer;
};
void http_chunked_init(struct http_chunked *c);
/* Decode: appends body bytes to out, returns bytes of input consumed, sets *done at the last
 * chunk + trailers; -1 on a protocol error (bad hex, missing CRLF, size overflow, trailers over
 * cap) or when out is full (errno ENOBUFS/ENOMEM, from buf). Input past the end is not
 * consumed (it belongs to the next message). */
long http_chunked_feed(struct http_chunked *c, const char *in, size_t n, struct buf *out,
                       bool *done);

typedef int http_line_fn(void *arg, const char *line, size_t len); /* return <0 to stop */

/* NDJSON: lines end at \n (\r\n ok); empty lines are skipped. A last line without \n stays
 * buffered (see http_lines_flush). */
struct http_lines {
    struct buf b;
};
void http_lines_init(struct http_lines *s, size_t max_line);
void http_lines_release(struct http_lines *s);
/* 0, -1 line too long (or cb <0) */
int http_lines_feed(struct http_lines *s, const char *p, size_t n, http_line_fn *cb, void *arg);
/* At end of body: hand a final line without \n to cb. 0, or -1 when cb < 0. */
int http_lines_flush(struct http_lines *s, http_line_fn *cb, void *arg);

/* SSE: data: lines joined by \n, event at blank line. Other fields and comments are ignored. */
struct http_sse {
    struct buf b, data;
};
void http_sse_init(struct http_sse *s, size_t max_event);
void http_sse_release(struct http_sse *s);
/* cb gets each event's data; 0, or -1 on an event over the cap or cb < 0. */
int http_sse_feed(struct http_sse *s, const char *p, size_t n, http_line_fn *cb, void *arg);

void http_date(char out[30], long long unix_s); /* "Mon, 18 Aug 2025 09:15:04 GMT" */
/* Append "HTTP/1.1 <status> <reason>", the caller's "Name: value" lines (NULL-terminated, in
 * that order), then Date for unix_s: a response head up to its framing headers, in Go's
 * order. The caller adds Content-Length or Transfer-Encoding and the blank line. 0 or -1
 * (errno from buf). */
int http_put_head(struct buf *out, int status, const char *const *headers, long long unix_s);
const char *http_reason(int status);            /* "OK", "Not Found", ... ("" when unknown) */

#endif
