/* SPDX-License-Identifier: MIT */
/*
 * latwin: the figures of a recent window of durations (ms): how many, their mean, p50 and
 * p95. Pure: no I/O, no clock, no allocation; a window is a fixed ring the caller embeds.
 *
 * The window is the last LATWIN_N samples added (older ones fall out as new ones come).
 * Percentiles are by nearest rank over the samples in the window: pP is the smallest sample
 * s such that at least P% of the samples are <= s, i.e. the ceil(P * n / 100)-th smallest
 * (1-based). So with samples 1..20, p50 is 10 and p95 is 19; with one sample, every figure is
 * that sample. An empty window has no figures (latwin_sum returns false).
 * Negative samples and NaN are not added (latwin_add returns false): a duration is >= 0.
 */
#ifndef ORION_LATWIN_H
#define ORION_LATWIN_H

#include <stdbool.h>
#include <stddef.h>

#define LATWIN_N 64 /* samples in a window */

struct latwin {
    float ms[LATWIN_N]; /* a ring: the newest at next - 1 */
    unsigned short n, next;
};

struct latwin_sum {
    size_t n;            /* samples in the window (<= LATWIN_N) */
    double mean, p50, p95;
};

void latwin_init(struct latwin *w);
/* Add a sample (ms): true, or false when ms < 0 or NaN (nothing added). */
bool latwin_add(struct latwin *w, double ms);
/* The window's figures: true, or false when it is empty (s zeroed). */
bool latwin_sum(const struct latwin *w, struct latwin_sum *s);
/* The nearest-rank pct-th percentile (1..100) of the n values sorted ascending: the
 * ceil(pct * n / 100)-th smallest, in integers (no rounding at the edges); 0 when n is 0. */
double latwin_rank(const float *sorted, size_t n, unsigned pct);

#endif
