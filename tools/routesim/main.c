/* SPDX-License-Identifier: MIT */
/*
 * routesim: run every scenario on every cluster size for every seed and peer, print the table
 * of figures, write it to a file, and print BENCH lines for tools/bench/run.sh.
 *
 *   routesim [--seeds N] [--requests N] [--scenarios a,b] [--sizes 3,10,100]
 *            [--peers a,b] [--out FILE] [--bench] [--seed0 N] [--quiet] [--set NAME=V]...
 *            [--dump FILE] [--jobs N]
 *
 * --set changes one of ours' settings (the others keep the router's defaults), to measure
 * a choice: evict_reloads, heat_band, heat_horizon_s, conv_p, conv_keep_s, prefill_tps,
 * temp_margin, order_exp (numbers), order_arrival (0 or 1). --dump writes one line per run: scenario, size, seed,
 * peer, a hash of every request's times (their bits) and the counts, so that two builds can
 * be shown to decide the same (diff the files).
 *
 * --jobs N runs the seeds in N processes (seed k in process k mod N); every run depends only
 * on its trace, peer and seed, so the figures, the table and the BENCH lines are the same as
 * with one process (tools/bench/bench_routesim.sh runs 2 on a 2-core machine). --dump needs
 * --jobs 1 (its lines are in run order).
 *
 * Defaults: 20 seeds, 2000 measured requests a run (after a warm-up of a tenth more), every
 * scenario, sizes 3, 10 and 100, every peer, --out build/routesim/results.md. Exit 0, or 1 on
 * a failed run, 100 on a usage error.
 */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The compared policies: the best of them on a figure is the "best peer". */
static const enum peer compared[] = {P_FIRST_FIT, P_LEAST_CONN, P_ROUND_ROBIN, P_RANDOM,
                                     P_NGINX};
#define NCOMP (sizeof(compared) / sizeof(compared[0]))
#define MAXSIZES 3

struct opts {
    int seeds;
    size_t nreq;
    bool scen[SC_N], peer[P_N];
    size_t sizes[MAXSIZES], nsizes;
    const char *out;
    bool bench, quiet;
    uint64_t seed0;
    const char *dump;
    int jobs;
};

static FILE *DUMP;

static struct opts O;

static int parse_set(char *v)
{
    char *eq = strchr(v, '='), *end;
    double x;

    if (!eq)
        return -1;
    *eq = '\0';
    x = strtod(eq + 1, &end);
    if (*end || end == eq + 1)
        return -1;
    return sim_set(v, x);
}
static double *FIG; /* [sc][size][peer][seed][F_N] */

static double *fig_at(int sc, size_t z, int p, int seed)
{
    return &FIG[((((size_t)sc * MAXSIZES + z) * P_N + (size_t)p) * (size_t)O.seeds +
                 (size_t)seed) *
                F_N];
}

static int usage(void)
{
    fprintf(stderr, "usage: routesim [--seeds N] [--requests N] [--scenarios a,b] "
                    "[--sizes 3,10,100] [--peers a,b] [--out FILE] [--bench] [--seed0 N] "
                    "[--quiet] [--set NAME=VALUE]... [--dump FILE] [--jobs N]\n");
    return 100;
}

static int parse_list(char *arg, const char *const *names, int n, bool *set)
{
    memset(set, 0, (size_t)n * sizeof(bool));
    for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
        int k = 0;
        while (k < n && strcmp(names[k], tok) != 0)
            k++;
        if (k == n) {
            fprintf(stderr, "routesim: unknown name '%s'\n", tok);
            return -1;
        }
        set[k] = true;
    }
    return 0;
}

static int parse(int argc, char **argv)
{
    char *end;

    O.seeds = 20;
    O.jobs = 1;
    O.nreq = 2000;
    O.out = "build/routesim/results.md";
    O.sizes[0] = 3, O.sizes[1] = 10, O.sizes[2] = 100, O.nsizes = 3;
    for (int k = 0; k < SC_N; k++)
        O.scen[k] = true;
    for (int k = 0; k < P_N; k++)
        O.peer[k] = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--bench") || !strcmp(a, "--quiet")) {
            *(a[2] == 'b' ? &O.bench : &O.quiet) = true;
            continue;
        }
        if (!v)
            return -1;
        i++;
        errno = 0;
        if (!strcmp(a, "--seeds")) {
            O.seeds = (int)strtol(v, &end, 10);
            if (*end || O.seeds < 1 || O.seeds > 1000)
                return -1;
        } else if (!strcmp(a, "--jobs")) {
            O.jobs = (int)strtol(v, &end, 10);
            if (*end || O.jobs < 1 || O.jobs > 64)
                return -1;
        } else if (!strcmp(a, "--requests")) {
            O.nreq = (size_t)strtoul(v, &end, 10);
            if (*end || O.nreq < 10 || O.nreq > 1000000)
                return -1;
        } else if (!strcmp(a, "--seed0")) {
            O.seed0 = strtoull(v, &end, 10);
            if (*end)
                return -1;
        } else if (!strcmp(a, "--scenarios")) {
            if (parse_list(v, scen_names, SC_N, O.scen) < 0)
                return -1;
        } else if (!strcmp(a, "--peers")) {
            if (parse_list(v, peer_names, P_N, O.peer) < 0)
                return -1;
            O.peer[P_OURS] = true;
        } else if (!strcmp(a, "--sizes")) {
            O.nsizes = 0;
            for (char *tok = strtok(v, ","); tok && O.nsizes < MAXSIZES; tok = strtok(NULL, ",")) {
                O.sizes[O.nsizes] = (size_t)strtoul(tok, &end, 10);
                if (*end || O.sizes[O.nsizes] < 1 || O.sizes[O.nsizes] > MAXNODES)
                    return -1;
                O.nsizes++;
            }
        } else if (!strcmp(a, "--out")) {
            O.out = v;
        } else if (!strcmp(a, "--dump")) {
            O.dump = v;
        } else if (!strcmp(a, "--set")) {
            if (parse_set(v) < 0)
                return -1;
        } else {
            return -1;
        }
    }
    if (O.dump && O.jobs > 1)
        return -1;
    return 0;
}

/* FNV-1a over the bits of every request's times and its lost flag. */
static uint64_t times_hash(const struct runout *o)
{
    uint64_t h = 14695981039346656037ULL, b[3];
    const unsigned char *p;

    for (size_t i = 0; i < o->n; i++) {
        memcpy(&b[0], &o->r[i].arrive, 8);
        memcpy(&b[1], &o->r[i].first, 8);
        memcpy(&b[2], &o->r[i].done, 8);
        b[2] ^= o->r[i].lost;
        p = (const unsigned char *)b;
        for (size_t k = 0; k < sizeof(b); k++)
            h = (h ^ p[k]) * 1099511628211ULL;
    }
    return h;
}

static void dump_run(int sc, size_t size, uint64_t seed, int p, const struct runout *o)
{
    if (!DUMP)
        return;
    fprintf(DUMP, "%s %zu %llu %s %016llx cold=%lu hot=%lu hoth=%lu lost=%lu hits=%lu "
                  "misses=%lu answers=%lu\n",
            scen_names[sc], size, (unsigned long long)seed, peer_names[p],
            (unsigned long long)times_hash(o), o->cold_loads, o->hot_sends, o->hot_sends_health,
            o->lost, o->hits, o->misses, o->answers);
}

/* One run's figures as a job hands them to the parent: where they go in FIG, then F_N
 * doubles. */
struct figrec {
    int sc, z, p, seed;
    double v[F_N];
};

/* Every run of the seeds s with s mod jobs == job, figures into FIG; with out, each run's
 * figures also as a struct figrec. */
static int run_seeds(int job, int jobs, FILE *out)
{
    struct trace t;
    struct runout o;
    clock_t c0 = clock();

    for (int sc = 0; sc < SC_N; sc++) {
        if (!O.scen[sc])
            continue;
        for (size_t z = 0; z < O.nsizes; z++) {
            for (int seed = job; seed < O.seeds; seed += jobs) {
                uint64_t sd = O.seed0 + (uint64_t)seed + 1;
                if (trace_build(&t, (enum scen)sc, O.sizes[z], O.nreq, sd) < 0)
                    return -1;
                for (int p = 0; p < P_N; p++) {
                    struct figrec rec;
                    if (!O.peer[p])
                        continue;
                    if (run_sim(&t, (enum peer)p, sd, &o) < 0 ||
                        run_figures(&t, &o, fig_at(sc, z, p, seed)) < 0) {
                        runout_free(&o);
                        trace_free(&t);
                        return -1;
                    }
                    dump_run(sc, O.sizes[z], sd, p, &o);
                    runout_free(&o);
                    if (!out)
                        continue;
                    memset(&rec, 0, sizeof(rec));
                    rec.sc = sc, rec.z = (int)z, rec.p = p, rec.seed = seed;
                    memcpy(rec.v, fig_at(sc, z, p, seed), sizeof(rec.v));
                    if (fwrite(&rec, sizeof(rec), 1, out) != 1) {
                        trace_free(&t);
                        return -1;
                    }
                }
                trace_free(&t);
            }
            if (!O.quiet && job == 0)
                fprintf(stderr, "routesim: %s on %zu nodes done (%.1f s CPU so far%s)\n",
                        scen_names[sc], O.sizes[z], (double)(clock() - c0) / CLOCKS_PER_SEC,
                        jobs > 1 ? ", job 1" : "");
        }
    }
    return 0;
}

/* Every run: in this process, or in O.jobs children that each write their figures to a
 * temporary file the parent reads back into FIG once all have exited 0. */
static int run_all(void)
{
    FILE *tmp[64];
    pid_t pid[64];
    int bad = 0, n = O.jobs;

    if (n == 1)
        return run_seeds(0, 1, NULL);
    for (int j = 0; j < n; j++) {
        if (!(tmp[j] = tmpfile())) {
            while (j > 0)
                fclose(tmp[--j]);
            return -1;
        }
    }
    fflush(NULL);
    for (int j = 0; j < n; j++) {
        pid[j] = fork();
        if (pid[j] < 0) {
            n = j;
            bad = 1;
            break;
        }
        if (pid[j] == 0)
            _exit(run_seeds(j, O.jobs, tmp[j]) < 0 || fflush(tmp[j]) != 0 ? 1 : 0);
    }
    for (int j = 0; j < n; j++) {
        int st = 0;
        pid_t got;
        while ((got = waitpid(pid[j], &st, 0)) < 0 && errno == EINTR)
            ;
        if (got < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad = 1;
    }
    for (int j = 0; j < O.jobs; j++) {
        struct figrec rec;
        rewind(tmp[j]);
        while (!bad && fread(&rec, sizeof(rec), 1, tmp[j]) == 1) {
            if (rec.sc < 0 || rec.sc >= SC_N || rec.z < 0 || (size_t)rec.z >= O.nsizes ||
                rec.p < 0 || rec.p >= P_N || rec.seed < 0 || rec.seed >= O.seeds) {
                bad = 1;
                break;
            }
            memcpy(fig_at(rec.sc, (size_t)rec.z, rec.p, rec.seed), rec.v, sizeof(rec.v));
        }
        fclose(tmp[j]);
    }
    if (bad)
        errno = EIO;
    return bad ? -1 : 0;
}

static void summ_of(int sc, size_t z, int p, enum fig f, struct summ *s)
{
    double v[1000];

    for (int k = 0; k < O.seeds; k++)
        v[k] = fig_at(sc, z, p, k)[f];
    summarize(v, (size_t)O.seeds, s);
}

/* The compared policy with the lowest mean of f (not one that lost requests: +inf). */
static int best_peer(int sc, size_t z, enum fig f)
{
    struct summ s;
    double bv = 0;
    int b = -1;

    for (size_t i = 0; i < NCOMP; i++) {
        if (!O.peer[compared[i]])
            continue;
        summ_of(sc, z, compared[i], f, &s);
        if (isnan(s.mean))
            continue;
        if (b < 0 || s.mean < bv) {
            b = compared[i];
            bv = s.mean;
        }
    }
    return b;
}

/* Ours over peer p on f: the ratio of the means, and the 95 % interval of the per-seed
 * ratios (paired: the same trace). */
struct ratio {
    double r, lo, hi, ours, peer;
};

static void ratio_of(int sc, size_t z, int p, enum fig f, struct ratio *out)
{
    double v[1000];
    struct summ a, b, s;

    summ_of(sc, z, P_OURS, f, &a);
    summ_of(sc, z, p, f, &b);
    for (int k = 0; k < O.seeds; k++) {
        double x = fig_at(sc, z, P_OURS, k)[f], y = fig_at(sc, z, p, k)[f];
        v[k] = y > 0 ? x / y : (x > 0 ? INFINITY : 1);
    }
    summarize(v, (size_t)O.seeds, &s);
    out->ours = a.mean;
    out->peer = b.mean;
    out->r = b.mean > 0 ? a.mean / b.mean : (a.mean > 0 ? INFINITY : 1);
    out->lo = s.mean - s.half;
    out->hi = s.mean + s.half;
}

static void cell(FILE *f, const struct summ *s, int prec)
{
    if (s->inf)
        fprintf(f, " inf |");
    else if (isnan(s->mean))
        fprintf(f, " - |");
    else
        fprintf(f, " %.*f ± %.*f |", prec, s->mean, prec, s->half);
}

static void table(FILE *f, int sc, size_t z)
{
    static const enum fig cols[] = {F_MEAN,  F_P50, F_P95, F_P99, F_TMEAN, F_T95, F_CMEAN,
                                    F_C95,   F_HIT, F_COLD, F_HOTH, F_HOT,  F_LOST};
    struct summ s;

    fprintf(f, "\n#### %s, %zu nodes (%d seeds x %zu requests; seconds, counts per run)\n\n",
            scen_names[sc], O.sizes[z], O.seeds, O.nreq);
    fprintf(f, "| peer | mean | p50 | p95 | p99 | TTFT mean | TTFT p95 | chat TTFT 2+ mean |"
               " chat TTFT 2+ p95 | chat hits 2+ | cold loads | hot/full/stale sends (records) |"
               " (sensor) | lost |\n");
    fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < P_N; p++) {
        if (!O.peer[p])
            continue;
        fprintf(f, "| %s |", peer_names[p]);
        for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
            summ_of(sc, z, p, cols[c], &s);
            cell(f, &s, cols[c] == F_HIT ? 2 : 1);
        }
        fprintf(f, "\n");
    }
}

struct goal {
    const char *key;
    enum fig f;
    int vs; /* -1 best peer, else a peer */
    const char *unit;
};

static const struct goal goals[] = {
    {"p95_vs_best_peer", F_P95, -1, "s"},
    {"mean_vs_best_peer", F_MEAN, -1, "s"},
    {"p95_vs_clairvoyant", F_P95, P_CLAIRVOYANT, "s"},
    {"cold_loads_vs_nginx", F_COLD, P_NGINX, "count"},
};

static void bench_line(FILE *f, const char *name, const struct ratio *r, const char *unit,
                       const char *peer, size_t size)
{
    fprintf(f, "BENCH routesim_%s value=%.4g unit=%s peer=%s@%zun peer_value=%.4g better=lower "
               "ci=%.3f:%.3f\n",
            name, r->ours, unit, peer, size, r->peer, r->lo, r->hi);
}

/* The floor (no policy can go below it: no wait, load or cache miss) over the best peer on
 * the figure f of a best-peer goal (mean or p95), at every size; the bench key at size wz
 * (where ours does worst). */
static void floor_row(FILE *md, FILE *bench, int sc, size_t wz, enum fig f, const char *key)
{
    struct summ fl, b;
    char name[96];
    int p;

    for (size_t z = 0; z < O.nsizes; z++) {
        if ((p = best_peer(sc, z, f)) < 0)
            continue;
        summ_of(sc, z, P_OURS, f == F_P95 ? F_F95 : F_FMEAN, &fl);
        summ_of(sc, z, p, f, &b);
        fprintf(md, "| %s | floor_%s | %zu | %s | %.3g | %.3g | **%.3f** | — |\n",
                scen_names[sc], key, O.sizes[z], peer_names[p], fl.mean, b.mean,
                b.mean > 0 ? fl.mean / b.mean : NAN);
        if (bench && z == wz) {
            snprintf(name, sizeof(name), "%s_floor_%s", scen_names[sc], key);
            fprintf(bench, "BENCH routesim_%s value=%.4g unit=s peer=%s@%zun peer_value=%.4g "
                           "better=lower\n",
                    name, fl.mean, peer_names[p], O.sizes[z], b.mean);
        }
    }
}

/* Per scenario and goal: the size where ours does worst against the peer. */
static void goal_rows(FILE *md, FILE *bench, int sc)
{
    char name[96];
    struct ratio r, w = {0, 0, 0, 0, 0};
    int wp = -1;
    size_t wz = 0;

    for (size_t g = 0; g < sizeof(goals) / sizeof(goals[0]); g++) {
        wp = -1;
        for (size_t z = 0; z < O.nsizes; z++) {
            int p = goals[g].vs >= 0 ? goals[g].vs : best_peer(sc, z, goals[g].f);
            if (p < 0 || !O.peer[p])
                continue;
            ratio_of(sc, z, p, goals[g].f, &r);
            fprintf(md, "| %s | %s | %zu | %s | %.3g | %.3g | **%.3f** | %.3f–%.3f |\n",
                    scen_names[sc], goals[g].key, O.sizes[z], peer_names[p], r.ours, r.peer,
                    r.r, r.lo, r.hi);
            if (wp < 0 || r.r > w.r) {
                w = r;
                wp = p;
                wz = z;
            }
        }
        if (wp >= 0 && bench) {
            snprintf(name, sizeof(name), "%s_%s", scen_names[sc], goals[g].key);
            bench_line(bench, name, &w, goals[g].unit, peer_names[wp], O.sizes[wz]);
        }
        if (wp >= 0 && goals[g].vs < 0)
            floor_row(md, bench, sc, wz, goals[g].f, goals[g].key);
    }
}

static void chat_rows(FILE *md, FILE *bench, int sc)
{
    struct ratio r, w = {0, 0, 0, 0, 0};
    int p, wp = -1;
    size_t wz = 0;

    for (size_t z = 0; z < O.nsizes; z++) {
        if ((p = best_peer(sc, z, F_CMEAN)) < 0)
            continue;
        ratio_of(sc, z, p, F_CMEAN, &r);
        fprintf(md, "| %s | chat_ttft_vs_best_peer (turns 2+, mean) | %zu | %s | %.3g | %.3g |"
                    " **%.3f** | %.3f–%.3f |\n",
                scen_names[sc], O.sizes[z], peer_names[p], r.ours, r.peer, r.r, r.lo, r.hi);
        if (wp < 0 || r.r > w.r) {
            w = r;
            wp = p;
            wz = z;
        }
    }
    if (wp >= 0 && bench && sc == SC_CHAT)
        bench_line(bench, "chat_ttft_vs_best_peer", &w, "s", peer_names[wp], O.sizes[wz]);
}

/* Counts that must be 0 for ours: the largest over sizes (mean per run), nginx beside it. */
static void count_rows(FILE *md, FILE *bench, int sc, enum fig f, const char *key)
{
    struct summ a, b;
    double worst = -1, peer = 0;
    size_t wz = 0;

    for (size_t z = 0; z < O.nsizes; z++) {
        summ_of(sc, z, P_OURS, f, &a);
        summ_of(sc, z, P_NGINX, f, &b);
        fprintf(md, "| %s | %s | %zu | nginx | %.3g | %.3g | — | — |\n", scen_names[sc], key,
                O.sizes[z], a.mean, O.peer[P_NGINX] ? b.mean : NAN);
        if (a.mean > worst) {
            worst = a.mean;
            peer = b.mean;
            wz = z;
        }
    }
    if (bench && worst >= 0)
        fprintf(bench, "BENCH routesim_%s_%s value=%.4g unit=count peer=nginx@%zun "
                       "peer_value=%.4g better=lower\n",
                scen_names[sc], key, worst, O.sizes[wz], O.peer[P_NGINX] ? peer : 0);
}

static void report(void)
{
    FILE *md = fopen(O.out, "w");

    if (!md) {
        fprintf(stderr, "routesim: %s: %s\n", O.out, strerror(errno));
        md = stdout;
    }
    fprintf(md, "## routesim results\n\nPer cell: mean over the seeds ± the half width of its "
                "95 %% confidence interval (Student's t).\n");
    for (int sc = 0; sc < SC_N; sc++)
        for (size_t z = 0; sc < SC_N && O.scen[sc] && z < O.nsizes; z++)
            table(md, sc, z);
    fprintf(md, "\n### Goals (ratio of the means; interval of the per-seed paired ratios)\n\n"
                "| scenario | figure | nodes | peer | ours | peer | ratio | 95 %% CI |\n"
                "|---|---|---|---|---|---|---|---|\n");
    for (int sc = 0; sc < SC_N; sc++) {
        if (!O.scen[sc])
            continue;
        goal_rows(md, O.bench ? stdout : NULL, sc);
        if (sc == SC_CHAT || sc == SC_DAY)
            chat_rows(md, O.bench ? stdout : NULL, sc);
        count_rows(md, O.bench ? stdout : NULL, sc, F_HOTH, "hot_full_stale_sends");
        count_rows(md, O.bench ? stdout : NULL, sc, F_HOT, "hot_full_stale_sends_by_sensor");
        count_rows(md, O.bench ? stdout : NULL, sc, F_LOST, "lost");
    }
    if (md != stdout)
        fclose(md);
    if (!O.quiet)
        fprintf(stderr, "routesim: written %s\n", O.out);
}

int main(int argc, char **argv)
{
    if (parse(argc, argv) < 0)
        return usage();
    FIG = calloc((size_t)SC_N * MAXSIZES * P_N * (size_t)O.seeds * F_N, sizeof(double));
    if (!FIG) {
        fprintf(stderr, "routesim: out of memory\n");
        return 111;
    }
    if (O.dump && !(DUMP = fopen(O.dump, "w"))) {
        fprintf(stderr, "routesim: %s: %s\n", O.dump, strerror(errno));
        return 111;
    }
    if (run_all() < 0) {
        fprintf(stderr, "routesim: a run failed: %s\n", strerror(errno));
        return 1;
    }
    report();
    if (DUMP)
        fclose(DUMP);
    free(FIG);
    return 0;
}
