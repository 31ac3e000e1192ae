/* SPDX-License-Identifier: MIT */
/* RESP2 reader: every reply type, whole, byte by byte and split at every point, against a
 * guard page; malformed input; limits; allocation failures; the writer. */
#include "orion/resp.h"
#include "../t.h"

#include "../guard.h"

#include <errno.h>
#include <stdlib.h>

static void dump(const struct resp_reply *r, struct buf *out)
{
    switch (r->type) {
    case RESP_STATUS:
        buf_printf(out, "+%s", r->str);
        break;
    case RESP_ERROR:
        buf_printf(out, "-%s", r->str);
        break;
    case RESP_INT:
        buf_printf(out, ":%lld", r->integer);
        break;
    case RESP_BULK:
        buf_printf(out, "$%zu:", r->len);
        buf_append(out, r->str, r->len);
        break;
    case RESP_NIL:
        buf_puts(out, "nil");
        break;
    case RESP_NIL_ARRAY:
        buf_puts(out, "*nil");
        break;
    case RESP_ARRAY:
        buf_putc(out, '[');
        for (size_t i = 0; i < r->n; i++) {
            if (i)
                buf_putc(out, ',');
            dump(&r->elem[i], out);
        }
        buf_putc(out, ']');
        break;
    }
}

/* Feed in pieces of `step` bytes (0: split once at `split`). Returns the dump of all replies
 * separated by '|', or "ERR" on a protocol error. */
static char *run(const char *in, size_t n, size_t step, size_t split)
{
    struct resp_reader r;
    struct buf out;
    struct resp_reply *rep;
    size_t off = 0;
    int rc = 0;

    resp_reader_init(&r);
    buf_init(&out, 1 << 20);
    while (off < n && rc >= 0) {
        size_t take = step ? step : (off == 0 ? split : n - off);
        if (take > n - off)
            take = n - off;
        resp_reader_feed(&r, in + off, take);
        off += take;
        while ((rc = resp_reader_get(&r, &rep)) == 1) {
            if (buf_size(&out))
                buf_putc(&out, '|');
            dump(rep, &out);
            resp_reply_free(rep);
        }
    }
    if (rc < 0) {
        buf_reset(&out);
        buf_puts(&out, "ERR");
    } else if (buf_size(&r.in) || r.depth) {
        buf_puts(&out, "|INCOMPLETE");
    }
    resp_reader_release(&r);
    return buf_detach(&out, NULL);
}

struct rcase {
    const char *name, *in, *want;
    size_t len; /* 0: strlen */
};

static const struct rcase cases[] = {
    {"status", "+OK\r\n", "+OK"},
    {"error", "-ERR unknown command 'x'\r\n", "-ERR unknown command 'x'"},
    {"integer", ":1234\r\n", ":1234"},
    {"negative integer", ":-2\r\n", ":-2"},
    {"zero", ":0\r\n", ":0"},
    {"int64 max", ":9223372036854775807\r\n", ":9223372036854775807"},
    {"int64 min", ":-9223372036854775808\r\n", ":-9223372036854775808"},
    {"bulk", "$5\r\nhello\r\n", "$5:hello"},
    {"empty bulk", "$0\r\n\r\n", "$0:"},
    {"binary bulk with CRLF inside", "$4\r\na\r\nb\r\n", "$4:a\r\nb"},
    {"nil bulk", "$-1\r\n", "nil"},
    {"nil array", "*-1\r\n", "*nil"},
    {"empty array", "*0\r\n", "[]"},
    {"nested", "*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", "[[:1],$1:x]"},
    {"nulls nested", "*3\r\n$-1\r\n*-1\r\n*0\r\n", "[nil,*nil,[]]"},
    {"xreadgroup deleted entry", "*1\r\n*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*-1\r\n",
     "[[$1:q,[[$3:2-1,*nil]]]]"},
    {"xautoclaim 7.0",
     "*3\r\n$3\r\n3-1\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$3\r\njob\r\n$1\r\na\r\n*0\r\n",
     "[$3:3-1,[[$3:1-1,[$3:job,$1:a]]],[]]"},
    {"exec with error inside", "*3\r\n+OK\r\n-WRONGTYPE Operation\r\n:1\r\n",
     "[+OK,-WRONGTYPE Operation,:1]"},
    {"pipelined", "+OK\r\n:1\r\n$1\r\na\r\n", "+OK|:1|$1:a"},
    {"xpending empty", "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", "[:0,nil,nil,*nil]"},
    /* malformed */
    {"unknown type", "?x\r\n", "ERR"},
    {"CR without LF", "+OK\rX\n", "ERR"},
    {"bad integer", ":12a\r\n", "ERR"},
    {"leading zero", ":012\r\n", "ERR"},
    {"minus zero", ":-0\r\n", "ERR"},
    {"plus sign", ":+1\r\n", "ERR"},
    {"int overflow", ":9223372036854775808\r\n", "ERR"},
    {"bulk length -2", "$-2\r\n", "ERR"},
    {"array length -2", "*-2\r\n", "ERR"},
    {"empty length", "$\r\n", "ERR"},
    {"bulk missing CRLF", "$3\r\nabcXY", "ERR"},
    {"bulk too long", "$999999999999\r\n", "ERR"},
    {"array too long", "*99999999999\r\n", "ERR"},
    {"huge declared bulk", "$17000000\r\nab", "ERR"},
    {"truncated", "*2\r\n:1\r\n", "[|INCOMPLETE"},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rcase *c = &cases[i];
        size_t n = c->len ? c->len : strlen(c->in);
        struct guard g;
        const char *in = guard_place(&g, c->in, n);
        char *got;
        int bad = 0;
        const char *want = c->want;
        char wantbuf[256];

        if (!strcmp(want, "[|INCOMPLETE")) {
            want = "|INCOMPLETE"; /* no reply came out */
        }
        snprintf(wantbuf, sizeof(wantbuf), "%s", want);
        got = run(in, n, 0, n);
        is_str(got, wantbuf, "%s: whole", c->name);
        free(got);
        got = run(in, n, 1, 0);
        is_str(got, wantbuf, "%s: byte by byte", c->name);
        free(got);
        for (size_t s = 1; s < n; s++) {
            got = run(in, n, 0, s);
            if (strcmp(got, wantbuf))
                bad++;
            free(got);
        }
        is_int(bad, 0, "%s: split at every point", c->name);
        guard_free(&g);
    }
}

static void test_depth(void)
{
    struct buf in;
    char *got;

    buf_init(&in, 4096);
    for (int i = 0; i < ORION_RESP_MAX_DEPTH; i++)
        buf_puts(&in, "*1\r\n");
    buf_puts(&in, ":1\r\n");
    got = run(buf_data(&in), buf_size(&in), 0, buf_size(&in));
    ok(got[0] == '[', "nesting up to the limit is accepted");
    free(got);
    buf_reset(&in);
    for (int i = 0; i <= ORION_RESP_MAX_DEPTH; i++)
        buf_puts(&in, "*1\r\n");
    buf_puts(&in, ":1\r\n");
    got = run(buf_data(&in), buf_size(&in), 0, buf_size(&in));
    is_str(got, "ERR", "nesting past the limit is a protocol error");
    free(got);
    buf_release(&in);
}

static void test_sticky_and_reset(void)
{
    struct resp_reader r;
    struct resp_reply *rep;

    resp_reader_init(&r);
    resp_reader_feed(&r, "?\r\n", 3);
    is_int(resp_reader_get(&r, &rep), -1, "protocol error");
    ok(strstr(r.errstr, "protocol error") != NULL, "reason kept: %s", r.errstr);
    resp_reader_feed(&r, "+OK\r\n", 5);
    is_int(resp_reader_get(&r, &rep), -1, "errors are sticky");
    resp_reader_reset(&r);
    resp_reader_feed(&r, "+OK\r\n", 5);
    is_int(resp_reader_get(&r, &rep), 1, "usable after reset");
    resp_reply_free(rep);
    resp_reader_release(&r);
}

static void test_oom(void)
{
    const char *in = "*3\r\n$3\r\nabc\r\n*2\r\n:1\r\n$2\r\nxy\r\n+OK\r\n";
    unsigned long n;
    int passed = 0;

    for (n = 1; n < 100 && !passed; n++) {
        struct resp_reader r;
        struct resp_reply *rep = NULL;
        int rc;

        resp_reader_init(&r);
        orion_alloc_fail_at(n);
        rc = resp_reader_feed(&r, in, strlen(in));
        if (rc == 0)
            rc = resp_reader_get(&r, &rep);
        orion_alloc_fail_at(0);
        if (rc == 1) {
            passed = 1;
            resp_reply_free(rep);
        }
        resp_reader_release(&r);
    }
    ok(passed && n > 2, "allocation failures fail cleanly until a run passes (%lu runs)", n - 1);
}

static void test_writer_and_helpers(void)
{
    struct buf out;
    const char *argv[] = {"XADD", "q", "*", "f", "a\r\nb"};
    struct resp_reader r;
    struct resp_reply *rep;

    buf_init(&out, 4096);
    ok(resp_format(&out, 5, argv, NULL) == 0, "format");
    is_str(buf_data(&out), "*5\r\n$4\r\nXADD\r\n$1\r\nq\r\n$1\r\n*\r\n$1\r\nf\r\n$4\r\na\r\nb\r\n",
           "binary-safe command encoding");
    buf_release(&out);
    {
        /* lengths across digit boundaries (0, 9, 10, 99, 100, 1000), 12 arguments, appended
         * after what is already in the buffer; the reader gets back exactly the arguments */
        static char big[1000];
        const size_t lens[] = {0, 9, 10, 99, 100, 1000, 1, 2, 3, 4, 5, 6};
        const char *av[12];
        struct resp_reply *cmd;
        size_t same = 0;

        memset(big, 'x', sizeof(big));
        for (int i = 0; i < 12; i++)
            av[i] = big;
        buf_init(&out, 1u << 20);
        buf_puts(&out, "+pre\r\n");
        ok(resp_format(&out, 12, av, lens) == 0, "format: 12 arguments");
        ok(strncmp(buf_data(&out), "+pre\r\n*12\r\n$0\r\n\r\n$9\r\nxxxxxxxxx\r\n$10\r\n", 37) == 0,
           "format: appended, headers right across digit counts");
        resp_reader_init(&r);
        resp_reader_feed(&r, buf_data(&out), buf_size(&out));
        is_int(resp_reader_get(&r, &rep), 1, "format: the reader takes what was there before");
        resp_reply_free(rep);
        is_int(resp_reader_get(&r, &cmd), 1, "format: and the command as an array");
        for (size_t i = 0; cmd && i < cmd->n && i < 12; i++)
            same += cmd->elem[i].len == lens[i] && !memcmp(cmd->elem[i].str, big, lens[i]);
        ok(cmd && cmd->n == 12 && same == 12, "format: every argument back with its length");
        resp_reply_free(cmd);
        resp_reader_release(&r);
        buf_release(&out);
        buf_init(&out, 64);
        errno = 0;
        ok(resp_format(&out, 1, av, (const size_t[]){100}) < 0 && errno == ENOBUFS &&
               buf_size(&out) == 0, "format: over the buffer's cap: ENOBUFS, nothing appended");
        buf_release(&out);
    }

    resp_reader_init(&r);
    resp_reader_feed(&r, "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$-1\r\n", 30);
    is_int(resp_reader_get(&r, &rep), 1, "field array");
    ok(resp_str_eq(resp_field(rep, "a"), "1"), "resp_field finds a value");
    ok(resp_is_nil(resp_field(rep, "b")), "nil value");
    ok(resp_field(rep, "c") == NULL, "missing field");
    ok(resp_at(rep, 4) == NULL, "resp_at past the end");
    {
        struct resp_reply *cl = resp_reply_clone(rep);
        resp_reply_free(rep);
        ok(cl && resp_str_eq(resp_field(cl, "a"), "1") && resp_is_nil(resp_field(cl, "b")),
           "a clone outlives the original");
        rep = cl;
    }
    resp_reply_free(rep);
    resp_reader_feed(&r, "-BUSYGROUP Consumer Group name already exists\r\n", 47);
    is_int(resp_reader_get(&r, &rep), 1, "error reply");
    ok(resp_is_error(rep, "BUSYGROUP"), "error prefix match");
    ok(!resp_is_error(rep, "BUSY"), "prefix is a whole word");
    resp_reply_free(rep);
    resp_reader_release(&r);
}

/* A recycled reply leaves one block (up to 16 KiB) for the next: a steady stream of like
 * replies then costs no allocation at all, where freeing them costs at least one each; a
 * bigger block is not kept; replies built in a reused block read back right. */
static void test_recycle(void)
{
    struct resp_reader r;
    struct resp_reply *rep;
    struct buf in, got;
    unsigned long before;
    char *big;
    int i;

    buf_init(&in, 1 << 20);
    buf_init(&got, 1 << 20);
    buf_puts(&in, "*100\r\n");
    for (i = 0; i < 100; i++)
        buf_printf(&in, "$%d\r\nentry-%05d-padding-padding-padding\r\n", 35, i);
    resp_reader_init(&r);
    buf_reserve(&r.in, buf_size(&in) + 1); /* the input buffer's growth is not what is counted */
    resp_reader_feed(&r, buf_data(&in), buf_size(&in));
    is_int(resp_reader_get(&r, &rep), 1, "a reply of 100 bulks (a few arena blocks)");
    {
        struct resp_reply *cl;
        struct buf a, b;
        buf_init(&a, 1 << 20);
        buf_init(&b, 1 << 20);
        before = orion_alloc_count();
        cl = resp_reply_clone(rep);
        is_int((long long)(orion_alloc_count() - before), 1, "its clone is one allocation");
        dump(rep, &a);
        if (cl)
            dump(cl, &b);
        ok(cl && buf_size(&a) == buf_size(&b) &&
               memcmp(buf_data(&a), buf_data(&b), buf_size(&a)) == 0,
           "the clone reads back the same (%zu bytes of dump)", buf_size(&b));
        resp_reply_free(cl);
        buf_release(&a);
        buf_release(&b);
    }
    resp_reader_recycle(&r, rep);
    for (i = 0; i < 3; i++) {
        before = orion_alloc_count();
        resp_reader_feed(&r, buf_data(&in), buf_size(&in));
        is_int(resp_reader_get(&r, &rep), 1, "the same reply again (%d)", i + 1);
        is_int((long long)(orion_alloc_count() - before), 0,
               "it reused the recycled block: 0 allocations");
        ok(rep->type == RESP_ARRAY && rep->n == 100 && strcmp(rep->elem[99].str,
               "entry-00099-padding-padding-padding") == 0, "its last element reads back");
        resp_reader_recycle(&r, rep);
    }
    before = orion_alloc_count();
    resp_reader_feed(&r, buf_data(&in), buf_size(&in));
    resp_reader_get(&r, &rep);
    resp_reply_free(rep);
    resp_reader_feed(&r, buf_data(&in), buf_size(&in));
    resp_reader_get(&r, &rep);
    ok(orion_alloc_count() - before > 0, "after a plain free the next reply allocates (%lu)",
       orion_alloc_count() - before);
    resp_reader_recycle(&r, rep);

    big = malloc(200000);
    memset(big, 'b', 200000);
    buf_reset(&got);
    buf_puts(&got, "$200000\r\n");
    buf_append(&got, big, 200000);
    buf_puts(&got, "\r\n");
    resp_reader_feed(&r, buf_data(&got), buf_size(&got));
    is_int(resp_reader_get(&r, &rep), 1, "a 200 000-byte bulk (a block of its own)");
    ok(rep->len == 200000 && rep->str[199999] == 'b', "read back whole");
    resp_reader_recycle(&r, rep);
    before = orion_alloc_count();
    resp_reader_feed(&r, buf_data(&in), buf_size(&in));
    is_int(resp_reader_get(&r, &rep), 1, "the 100-bulk reply after it");
    is_int((long long)(orion_alloc_count() - before), 0,
           "the block kept is still the earlier one (the huge one was freed, not kept)");
    resp_reader_recycle(&r, rep);
    free(big);
    buf_release(&in);
    buf_release(&got);
    resp_reader_release(&r);
}

static void bulks(struct buf *b, int n) /* an array of n 35-byte bulks */
{
    buf_reset(b);
    buf_printf(b, "*%d\r\n", n);
    for (int i = 0; i < n; i++)
        buf_printf(b, "$%d\r\nentry-%05d-padding-padding-padding\r\n", 35, i);
}

/* The kept block is one fixed 16 KiB block for the reader's life: made at the first recycle
 * even when that reply was tiny, never given back while replies are small, not replaced by a
 * bigger reply's blocks (those are freed). So the memory a connection holds for replies does
 * not move with the replies it sees (the long soak's RSS at rest). */
static void test_recycle_fixed(void)
{
    struct resp_reader r;
    struct resp_reply *rep;
    struct buf mid, big;
    unsigned long before, n;
    const void *kept;
    int i, zero = 1;

    buf_init(&mid, 1 << 20);
    buf_init(&big, 1 << 20);
    bulks(&mid, 120);
    bulks(&big, 400);
    resp_reader_init(&r);
    buf_reserve(&r.in, buf_size(&big) + 1);
    resp_reader_feed(&r, "+OK\r\n", 5);
    is_int(resp_reader_get(&r, &rep), 1, "a tiny first reply");
    before = orion_alloc_count();
    resp_reader_recycle(&r, rep);
    is_int((long long)(orion_alloc_count() - before), 1,
           "recycling it makes the kept block (1 allocation)");
    kept = r.spare;
    before = orion_alloc_count();
    resp_reader_feed(&r, buf_data(&mid), buf_size(&mid));
    is_int(resp_reader_get(&r, &rep), 1, "a reply of 120 bulks (about 10 KiB parsed)");
    n = orion_alloc_count() - before;
    ok(rep && rep->n == 120 && strcmp(rep->elem[119].str,
           "entry-00119-padding-padding-padding") == 0, "it reads back");
    resp_reader_recycle(&r, rep);
    is_int((long long)n, 0, "it fits in the kept block: 0 allocations");
    for (i = 0; i < 300; i++) {
        before = orion_alloc_count();
        resp_reader_feed(&r, "+OK\r\n", 5);
        resp_reader_get(&r, &rep);
        resp_reader_recycle(&r, rep);
        zero = zero && orion_alloc_count() == before;
    }
    ok(zero, "300 small replies after it: 0 allocations");
    ok(r.spare == kept, "and the same block is kept (not given back, not replaced)");
    resp_reader_feed(&r, buf_data(&big), buf_size(&big));
    before = orion_alloc_count();
    is_int(resp_reader_get(&r, &rep), 1, "a reply of 400 bulks (about 32 KiB parsed)");
    ok(orion_alloc_count() - before > 0, "it spills past the kept block (%lu allocations)",
       orion_alloc_count() - before);
    ok(rep && rep->n == 400 && strcmp(rep->elem[399].str,
           "entry-00399-padding-padding-padding") == 0, "it reads back");
    resp_reader_recycle(&r, rep);
    ok(r.spare == kept, "after it the kept block is still the same one");
    before = orion_alloc_count();
    resp_reader_feed(&r, buf_data(&mid), buf_size(&mid));
    resp_reader_get(&r, &rep);
    resp_reader_recycle(&r, rep);
    is_int((long long)(orion_alloc_count() - before), 0,
           "the 120-bulk reply again: 0 allocations");
    buf_release(&mid);
    buf_release(&big);
    resp_reader_release(&r);
}

/* A reply shaped as XREADGROUP's: one stream of n entries, each an id and 4 fields, one of
 * them a ~1 KiB prompt. */
static void entries(struct buf *b, int n)
{
    char prompt[1001];

    memset(prompt, 'p', sizeof(prompt) - 1);
    prompt[sizeof(prompt) - 1] = '\0';
    buf_reset(b);
    buf_printf(b, "*1\r\n*2\r\n$2\r\nbq\r\n*%d\r\n", n);
    for (int i = 0; i < n; i++)
        buf_printf(b, "*2\r\n$%d\r\n1795377295123-%d\r\n*4\r\n$10\r\nrequest_id\r\n$9\r\n"
                      "req-%05d\r\n$8\r\nmessages\r\n$1000\r\n%s\r\n",
                   i < 10 ? 15 : i < 100 ? 16 : i < 1000 ? 17 : 18, i, i, prompt);
}

static bool entries_ok(const struct resp_reply *rep, int n)
{
    const struct resp_reply *last = resp_at(resp_at(resp_at(rep, 0), 1), (size_t)n - 1);
    char want[16];

    snprintf(want, sizeof(want), "req-%05d", n - 1);
    return resp_at(resp_at(rep, 0), 1)->n == (size_t)n &&
           resp_str_eq(resp_field(resp_at(last, 1), "request_id"), want) &&
           resp_field(resp_at(last, 1), "messages")->len == 1000;
}

/* The blocks a big reply needed past the kept one wait for the next reply only: a run of
 * like big replies (the bench's 100-entry XREADGROUP, a backlog) then allocates nothing after
 * the first, where each used to hand them back to malloc and take them again (glibc trimmed
 * and regrew its heap, a page fault per page, every reply). The first small reply after the
 * run gives them back, so a reader at rest holds the fixed block alone; at most 512 KiB wait. */
static void test_recycle_reuse(void)
{
    struct resp_reader r;
    struct resp_reply *rep;
    struct buf big, huge;
    unsigned long before;
    size_t fixed, held;
    int i, zero = 1, same = 1;

    buf_init(&big, 1 << 20);
    buf_init(&huge, 16 << 20);
    entries(&big, 100);   /* 113 KB: about 180 KiB of blocks */
    entries(&huge, 1000); /* 1.1 MB */
    resp_reader_init(&r);
    buf_reserve(&r.in, buf_size(&huge) + 1);
    for (i = 0; i < 2; i++) { /* the first made the fixed block; the second, built in it */
        resp_reader_feed(&r, "+OK\r\n", 5);
        resp_reader_get(&r, &rep);
        resp_reader_recycle(&r, rep);
    }
    fixed = resp_reader_held(&r);
    ok(fixed > 16000 && fixed <= 16384, "a small reply leaves the fixed block (%zu bytes)", fixed);
    resp_reader_feed(&r, buf_data(&big), buf_size(&big));
    is_int(resp_reader_get(&r, &rep), 1, "a reply of 100 stream entries (%zu bytes)",
           buf_size(&big));
    ok(rep && entries_ok(rep, 100), "it reads back");
    resp_reader_recycle(&r, rep);
    held = resp_reader_held(&r) - fixed;
    ok(held > 100000 && held <= 512 * 1024,
       "its blocks past the fixed one wait for the next reply (%zu bytes)", held);
    for (i = 0; i < 20; i++) {
        before = orion_alloc_count();
        resp_reader_feed(&r, buf_data(&big), buf_size(&big));
        resp_reader_get(&r, &rep);
        zero = zero && orion_alloc_count() == before;
        same = same && rep && entries_ok(rep, 100);
        resp_reader_recycle(&r, rep);
    }
    ok(zero, "20 more like it: 0 allocations");
    ok(same, "and each reads back whole");
    resp_reader_feed(&r, "+OK\r\n", 5);
    resp_reader_get(&r, &rep);
    resp_reader_recycle(&r, rep);
    is_int((long long)resp_reader_held(&r), (long long)fixed,
           "the first small reply after them gives them back: the fixed block alone is left");
    resp_reader_feed(&r, buf_data(&huge), buf_size(&huge));
    is_int(resp_reader_get(&r, &rep), 1, "a reply of 1000 entries (%zu bytes)", buf_size(&huge));
    ok(rep && entries_ok(rep, 1000), "it reads back");
    resp_reader_recycle(&r, rep);
    held = resp_reader_held(&r) - fixed;
    ok(held > 0 && held <= 512 * 1024, "at most 512 KiB of its blocks wait (%zu bytes)", held);
    before = orion_alloc_count();
    resp_reader_feed(&r, buf_data(&big), buf_size(&big));
    resp_reader_get(&r, &rep);
    is_int((long long)(orion_alloc_count() - before), 0,
           "a 100-entry reply after it is built in them: 0 allocations");
    ok(rep && entries_ok(rep, 100), "it reads back");
    resp_reader_recycle(&r, rep);
    resp_reader_reset(&r);
    is_int((long long)resp_reader_held(&r), (long long)fixed,
           "a reset (the link dropped) gives them back");
    buf_release(&big);
    buf_release(&huge);
    resp_reader_release(&r);
}

/* A clone built in the caller's memory: as big as resp_reply_clone_size says, the same as a
 * clone, no allocation, refused (NULL) when the memory is one byte short, and freeing it frees
 * nothing (the memory is the caller's). */
static void test_clone_in(void)
{
    struct resp_reader r;
    struct resp_reply *rep, *cl, *in;
    struct buf src, a, b;
    unsigned long before;
    size_t need;
    double *mem;

    buf_init(&src, 1 << 20);
    buf_init(&a, 1 << 20);
    buf_init(&b, 1 << 20);
    bulks(&src, 12);
    resp_reader_init(&r);
    resp_reader_feed(&r, buf_data(&src), buf_size(&src));
    is_int(resp_reader_get(&r, &rep), 1, "a reply of 12 bulks");
    need = resp_reply_clone_size(rep);
    ok(need > 12 * 36 && need < 4096, "clone_size %zu bytes", need);
    mem = malloc(need);
    ok(resp_reply_clone_in(rep, mem, need - 1) == NULL, "one byte short: refused");
    before = orion_alloc_count();
    in = resp_reply_clone_in(rep, mem, need);
    is_int((long long)(orion_alloc_count() - before), 0, "built in place: 0 allocations");
    cl = resp_reply_clone(rep);
    dump(cl, &a);
    if (in)
        dump(in, &b);
    ok(in && buf_size(&a) == buf_size(&b) && memcmp(buf_data(&a), buf_data(&b), buf_size(&a)) == 0,
       "it reads back as a clone does");
    resp_reply_free(rep); /* the source gone: the copy is its own */
    ok(in && in->n == 12 && strcmp(in->elem[11].str, "entry-00011-padding-padding-padding") == 0,
       "its strings are copies");
    ok(in && in->arena == NULL, "it owns no arena, so resp_reply_free frees nothing");
    resp_reply_free(in); /* were mem freed here, the free() below would be a double free */
    free(mem);
    resp_reply_free(cl);
    buf_release(&src);
    buf_release(&a);
    buf_release(&b);
    resp_reader_release(&r);
}

int main(void)
{
    test_cases();
    test_depth();
    test_sticky_and_reset();
    test_oom();
    test_recycle();
    test_recycle_fixed();
    test_recycle_reuse();
    test_clone_in();
    test_writer_and_helpers();
    return done_testing();
}
