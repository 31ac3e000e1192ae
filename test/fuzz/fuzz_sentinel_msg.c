/* SPDX-License-Identifier: MIT */
/* Fuzz what a sentinel or a data node says during discovery: byte 0 picks the feed piece
 * size, the rest is RESP2 fed in pieces, and every reply taken out is read as a
 * GET-MASTER-ADDR-BY-NAME answer, a ROLE answer, a +switch-master message and a "not the
 * master" error. The addresses written must always be NUL-terminated within their buffer. */
#include "orion/sentinel_msg.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const char *addr, size_t n)
{
    if (!memchr(addr, '\0', n))
        __builtin_trap();
}

static void read_reply(const struct resp_reply *r)
{
    char addr[SENTINEL_ADDR_MAX];
    struct redis_role role;

    memset(addr, 0x55, sizeof(addr));
    if (sentinel_master_addr(r, addr, sizeof(addr)) == SENTINEL_ANSWER_ADDR)
        check_addr(addr, sizeof(addr));
    redis_role_parse(r, &role);
    if (role.kind == REDIS_ROLE_REPLICA)
        check_addr(role.master, sizeof(role.master));
    memset(addr, 0x55, sizeof(addr));
    if (sentinel_switch_parse(r, "mymaster", addr, sizeof(addr)) == 1)
        check_addr(addr, sizeof(addr));
    (void)redis_err_not_master(r);
    /* the elements too: a message inside an array must not confuse any reader */
    for (size_t i = 0; r->type == RESP_ARRAY && i < r->n && i < 4; i++) {
        redis_role_parse(&r->elem[i], &role);
        (void)sentinel_master_addr(&r->elem[i], addr, sizeof(addr));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resp_reader rd;
    struct resp_reply *rep;
    size_t step, off = 1;
    int rc = 0;

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
            read_reply(rep);
            resp_reply_free(rep);
        }
    }
    resp_reader_release(&rd);
    return 0;
}
