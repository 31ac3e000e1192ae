/* SPDX-License-Identifier: MIT */
/* backend: parse and check URL backend specs ("NAME=URL"), and the lease that lets one router
 * run each; the rules are in backend.h. */
#include "orion/backend.h"
#include "orion/contract.h"

#include <stdio.h>
#include <string.h>

/* Bytes of s[0..len) before the first byte of stop (len when none). */
static size_t span(const char *s, size_t len, const char *stop)
{
    size_t i = 0;

    while (i < len && !strchr(stop, s[i]))
        i++;
    return i;
}

static bool say(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return false;
}

bool backend_url_ok(const char *url, size_t len, char *err, size_t errlen)
{
    size_t host;

    if (len >= 8 && !strncmp(url, "https://", 8))
        return say(err, errlen, "https is not supported (ORION speaks no TLS): use http://");
    if (len < 7 || strncmp(url, "http://", 7))
        return say(err, errlen, "a backend URL starts with http://");
    if (len > ORION_BACKEND_URL_MAX)
        return say(err, errlen, "the backend URL is too long");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
            return say(err, errlen, "a backend URL has no blanks or control characters");
    host = span(url + 7, len - 7, ":/");
    if (!host)
        return say(err, errlen, "the backend URL names no host");
    return true;
}

bool backend_name_ok(const char *name, size_t len, char *err, size_t errlen)
{
    if (!len || len > ORION_NODE_ID_MAX)
        return say(err, errlen, "a backend name is 1 to 64 bytes");
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return say(err, errlen, "a backend name has only letters, digits, '.', '_' and '-'");
    }
    return true;
}

/* HOST-PORT of a checked URL; the port 11434 when it has none. */
static void name_from_url(const char *url, size_t len, char *out, size_t cap)
{
    const char *h = url + 7;
    size_t rest = len - 7, hn = span(h, rest, ":/");
    const char *port = hn < rest && h[hn] == ':' ? h + hn + 1 : NULL;
    size_t pn = port ? span(port, rest - hn - 1, "/") : 0;

    if (hn > cap / 2)
        hn = cap / 2;
    snprintf(out, cap, "%.*s-%.*s", (int)hn, h, pn ? (int)pn : 5, pn ? port : "11434");
}

int backend_spec_parse(const char *s, size_t len, struct backend_spec *out, char *err,
                       size_t errlen)
{
    const char *eq = memchr(s, '=', len);
    const char *url = s;
    size_t ulen = len, nlen = 0;

    /* a '=' before any ':' or '/' ends a name; a later one belongs to the URL */
    if (eq && !memchr(s, ':', (size_t)(eq - s)) && !memchr(s, '/', (size_t)(eq - s))) {
        nlen = (size_t)(eq - s);
        if (!backend_name_ok(s, nlen, err, errlen))
            return -1;
        url = eq + 1;
        ulen = len - nlen - 1;
    }
    if (!backend_url_ok(url, ulen, err, errlen))
        return -1;
    memcpy(out->url, url, ulen);
    out->url[ulen] = '\0';
    if (nlen) {
        memcpy(out->name, s, nlen);
        out->name[nlen] = '\0';
        return 0;
    }
    name_from_url(url, ulen, out->name, sizeof(out->name));
    if (!backend_name_ok(out->name, strlen(out->name), err, errlen)) {
        snprintf(err, errlen, "no name can be made from this URL's host: give NAME=URL");
        return -1;
    }
    return 0;
}

long backend_list_parse(const char *csv, struct backend_spec *out, size_t max, char *err,
                        size_t errlen)
{
    size_t n = 0;
    const char *p = csv;

    while (p && *p) {
        size_t len = strcspn(p, ",");
        char why[160];

        if (len) {
            if (n == max) {
                snprintf(err, errlen, "more than %zu backends", max);
                return -1;
            }
            if (backend_spec_parse(p, len, &out[n], why, sizeof(why)) < 0) {
                snprintf(err, errlen, "'%.*s': %s", (int)(len > 300 ? 300 : len), p, why);
                return -1;
            }
            for (size_t i = 0; i < n; i++)
                if (!strcmp(out[i].name, out[n].name)) {
                    snprintf(err, errlen, "the name '%s' is given twice", out[n].name);
                    return -1;
                }
            n++;
        }
        p = p[len] ? p + len + 1 : NULL;
    }
    return (long)n;
}

int backend_lease_key(const struct contract_keys *k, const char *name, char *out, size_t n)
{
    int w = snprintf(out, n, "%s:backend-lease:%s", k->prefix, name);

    return w < 0 || (size_t)w >= n ? -1 : 0;
}

const char backend_lease_lua[] =
    "local v = redis.call('MGET', KEYS[1])[1]\n"
    "if v == ARGV[1] then redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1 end\n"
    "if v then return 0 end\n"
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end\n"
    "return 0\n";
