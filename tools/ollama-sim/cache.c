/* SPDX-License-Identifier: MIT */
/*
 * cache: the slot choice of Ollama's Go runners and of llama-server, and llama-server's
 * host-RAM prompt cache (cache.h gives the rules and their sources).
 */
#include "cache.h"

#include "orion/buf.h"

#include <string.h>

#define SERVER_SIMILARITY 0.1 /* llama.cpp slot_prompt_similarity default */

void kv_init(struct kv_cache *kv, enum kv_mode mode, int nslots, long long limit_tokens)
{
    int i;

    memset(kv, 0, sizeof *kv);
    kv->mode = mode;
    kv->nslots = nslots < 1 ? 1 : nslots > KV_MAX_SLOTS ? KV_MAX_SLOTS : nslots;
    kv->limit_tokens = mode == KV_SERVER ? limit_tokens : 0;
    for (i = 0; i < KV_MAX_SLOTS; i++)
        tokv_init(&kv->slot[i].tok);
}

static void saved_free(struct kv_saved *s)
{
    tokv_release(&s->tok);
    orion_free(s);
}

void kv_clear(struct kv_cache *kv)
{
    int i;

    for (i = 0; i < KV_MAX_SLOTS; i++) {
        tokv_release(&kv->slot[i].tok);
        kv->slot[i].busy = false;
        kv->slot[i].used = 0;
    }
    while (kv->saved) {
        struct kv_saved *s = kv->saved;

        kv->saved = s->next;
        saved_free(s);
    }
    kv->saved_tokens = 0;
}

int kv_lcp(const uint32_t *a, int na, const uint32_t *b, int nb)
{
    int i = 0;

    while (i < na && i < nb && a[i] == b[i])
        i++;
    return i;
}

int kv_saved_count(const struct kv_cache *kv)
{
    const struct kv_saved *s;
    int n = 0;

    for (s = kv->saved; s; s = s->next)
        n++;
    return n;
}

static int set_tokens(struct tokv *t, const uint32_t *p, int n)
{
    t->n = 0;
    return tokv_append(t, p, n);
}

/* findLongestCacheSlot: the free slot with the longest common prefix, lowest index on ties */
static int runner_longest(struct kv_cache *kv, const uint32_t *p, int n, int *past)
{
    int i, best = -1, longest = -1;

    for (i = 0; i < kv->nslots; i++) {
        const struct kv_slot *s = &kv->slot[i];
        int c;

        if (s->busy)
            continue;
        if ((c = kv_lcp(s->tok.v, s->tok.n, p, n)) > longest)
            longest = c, best = i;
    }
    *past = longest < 0 ? 0 : longest;
    return best;
}

/* findBestCacheSlot: a free slot that prefixes the prompt whole; else the oldest free slot,
 * given a copy of the longest prefix found in any slot */
static int runner_best(struct kv_cache *kv, const uint32_t *p, int n, int *past)
{
    int i, longest = -1, li = 0, oldest = -1;

    for (i = 0; i < kv->nslots; i++) {
        const struct kv_slot *s = &kv->slot[i];
        int c = kv_lcp(s->tok.v, s->tok.n, p, n);

        if (c > longest)
            longest = c, li = i;
        if (!s->busy && (oldest < 0 || s->used < kv->slot[oldest].used))
            oldest = i;
    }
    *past = longest;
    if (longest == kv->slot[li].tok.n && !kv->slot[li].busy)
        return li;
    if (oldest < 0)
        return -1;
    if (longest > 0 && li != oldest &&
        set_tokens(&kv->slot[oldest].tok, kv->slot[li].tok.v, longest) < 0)
        *past = 0;
    return oldest;
}

static void saved_drop(struct kv_cache *kv, struct kv_saved *s)
{
    struct kv_saved **pp;

    for (pp = &kv->saved; *pp && *pp != s; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = s->next;
    kv->saved_tokens -= s->tok.n;
    saved_free(s);
}

/* server_prompt_cache::update: the oldest states go while over the budget; one stays */
static void saved_trim(struct kv_cache *kv)
{
    while (kv->saved && kv->saved->next && kv->saved_tokens > kv->limit_tokens)
        saved_drop(kv, kv->saved);
}

/* prompt_save + server_prompt_cache::alloc */
static void slot_save(struct kv_cache *kv, const struct kv_slot *slot)
{
    struct kv_saved *s, *next, **tail;

    if (kv->limit_tokens <= 0 || slot->tok.n == 0)
        return;
    for (s = kv->saved; s; s = s->next)
        if (kv_lcp(s->tok.v, s->tok.n, slot->tok.v, slot->tok.n) == slot->tok.n)
            return; /* already held whole */
    for (s = kv->saved; s; s = next) {
        next = s->next;
        if (kv_lcp(s->tok.v, s->tok.n, slot->tok.v, slot->tok.n) == s->tok.n)
            saved_drop(kv, s); /* a prefix of what comes in */
    }
    if (!(s = orion_calloc(1, sizeof *s)))
        return;
    tokv_init(&s->tok);
    if (tokv_append(&s->tok, slot->tok.v, slot->tok.n) < 0) {
        saved_free(s);
        return;
    }
    for (tail = &kv->saved; *tail; tail = &(*tail)->next)
        ;
    *tail = s;
    kv->saved_tokens += s->tok.n;
    saved_trim(kv);
}

/* server_prompt_cache::load: a saved state that keeps more of itself and matches more */
static void slot_load(struct kv_cache *kv, struct kv_slot *slot, const uint32_t *p, int n)
{
    int l = kv_lcp(slot->tok.v, slot->tok.n, p, n);
    double keep_best = slot->tok.n ? (double)l / slot->tok.n : -1, sim_best = (double)l / n;
    struct kv_saved *s, *best = NULL;
    struct tokv t;

    for (s = kv->saved; s; s = s->next) {
        int c = kv_lcp(s->tok.v, s->tok.n, p, n);
        double keep = s->tok.n ? (double)c / s->tok.n : 0, sim = (double)c / n;

        if (keep < 0.25)
            continue;
        if (keep_best < keep && sim_best < sim)
            keep_best = keep, sim_best = sim, best = s;
    }
    if (!best)
        return;
    kv->saved_tokens -= best->tok.n;
    t = slot->tok;
    slot->tok = best->tok;
    best->tok = t; /* freed with the entry */
    best->tok.n = 0;
    saved_drop(kv, best);
}

static int server_pick(struct kv_cache *kv, const uint32_t *p, int n)
{
    int i, best = -1;
    double sim_best = 0;
    bool update = true;

    for (i = 0; i < kv->nslots && n > 0; i++) {
        const struct kv_slot *s = &kv->slot[i];
        double sim;

        if (s->busy || s->tok.n == 0)
            continue;
        sim = (double)kv_lcp(s->tok.v, s->tok.n, p, n) / n;
        if (sim > sim_best && sim > SERVER_SIMILARITY)
            sim_best = sim, best = i;
    }
    if (best >= 0)
        update = sim_best * n / kv->slot[best].tok.n < 0.5;
    else
        for (i = 0; i < kv->nslots; i++)
            if (!kv->slot[i].busy && (best < 0 || kv->slot[i].used <= kv->slot[best].used))
                best = i;
    if (best >= 0 && update && n > 0) {
        slot_save(kv, &kv->slot[best]);
        slot_load(kv, &kv->slot[best], p, n);
    }
    return best;
}

int kv_acquire(struct kv_cache *kv, const uint32_t *p, int n, int *cached)
{
    int i, past = 0, k;

    *cached = 0;
    if (kv->mode == KV_RUNNER)
        k = runner_longest(kv, p, n, &past);
    else if (kv->mode == KV_MULTIUSER)
        k = runner_best(kv, p, n, &past);
    else if (kv->mode == KV_SERVER) {
        k = server_pick(kv, p, n);
        if (k >= 0)
            past = kv_lcp(kv->slot[k].tok.v, kv->slot[k].tok.n, p, n);
    } else
        for (k = 0; k < kv->nslots && kv->slot[k].busy; k++)
            ;
    if (k < 0 || k >= kv->nslots)
        return -1;
    if (kv->mode == KV_NONE)
        past = 0;
    if (past >= n && n > 0)
        past = n - 1; /* the last token is evaluated again for its logits */
    kv->slot[k].busy = true;
    kv->slot[k].used = ++kv->clock;
    if (set_tokens(&kv->slot[k].tok, p, n) < 0)
        past = 0;
    *cached = past;
    if (kv->mode == KV_SERVER)
        for (i = 0; i < kv->nslots; i++)
            if (i != k && !kv->slot[i].busy)
                slot_save(kv, &kv->slot[i]); /* cache_idle_slots */
    return k;
}

void kv_release(struct kv_cache *kv, int slot, const uint32_t *ans, int nans)
{
    struct kv_slot *s;

    if (slot < 0 || slot >= kv->nslots)
        return;
    s = &kv->slot[slot];
    if (tokv_append(&s->tok, ans, nans) < 0)
        s->tok.n = 0;
    s->busy = false;
    if (kv->mode == KV_SERVER)
        s->used = ++kv->clock;
}
