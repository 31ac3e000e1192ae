/* SPDX-License-Identifier: MIT */
/*
 * Capped growable buffer and the allocation hooks every module uses, so that tests can fail
 * the n-th allocation and check that nothing leaks or crashes.
 */
#include "orion/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char buf_empty[1];
static unsigned long alloc_fail_at, alloc_count;

static int alloc_should_fail(void)
{
    alloc_count++;
    if (alloc_fail_at && --alloc_fail_at == 0)
        return 1;
    return 0;
}

void orion_alloc_fail_at(unsigned long n) { alloc_fail_at = n; }
unsigned long orion_alloc_count(void) { return alloc_count; }

void *orion_malloc(size_t n)
{
    if (alloc_should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return malloc(n ? n : 1);
}

void *orion_realloc(void *p, size_t n)
{
    if (alloc_should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

void *orion_calloc(size_t n, size_t size)
{
    if (alloc_should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return calloc(n ? n : 1, size ? size : 1);
}

void orion_free(void *p) { free(p); }

char *orion_strndup(const char *s, size_t n)
{
    char *d = orion_malloc(n + 1);

    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *orion_strdup(const char *s) { return orion_strndup(s, strlen(s)); }

void orion_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void buf_init(struct buf *b, size_t max)
{
    b->p = buf_empty;
    b->off = b->len = b->cap = 0;
    b->max = max;
}

void buf_release(struct buf *b)
{
    if (b->cap)
        orion_free(b->p);
    buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
    b->off = b->len = 0;
    if (b->cap)
        b->p[0] = '\0';
}

void buf_compact(struct buf *b)
{
    if (!b->off)
        return;
    memmove(b->p, b->p + b->off, b->len - b->off + 1);
    b->len -= b->off;
    b->off = 0;
}

int buf_reserve(struct buf *b, size_t n)
{
    size_t live = b->len - b->off, want, ncap;
    char *np;

    if (n > b->max || live > b->max - n) {
        errno = ENOBUFS;
        return -1;
    }
    if (b->len + n < b->cap)
        return 0;
    if (b->off && b->off >= live) { /* moves no more than was consumed: amortised O(1) */
        buf_compact(b);
        if (b->len + n < b->cap)
            return 0;
    }
    want = b->len + n + 1;
    ncap = b->cap ? b->cap : 64;
    while (ncap < want)
        ncap = ncap < 65536 ? ncap * 2 : ncap + 65536;
    np = orion_realloc(b->cap ? b->p : NULL, ncap);
    if (!np)
        return -1;
    if (!b->cap)
        np[0] = '\0';
    b->p = np;
    b->cap = ncap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

int buf_putc(struct buf *b, char c)
{
    if (buf_reserve(b, 1) < 0)
        return -1;
    b->p[b->len++] = c; /* no memcpy call for one byte */
    b->p[b->len] = '\0';
    return 0;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return -1;
    if (buf_reserve(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_consume(struct buf *b, size_t n)
{
    size_t live = b->len - b->off;

    if (n >= live) {
        buf_reset(b);
        return;
    }
    b->off += n;
    /* Compact only once the dropped front is at least the live rest: each byte is moved at
     * most once per byte consumed, however small the pieces (partial writes of a big
     * buffer must not copy the rest every time). */
    if (b->off >= b->len - b->off)
        buf_compact(b);
}

void buf_trim(struct buf *b, size_t keep)
{
    if (b->len == b->off && b->cap > keep) {
        orion_free(b->p);
        buf_init(b, b->max);
    }
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p;

    buf_compact(b);
    if (len)
        *len = b->len;
    if (!b->cap) {
        p = orion_malloc(1);
        if (p)
            p[0] = '\0';
    } else {
        p = b->p;
    }
    buf_init(b, b->max);
    return p;
}
