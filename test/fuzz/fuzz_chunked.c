/* SPDX-License-Identifier: MIT */
/* Fuzz the chunked decoder: byte 0 picks the feed piece size. Decoding in pieces must give
 * the same bytes and the same end as decoding the whole input at once. */
#include "orion/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns consumed bytes, or -1; the decoded body in out. */
static long run(const char *p, size_t n, size_t step, struct buf *out, bool *done)
{
    struct http_chunked c;
    size_t off = 0;

    http_chunked_init(&c);
    *done = false;
    while (off < n && !*done) {
        size_t take = n - off < step ? n - off : step;
        long used = http_chunked_feed(&c, p + off, take, out, done);
        if (used < 0)
            return -1;
        if ((size_t)used > take || ((size_t)used < take && !*done))
            abort();
        off += (size_t)used;
    }
    return (long)off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf a, b;
    bool da, db;
    long ra, rb;

    if (size < 1)
        return 0;
    buf_init(&a, 1 << 16);
    buf_init(&b, 1 << 16);
    ra = run((const char *)data + 1, size - 1, data[0] ? data[0] : size, &a, &da);
    rb = run((const char *)data + 1, size - 1, size, &b, &db);
    if ((ra < 0) != (rb < 0))
        abort();
    if (ra >= 0 && (ra != rb || da != db || buf_size(&a) != buf_size(&b) ||
                    memcmp(buf_data(&a), buf_data(&b), buf_size(&a)) != 0))
        abort();
    buf_release(&a);
    buf_release(&b);
    return 0;
}
