/* SPDX-License-Identifier: MIT */
/* The figures of a recent window of durations: mean, p50, p95 by nearest rank (latwin.h). */
#include "orion/latwin.h"

#include <string.h>

void latwin_init(struct latwin *w)
{
    memset(w, 0, sizeof(*w));
}

bool latwin_add(struct latwin *w, double ms)
{
    if (!(ms >= 0)) /* also NaN */
        return false;
    w->ms[w->next] = (float)ms;
    w->next = (unsigned short)((w->next + 1) % LATWIN_N);
    if (w->n < LATWIN_N)
        w->n++;
    return true;
}

double latwin_rank(const float *sorted, size_t n, unsigned pct)
{
    size_t k = ((size_t)pct * n + 99) / 100;

    if (!n)
        return 0;
    if (k < 1)
        k = 1;
    return sorted[(k > n ? n : k) - 1];
}

/* Insertion sort: the window is small (LATWIN_N) and read about once a second. */
static void sort(float *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        float x = v[i];
        size_t j = i;

        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

bool latwin_sum(const struct latwin *w, struct latwin_sum *s)
{
    float v[LATWIN_N];
    double sum = 0;

    memset(s, 0, sizeof(*s));
    if (!w->n)
        return false;
    memcpy(v, w->ms, sizeof(v[0]) * w->n); /* while not full, the samples are ms[0..n) */
    for (size_t i = 0; i < w->n; i++)
        sum += v[i];
    sort(v, w->n);
    s->n = w->n;
    s->mean = sum / (double)w->n;
    s->p50 = latwin_rank(v, w->n, 50);
    s->p95 = latwin_rank(v, w->n, 95);
    return true;
}
