/* SPDX-License-Identifier: MIT */
/*
 * tokest: how many tokens a prompt will take, without a tokenizer (Ollama has no tokenizer
 * endpoint), and whether a request fits its model's context. A pure module: no I/O, no clock.
 *
 * The prior. Text is fed in pieces (tokest_feed); a word (a run of ASCII letters, digits and
 * bytes >= 0x80) counts 1 token and 1 more per TOKEST_WORD_BYTES bytes past the first, every
 * other byte that is not blank 1, every line break 1, a single space or tab 0 and a longer
 * run of them 1 (BPE vocabularies fold a space into the next word and hold runs of spaces as
 * tokens; words and symbols are what token counts follow, in prose and in code alike). The chat template costs TOKEST_MSG_TOKENS per message and
 * TOKEST_BASE_TOKENS once; an image TOKEST_IMAGE_TOKENS (more than the 256 of gemma3 and the
 * 576 of llava: an image's cost is not learned).
 *
 * The learned part. Each model's tokens per prior token, k = prompt_eval_count / prior, is
 * learned from its answers (tokest_learn), as an exponentially weighted mean (the first answer
 * sets it, then weight 1/4 for the newest); a model without answers yet takes the mean over
 * every model, and before any answer TOKEST_K0, which over-estimates (starts conservative: a
 * too-big request is refused rather than cut silently). The estimate is ceil(k x prior).
 * Answers whose count cannot be the whole prompt are not learned from: a prior under
 * TOKEST_MIN_PRIOR (too little text to tell), k outside [0.2, 5] (a count of only the
 * uncached tokens, as Ollama v0.30.0 gave), or a count at or over 95 % of the context the
 * request ran in (Ollama may have cut the prompt to fit).
 *
 * The check (tokest_fits): a request needs its prompt's estimate plus its num_predict (at
 * least 1: an answer needs room for one token); it fits when that is at most the budget, the
 * num_ctx in force capped at the model's context_length.
 *
 * Limits: TOKEST_MAX_MODELS models are remembered; a new one replaces the one updated longest
 * ago.
 */
#ifndef ORION_TOKEST_H
#define ORION_TOKEST_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/limits.h"

#define TOKEST_WORD_BYTES 8
#define TOKEST_MSG_TOKENS 4
#define TOKEST_BASE_TOKENS 4
#define TOKEST_IMAGE_TOKENS 768
#define TOKEST_K0 1.5
#define TOKEST_MIN_PRIOR 16
#define TOKEST_MAX_MODELS 32

/* Features of a prompt, filled by tokest_feed and the counters. Zero it to start. */
struct tokest_text {
    unsigned long long bytes, words, other, breaks; /* bytes fed; token counts of the prior */
    unsigned messages, images;
};

/* Add a piece of text (a message's content, the system prompt, ...). Pieces are separate:
 * a word never continues across two calls. */
void tokest_feed(struct tokest_text *t, const char *s, size_t n);
/* The prior in tokens (template included). */
double tokest_prior(const struct tokest_text *t);

struct tokest_model {
    char model[ORION_MODEL_MAX + 1]; /* normalised key */
    double k;
    unsigned long answers;
    double updated; /* s, the caller's clock */
};

struct tokest {
    struct tokest_model m[TOKEST_MAX_MODELS];
    size_t n;
    double k_all;            /* over every model; 0 before the first answer */
    unsigned long answers;
};

void tokest_init(struct tokest *e);
/* k of a model key (route_model_norm), or of every model, or TOKEST_K0. */
double tokest_k(const struct tokest *e, const char *model_key);
/* ceil(k x prior) for model_key (may be NULL: every model's k). */
long tokest_estimate(const struct tokest *e, const char *model_key, double prior);
/* An answer of model_key: prior of its prompt, prompt_eval_count, and the context it ran in
 * (0: unknown). Returns 1 learned, 0 not learned from (see above), -1 with errno EINVAL (bad
 * model key). */
int tokest_learn(struct tokest *e, const char *model_key, double prior, long count, long ctx,
                 double now);

/* The budget of a request: num_ctx (its own options.num_ctx, else the model's in force) capped
 * at context_length; either may be 0 (unknown). 0 when both are unknown. */
long tokest_budget(long context_length, long num_ctx);
/* Does a prompt of `prompt` tokens with num_predict (<= 0: none) fit budget (0: unknown,
 * fits)? *need gets prompt + max(num_predict, 1). */
bool tokest_fits(long prompt, long num_predict, long budget, long *need);

#endif
