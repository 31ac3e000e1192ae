/* SPDX-License-Identifier: MIT */
/*
 * buf: a growable byte buffer with a hard cap.
 *
 * Invariants: p is never NULL and p[len] == '\0'; the live bytes are p[off..len).
 * buf_init() cannot fail (p points at a static empty string until the first append).
 * Appends return 0, or -1 with errno ENOBUFS when the live size would pass max, or ENOMEM.
 * Growth doubles up to 64 KiB, then adds 64 KiB at a time.
 */
#ifndef ORION_BUF_H
#define ORION_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *p;
    size_t off, len, cap, max;
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* empty it, keep the memory */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
int buf_reserve(struct buf *b, size_t n); /* room for n more bytes at p + len */
void buf_consume(struct buf *b, size_t n); /* drop n bytes from the front */
void buf_compact(struct buf *b);           /* move live bytes to the start */
void buf_trim(struct buf *b, size_t keep);  /* free the memory of an empty buffer above keep */
char *buf_detach(struct buf *b, size_t *len); /* caller owns the result, b is re-initialised */

static inline const char *buf_data(const struct buf *b) { return b->p + b->off; }
static inline size_t buf_size(const struct buf *b) { return b->len - b->off; }

/* Allocation hooks (tests inject failures here). */
void *orion_malloc(size_t n);
void *orion_realloc(void *p, size_t n);
void *orion_calloc(size_t n, size_t size);
void orion_free(void *p);
char *orion_strdup(const char *s);
char *orion_strndup(const char *s, size_t n);
/* Format a sentence into err (errlen bytes); nothing when err is NULL or errlen 0. */
void orion_errf(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Fail the n-th allocation from now (1 = the next one); 0 switches failure off. */
void orion_alloc_fail_at(unsigned long n);
unsigned long orion_alloc_count(void);

#endif
