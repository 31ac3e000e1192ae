/* SPDX-License-Identifier: MIT */
/*
 * ollama_embed: embeddings from one Ollama, on the loop (through ollama.h's HTTP client).
 * POST /api/embed with the inputs as one JSON string or array, or, for the legacy API, POST
 * /api/embeddings with one prompt. The answer's vectors are handed on as the bytes Ollama
 * wrote (numbers are never reformatted), always as a JSON array of arrays: the legacy
 * endpoint's one vector is wrapped as [[...]].
 *
 * Error codes given to error(): those of ollama.h (model_not_found for 404, ollama_busy for
 * 503, ollama_unreachable, timeout, bad_response, ollama_error), and bad_request for a 400
 * (an input longer than the context with truncate false, a bad option), too_large for an
 * answer over ORION_FIELD_MAX bytes of vectors.
 */
#ifndef ORION_OLLAMA_EMBED_H
#define ORION_OLLAMA_EMBED_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/buf.h"
#include "orion/ollama.h"

struct ollama_embed_req {
    const char *model;
    size_t model_len;
    const char *input; /* JSON: a string or an array of strings (legacy: a string) */
    size_t input_len;
    bool legacy;       /* /api/embeddings: one prompt */
    int truncate;      /* -1 absent, 0 false, 1 true (not sent with legacy) */
    long long dimensions; /* 0: absent (not sent with legacy) */
    const char *options, *keep_alive; /* raw JSON / as ollama_gen's keep_alive; NULL absent */
};

struct ollama_embed_result {
    const char *embeddings; /* a JSON array of arrays of numbers, as Ollama wrote them */
    size_t embeddings_len;
    long long total_duration, load_duration, prompt_eval_count; /* 0 when absent */
};

struct ollama_embed_cbs {
    void (*done)(void *arg, const struct ollama_embed_result *r); /* views valid in the call */
    void (*error)(void *arg, const char *code, bool retriable, const char *msg);
};

struct ollama_embed_call;

/* Start it; NULL with errno ENOMEM (or EINVAL: no model or input). Exactly one of done/error
 * later, never inside this call. */
struct ollama_embed_call *ollama_embed(struct ollama *o, const struct ollama_embed_req *r,
                                       const struct ollama_embed_cbs *cb, void *arg);
/* Stop it (closes the connection); no callback afterwards. Accepts NULL. */
void ollama_embed_cancel(struct ollama_embed_call *c);

/* ---- pure helpers, tested alone ---- */

/* The request body; *path is "/api/embed" or "/api/embeddings". 0, or -1 (EINVAL, ENOMEM,
 * ENOBUFS). */
int ollama_embed_body(const struct ollama_embed_req *r, struct buf *out, const char **path);
/* Read Ollama's answer: for /api/embed, embeddings (an array of arrays of numbers) and the
 * counters; for legacy, embedding (an array of numbers), which out gets wrapped in [ ] in wrap.
 * 0, or -1 (errno EINVAL: not an answer of that shape). Views point into body or wrap. */
int ollama_embed_parse(const char *body, size_t n, bool legacy, struct buf *wrap,
                       struct ollama_embed_result *out);

#endif
