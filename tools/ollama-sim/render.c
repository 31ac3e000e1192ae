/* SPDX-License-Identifier: MIT */
/*
 * render: what Go's encoding/json and net/http put on the wire. Strings escape ", \, control
 * characters, and <, >, & and U+2028/U+2029 as \u003c.. (HTML-safe encoding). Times are RFC 3339
 * with the fraction's trailing zeros dropped. A complete body of at most 2048 bytes goes out
 * with Content-Length, a longer one chunked (Go buffers 2048 bytes before it must choose).
 * Floats print as encoding/json does: the shortest decimal that reads back as the same
 * float32/float64, without exponent unless |x| < 1e-6 or >= 1e21, "e-07" written "e-7".
 */

#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GO_BUFFER_BEFORE_CHUNKING 2048u

int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int quote_special(struct buf *b, unsigned char c)
{
    switch (c) {
    case '"':
        return buf_puts(b, "\\\"");
    case '\\':
        return buf_puts(b, "\\\\");
    case '\n':
        return buf_puts(b, "\\n");
    case '\r':
        return buf_puts(b, "\\r");
    case '\t':
        return buf_puts(b, "\\t");
    default:
        return buf_printf(b, "\\u%04x", c);
    }
}

int go_quote(struct buf *b, const char *s, size_t n)
{
    int rc = buf_putc(b, '"');
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&')
            rc |= quote_special(b, c);
        else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                 ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
            rc |= buf_printf(b, "\\u202%c", s[i + 2] == (char)0xa8 ? '8' : '9');
            i += 2;
        } else
            rc |= buf_putc(b, (char)c);
    }
    return rc | buf_putc(b, '"');
}

/* strconv.Quote for ASCII and UTF-8 text: \" \\ \a \b \f \n \r \t \v, \xNN for other control bytes
 */
int go_q(struct buf *b, const char *s, size_t n)
{
    static const char esc[] = "\\a\\b\\t\\n\\v\\f\\r";
    int rc = buf_putc(b, '"');
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            rc |= buf_putc(b, '\\') | buf_putc(b, (char)c);
        else if (c >= 7 && c <= 13)
            rc |= buf_append(b, esc + 2 * (c - 7), 2);
        else if (c < 0x20 || c == 0x7f)
            rc |= buf_printf(b, "\\x%02x", c);
        else
            rc |= buf_putc(b, (char)c);
    }
    return rc | buf_putc(b, '"');
}

/* strconv.AppendFloat(x, 'f' or 'e', -1, bits) from the shortest digits that read back */
static int go_float(struct buf *b, double x, int bits)
{
    char t[48], dig[24];
    int prec, exp, nd = 0, i;
    const char *p;
    double ax = fabs(x);

    if (x == 0)
        return buf_puts(b, signbit(x) ? "-0" : "0");
    for (prec = 1; prec < 17; prec++) {
        snprintf(t, sizeof t, "%.*e", prec - 1, x);
        if (bits == 32 ? (float)strtod(t, NULL) == (float)x : strtod(t, NULL) == x)
            break;
    }
    snprintf(t, sizeof t, "%.*e", prec - 1, x);
    for (p = t + (x < 0); *p && *p != 'e'; p++)
        if (*p != '.')
            dig[nd++] = *p;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    exp = atoi(p + 1);
    if (x < 0)
        buf_putc(b, '-');
    if ((bits == 32 ? (float)ax < 1e-6f || (float)ax >= 1e21f : ax < 1e-6 || ax >= 1e21)) {
        buf_putc(b, dig[0]);
        if (nd > 1)
            buf_putc(b, '.'), buf_append(b, dig + 1, (size_t)nd - 1);
        if (exp < 0 && exp > -10)
            return buf_printf(b, "e-%d", -exp); /* encoding/json: e-07 becomes e-7 */
        return buf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    if (exp < 0) {
        buf_puts(b, "0.");
        for (i = -1; i > exp; i--)
            buf_putc(b, '0');
        return buf_append(b, dig, (size_t)nd);
    }
    for (i = 0; i <= exp || i < nd; i++) {
        if (i == exp + 1)
            buf_putc(b, '.');
        buf_putc(b, i < nd ? dig[i] : '0');
    }
    return 0;
}

int go_float32(struct buf *b, float f)
{
    return go_float(b, (double)f, 32);
}

int go_float64(struct buf *b, double f)
{
    return go_float(b, f, 64);
}

/* ".517483" from nanoseconds, trailing zeros dropped, "" for 0 */
static void frac(char out[12], long ns)
{
    int len;

    if (ns == 0) {
        out[0] = '\0';
        return;
    }
    len = snprintf(out, 12, ".%09ld", ns);
    while (len > 1 && out[len - 1] == '0')
        out[--len] = '\0';
}

void go_time_utc(char out[64], int64_t ns)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    char f[12];

    gmtime_r(&t, &tm);
    frac(f, (long)(ns % 1000000000));
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d%.10sZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, f);
}

static long days_from_civil(long y, int m, int d)
{
    long era, yoe, doy;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* server-local time with its offset ("Z" when the offset is 0, as Go prints it) */
void go_time_local(char out[64], int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm lt, ut;
    char f[12], zone[24] = "Z";
    long off;

    localtime_r(&t, &lt);
    gmtime_r(&t, &ut);
    off = (days_from_civil(lt.tm_year + 1900L, lt.tm_mon + 1, lt.tm_mday) -
           days_from_civil(ut.tm_year + 1900L, ut.tm_mon + 1, ut.tm_mday)) *
              86400L +
          (lt.tm_hour - ut.tm_hour) * 3600L + (lt.tm_min - ut.tm_min) * 60L;
    if (off)
        snprintf(zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600,
                 labs(off) % 3600 / 60);
    frac(f, (long)(ms % 1000) * 1000000);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d%.10s%.7s", lt.tm_year + 1900, lt.tm_mon + 1,
             lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec, f, zone);
}

void reply_json(struct httpd_req *r, int status, const char *ctype, const char *body, size_t n)
{
    char ct[80];
    const char *hdr[2] = {ct, NULL};

    snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
    if (n <= GO_BUFFER_BEFORE_CHUNKING) {
        httpd_respond(r, status, hdr, body, n);
        return;
    }
    if (httpd_start_chunked(r, status, hdr) == 0 && httpd_write_chunk(r, body, n) == 0)
        httpd_end(r);
}

void reply_error(struct httpd_req *r, int status, const char *msg)
{
    reply_error_ct(r, status, "application/json; charset=utf-8", msg);
}

void reply_error_ct(struct httpd_req *r, int status, const char *ctype, const char *msg)
{
    struct buf b;

    buf_init(&b, ORION_HTTP_MAX_OUT);
    buf_puts(&b, "{\"error\":");
    go_quote(&b, msg, strlen(msg));
    buf_putc(&b, '}');
    reply_json(r, status, ctype, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

void reply_empty(struct httpd_req *r)
{
    httpd_respond(r, 200, NULL, "", 0);
}

void reply_text(struct httpd_req *r, int status, const char *ctype, const char *body)
{
    reply_json(r, status, ctype, body, strlen(body));
}

void reply_chunk(struct sim_req *q, const char *ctype, const char *p, size_t n)
{
    if (!q->started) {
        char ct[80];
        const char *hdr[2] = {ct, NULL};

        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        q->started = true;
        httpd_start_chunked(q->hr, 200, hdr);
    }
    httpd_write_chunk(q->hr, p, n);
}
