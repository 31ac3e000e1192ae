/* SPDX-License-Identifier: MIT */
/*
 * http: request and response heads (RFC 9112 §2-6), date and reason phrases. Pure.
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   status-line  = HTTP-version SP status-code SP [ reason-phrase ] CRLF
 *   field-line   = field-name ":" OWS field-value OWS CRLF
 *
 * A bare LF ends a line too (Go accepts it). Obsolete line folding, whitespace before the
 * colon and control characters are rejected: they are how requests get smuggled past proxies.
 * Framing is decided here so that the server and the client agree on it: Content-Length and
 * Transfer-Encoding together, or Content-Lengths that differ, are errors.
 */
#include "orion/http.h"

#include <string.h>

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool eq_nocase(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

/* End of the head: offset just past the blank line, or 0 when not there yet. */
static size_t head_end(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < n && p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* One line of [p, end): its length without CR LF; *next is the start of the next line. */
static size_t line_len(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = (size_t)(nl - p);

    *next = nl + 1;
    if (len && p[len - 1] == '\r')
        len--;
    return len;
}

static int parse_version(const char *p, size_t len, int *minor)
{
    if (len != 8 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
        return -1;
    *minor = p[7] - '0';
    return 0;
}

static int parse_request_line(const char *p, size_t len, struct http_head *h)
{
    size_t i = 0, t;

    while (i < len && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= len || p[i] != ' ')
        return -1;
    h->method = p;
    h->method_len = i;
    t = ++i;
    while (i < len && (unsigned char)p[i] > ' ' && (unsigned char)p[i] < 0x7f)
        i++;
    if (i == t || i >= len || p[i] != ' ')
        return -1;
    h->target = p + t;
    h->target_len = i - t;
    return parse_version(p + i + 1, len - i - 1, &h->minor);
}

static int parse_status_line(const char *p, size_t len, struct http_head *h)
{
    size_t i;

    if (len < 12 || parse_version(p, 8, &h->minor) < 0 || p[8] != ' ')
        return -1;
    for (i = 9; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (h->status < 100)
        return -1;
    if (len > 12 && p[12] != ' ')
        return -1;
    h->reason = p + (len > 12 ? 13 : 12);
    h->reason_len = len > 12 ? len - 13 : 0;
    for (i = 0; i < h->reason_len; i++)
        if ((unsigned char)h->reason[i] < ' ' && h->reason[i] != '\t')
            return -1;
    return 0;
}

static int parse_field(const char *p, size_t len, struct http_header *f)
{
    size_t i = 0, v;

    while (i < len && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= len || p[i] != ':')
        return -1;
    f->name = p;
    f->name_len = i++;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    v = i;
    for (; i < len; i++)
        if (((unsigned char)p[i] < ' ' && p[i] != '\t') || p[i] == 0x7f)
            return -1;
    while (len > v && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    f->value = p + v;
    f->value_len = len - v;
    return 0;
}

/* Content-Length: 1*DIGIT, no sign, no list; -1 when malformed or absurd. */
static long long parse_length(const struct http_header *f)
{
    long long v = 0;

    if (f->value_len == 0 || f->value_len > 18)
        return -1;
    for (size_t i = 0; i < f->value_len; i++) {
        if (f->value[i] < '0' || f->value[i] > '9')
            return -1;
        v = v * 10 + (f->value[i] - '0');
    }
    return v;
}

/* Framing and connection fields; the status a server would answer, or 0. */
static int apply_field(struct http_head *h, const struct http_header *f, int *te)
{
    if (eq_nocase(f->name, f->name_len, "content-length")) {
        long long v = parse_length(f);
        if (v < 0 || (h->content_length >= 0 && h->content_length != v))
            return 400;
        h->content_length = v;
    } else if (eq_nocase(f->name, f->name_len, "transfer-encoding")) {
        if (++*te > 1 || !http_header_is(f, "chunked"))
            return 501;
        h->chunked = true;
    } else if (eq_nocase(f->name, f->name_len, "connection")) {
        if (http_header_has_token(f, "close"))
            h->conn_close = true;
        if (http_header_has_token(f, "keep-alive"))
            h->conn_keepalive = true;
    }
    return 0;
}

static int parse_fields(const char *p, const char *end, struct http_head *h)
{
    const char *next;
    int te = 0, st;

    for (;;) {
        size_t len = line_len(p, end, &next);
        if (len == 0)
            break;
        if (h->nh == ORION_HTTP_MAX_HEADERS)
            return 431;
        if (parse_field(p, len, &h->h[h->nh]) < 0)
            return 400;
        st = apply_field(h, &h->h[h->nh], &te);
        if (st)
            return st;
        h->nh++;
        p = next;
    }
    if (h->chunked && h->content_length >= 0)
        return 400;
    return 0;
}

static size_t host_count(const struct http_head *h)
{
    size_t k = 0;

    for (size_t i = 0; i < h->nh; i++)
        k += eq_nocase(h->h[i].name, h->h[i].name_len, "host");
    return k;
}

static void head_clear(struct http_head *h)
{
    memset(h, 0, sizeof(*h));
    h->content_length = -1;
}

int http_parse_request(const char *p, size_t n, struct http_head *out, int *status)
{
    size_t skip = 0, end, len;
    const char *next;
    int st;

    head_clear(out);
    *status = 0;
    /* RFC 9112 §2.2: ignore empty lines before the request line (clients send one after a body) */
    while (skip < n && skip < 4 && (p[skip] == '\r' || p[skip] == '\n'))
        skip++;
    end = head_end(p + skip, n - skip);
    if (end == 0 || skip + end > ORION_HTTP_MAX_HEAD) {
        if (n - skip <= ORION_HTTP_MAX_HEAD && end == 0)
            return ORION_AGAIN;
        *status = 431;
        return -1;
    }
    len = line_len(p + skip, p + skip + end, &next);
    st = parse_request_line(p + skip, len, out) < 0 ? 400 : 0;
    if (!st)
        st = parse_fields(next, p + skip + end, out);
    if (!st && (host_count(out) > 1 || (out->minor == 1 && host_count(out) == 0)))
        st = 400; /* HTTP/1.1 needs exactly one Host (RFC 9112 §3.2) */
    if (st) {
        *status = st;
        return -1;
    }
    return (int)(skip + end);
}

int http_parse_response(const char *p, size_t n, struct http_head *out)
{
    size_t end = head_end(p, n), len;
    const char *next;

    head_clear(out);
    if (end == 0)
        return n > ORION_HTTP_MAX_HEAD ? -1 : ORION_AGAIN;
    if (end > ORION_HTTP_MAX_HEAD)
        return -1;
    len = line_len(p, p + end, &next);
    if (parse_status_line(p, len, out) < 0 || parse_fields(next, p + end, out) != 0)
        return -1;
    return (int)end;
}

const struct http_header *http_find(const struct http_head *h, const char *name)
{
    for (size_t i = 0; i < h->nh; i++)
        if (eq_nocase(h->h[i].name, h->h[i].name_len, name))
            return &h->h[i];
    return NULL;
}

bool http_header_is(const struct http_header *hd, const char *value)
{
    return hd && eq_nocase(hd->value, hd->value_len, value);
}

bool http_header_has_token(const struct http_header *hd, const char *token)
{
    size_t i = 0, s, e;

    if (!hd)
        return false;
    while (i < hd->value_len) {
        while (i < hd->value_len && (hd->value[i] == ' ' || hd->value[i] == '\t' ||
                                     hd->value[i] == ','))
            i++;
        s = i;
        while (i < hd->value_len && hd->value[i] != ',')
            i++;
        e = i;
        while (e > s && (hd->value[e - 1] == ' ' || hd->value[e - 1] == '\t'))
            e--;
        if (e > s && eq_nocase(hd->value + s, e - s, token))
            return true;
    }
    return false;
}

bool http_response_bodyless(const char *method, int status)
{
    return (method && strcmp(method, "HEAD") == 0) || (status >= 100 && status < 200) ||
           status == 204 || status == 304;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian, 400-year eras). */
static void civil(long long days, long long *y, int *m, int *d)
{
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10 % 10);
    o[1] = (char)('0' + v % 10);
}

void http_date(char out[30], long long unix_s)
{
    static const char wd[] = "ThuFriSatSunMonTueWed";
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    long long days, sec, y;
    int m, d, w;

    if (unix_s < 0 || unix_s > 253402300799LL) /* 1970 .. 9999-12-31 */
        unix_s = unix_s < 0 ? 0 : 253402300799LL;
    days = unix_s / 86400;
    sec = unix_s % 86400;
    w = (int)(days % 7);
    civil(days, &y, &m, &d);
    memcpy(out, wd + w * 3, 3);
    memcpy(out + 3, ", ", 2);
    put2(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, mon + (m - 1) * 3, 3);
    out[11] = ' ';
    put2(out + 12, (int)(y / 100));
    put2(out + 14, (int)(y % 100));
    out[16] = ' ';
    put2(out + 17, (int)(sec / 3600));
    out[19] = ':';
    put2(out + 20, (int)(sec / 60 % 60));
    out[22] = ':';
    put2(out + 23, (int)(sec % 60));
    memcpy(out + 25, " GMT", 5);
}

int http_put_head(struct buf *out, int status, const char *const *headers, long long unix_s)
{
    char date[30];

    if (buf_printf(out, "HTTP/1.1 %d %s\r\n", status, http_reason(status)) < 0)
        return -1;
    for (size_t i = 0; headers && headers[i]; i++)
        if (buf_puts(out, headers[i]) < 0 || buf_puts(out, "\r\n") < 0)
            return -1;
    http_date(date, unix_s);
    return buf_printf(out, "Date: %s\r\n", date);
}

const char *http_reason(int status)
{
    static const struct {
        int code;
        const char *text;
    } t[] = {
        {100, "Continue"}, {101, "Switching Protocols"}, {200, "OK"}, {201, "Created"},
        {202, "Accepted"}, {204, "No Content"}, {206, "Partial Content"},
        {301, "Moved Permanently"}, {302, "Found"}, {304, "Not Modified"},
        {307, "Temporary Redirect"}, {308, "Permanent Redirect"}, {400, "Bad Request"},
        {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {406, "Not Acceptable"}, {408, "Request Timeout"},
        {409, "Conflict"}, {411, "Length Required"}, {413, "Request Entity Too Large"},
        {414, "Request URI Too Long"}, {415, "Unsupported Media Type"},
        {417, "Expectation Failed"}, {422, "Unprocessable Entity"}, {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"}, {499, "Client Closed Request"},
        {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
        {503, "Service Unavailable"}, {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].code == status)
            return t[i].text;
    return "";
}
