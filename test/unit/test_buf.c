/* SPDX-License-Identifier: MIT */
#include "orion/buf.h"
#include "../t.h"

#include <errno.h>

int main(void)
{
    struct buf b;
    char *p;
    size_t n;
    unsigned long i;

    buf_init(&b, 100);
    is_str(buf_data(&b), "", "new buffer is an empty string");
    ok(buf_puts(&b, "hello") == 0, "append");
    ok(buf_printf(&b, " %d", 42) == 0, "printf");
    is_str(buf_data(&b), "hello 42", "contents");
    buf_consume(&b, 6);
    is_str(buf_data(&b), "42", "consume drops the front");
    is_int(buf_size(&b), 2, "size after consume");
    errno = 0;
    ok(buf_reserve(&b, 99) < 0 && errno == ENOBUFS, "cap enforced with ENOBUFS");
    ok(buf_reserve(&b, 98) == 0, "exactly the cap is fine");
    p = buf_detach(&b, &n);
    is_str(p, "42", "detach gives the live bytes");
    is_int(n, 2, "detach length");
    orion_free(p);
    is_str(buf_data(&b), "", "detached buffer is empty again");

    buf_init(&b, 1 << 20);
    for (i = 0; i < 100000; i++)
        if (buf_putc(&b, (char)('a' + i % 26)) < 0)
            break;
    is_int(buf_size(&b), 100000, "grows past 64 KiB");
    ok(b.p[b.len] == '\0', "always NUL-terminated");
    for (i = 0; i < 10; i++)
        buf_consume(&b, 4000); /* as partial writes of a big output buffer do */
    is_int(b.off, 40000, "small consumes of a big buffer move nothing while the rest is bigger");
    ok(buf_size(&b) == 60000 && buf_data(&b)[0] == (char)('a' + 40000 % 26),
       "the live bytes start after what was consumed");
    buf_consume(&b, 20000);
    ok(b.off == 0 && buf_size(&b) == 40000 && b.p[0] == (char)('a' + 60000 % 26),
       "compacted once the consumed front is as big as the rest");
    buf_consume(&b, 40000);
    ok(b.cap > 0, "consuming everything keeps the memory for the next read");
    buf_trim(&b, 16384);
    is_int(b.cap, 0, "trim frees an idle big buffer");
    buf_release(&b);

    /* allocation failure: the buffer stays usable and unchanged */
    buf_init(&b, 1000);
    ok(buf_puts(&b, "x") == 0, "first append");
    orion_alloc_fail_at(1);
    errno = 0;
    ok(buf_reserve(&b, 500) < 0 && errno == ENOMEM, "failed growth reports ENOMEM");
    is_str(buf_data(&b), "x", "contents kept after failed growth");
    buf_release(&b);
    return done_testing();
}
