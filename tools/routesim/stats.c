/* SPDX-License-Identifier: MIT */
/*
 * stats: the figures of one run and their summary over seeds. Per run, over the measured
 * requests: mean, p50, p95 and p99 of the total time (arrival to answer) and of the time to
 * the first token, the same for chat turns 2 onwards and the share of them that found most
 * of their prompt in the node's cache (fewer than half its tokens evaluated), cold loads,
 * sends to a node hot, full
 * or dead by the sensor's truth and by the router's records, lost requests. A lost request
 * is +inf in the percentiles (never answered) and left out of the means. Percentiles by
 * nearest rank. Over seeds: the mean and its 95 % confidence interval, mean +- t(0.975, n-1)
 * x sd / sqrt(n) (Student's t: the runs of a cell are independent seeds); a ratio of ours to
 * a peer is paired per seed (the same trace), and its interval is that of the per-seed
 * ratios.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const fig_names[F_N] = {
    "mean", "p50", "p95", "p99", "ttft_mean", "ttft_p50", "ttft_p95", "ttft_p99",
    "chat_ttft_mean", "chat_ttft_p50", "chat_ttft_p95", "chat_ttft_p99", "chat_hit_rate",
    "cold_loads", "hot_full_stale_sends", "hot_full_stale_sends_by_health", "lost", "n",
    "floor_mean", "floor_p95",
};

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void pct(double *v, size_t n, double sum, size_t nsum, double *out)
{
    static const double q[3] = {0.50, 0.95, 0.99};

    out[0] = nsum ? sum / (double)nsum : NAN;
    if (!n) {
        out[1] = out[2] = out[3] = NAN;
        return;
    }
    qsort(v, n, sizeof(*v), cmpd);
    for (int k = 0; k < 3; k++) {
        size_t r = (size_t)ceil(q[k] * (double)n);
        out[1 + k] = v[(r ? r : 1) - 1];
    }
}

int run_figures(const struct trace *t, const struct runout *o, double fig[F_N])
{
    double *tot = malloc(t->n * sizeof(double)), *ttf = malloc(t->n * sizeof(double));
    double *cht = malloc(t->n * sizeof(double)), s1 = 0, s2 = 0, s3 = 0, s4 = 0, x, fl[4];
    size_t n1 = 0, n2 = 0, n3 = 0, n4 = 0, m1 = 0, m2 = 0, m3 = 0;

    if (!tot || !ttf || !cht) {
        free(tot);
        free(ttf);
        free(cht);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct rres *r = &o->r[i];
        bool ok = !r->lost && r->done >= 0, chat = t->r[i].kind == RK_TURN && t->r[i].turn >= 2;
        if (!t->r[i].measured)
            continue;
        x = ok ? r->done - r->arrive : INFINITY;
        tot[n1++] = x;
        if (ok) {
            s1 += x;
            m1++;
        }
        x = ok && r->first >= 0 ? r->first - r->arrive : INFINITY;
        ttf[n2++] = x;
        if (isfinite(x)) {
            s2 += x;
            m2++;
        }
        if (chat) {
            cht[n3++] = x;
            if (isfinite(x)) {
                s3 += x;
                m3++;
            }
        }
    }
    pct(tot, n1, s1, m1, &fig[F_MEAN]);
    for (size_t i = 0; i < t->n; i++) /* tot is free again */
        if (t->r[i].measured) {
            tot[n4] = req_floor(t, i);
            s4 += tot[n4++];
        }
    pct(tot, n4, s4, n4, fl);
    fig[F_FMEAN] = fl[0];
    fig[F_F95] = fl[2];
    pct(ttf, n2, s2, m2, &fig[F_TMEAN]);
    pct(cht, n3, s3, m3, &fig[F_CMEAN]);
    fig[F_HIT] = o->hits + o->misses ? (double)o->hits / (double)(o->hits + o->misses) : NAN;
    fig[F_COLD] = (double)o->cold_loads;
    fig[F_HOT] = (double)o->hot_sends;
    fig[F_HOTH] = (double)o->hot_sends_health;
    fig[F_LOST] = (double)o->lost;
    fig[F_NREQ] = (double)n1;
    free(tot);
    free(ttf);
    free(cht);
    return 0;
}

/* Student's t at 0.975 for df degrees of freedom. */
static double t975(size_t df)
{
    static const double tab[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                 2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                 2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                 2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};

    if (df < sizeof(tab) / sizeof(tab[0]))
        return df ? tab[df] : NAN;
    return 1.96 + 2.4 / (double)df;
}

void summarize(const double *v, size_t n, struct summ *s)
{
    double sum = 0, ss = 0;
    size_t k = 0;

    s->inf = false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            s->inf = s->inf || isinf(v[i]);
            continue;
        }
        sum += v[i];
        k++;
    }
    s->n = k;
    s->mean = k ? sum / (double)k : NAN;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            ss += (v[i] - s->mean) * (v[i] - s->mean);
    s->half = k > 1 ? t975(k - 1) * sqrt(ss / (double)(k - 1)) / sqrt((double)k) : 0;
    if (s->inf)
        s->mean = INFINITY;
}
