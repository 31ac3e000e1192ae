/* SPDX-License-Identifier: MIT */
/*
 * RESP2 reader and writer.
 *
 * Grammar (RESP2, as Redis 7.0 sends it):
 *   reply   = status / error / integer / bulk / array
 *   status  = "+" line CRLF           error = "-" line CRLF      integer = ":" number CRLF
 *   bulk    = "$" len CRLF bytes CRLF | "$-1" CRLF
 *   array   = "*" count CRLF reply*count | "*-1" CRLF
 * Numbers: optional "-", digits, no "+", no leading zeros (except "0"), no "-0".
 *
 * The reader consumes one whole item (a line, or a bulk with its payload) at a time and keeps
 * a stack of open arrays, so a reply may arrive in any number of pieces. Every reply lives in
 * an arena of a few blocks: building one costs a handful of allocations, and freeing it is a
 * walk over the blocks.
 */
#include "orion/resp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct resp_arena {
    struct resp_arena *next;
    size_t used, cap;
    int warm; /* every page of it was written once (the block a reader keeps) */
    union { /* aligned storage follows */
        long long ll;
        void *p;
        double d;
    } data[];
};

/* Blocks of 2 KiB doubling to 64 KiB, each a power of two less 16 bytes with its header, so
 * that a block fills an allocator size class instead of spilling just past one. */
#define ARENA_MIN 2048
#define ARENA_MAX 65536
#define ARENA_SLACK 16
/* The block a reader keeps for its next reply: the usual replies (a batch of events, a health
 * hash) fit in it, and the blocks of a rare bigger one go back to malloc. */
#define ARENA_KEEP 16384
#define KEEP_CAP (ARENA_KEEP - sizeof(struct resp_arena) - ARENA_SLACK)
/* At most this much of a big reply's blocks waits for the next reply (resp_reader_recycle). */
#define REUSE_MAX (512u * 1024)

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Take n bytes from the head block, or start a new block: the first of *reuse when it is
 * big enough (reuse may be NULL), else a malloc'd one. */
static void *arena_alloc(struct resp_arena **head, struct resp_arena **reuse, size_t n)
{
    struct resp_arena *a = *head;
    size_t need = round8(n), cap, block;
    void *p;

    if (!a || a->cap - a->used < need) {
        if (reuse && *reuse && (*reuse)->cap >= need) {
            a = *reuse;
            *reuse = a->next;
        } else {
            block = a ? (sizeof(*a) + a->cap + ARENA_SLACK) * 2 : ARENA_MIN;
            if (block > ARENA_MAX)
                block = ARENA_MAX;
            cap = block - sizeof(*a) - ARENA_SLACK;
            if (cap < need)
                cap = need;
            a = orion_malloc(sizeof(*a) + cap);
            if (!a)
                return NULL;
            a->cap = cap;
            a->warm = 0;
        }
        a->used = 0;
        a->next = *head;
        *head = a;
    }
    p = (char *)a->data + a->used;
    a->used += need;
    return p;
}

static void arena_free(struct resp_arena *a)
{
    while (a) {
        struct resp_arena *next = a->next;
        orion_free(a);
        a = next;
    }
}

/* The reader's allocations: most fit in the head block, and that test is all they cost. */
static void *reader_alloc(struct resp_reader *r, size_t n)
{
    struct resp_arena *a = r->arena;
    size_t need = round8(n);
    void *p;

    if (!a || a->cap - a->used < need)
        return arena_alloc(&r->arena, &r->reuse, n);
    p = (char *)a->data + a->used;
    a->used += need;
    return p;
}

void resp_reply_free(struct resp_reply *reply)
{
    if (reply)
        arena_free(reply->arena);
}

/* Free a reply but keep one block of ARENA_KEEP for the reader's next reply, for as long as
 * the reader lives, so a steady stream of replies allocates nothing. The block is written
 * through once when it is first kept: all its pages are resident from then on, and a daemon
 * at rest keeps a constant RSS whatever the size of the replies it read.
 *
 * The blocks a bigger reply needed past that one (up to REUSE_MAX of them) wait in r->reuse
 * for the next reply only; what that reply does not take goes back to malloc when it is
 * recycled. So a run of big replies (a backlog, a batch of long prompts) allocates nothing
 * after its first, and does not make malloc trim and fault its heap in again per reply; once
 * replies are small again the reader holds the fixed block alone. */
void resp_reader_recycle(struct resp_reader *r, struct resp_reply *reply)
{
    struct resp_arena *a, *next, *keep = r->spare, *reuse = NULL;
    size_t kept = 0;

    if (!reply)
        return;
    arena_free(r->reuse); /* what this reply did not need */
    r->reuse = NULL;
    for (a = reply->arena; a; a = next) { /* the newest block first */
        size_t block = sizeof(*a) + a->cap + ARENA_SLACK;
        next = a->next;
        if (!keep && a->cap == KEEP_CAP) {
            keep = a;
        } else if (kept + block <= REUSE_MAX) {
            a->next = reuse; /* so the oldest comes first, as the next reply will need them */
            reuse = a;
            kept += block;
        } else {
            orion_free(a);
        }
    }
    r->reuse = reuse;
    if (!keep) { /* the reply did not grow to a block of that size: make one */
        keep = orion_malloc(sizeof(*keep) + KEEP_CAP);
        if (!keep)
            return; /* the next reply allocates as it goes */
        keep->cap = KEEP_CAP;
        keep->warm = 0;
    }
    if (!keep->warm) {
        memset(keep->data, 0, keep->cap);
        keep->warm = 1;
    }
    keep->used = 0;
    keep->next = NULL;
    r->spare = keep;
}

size_t resp_reader_held(const struct resp_reader *r)
{
    size_t n = r->spare ? sizeof(*r->spare) + r->spare->cap : 0;

    for (const struct resp_arena *a = r->reuse; a; a = a->next)
        n += sizeof(*a) + a->cap;
    return n;
}

static int clone_into(struct resp_arena **a, struct resp_reply *dst, const struct resp_reply *src)
{
    char *s;

    *dst = *src;
    dst->arena = NULL;
    if (src->str) {
        s = arena_alloc(a, NULL, src->len + 1);
        if (!s)
            return -1;
        memcpy(s, src->str, src->len);
        s[src->len] = '\0';
        dst->str = s;
    }
    if (src->type == RESP_ARRAY && src->n) {
        dst->elem = arena_alloc(a, NULL, src->n * sizeof(*dst->elem));
        if (!dst->elem)
            return -1;
        for (size_t i = 0; i < src->n; i++)
            if (clone_into(a, &dst->elem[i], &src->elem[i]) < 0)
                return -1;
    }
    return 0;
}

/* The bytes clone_into takes from an arena for r, each piece rounded as arena_alloc rounds. */
static size_t clone_size(const struct resp_reply *r)
{
    size_t n = 0;

    if (r->str)
        n += round8(r->len + 1);
    if (r->type == RESP_ARRAY && r->n) {
        n += round8(r->n * sizeof(*r->elem));
        for (size_t i = 0; i < r->n; i++)
            n += clone_size(&r->elem[i]);
    }
    return n;
}

size_t resp_reply_clone_size(const struct resp_reply *r)
{
    return sizeof(struct resp_arena) + round8(sizeof(struct resp_reply)) + clone_size(r);
}

struct resp_reply *resp_reply_clone_in(const struct resp_reply *r, void *mem, size_t n)
{
    struct resp_arena *a = mem;
    struct resp_reply *top;

    if (n < resp_reply_clone_size(r))
        return NULL;
    a->cap = n - sizeof(*a);
    a->used = 0;
    a->warm = 0;
    a->next = NULL;
    top = arena_alloc(&a, NULL, sizeof(*top)); /* it fits (measured above): no block is added */
    if (!top || clone_into(&a, top, r) < 0 || a != mem)
        return NULL;
    top->arena = NULL; /* mem is the caller's: resp_reply_free frees nothing */
    return top;
}

/* A clone lives in one block of exactly its size: a held request keeps its fields for as long
 * as it waits, and a 2 KiB block for a 300-byte entry would be mostly slack. */
struct resp_reply *resp_reply_clone(const struct resp_reply *r)
{
    size_t total = round8(sizeof(struct resp_reply)) + clone_size(r);
    struct resp_arena *a = orion_malloc(sizeof(*a) + total);
    struct resp_reply *top;

    if (!a)
        return NULL;
    a->cap = total;
    a->used = 0;
    a->warm = 0;
    a->next = NULL;
    top = arena_alloc(&a, NULL, sizeof(*top));

    if (!top || clone_into(&a, top, r) < 0) {
        arena_free(a);
        return NULL;
    }
    top->arena = a;
    return top;
}

void resp_reader_init(struct resp_reader *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->in, ORION_RESP_MAX_REPLY);
}

static void drop_partial(struct resp_reader *r)
{
    arena_free(r->arena);
    r->arena = NULL;
    arena_free(r->reuse);
    r->reuse = NULL;
    r->root = NULL;
    r->depth = 0;
}

void resp_reader_release(struct resp_reader *r)
{
    drop_partial(r);
    orion_free(r->spare);
    r->spare = NULL;
    buf_release(&r->in);
}

void resp_reader_reset(struct resp_reader *r)
{
    drop_partial(r);
    buf_reset(&r->in);
    r->err = 0;
    r->errstr[0] = '\0';
}

int resp_reader_feed(struct resp_reader *r, const void *data, size_t n)
{
    return buf_append(&r->in, data, n);
}

static int fail(struct resp_reader *r, const char *why)
{
    r->err = -1;
    snprintf(r->errstr, sizeof(r->errstr), "protocol error: %s", why);
    drop_partial(r);
    buf_reset(&r->in);
    return -1;
}

/* Strict RESP number: -?[1-9][0-9]* | 0. */
static int parse_ll(const char *p, size_t n, long long *out)
{
    bool neg = false;
    unsigned long long v = 0, lim;

    if (n && *p == '-') {
        neg = true;
        p++;
        n--;
    }
    if (!n || n > 19 || (*p == '0' && (n > 1 || neg)))
        return -1;
    lim = neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        if (v > (lim - (unsigned)(p[i] - '0')) / 10)
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

/* Place a new item: the root, or the next free slot of the innermost open array. */
static struct resp_reply *slot(struct resp_reader *r)
{
    struct resp_reply *it;

    if (r->depth == 0) {
        if (!r->arena && r->spare) { /* a new reply starts in the block the last one left */
            r->arena = r->spare;
            r->spare = NULL;
            r->arena->used = 0;
            r->arena->next = NULL;
        }
        it = reader_alloc(r, sizeof(*it));
        if (!it)
            return NULL;
        r->root = it;
    } else {
        struct resp_frame *f = &r->stack[r->depth - 1];
        it = &f->arr->elem[f->next];
    }
    memset(it, 0, sizeof(*it));
    return it;
}

/* After an item is complete: close every array it completed. 1 when the reply is whole. */
static int item_done(struct resp_reader *r)
{
    while (r->depth > 0) {
        struct resp_frame *f = &r->stack[r->depth - 1];
        if (++f->next < f->arr->n)
            return 0;
        r->depth--;
    }
    return 1;
}

static int copy_str(struct resp_reader *r, struct resp_reply *it, const char *p, size_t n)
{
    char *s = reader_alloc(r, n + 1);

    if (!s)
        return -1;
    memcpy(s, p, n);
    s[n] = '\0';
    it->str = s;
    it->len = n;
    return 0;
}

static int open_array(struct resp_reader *r, struct resp_reply *it, long long count)
{
    it->type = RESP_ARRAY;
    if (count == 0)
        return 0;
    if (r->depth >= ORION_RESP_MAX_DEPTH)
        return fail(r, "arrays nested too deep");
    it->elem = reader_alloc(r, (size_t)count * sizeof(*it->elem));
    if (!it->elem)
        return fail(r, "out of memory");
    it->n = (size_t)count;
    r->stack[r->depth].arr = it;
    r->stack[r->depth].next = 0;
    r->depth++;
    return 1; /* opened: not done */
}

/* Parse one item at p (avail bytes). Returns bytes used, 0 when incomplete, -1 on error;
 * *whole is set when the top reply is complete. */
static long parse_item(struct resp_reader *r, const char *p, size_t avail, int *whole)
{
    const char *cr;
    size_t line, used;
    long long v;
    struct resp_reply *it;
    int rc;

    if (avail < 3)
        return 0;
    cr = memchr(p, '\r', avail);
    if (!cr)
        return avail > 65536 ? fail(r, "line too long") : 0;
    if ((size_t)(cr - p) + 1 >= avail)
        return 0;
    if (cr[1] != '\n')
        return fail(r, "CR without LF");
    line = (size_t)(cr - p) - 1;
    used = line + 3;
    switch (p[0]) {
    case '+':
    case '-':
    case ':':
        break;
    case '$':
    case '*':
        if (parse_ll(p + 1, line, &v) < 0 || v < -1)
            return fail(r, "bad length");
        break;
    default:
        return fail(r, "unknown reply type byte");
    }
    if (p[0] == '$' && v >= 0) {
        if ((unsigned long long)v > ORION_RESP_MAX_BULK)
            return fail(r, "bulk string too long");
        if (avail < used + (size_t)v + 2)
            return 0;
        if (p[used + (size_t)v] != '\r' || p[used + (size_t)v + 1] != '\n')
            return fail(r, "bulk string not followed by CRLF");
    }
    if (p[0] == '*' && v > (long long)ORION_RESP_MAX_ELEMENTS)
        return fail(r, "array too long");
    it = slot(r);
    if (!it)
        return fail(r, "out of memory");
    rc = 0;
    switch (p[0]) {
    case '+':
    case '-':
        it->type = p[0] == '+' ? RESP_STATUS : RESP_ERROR;
        rc = copy_str(r, it, p + 1, line);
        break;
    case ':':
        it->type = RESP_INT;
        if (parse_ll(p + 1, line, &it->integer) < 0)
            return fail(r, "bad integer");
        break;
    case '$':
        if (v < 0) {
            it->type = RESP_NIL;
            break;
        }
        it->type = RESP_BULK;
        rc = copy_str(r, it, p + used, (size_t)v);
        used += (size_t)v + 2;
        break;
    default:
        if (v < 0) {
            it->type = RESP_NIL_ARRAY;
            break;
        }
        rc = open_array(r, it, v);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            *whole = 0;
            return (long)used;
        }
    }
    if (rc < 0)
        return fail(r, "out of memory");
    *whole = item_done(r);
    return (long)used;
}

int resp_reader_get(struct resp_reader *r, struct resp_reply **out)
{
    size_t off = 0, avail = buf_size(&r->in);
    const char *p = buf_data(&r->in);
    int whole = 0;
    long n;

    *out = NULL;
    if (r->err)
        return -1;
    while (!whole) {
        n = parse_item(r, p + off, avail - off, &whole);
        if (n < 0)
            return -1;
        if (n == 0) {
            buf_consume(&r->in, off);
            return 0;
        }
        off += (size_t)n;
    }
    buf_consume(&r->in, off);
    r->root->arena = r->arena;
    *out = r->root;
    r->arena = NULL;
    r->root = NULL;
    return 1;
}

static size_t ndigits(size_t v)
{
    size_t n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static char *put_uint(char *p, size_t v, size_t digits)
{
    for (size_t i = digits; i > 0; i--) {
        p[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + digits;
}

/* One reservation, the headers written in place and one memcpy per argument: with many small
 * commands the number of copy calls, not their bytes, is what costs (musl's memcpy). */
int resp_format(struct buf *out, int argc, const char *const *argv, const size_t *len)
{
    size_t need, l;
    char *p;

    if (argc < 0) {
        errno = EINVAL;
        return -1;
    }
    need = 3 + ndigits((size_t)argc);
    for (int i = 0; i < argc; i++) {
        l = len ? len[i] : strlen(argv[i]);
        if (l > out->max || need > out->max) {
            errno = ENOBUFS;
            return -1;
        }
        need += 5 + ndigits(l) + l;
    }
    if (buf_reserve(out, need) < 0)
        return -1;
    p = out->p + out->len;
    *p++ = '*';
    p = put_uint(p, (size_t)argc, ndigits((size_t)argc));
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        l = len ? len[i] : strlen(argv[i]);
        *p++ = '$';
        p = put_uint(p, l, ndigits(l));
        *p++ = '\r';
        *p++ = '\n';
        if (l)
            memcpy(p, argv[i], l);
        p += l;
        *p++ = '\r';
        *p++ = '\n';
    }
    out->len = (size_t)(p - out->p);
    out->p[out->len] = '\0';
    return 0;
}

bool resp_is_error(const struct resp_reply *r, const char *prefix)
{
    size_t n;

    if (!r || r->type != RESP_ERROR)
        return false;
    if (!prefix)
        return true;
    n = strlen(prefix);
    return r->len >= n && !memcmp(r->str, prefix, n) && (r->len == n || r->str[n] == ' ');
}

bool resp_is_nil(const struct resp_reply *r)
{
    return r && (r->type == RESP_NIL || r->type == RESP_NIL_ARRAY);
}

const struct resp_reply *resp_at(const struct resp_reply *r, size_t i)
{
    if (!r || r->type != RESP_ARRAY || i >= r->n)
        return NULL;
    return &r->elem[i];
}

bool resp_str_eq(const struct resp_reply *r, const char *s)
{
    return r && (r->type == RESP_BULK || r->type == RESP_STATUS) && r->len == strlen(s) &&
           !memcmp(r->str, s, r->len);
}

const struct resp_reply *resp_field(const struct resp_reply *arr, const char *field)
{
    if (!arr || arr->type != RESP_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < arr->n; i += 2)
        if (resp_str_eq(&arr->elem[i], field))
            return &arr->elem[i + 1];
    return NULL;
}

void resp_cmd_init(struct resp_cmd *c)
{
    buf_init(&c->bytes, ORION_RESP_MAX_REPLY);
    c->argc = 0;
    c->err = 0;
}

void resp_cmd_release(struct resp_cmd *c) { buf_release(&c->bytes); }

void resp_cmd_add(struct resp_cmd *c, const void *p, size_t n)
{
    if (c->err)
        return;
    if (c->argc == RESP_CMD_MAX_ARGS) {
        c->err = E2BIG;
        return;
    }
    c->off[c->argc] = buf_size(&c->bytes);
    if (buf_append(&c->bytes, p, n) < 0 || buf_putc(&c->bytes, '\0') < 0) {
        c->err = errno;
        return;
    }
    c->len[c->argc++] = n;
}

void resp_cmd_adds(struct resp_cmd *c, const char *s) { resp_cmd_add(c, s, strlen(s)); }

void resp_cmd_addf(struct resp_cmd *c, const char *fmt, ...)
{
    va_list ap;
    size_t before = buf_size(&c->bytes);
    int rc;

    if (c->err)
        return;
    if (c->argc == RESP_CMD_MAX_ARGS) {
        c->err = E2BIG;
        return;
    }
    va_start(ap, fmt);
    rc = buf_vprintf(&c->bytes, fmt, ap);
    va_end(ap);
    if (rc < 0 || buf_putc(&c->bytes, '\0') < 0) {
        c->err = errno;
        return;
    }
    c->off[c->argc] = before;
    c->len[c->argc++] = buf_size(&c->bytes) - before - 1;
}

int resp_cmd_finish(struct resp_cmd *c)
{
    if (c->err) {
        errno = c->err;
        return -1;
    }
    for (int i = 0; i < c->argc; i++)
        c->argv[i] = buf_data(&c->bytes) + c->off[i];
    return 0;
}
