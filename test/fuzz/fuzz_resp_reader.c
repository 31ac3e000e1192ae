/* SPDX-License-Identifier: MIT */
/* Fuzz the RESP2 reader: byte 0 picks the feed piece size, the rest is fed in pieces and
 * every reply taken out is walked, then freed or recycled (every other one) so that replies
 * are also built in a reused block. */
#include "orion/resp.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct resp_reply *r)
{
    size_t n = 1;

    if (r->type == RESP_ARRAY)
        for (size_t i = 0; i < r->n; i++)
            n += walk(&r->elem[i]);
    else if (r->str && r->len)
        n += (unsigned char)r->str[r->len - 1] == 0xff;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resp_reader rd;
    struct resp_reply *rep;
    size_t step, off = 1;
    int rc = 0, k = 0;

    if (size < 1)
        return 0;
    step = data[0] ? data[0] : size;
    resp_reader_init(&rd);
    while (off < size && rc >= 0) {
        size_t n = size - off < step ? size - off : step;
        if (resp_reader_feed(&rd, data + off, n) < 0)
            break;
        off += n;
        while ((rc = resp_reader_get(&rd, &rep)) == 1) {
            walk(rep);
            if (k++ % 2)
                resp_reader_recycle(&rd, rep);
            else
                resp_reply_free(rep);
        }
    }
    resp_reader_release(&rd);
    return 0;
}
