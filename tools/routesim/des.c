/* SPDX-License-Identifier: MIT */
/*
 * des: the event queue (a binary heap ordered by time, then by the order of insertion, so
 * that equal times are served in a fixed order and a run is a function of its seed; keyed
 * events replaced in place, so the heap holds no dead ones; the arrivals known in advance in
 * a sorted list beside it) and the random numbers (splitmix64, and the distributions the
 * workloads draw from).
 */
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rng_seed(struct rng *r, uint64_t seed) { r->s = seed ^ 0x5851f42d4c957f2dULL; }

uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double rng_unit(struct rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0; }

double rng_exp(struct rng *r, double mean) { return -mean * log(rng_unit(r)); }

double rng_lognormal(struct rng *r, double median, double sigma)
{
    double u1 = rng_unit(r), u2 = rng_unit(r);
    double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);

    return median * exp(sigma * z);
}

int rng_range(struct rng *r, int lo, int hi)
{
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

void evq_init(struct evq *q) { memset(q, 0, sizeof(*q)); }

void evq_free(struct evq *q)
{
    free(q->h);
    free(q->pos);
    free(q->pre);
    evq_init(q);
}

int evq_keys(struct evq *q, size_t n)
{
    int *pos = malloc((n ? n : 1) * sizeof(int));

    if (!pos)
        return -1;
    for (size_t i = 0; i < n; i++)
        pos[i] = -1;
    free(q->pos);
    q->pos = pos;
    q->nkeys = n;
    return 0;
}

static bool before(const struct event *a, const struct event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void place(struct evq *q, size_t i, const struct event *e)
{
    q->h[i] = *e;
    if (e->key >= 0)
        q->pos[e->key] = (int)i;
}

static void sift_up(struct evq *q, size_t i)
{
    struct event e = q->h[i];

    while (i && before(&e, &q->h[(i - 1) / 2])) {
        place(q, i, &q->h[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(q, i, &e);
}

static void sift_down(struct evq *q, size_t i)
{
    struct event e = q->h[i];
    size_t l, m;

    for (;;) {
        l = 2 * i + 1;
        if (l >= q->n)
            break;
        m = l + 1 < q->n && before(&q->h[l + 1], &q->h[l]) ? l + 1 : l;
        if (!before(&q->h[m], &e))
            break;
        place(q, i, &q->h[m]);
        i = m;
    }
    place(q, i, &e);
}

static void grow(struct event **h, size_t *cap, size_t n)
{
    if (n == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        struct event *p = realloc(*h, c * sizeof(*p));
        if (!p)
            abort(); /* a tool: out of memory ends the run */
        *h = p;
        *cap = c;
    }
}

static void add(struct evq *q, const struct event *e)
{
    grow(&q->h, &q->cap, q->n);
    q->n++;
    place(q, q->n - 1, e);
    sift_up(q, q->n - 1);
}

void evq_push(struct evq *q, double t, enum ev_type type, int a, uint64_t b)
{
    struct event e = {t, q->seq++, type, a, b, -1};

    add(q, &e);
}

void evq_set(struct evq *q, int key, double t, enum ev_type type, int a, uint64_t b)
{
    struct event e = {t, q->seq++, type, a, b, key};
    int i = q->pos[key];

    if (i < 0) {
        add(q, &e);
        return;
    }
    /* the new event is later in seq than the old: it goes down unless its time is earlier */
    place(q, (size_t)i, &e);
    sift_up(q, (size_t)i);
    sift_down(q, (size_t)q->pos[key]);
}

void evq_pre(struct evq *q, double t, enum ev_type type, int a, uint64_t b)
{
    struct event e = {t, q->seq++, type, a, b, -1};

    grow(&q->pre, &q->precap, q->npre);
    q->pre[q->npre++] = e;
}

static int cmp_ev(const void *x, const void *y)
{
    return before(x, y) ? -1 : before(y, x);
}

void evq_pre_done(struct evq *q)
{
    if (q->npre)
        qsort(q->pre, q->npre, sizeof(*q->pre), cmp_ev);
    q->prehead = 0;
}

bool evq_pop(struct evq *q, struct event *e)
{
    bool pre = q->prehead < q->npre;

    if (!q->n && !pre)
        return false;
    if (pre && (!q->n || before(&q->pre[q->prehead], &q->h[0]))) {
        *e = q->pre[q->prehead++];
        return true;
    }
    *e = q->h[0];
    if (e->key >= 0)
        q->pos[e->key] = -1;
    if (--q->n) {
        place(q, 0, &q->h[q->n]);
        sift_down(q, 0);
    }
    return true;
}
