/* SPDX-License-Identifier: MIT */
/*
 * t.h: the smallest TAP producer that does the job. Each test binary prints "ok N - name" or
 * "not ok N - name" per check and "1..N" at the end; test/run.sh adds up every binary.
 * Header-only: include it in exactly one file per test binary.
 */
#ifndef ORION_T_H
#define ORION_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_count, t_failed;

/* ORION_SLOW: how many times longer waits may take (make valgrind sets 5); default 1. */
static inline long t_slow(void)
{
    const char *s = getenv("ORION_SLOW");
    long v = s ? strtol(s, NULL, 10) : 1;

    return v > 0 ? v : 1;
}

#define ok(cond, ...) t_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static inline void t_vreport(int pass, const char *file, int line, const char *fmt, va_list ap)
{
    t_count++;
    if (!pass)
        t_failed++;
    printf("%sok %d - ", pass ? "" : "not ", t_count);
    vprintf(fmt, ap);
    printf("\n");
    if (!pass)
        printf("#   failed at %s:%d\n", file, line);
    fflush(stdout);
}

#include <stdarg.h>
static inline int t_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    t_vreport(pass, file, line, fmt, ap);
    va_end(ap);
    return pass;
}

#define is_int(got, want, ...) t_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
static inline int t_is_int(long long got, long long want, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    t_vreport(got == want, file, line, fmt, ap);
    va_end(ap);
    if (got != want)
        printf("#   got %lld, want %lld\n", got, want);
    return got == want;
}

#define is_str(got, want, ...) t_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
static inline int t_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    int pass = got && want ? strcmp(got, want) == 0 : got == want;

    va_start(ap, fmt);
    t_vreport(pass, file, line, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got \"%s\", want \"%s\"\n", got ? got : "(null)", want ? want : "(null)");
    return pass;
}

#define is_mem(got, glen, want, wlen, ...) \
    t_is_mem((got), (glen), (want), (wlen), __FILE__, __LINE__, __VA_ARGS__)
static inline int t_is_mem(const void *got, size_t glen, const void *want, size_t wlen, const char *file,
                    int line, const char *fmt, ...)
{
    va_list ap;
    int pass = glen == wlen && (glen == 0 || memcmp(got, want, glen) == 0);

    va_start(ap, fmt);
    t_vreport(pass, file, line, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got %zu bytes, want %zu bytes\n", glen, wlen);
    return pass;
}

static inline int done_testing(void)
{
    printf("1..%d\n", t_count);
    return t_failed ? 1 : 0;
}

#endif
