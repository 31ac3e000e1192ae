/* SPDX-License-Identifier: MIT */
/* Fuzz the NDJSON splitter: byte 0 picks the feed piece size. Lines never hold a \n, never
 * pass the cap, and pieces give the same lines as the whole. */
#include "orion/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 256

static int line(void *arg, const char *p, size_t len)
{
    struct buf *b = arg;

    if (len == 0 || len > MAX_LINE || memchr(p, '\n', len))
        abort();
    buf_append(b, p, len);
    buf_putc(b, '\n');
    return 0;
}

static int run(const char *p, size_t n, size_t step, struct buf *out)
{
    struct http_lines ls;
    size_t off = 0;
    int rc = 0;

    http_lines_init(&ls, MAX_LINE);
    while (off < n && rc == 0) {
        size_t take = n - off < step ? n - off : step;
        rc = http_lines_feed(&ls, p + off, take, line, out);
        off += take;
    }
    if (rc == 0)
        rc = http_lines_flush(&ls, line, out);
    http_lines_release(&ls);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf a, b;
    int ra, rb;

    if (size < 1)
        return 0;
    buf_init(&a, 1 << 20);
    buf_init(&b, 1 << 20);
    ra = run((const char *)data + 1, size - 1, data[0] ? data[0] : size, &a);
    rb = run((const char *)data + 1, size - 1, size, &b);
    if (ra != rb || (ra == 0 && (buf_size(&a) != buf_size(&b) ||
                                 memcmp(buf_data(&a), buf_data(&b), buf_size(&a)) != 0)))
        abort();
    buf_release(&a);
    buf_release(&b);
    return 0;
}
