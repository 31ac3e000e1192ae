/* SPDX-License-Identifier: MIT */
/*
 * http_chunked: the chunked transfer-coding decoder (RFC 9112 §7.1) and the two line formats
 * carried in Ollama's bodies: NDJSON (one JSON value per \n-terminated line) and Server-Sent
 * Events (WHATWG html §9.2.6: "data:" lines joined by \n, an event at each blank line). Pure.
 *
 *   chunked-body   = *chunk last-chunk trailer-section CRLF
 *   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size     = 1*HEXDIG
 *   last-chunk     = 1*("0") [ chunk-ext ] CRLF
 *   trailer-section = *( field-line CRLF )
 *
 * Chunk boundaries carry no meaning: the splitters take the de-chunked stream in any pieces.
 */
#include "orion/http.h"

#include <errno.h>
#include <string.h>

enum {
    CH_SIZE,     /* hex digits of chunk-size */
    CH_SIZE_WS,  /* whitespace after the digits: only more of it, ';' or the line end */
    CH_EXT,      /* chunk extension, skipped up to the line end */
    CH_SIZE_LF,  /* CR seen after the size line */
    CH_DATA,     /* left bytes of chunk-data */
    CH_DATA_CR,  /* CRLF after chunk-data */
    CH_DATA_LF,
    CH_TRAILER,  /* start of a trailer line, or the final CRLF */
    CH_TRAILER_LINE,
    CH_END_LF,   /* CR of the final CRLF seen */
    CH_DONE,
    CH_ERROR
};

void http_chunked_init(struct http_chunked *c)
{
    memset(c, 0, sizeof(*c));
    c->state = CH_SIZE;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The size line ended: go to the data, or to the trailers after the last chunk. */
static int size_line_end(struct http_chunked *c)
{
    c->line = 0;
    return c->left ? CH_DATA : CH_TRAILER;
}

static int step_size(struct http_chunked *c, char ch)
{
    int v = hexval(ch);

    if (++c->line > ORION_HTTP_MAX_CHUNK_LINE)
        return CH_ERROR;
    if (c->state == CH_SIZE && v >= 0) {
        if (c->left > (~0ULL >> 4))
            return CH_ERROR; /* chunk-size overflow */
        c->left = c->left * 16 + (unsigned)v;
        return CH_SIZE;
    }
    if (c->state == CH_SIZE && c->line == 1)
        return CH_ERROR; /* no digits */
    if (ch == '\n')
        return size_line_end(c);
    if (ch == '\r')
        return CH_SIZE_LF;
    if (c->state == CH_EXT)
        return CH_EXT;
    if (ch == ' ' || ch == '\t')
        return CH_SIZE_WS; /* BWS before ';' (RFC 9112 §7.1.1); "1 2" is no size */
    return ch == ';' ? CH_EXT : CH_ERROR;
}

static int step_trailer(struct http_chunked *c, char ch)
{
    if (c->state == CH_TRAILER) {
        if (ch == '\n')
            return CH_DONE;
        if (ch == '\r')
            return CH_END_LF;
    }
    if (++c->trailer > ORION_HTTP_MAX_TRAILERS)
        return CH_ERROR;
    return ch == '\n' ? CH_TRAILER : CH_TRAILER_LINE;
}

/* One byte of framing (everything but chunk-data). */
static int step(struct http_chunked *c, char ch)
{
    switch (c->state) {
    case CH_SIZE:
    case CH_SIZE_WS:
    case CH_EXT:
        return step_size(c, ch);
    case CH_SIZE_LF:
        return ch == '\n' ? size_line_end(c) : CH_ERROR;
    case CH_DATA_CR:
        if (ch == '\n')
            return CH_SIZE;
        return ch == '\r' ? CH_DATA_LF : CH_ERROR;
    case CH_DATA_LF:
        return ch == '\n' ? CH_SIZE : CH_ERROR;
    case CH_TRAILER:
    case CH_TRAILER_LINE:
        return step_trailer(c, ch);
    case CH_END_LF:
        return ch == '\n' ? CH_DONE : CH_ERROR;
    default:
        return CH_ERROR;
    }
}

long http_chunked_feed(struct http_chunked *c, const char *in, size_t n, struct buf *out,
                       bool *done)
{
    size_t i = 0;

    *done = c->state == CH_DONE;
    while (i < n && c->state != CH_DONE && c->state != CH_ERROR) {
        if (c->state == CH_DATA) {
            size_t take = n - i < c->left ? n - i : (size_t)c->left;
            if (buf_append(out, in + i, take) < 0)
                return -1;
            i += take;
            c->left -= take;
            if (c->left == 0)
                c->state = CH_DATA_CR;
            continue;
        }
        c->state = step(c, in[i++]);
    }
    if (c->state == CH_ERROR) {
        errno = EPROTO;
        return -1;
    }
    *done = c->state == CH_DONE;
    return (long)i;
}

/* Split p into lines at \n, buffering a partial line in b; cb gets each line without its
 * line end. 0, or -1 on a line over b's cap or cb < 0. */
static int split_lines(struct buf *b, const char *p, size_t n, http_line_fn *cb, void *arg)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        const char *line = p;
        size_t len = take;
        int rc = 0;

        if (buf_size(b) + take > b->max)
            return -1;
        if (!nl || buf_size(b)) {
            if (buf_append(b, p, take) < 0)
                return -1;
            line = buf_data(b);
            len = buf_size(b);
        }
        if (nl) {
            if (len && line[len - 1] == '\r')
                len--;
            rc = cb(arg, line, len);
            buf_reset(b);
            take++;
        }
        if (rc < 0)
            return -1;
        p += take;
        n -= take;
    }
    return 0;
}

void http_lines_init(struct http_lines *s, size_t max_line)
{
    buf_init(&s->b, max_line + 1); /* + 1: the CR of a CRLF */
}

void http_lines_release(struct http_lines *s)
{
    buf_release(&s->b);
}

struct nonempty {
    http_line_fn *cb;
    void *arg;
    size_t max;
};

static int skip_empty(void *arg, const char *line, size_t len)
{
    struct nonempty *ne = arg;

    if (len > ne->max)
        return -1; /* the buffer allowed one byte more, for a CR */
    return len ? ne->cb(ne->arg, line, len) : 0;
}

int http_lines_feed(struct http_lines *s, const char *p, size_t n, http_line_fn *cb, void *arg)
{
    struct nonempty ne = {cb, arg, s->b.max - 1};

    return split_lines(&s->b, p, n, skip_empty, &ne);
}

int http_lines_flush(struct http_lines *s, http_line_fn *cb, void *arg)
{
    size_t len = buf_size(&s->b);
    int rc = 0;

    if (len && s->b.p[s->b.off + len - 1] == '\r')
        len--;
    if (len > s->b.max - 1)
        rc = -1;
    else if (len)
        rc = cb(arg, buf_data(&s->b), len);
    buf_reset(&s->b);
    return rc < 0 ? -1 : 0;
}

void http_sse_init(struct http_sse *s, size_t max_event)
{
    buf_init(&s->b, max_event + 1);
    buf_init(&s->data, max_event + 1); /* + 1: the \n after the last data line */
}

void http_sse_release(struct http_sse *s)
{
    buf_release(&s->b);
    buf_release(&s->data);
}

struct sse_ctx {
    struct http_sse *s;
    http_line_fn *cb;
    void *arg;
};

/* The data buffer holds each data line plus \n, as the spec's algorithm does; an event with
 * at least one data line (even an empty one) is dispatched without the last \n. */
static int sse_line(void *arg, const char *line, size_t len)
{
    struct sse_ctx *x = arg;
    struct buf *d = &x->s->data;
    const char *colon;
    size_t flen, voff;
    int rc;

    if (len == 0) {
        if (buf_size(d) == 0)
            return 0;
        rc = x->cb(x->arg, buf_data(d), buf_size(d) - 1);
        buf_reset(d);
        return rc;
    }
    colon = memchr(line, ':', len);
    flen = colon ? (size_t)(colon - line) : len;
    if (flen != 4 || memcmp(line, "data", 4) != 0)
        return 0; /* comments (":..."), event, id, retry and unknown fields */
    voff = flen + (colon != NULL);
    if (voff < len && line[voff] == ' ')
        voff++;
    if (buf_append(d, line + voff, len - voff) < 0 || buf_putc(d, '\n') < 0)
        return -1;
    return 0;
}

int http_sse_feed(struct http_sse *s, const char *p, size_t n, http_line_fn *cb, void *arg)
{
    struct sse_ctx x = {s, cb, arg};

    return split_lines(&s->b, p, n, sse_line, &x);
}
