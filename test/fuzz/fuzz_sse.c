/* SPDX-License-Identifier: MIT */
/* Fuzz the SSE splitter: byte 0 picks the feed piece size. Events never pass the cap, and
 * pieces give the same events as the whole. */
#include "orion/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENT 256

static int event(void *arg, const char *p, size_t len)
{
    struct buf *b = arg;

    if (len > MAX_EVENT)
        abort();
    buf_printf(b, "%zu:", len);
    buf_append(b, p, len);
    return 0;
}

static int run(const char *p, size_t n, size_t step, struct buf *out)
{
    struct http_sse ss;
    size_t off = 0;
    int rc = 0;

    http_sse_init(&ss, MAX_EVENT);
    while (off < n && rc == 0) {
        size_t take = n - off < step ? n - off : step;
        rc = http_sse_feed(&ss, p + off, take, event, out);
        off += take;
    }
    http_sse_release(&ss);
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
