/* SPDX-License-Identifier: MIT */
/*
 * work: the model catalogue, the clusters and the workloads of each scenario. A trace fixes
 * everything a peer cannot change: open-loop arrivals, every prompt and answer length, chat
 * scripts (a user's next turn comes a think time after the previous answer, so its time
 * depends on the peer: the script, not the clock, is shared), node hardware and events.
 * docs/BENCHMARKS.md ("routesim") gives the sources of the figures.
 */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pi 5, Ollama: generation from ollama-protocol.md §8 (Stratosphere's and dambergn's
 * measurements), prompt evaluation from conversation-affinity.md §4 (llama.cpp pp512 on a
 * Pi 5) x 0.85 (Ollama 10-20 % below llama.cpp); qwen2.5:0.5b's prefill is the sheet's
 * estimate (2 x the 1B rate) x 0.85, qwen2.5:1.5b's SmolLM2 1.7B's x 0.85. RAM at num_ctx
 * 4096 within the sheet's 1.4-2.4 GB (1B) and 3-4.7 GB (3B); file sizes of the default tags.
 * Weights: Zipf(1) over the five, as tools/cluster-sim's load generator. */
const struct model models[NMODELS] = {
    {"gemma3:1b", 815, 1400, 11.5, 51.2, 1.0 / 1},
    {"llama3.2:1b", 1321, 2400, 7.7, 62.0, 1.0 / 2},
    {"qwen2.5:0.5b", 398, 820, 20.4, 102.0, 1.0 / 3},
    {"llama3.2:3b", 2019, 3500, 4.7, 22.7, 1.0 / 4},
    {"qwen2.5:1.5b", 986, 1850, 10.0, 36.6, 1.0 / 5},
};

const char *const scen_names[SC_N] = {"steady", "sdcard", "heat", "death",
                                      "burst",  "chat",   "day"};

#define NVME_MBPS 400 /* Pi 5 PCIe Gen 2 x1 NVMe, sequential read */
#define SD_MBPS 70    /* Pi 5 microSD (SDR104), sequential read */
#define WARMUP 0.1    /* share of the open-loop arrivals before the measured ones */
#define CHAT_REQS 8.5 /* requests a chat brings: 6.5 turns on average, a title, tags */

static int pick_model(struct rng *g)
{
    double sum = 0, u;

    for (int m = 0; m < NMODELS; m++)
        sum += models[m].weight;
    u = rng_unit(g) * sum;
    for (int m = 0; m < NMODELS; m++)
        if ((u -= models[m].weight) <= 0)
            return m;
    return NMODELS - 1;
}

static unsigned draw(struct rng *g, double median, double sigma, double lo, double hi)
{
    double v = rng_lognormal(g, median, sigma);

    return (unsigned)(v < lo ? lo : v > hi ? hi : v);
}

static int prio(struct rng *g)
{
    double u = rng_unit(g);

    return u < 0.2 ? 1 : u < 0.9 ? 2 : 3;
}

/* The router's chain for the prompt's segments: a message of t tokens is 4 (t - 4) bytes
 * (route_conv's estimate then gives t back), its text standing for the segment id. */
static void conv_of(const struct prompt *p, const char *const *roles, struct route_conv *c)
{
    static char text[4 * 8192];
    unsigned prev = 0, tok;
    size_t len;

    route_conv_init(c);
    for (unsigned i = 0; i < p->n; i++) {
        tok = p->cum[i] - prev;
        prev = p->cum[i];
        len = tok > 4 ? 4 * (size_t)(tok - 4) : 8;
        if (len > sizeof(text))
            len = sizeof(text);
        memset(text, 0, len < 64 ? len : 64);
        memcpy(text, &p->seg[i], 8);
        route_conv_add(c, roles[i], text, len);
    }
}

static const char *const single_roles[] = {"user"};
static const char *const task_roles[] = {"user", "user"};

struct gen {
    struct trace *t;
    struct rng g;
    size_t cap;
    uint64_t ids;
};

static struct treq *add(struct gen *G)
{
    struct treq *r;

    if (G->t->n == G->cap) {
        size_t cap = G->cap ? 2 * G->cap : 4096;
        struct treq *p = realloc(G->t->r, cap * sizeof(*p));
        if (!p)
            return NULL;
        G->t->r = p;
        G->cap = cap;
    }
    r = &G->t->r[G->t->n++];
    memset(r, 0, sizeof(*r));
    r->after = -1;
    r->prio = 2;
    return r;
}

static int single(struct gen *G, double at)
{
    struct treq *r = add(G);

    if (!r)
        return -1;
    r->arrive = at;
    r->model = pick_model(&G->g);
    r->prio = prio(&G->g);
    r->kind = RK_SINGLE;
    r->out_tokens = draw(&G->g, 150, 0.7, 5, 1500);
    r->pr.n = 1;
    r->pr.seg[0] = ++G->ids;
    r->pr.cum[0] = draw(&G->g, 120, 0.9, 10, 3000);
    conv_of(&r->pr, single_roles, &r->conv);
    return 0;
}

/* A background task of the chat client after turn `after` (Open WebUI's title, tags,
 * follow-ups: its task template, then the last `last` messages as text). */
static int task(struct gen *G, int after, double delay, unsigned tmpl, unsigned out,
                unsigned last, const struct prompt *hist)
{
    struct treq *r = add(G), *a;
    unsigned from = hist->n > last ? hist->n - last : 0;

    if (!r)
        return -1;
    a = &G->t->r[after];
    r->after = after;
    r->delay = delay;
    r->model = a->model;
    r->kind = RK_TASK;
    r->out_tokens = draw(&G->g, out, 0.4, 5, 4 * out);
    r->pr.n = 2;
    r->pr.seg[0] = 0x7a5c000000ULL + tmpl; /* the same template for every task of a kind */
    r->pr.cum[0] = tmpl;
    r->pr.seg[1] = ++G->ids;
    r->pr.cum[1] = tmpl + prompt_tokens(hist) - (from ? hist->cum[from - 1] : 0);
    conv_of(&r->pr, task_roles, &r->conv);
    return 0;
}

/* One chat: 3-10 turns, each the whole history so far plus a new message; after the first
 * answer the client asks for a title and tags (Open WebUI's defaults; its follow-up
 * suggestions, also on by default, are left out: the brief names title and tags). */
static int chat(struct gen *G, double at)
{
    static const char *roles[SEG_MAX];
    struct prompt h;
    int model = pick_model(&G->g), turns = rng_range(&G->g, 3, 10), prev = -1;
    struct treq *r;

    for (int i = 0; i < SEG_MAX; i++)
        roles[i] = i == 0 ? "system" : i % 2 ? "user" : "assistant";
    memset(&h, 0, sizeof(h)); /* padding too: a trace compares whole */
    h.n = 1;
    h.seg[0] = 0x5e5000 + (uint64_t)rng_range(&G->g, 0, 3); /* one of 4 system prompts */
    h.cum[0] = 60 + 85 * (unsigned)(h.seg[0] & 3);
    for (int k = 1; k <= turns && h.n + 2 <= SEG_MAX; k++) {
        if (prev >= 0) { /* the previous answer, as the client sends it back */
            h.seg[h.n] = ((uint64_t)prev << 8) | 0xa5;
            h.cum[h.n] = h.cum[h.n - 1] + G->t->r[prev].out_tokens;
            h.n++;
        }
        h.seg[h.n] = ++G->ids;
        h.cum[h.n] = h.cum[h.n - 1] + draw(&G->g, 40, 0.8, 5, 500);
        h.n++;
        if (!(r = add(G)))
            return -1;
        r->model = model;
        r->kind = RK_TURN;
        r->turn = k;
        r->out_tokens = draw(&G->g, 220, 0.6, 20, 1000);
        r->pr = h;
        conv_of(&h, roles, &r->conv);
        if (prev < 0) {
            r->arrive = at;
        } else {
            r->after = prev;
            r->delay = draw(&G->g, 35, 0.8, 3, 600);
        }
        prev = (int)(G->t->n - 1);
        if (k == 1 && (task(G, prev, 0.2, 150, 15, 2, &h) < 0 ||
                       task(G, prev, 0.4, 250, 25, 6, &h) < 0))
            return -1;
    }
    return 0;
}

/* Mean run time of a single prompt / of a chat's requests on a free node, without a load:
 * the scale of the arrival rates. Chat: every prompt evaluated whole (no cache), so that the
 * peers without affinity are not pushed past saturation. */
static double mean_work(bool chats)
{
    struct trace t;
    struct gen G;
    double sum = 0;

    memset(&t, 0, sizeof(t));
    memset(&G, 0, sizeof(G));
    G.t = &t;
    rng_seed(&G.g, 12345);
    for (int i = 0; i < 400; i++)
        if ((chats ? chat(&G, 0) : single(&G, 0)) < 0)
            break;
    for (size_t i = 0; i < t.n; i++) {
        const struct model *m = &models[t.r[i].model];
        sum += prompt_tokens(&t.r[i].pr) / m->pp_tps + t.r[i].out_tokens / m->gen_tps;
    }
    sum = t.n ? sum / (double)t.n : 20;
    free(t.r);
    return sum;
}

static void nodes(struct trace *t, size_t nn, double disk, struct rng *g)
{
    t->nnodes = nn;
    for (size_t i = 0; i < nn; i++) {
        struct nodecfg *c = &t->node[i];
        memset(c, 0, sizeof(*c));
        snprintf(c->id, sizeof(c->id), "pi-%03u", (unsigned)(i % 1000u));
        c->ram_mb = i % 3 == 2 ? 16000 : 8000;
        c->disk_mbps = disk;
        c->heat_k = 25 + rng_unit(g) * 5; /* active cooler: 65-70 C flat out at 25 C */
        c->tau = 120;
    }
}

struct rate_arg {
    double base, burst_from, burst_to, burst_x, day_len;
    int scen;
};

static double rate_fn(double t, void *arg)
{
    const struct rate_arg *a = arg;
    double h;

    if (a->scen == SC_BURST)
        return t >= a->burst_from && t < a->burst_to ? a->base * a->burst_x : a->base;
    if (a->scen == SC_DAY) { /* hours of a homelab day: quiet nights, busy evenings */
        h = fmod(t / a->day_len * 24, 24);
        return a->base * (h < 7 ? 0.15 : h < 9 ? 1.0 : h < 12 ? 0.6 : h < 14 ? 1.2
                          : h < 18 ? 0.7 : h < 23 ? 1.8 : 0.4);
    }
    return a->base;
}

/* Generate until the trace holds `want` requests; chats when `chats`, else single prompts
 * (day: both, half the requests each). */
static int fill(struct gen *G, size_t want, double peak, struct rate_arg *ra, int mix)
{
    double at = 0;
    int r;

    while (G->t->n < want) {
        at += rng_exp(&G->g, 1 / peak);
        if (rng_unit(&G->g) * peak > rate_fn(at, ra))
            continue;
        if (mix == 2) /* day: half the requests in chats */
            r = rng_unit(&G->g) < 1.0 / (CHAT_REQS + 1) ? chat(G, at) : single(G, at);
        else
            r = mix ? chat(G, at) : single(G, at);
        if (r < 0)
            return -1;
    }
    G->t->end = at;
    return 0;
}

static void mark_measured(struct trace *t)
{
    size_t roots = 0, k, seen = 0;
    double tw = 0;

    for (size_t i = 0; i < t->n; i++)
        roots += t->r[i].after < 0;
    k = (size_t)(WARMUP * (double)roots);
    for (size_t i = 0; i < t->n; i++) /* generation order is open-loop arrival order */
        if (t->r[i].after < 0 && seen++ <= k)
            tw = t->r[i].arrive;
    for (size_t i = 0; i < t->n; i++)
        t->r[i].measured = t->r[i].after < 0 ? t->r[i].arrive >= tw && tw > 0
                                              : t->r[t->r[i].after].measured;
}

static void scen_nodes(struct trace *t, enum scen sc, struct rng *g)
{
    size_t nn = t->nnodes;

    for (size_t i = 0; i < nn; i++) {
        struct nodecfg *c = &t->node[i];
        if ((sc == SC_HEAT || sc == SC_DAY) && i % 3 == 0) { /* no cooler: ~95 C flat out */
            c->heat_k = 48 + rng_unit(g) * 6;
            c->tau = 60;
        }
        if ((sc == SC_HEAT || sc == SC_DAY) && nn >= 10 && i % 10 == 4)
            c->weak_psu = true;
        if (sc == SC_DAY && i % 2)
            c->disk_mbps = SD_MBPS;
        if (sc == SC_DAY && i % 5 == 1) { /* a nightly backup takes 60 % of the CPU */
            c->outside = 0.6;
            c->out_from = t->end * 2 / 24;
            c->out_to = t->end * 3.5 / 24;
        }
        if (sc == SC_DEATH && ((nn < 10 && i == 2) || (nn >= 10 && i % 10 == 7))) {
            c->die_at = t->end * (nn < 10 ? 0.3 : 0.2 + 0.4 * rng_unit(g));
            c->back_at = c->die_at + 600;
        }
    }
    if (sc == SC_HEAT) {
        t->ambient = 26;
        t->hot_from = t->end / 3;
        t->hot_to = 2 * t->end / 3;
        t->hot_add = 4;
    }
    if (sc == SC_DAY) { /* afternoon warmth */
        t->ambient = 20;
        t->hot_from = t->end * 12 / 24;
        t->hot_to = t->end * 19 / 24;
        t->hot_add = 6;
    }
}

int trace_build(struct trace *t, enum scen sc, size_t nn, size_t nreq, uint64_t seed)
{
    static double s1, sc_work;
    struct gen G;
    struct rate_arg ra;
    size_t want = (size_t)((double)nreq / (1 - WARMUP) + 0.5);
    double u = 0.7, per = 0, peak;
    int mix = sc == SC_CHAT ? 1 : sc == SC_DAY ? 2 : 0;

    if (!s1) {
        s1 = mean_work(false);
        sc_work = mean_work(true);
    }
    memset(t, 0, sizeof(*t));
    memset(&G, 0, sizeof(G));
    memset(&ra, 0, sizeof(ra));
    G.t = t;
    rng_seed(&G.g, seed * 1000003ULL + (uint64_t)sc * 7919 + nn);
    t->ambient = 25;
    nodes(t, nn, sc == SC_SDCARD ? SD_MBPS : NVME_MBPS, &G.g);
    if (sc == SC_DEATH)
        u = 0.6;
    else if (sc == SC_BURST)
        u = 0.35;
    else if (sc == SC_CHAT)
        u = 0.65; /* of the work without any cache hit */
    else if (sc == SC_DAY)
        u = 0.35;
    per = mix == 1 ? sc_work * CHAT_REQS : mix == 2 ? (s1 + sc_work) / 2 : s1;
    ra.scen = (int)sc;
    ra.base = u * (double)nn / per;
    peak = ra.base;
    if (sc == SC_BURST) { /* 8 x the rate for long enough to bring 15 % of the requests */
        ra.burst_x = 8;
        ra.burst_from = 0.4 * (double)want / ra.base;
        ra.burst_to = ra.burst_from + 0.15 * (double)want / (ra.base * ra.burst_x);
        peak = ra.base * ra.burst_x;
    } else if (sc == SC_DAY) {
        ra.base /= 0.81; /* the profile's mean */
        ra.day_len = (double)want / (ra.base * 0.81);
        peak = ra.base * 1.8;
    }
    if (fill(&G, want, peak, &ra, mix) < 0) {
        trace_free(t);
        errno = ENOMEM;
        return -1;
    }
    scen_nodes(t, sc, &G.g);
    mark_measured(t);
    return 0;
}

void trace_free(struct trace *t)
{
    free(t->r);
    t->r = NULL;
    t->n = 0;
}
