/* SPDX-License-Identifier: MIT */
/* stats: per-run figures and their summary over seeds (stats.c). */
#ifndef ROUTESIM_STATS_H
#define ROUTESIM_STATS_H

#include "sim.h"

enum fig {
    F_MEAN, F_P50, F_P95, F_P99,
    F_TMEAN, F_T50, F_T95, F_T99,
    F_CMEAN, F_C50, F_C95, F_C99, F_HIT,
    F_COLD, F_HOT, F_HOTH, F_LOST, F_NREQ,
    F_FMEAN, F_F95, /* the trace's floor (req_floor): the same for every peer */
    F_N
};
extern const char *const fig_names[F_N];

struct summ {
    double mean, half; /* mean over the seeds and the half width of its 95 % interval */
    size_t n;          /* finite values */
    bool inf;          /* a value was +inf (the mean is then +inf) */
};

/* The figures of one run (seconds, counts). 0, or -1 (ENOMEM). */
int run_figures(const struct trace *t, const struct runout *o, double fig[F_N]);
/* Mean and 95 % interval of v[0..n); NaN values are left out, +inf makes the mean +inf. */
void summarize(const double *v, size_t n, struct summ *s);

#endif
