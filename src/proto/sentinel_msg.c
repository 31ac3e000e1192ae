/* SPDX-License-Identifier: MIT */
/*
 * Sentinel's replies and messages read from parsed RESP2, and the order of the sentinels.
 * Every reader checks each element's type and length before it uses it: the replies come
 * from the network.
 */
#include "orion/sentinel_msg.h"

#include <stdio.h>
#include <string.h>

/* A host as we accept it from a flag or a sentinel: printable, no space, no comma. */
static bool host_ok(const char *p, size_t n)
{
    if (n == 0 || n > SENTINEL_HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c >= 0x7f || c == ',' || c == '[' || c == ']')
            return false;
    }
    return true;
}

/* Decimal 1..65535, every byte a digit. */
static long port_parse(const char *p, size_t n)
{
    long v = 0;

    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

/* "ip:port" or "[ip]:port" into out; -1 when it does not fit or is not an address. */
static int addr_format(const char *host, size_t hn, long port, char *out, size_t n)
{
    bool v6 = memchr(host, ':', hn) != NULL;
    int w;

    if (!host_ok(host, hn) || port < 1 || port > 65535)
        return -1;
    w = snprintf(out, n, v6 ? "[%.*s]:%ld" : "%.*s:%ld", (int)hn, host, port);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

/* One list item (already trimmed) into "host:port" form; -1 when it is not one. */
static int item_parse(const char *p, size_t n, char *out, size_t outn)
{
    const char *colon;
    const char *host = p;
    size_t hn;

    if (n && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close || close + 1 >= p + n || close[1] != ':')
            return -1;
        host = p + 1;
        hn = (size_t)(close - host);
        colon = close + 1;
        if (!memchr(host, ':', hn))
            return -1; /* brackets only around an IPv6 literal */
    } else {
        colon = NULL;
        for (size_t i = 0; i < n; i++)
            if (p[i] == ':') {
                if (colon)
                    return -1; /* an IPv6 literal needs its brackets */
                colon = p + i;
            }
        if (!colon)
            return -1;
        hn = (size_t)(colon - p);
    }
    return addr_format(host, hn, port_parse(colon + 1, (size_t)(p + n - colon - 1)), out, outn);
}

int sentinel_list_parse(struct sentinel_list *l, const char *spec, char *err, size_t errlen)
{
    const char *p = spec ? spec : "";

    l->n = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;

        while (n && *s == ' ')
            s++, n--;
        while (n && s[n - 1] == ' ')
            n--;
        if (n == 0) {
            snprintf(err, errlen, "an empty item in the sentinel list '%s'", spec ? spec : "");
            return -1;
        }
        if (l->n == SENTINEL_MAX) {
            snprintf(err, errlen, "more than %d sentinels", SENTINEL_MAX);
            return -1;
        }
        if (item_parse(s, n, l->addr[l->n], sizeof(l->addr[l->n])) < 0) {
            snprintf(err, errlen, "'%.*s' is not HOST:PORT (port 1-65535, [v6]:PORT)",
                     n > 80 ? 80 : (int)n, s);
            return -1;
        }
        if (sentinel_list_find(l, l->addr[l->n]) >= 0) {
            snprintf(err, errlen, "sentinel %s is listed twice", l->addr[l->n]);
            return -1;
        }
        l->n++;
        if (!end)
            return 0;
        p = end + 1;
    }
}

int sentinel_list_find(const struct sentinel_list *l, const char *addr)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->addr[i], addr))
            return (int)i;
    return -1;
}

void sentinel_list_front(struct sentinel_list *l, size_t i)
{
    char keep[SENTINEL_ADDR_MAX];

    if (i >= l->n || i == 0)
        return;
    memcpy(keep, l->addr[i], sizeof(keep));
    memmove(l->addr[1], l->addr[0], i * sizeof(l->addr[0]));
    memcpy(l->addr[0], keep, sizeof(keep));
}

void sentinel_list_back(struct sentinel_list *l, size_t i)
{
    char keep[SENTINEL_ADDR_MAX];

    if (i + 1 >= l->n)
        return;
    memcpy(keep, l->addr[i], sizeof(keep));
    memmove(l->addr[i], l->addr[i + 1], (l->n - i - 1) * sizeof(l->addr[0]));
    memcpy(l->addr[l->n - 1], keep, sizeof(keep));
}

bool sentinel_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > SENTINEL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] == 0x7f)
            return false;
    return true;
}

static bool is_bulk(const struct resp_reply *r) { return r && r->type == RESP_BULK; }

enum sentinel_answer sentinel_master_addr(const struct resp_reply *r, char *addr, size_t n)
{
    const struct resp_reply *ip = resp_at(r, 0), *port = resp_at(r, 1);

    if (!r)
        return SENTINEL_ANSWER_BAD;
    if (r->type == RESP_NIL_ARRAY || r->type == RESP_NIL)
        return SENTINEL_ANSWER_UNKNOWN;
    if (r->type == RESP_ERROR)
        return SENTINEL_ANSWER_REFUSED;
    if (r->type != RESP_ARRAY || r->n != 2 || !is_bulk(ip) || !is_bulk(port))
        return SENTINEL_ANSWER_BAD;
    if (addr_format(ip->str, ip->len, port_parse(port->str, port->len), addr, n) < 0)
        return SENTINEL_ANSWER_BAD;
    return SENTINEL_ANSWER_ADDR;
}

static void role_master(const struct resp_reply *r, struct redis_role *out)
{
    const struct resp_reply *off = resp_at(r, 1), *reps = resp_at(r, 2);

    if (r->n != 3 || off->type != RESP_INT || !reps || reps->type != RESP_ARRAY)
        return;
    out->offset = off->integer;
    out->replicas = reps->n;
    out->kind = REDIS_ROLE_MASTER;
}

static void role_replica(const struct resp_reply *r, struct redis_role *out)
{
    const struct resp_reply *ip = resp_at(r, 1), *port = resp_at(r, 2), *state = resp_at(r, 3);
    const struct resp_reply *off = resp_at(r, 4);

    if (r->n != 5 || !is_bulk(ip) || port->type != RESP_INT || !is_bulk(state) ||
        off->type != RESP_INT)
        return;
    if (port->integer < 1 || port->integer > 65535 ||
        addr_format(ip->str, ip->len, (long)port->integer, out->master, sizeof(out->master)) < 0)
        out->master[0] = '\0';
    out->linked = resp_str_eq(state, "connected");
    out->offset = off->integer;
    out->kind = REDIS_ROLE_REPLICA;
}

void redis_role_parse(const struct resp_reply *r, struct redis_role *out)
{
    const struct resp_reply *what = resp_at(r, 0);

    memset(out, 0, sizeof(*out));
    out->kind = REDIS_ROLE_BAD;
    if (!is_bulk(what))
        return;
    if (resp_str_eq(what, "master"))
        role_master(r, out);
    else if (resp_str_eq(what, "slave"))
        role_replica(r, out);
    else if (resp_str_eq(what, "sentinel") && r->n == 2 && r->elem[1].type == RESP_ARRAY)
        out->kind = REDIS_ROLE_SENTINEL;
}

/* The next space-separated word of [*p, end): its start and length, *p moved past it. */
static const char *word(const char **p, const char *end, size_t *n)
{
    const char *s = *p;

    while (s < end && *s == ' ')
        s++;
    *p = s;
    while (*p < end && **p != ' ')
        (*p)++;
    *n = (size_t)(*p - s);
    return s;
}

int sentinel_switch_parse(const struct resp_reply *r, const char *name, char *addr, size_t n)
{
    const struct resp_reply *kind = resp_at(r, 0), *chan = resp_at(r, 1), *msg = resp_at(r, 2);
    const char *p, *end, *w[5];
    size_t wn[5], extra;

    if (!r || r->type != RESP_ARRAY || r->n != 3 || !resp_str_eq(kind, "message") ||
        !resp_str_eq(chan, "+switch-master"))
        return 0;
    if (!is_bulk(msg))
        return -1;
    p = msg->str;
    end = msg->str + msg->len;
    for (int i = 0; i < 5; i++) {
        w[i] = word(&p, end, &wn[i]);
        if (!wn[i])
            return -1; /* fewer than five words */
    }
    word(&p, end, &extra);
    if (extra)
        return -1; /* more than five words */
    if (wn[0] != strlen(name) || memcmp(w[0], name, wn[0]))
        return 0;
    if (addr_format(w[3], wn[3], port_parse(w[4], wn[4]), addr, n) < 0)
        return -1;
    return 1;
}

bool redis_err_not_master(const struct resp_reply *r)
{
    return resp_is_error(r, "READONLY") || resp_is_error(r, "MASTERDOWN") ||
           resp_is_error(r, "UNBLOCKED");
}
