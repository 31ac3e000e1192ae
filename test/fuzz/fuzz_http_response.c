/* SPDX-License-Identifier: MIT */
/* Fuzz a client's whole response path: byte 0 picks the feed piece size; the head is parsed
 * from a growing prefix, then the body is de-chunked in pieces and split into NDJSON lines. */
#include "orion/http.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int line(void *arg, const char *p, size_t len)
{
    (void)p;
    *(size_t *)arg += len;
    return 0;
}

static void body(const struct http_head *h, const char *p, size_t n, size_t step)
{
    struct http_chunked c;
    struct http_lines ls;
    struct buf out;
    size_t off = 0, total = 0;
    bool done = false;

    http_chunked_init(&c);
    http_lines_init(&ls, 4096);
    buf_init(&out, 1 << 16);
    while (off < n && !done) {
        size_t take = n - off < step ? n - off : step;
        long used = h->chunked ? http_chunked_feed(&c, p + off, take, &out, &done)
                               : (buf_append(&out, p + off, take) < 0 ? -1 : (long)take);
        if (used < 0 || (size_t)used > take)
            break;
        off += (size_t)used;
        if (http_lines_feed(&ls, buf_data(&out), buf_size(&out), line, &total) < 0)
            break;
        buf_reset(&out);
        if ((size_t)used < take && !done)
            abort(); /* stopped early without an end or an error */
    }
    http_lines_release(&ls);
    buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1;
    struct http_head h;
    size_t step, have = 0, n;
    int rc = ORION_AGAIN;

    if (size < 1)
        return 0;
    n = size - 1;
    step = data[0] ? data[0] : n + 1;
    while (rc == ORION_AGAIN && have < n) {
        have = n - have < step ? n : have + step;
        rc = http_parse_response(p, have, &h);
    }
    if (rc > 0) {
        if (h.status < 100 || h.status > 999 || (h.chunked && h.content_length >= 0))
            abort();
        body(&h, p + rc, n - (size_t)rc, step);
    }
    return 0;
}
