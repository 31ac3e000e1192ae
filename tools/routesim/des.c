/* SPDX-License-Identifier: MIT */
/*
 * des: the event queue (a binary heap ordered by time, then by the order of insertion, so
 * that equal times are served in a fixed order and a run is a function of its seed) and the
 * random numbers (splitmix64, and the distributions the workloads draw from).
 */
#include "sim.h"

#include <math.h>
#include <stdlib.h>

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

void evq_init(struct evq *q)
{
    q->h = NULL;
    q->n = q->cap = 0;
    q->seq = 0;
}

void evq_free(struct evq *q)
{
    free(q->h);
    evq_init(q);
}

static bool before(const struct event *a, const struct event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

void evq_push(struct evq *q, double t, enum ev_type type, int a, uint64_t b)
{
    struct event e = {t, q->seq++, type, a, b}, tmp;
    size_t i;

    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 1024;
        struct event *h = realloc(q->h, cap * sizeof(*h));
        if (!h)
            abort(); /* a tool: out of memory ends the run */
        q->h = h;
        q->cap = cap;
    }
    i = q->n++;
    q->h[i] = e;
    while (i && before(&q->h[i], &q->h[(i - 1) / 2])) {
        tmp = q->h[i];
        q->h[i] = q->h[(i - 1) / 2];
        q->h[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
}

bool evq_pop(struct evq *q, struct event *e)
{
    size_t i = 0, l, m;
    struct event tmp;

    if (!q->n)
        return false;
    *e = q->h[0];
    q->h[0] = q->h[--q->n];
    for (;;) {
        l = 2 * i + 1;
        m = i;
        if (l < q->n && before(&q->h[l], &q->h[m]))
            m = l;
        if (l + 1 < q->n && before(&q->h[l + 1], &q->h[m]))
            m = l + 1;
        if (m == i)
            break;
        tmp = q->h[i];
        q->h[i] = q->h[m];
        q->h[m] = tmp;
        i = m;
    }
    return true;
}
