/* SPDX-License-Identifier: MIT */
/*
 * tokest: the prompt token estimate and the context check (the rules are in tokest.h). The
 * prior counts what every BPE vocabulary's counts follow (words, symbols, line breaks); only
 * its scale is learned, per model, from Ollama's prompt_eval_count.
 */
#include "orion/tokest.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static bool word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

void tokest_feed(struct tokest_text *t, const char *s, size_t n)
{
    unsigned long word = 0, blanks = 0; /* bytes of the current word, of the current blank run */

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (word_byte(c)) {
            if (word++ % TOKEST_WORD_BYTES == 0)
                t->words++;
            blanks = 0;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            /* the last blank before a word joins it; a longer run is one token of its own */
            if (++blanks == 2)
                t->other++;
            word = 0;
        } else {
            if (c == '\n')
                t->breaks++;
            else
                t->other++;
            word = blanks = 0;
        }
    }
    t->bytes += n;
}

double tokest_prior(const struct tokest_text *t)
{
    return (double)TOKEST_BASE_TOKENS + (double)TOKEST_MSG_TOKENS * t->messages +
           (double)t->words + (double)t->other + (double)t->breaks +
           (double)TOKEST_IMAGE_TOKENS * t->images;
}

void tokest_init(struct tokest *e) { memset(e, 0, sizeof(*e)); }

static struct tokest_model *find(const struct tokest *e, const char *key)
{
    for (size_t i = 0; key && i < e->n; i++)
        if (!strcmp(e->m[i].model, key))
            return (struct tokest_model *)&e->m[i];
    return NULL;
}

double tokest_k(const struct tokest *e, const char *model_key)
{
    const struct tokest_model *m = find(e, model_key);

    if (m && m->answers)
        return m->k;
    return e->answers ? e->k_all : TOKEST_K0;
}

long tokest_estimate(const struct tokest *e, const char *model_key, double prior)
{
    double v = ceil(tokest_k(e, model_key) * prior);

    return v > 1e12 ? (long)1e12 : (long)v;
}

static double ewma(double old, unsigned long n, double v) { return n ? old + (v - old) / 4 : v; }

int tokest_learn(struct tokest *e, const char *model_key, double prior, long count, long ctx,
                 double now)
{
    struct tokest_model *m;
    double k;

    if (!model_key || !*model_key || strlen(model_key) > ORION_MODEL_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (!(prior >= TOKEST_MIN_PRIOR) || count <= 0 || (ctx > 0 && count * 100 >= ctx * 95))
        return 0;
    k = (double)count / prior;
    if (k < 0.2 || k > 5)
        return 0;
    m = find(e, model_key);
    if (!m) {
        size_t slot = e->n;
        if (e->n == TOKEST_MAX_MODELS) {
            slot = 0;
            for (size_t i = 1; i < e->n; i++)
                if (e->m[i].updated < e->m[slot].updated)
                    slot = i;
        } else {
            e->n++;
        }
        m = &e->m[slot];
        memset(m, 0, sizeof(*m));
        memcpy(m->model, model_key, strlen(model_key) + 1);
    }
    m->k = ewma(m->k, m->answers++, k);
    m->updated = now;
    e->k_all = ewma(e->k_all, e->answers++, k);
    return 1;
}

long tokest_budget(long context_length, long num_ctx)
{
    if (context_length > 0 && num_ctx > 0)
        return num_ctx < context_length ? num_ctx : context_length;
    return context_length > 0 ? context_length : num_ctx > 0 ? num_ctx : 0;
}

bool tokest_fits(long prompt, long num_predict, long budget, long *need)
{
    *need = prompt + (num_predict > 1 ? num_predict : 1);
    return budget <= 0 || *need <= budget;
}
