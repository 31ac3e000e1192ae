/* SPDX-License-Identifier: MIT */
/*
 * route_conv: conversations recognised by the prefix chain of their messages, and the records
 * of what each node's KV cache holds. Rules and formulas in route_conv.h.
 */
#include "orion/route_conv.h"

#include <string.h>

#define FNV_OFF 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static unsigned long long fnv(unsigned long long h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

void route_conv_init(struct route_conv *c) { memset(c, 0, sizeof(*c)); }

void route_conv_add(struct route_conv *c, const char *role, const char *text, size_t len)
{
    unsigned long long h = c->n ? c->h[(c->n - 1) % ROUTE_CONV_TAIL] : FNV_OFF;
    unsigned long tok = c->n ? c->tok[(c->n - 1) % ROUTE_CONV_TAIL] : 0;
    static const unsigned char sep[2] = {0, 1};

    h = fnv(h, sep, 1);
    if (role)
        h = fnv(h, role, strlen(role));
    h = fnv(h, sep + 1, 1);
    if (text)
        h = fnv(h, text, len);
    c->h[c->n % ROUTE_CONV_TAIL] = h ? h : 1; /* 0 means "not kept" */
    c->tok[c->n % ROUTE_CONV_TAIL] = tok + (len + 3) / 4 + 4;
    c->n++;
}

void route_conv_extend(struct route_conv *c, const void *data, size_t len)
{
    size_t i;
    unsigned long long h;

    if (!c->n)
        return;
    i = (c->n - 1) % ROUTE_CONV_TAIL;
    h = fnv(c->h[i], data, len);
    c->h[i] = h ? h : 1;
    c->tok[i] += (len + 3) / 4;
}

static bool kept(const struct route_conv *c, size_t i)
{
    return i < c->n && c->n - i <= ROUTE_CONV_TAIL;
}

unsigned long long route_conv_hash_at(const struct route_conv *c, size_t i)
{
    return kept(c, i) ? c->h[i % ROUTE_CONV_TAIL] : 0;
}

unsigned long route_conv_tokens_at(const struct route_conv *c, size_t i)
{
    return kept(c, i) ? c->tok[i % ROUTE_CONV_TAIL] : 0;
}

unsigned long route_conv_tokens(const struct route_conv *c)
{
    return c->n ? c->tok[(c->n - 1) % ROUTE_CONV_TAIL] : 0;
}

unsigned long route_conv_model(const char *model_key)
{
    return (unsigned long)(fnv(FNV_OFF, model_key, strlen(model_key)) & 0xffffffffUL);
}

/* Tokens of c that record r holds, 0 when c does not continue it. */
static unsigned long continues(const struct route_conv_rec *r, const struct route_conv *c)
{
    if (!r->n || c->n < r->n || route_conv_hash_at(c, r->n - 1) != r->h)
        return 0;
    return route_conv_tokens_at(c, c->n >= r->n + 2 ? r->n : r->n - 1);
}

unsigned long route_conv_cached(const struct route_conv_table *t, unsigned long model,
                                const struct route_conv *c, unsigned long ctx_tokens, int *rec)
{
    unsigned long best = 0, got;
    int b = -1;

    for (size_t i = 0; c && t && i < t->n; i++) {
        if (t->rec[i].model != model)
            continue;
        got = continues(&t->rec[i], c);
        if (got > best || (got && got == best && t->rec[i].live && !t->rec[b].live)) {
            best = got;
            b = (int)i;
        }
    }
    if (c && ctx_tokens && route_conv_tokens(c) > ctx_tokens) {
        best = 0;
        b = -1;
    }
    if (rec)
        *rec = b;
    return best;
}

/* The least recently used live record of model, or -1; *live counts them. */
static int lru_live(const struct route_conv_table *t, unsigned long model, unsigned *live)
{
    int b = -1;

    *live = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->rec[i].model != model || !t->rec[i].live)
            continue;
        (*live)++;
        if (b < 0 || t->rec[i].used < t->rec[b].used)
            b = (int)i;
    }
    return b;
}

int route_conv_victim(const struct route_conv_table *t, unsigned long model,
                      const struct route_conv *c, unsigned slots, unsigned long ctx_tokens)
{
    unsigned live;
    int v, m = -1;

    if (!t)
        return -1;
    if (c && route_conv_cached(t, model, c, ctx_tokens, &m) && t->rec[m].live)
        return -1; /* it takes its own slot over */
    v = lru_live(t, model, &live);
    return live >= (slots ? slots : 1) ? v : -1;
}

void route_conv_count(struct route_conv_stats *s, const struct route_conv *c)
{
    if (!c || !c->n)
        return;
    for (int k = 0; k < 3; k++)
        s->c[k] -= s->c[k] / 256;
    s->c[c->n <= 2 ? 0 : c->n <= 4 ? 1 : 2] += 1;
}

double route_conv_chance(const struct route_conv_stats *s, const struct route_conv_rec *r,
                         double prior)
{
    double p = r->n <= 2 ? (s->c[1] + 2 * prior) / (s->c[0] + 2)
                         : (s->c[2] + 2 * prior) / (s->c[1] + s->c[2] + 2);

    return p < 0 ? 0 : p > 1 ? 1 : p;
}

double route_conv_worth(const struct route_conv_rec *r, double tps, double p, double conv_keep_s,
                        double now)
{
    double idle = now - r->used;

    if (!r->live || !r->tokens || tps <= 0 || conv_keep_s <= 0 || idle >= conv_keep_s)
        return 0;
    p *= 1 - (idle > 0 ? idle : 0) / conv_keep_s;
    return p * (double)r->tokens / tps * 1000;
}

static void drop(struct route_conv_table *t, size_t i)
{
    t->rec[i] = t->rec[--t->n];
}

/* A free record: a new one, else the least recently used parked one, else live one. */
static struct route_conv_rec *new_rec(struct route_conv_table *t)
{
    int b = -1;

    if (t->n < ROUTE_CONV_PER_NODE)
        return &t->rec[t->n++];
    for (size_t i = 0; i < t->n; i++)
        if (b < 0 || t->rec[i].live < t->rec[b].live ||
            (t->rec[i].live == t->rec[b].live && t->rec[i].used < t->rec[b].used))
            b = (int)i;
    return &t->rec[b];
}

void route_conv_note_sent(struct route_conv_table *t, unsigned long model,
                          const struct route_conv *c, unsigned long answer_tokens,
                          unsigned slots, bool host_cache, double now)
{
    struct route_conv_rec *r;
    int m = -1, v;
    unsigned live;

    if (c && c->n)
        route_conv_cached(t, model, c, 0, &m);
    if ((m < 0 || !t->rec[m].live) && (v = lru_live(t, model, &live)) >= 0 &&
        live >= (slots ? slots : 1)) {
        if (host_cache) {
            t->rec[v].live = false;
        } else {
            drop(t, (size_t)v);
            if (m == (int)t->n) /* the last record moved into v's place */
                m = v;
        }
    }
    r = m >= 0 ? &t->rec[m] : new_rec(t);
    r->model = model;
    r->live = true;
    r->used = now;
    r->n = c ? c->n : 0;
    r->h = c && c->n ? route_conv_hash_at(c, c->n - 1) : 0;
    r->tokens = (c ? route_conv_tokens(c) : 0) + answer_tokens;
}

void route_conv_drop_model(struct route_conv_table *t, unsigned long model)
{
    size_t i = 0;

    while (i < t->n)
        if (t->rec[i].model == model)
            drop(t, i);
        else
            i++;
}
