/* SPDX-License-Identifier: MIT */
/*
 * ollama_models: the calls that manage one Ollama's models, and its version, on the loop
 * (through ollama.h's HTTP client): POST /api/pull (its NDJSON progress handed on line by
 * line), POST /api/copy, DELETE /api/delete, GET /api/version.
 *
 * Error codes given to error(): model_not_found (404), bad_request (400), ollama_busy (503,
 * retriable), ollama_error (another status, or an {"error":...} line of a pull: the sentence is
 * Ollama's), ollama_unreachable (retriable when nothing had arrived), timeout (retriable),
 * bad_response (a line that is not a progress object, a pull that ends without "success").
 * The calls must be cancelled before ollama_free. No callback may cancel its own call.
 */
#ifndef ORION_OLLAMA_MODELS_H
#define ORION_OLLAMA_MODELS_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/ollama.h"

/* One progress object of a pull, read: strings NUL-terminated copies (longer ones refused),
 * numbers -1 when absent. */
struct ollama_progress {
    char status[256];
    char digest[80];
    long long total, completed;
};

struct ollama_admin_cbs {
    void (*progress)(void *arg, const struct ollama_progress *p); /* pull only; may be NULL */
    void (*done)(void *arg); /* the pull said "success", or copy/delete answered 200 */
    void (*error)(void *arg, const char *code, bool retriable, const char *msg);
};

struct ollama_admin_call;

/* Start a call; NULL with errno ENOMEM or EINVAL (an empty name). Exactly one of done/error
 * later, never inside this call. */
struct ollama_admin_call *ollama_pull(struct ollama *o, const char *model, bool insecure,
                                      const struct ollama_admin_cbs *cb, void *arg);
struct ollama_admin_call *ollama_copy(struct ollama *o, const char *source,
                                      const char *destination, const struct ollama_admin_cbs *cb,
                                      void *arg);
struct ollama_admin_call *ollama_delete(struct ollama *o, const char *model,
                                        const struct ollama_admin_cbs *cb, void *arg);
void ollama_admin_cancel(struct ollama_admin_call *c); /* no callback afterwards; NULL ok */

/* GET /api/version: cb(arg, version) once, later; version NULL when Ollama did not answer
 * {"version":"..."} (at most ORION_VERSION_MAX bytes). Returns the call (cancel it with
 * ollama_admin_cancel), or NULL with errno ENOMEM. */
typedef void ollama_version_fn(void *arg, const char *version);
struct ollama_admin_call *ollama_version(struct ollama *o, ollama_version_fn *cb, void *arg);

/* ---- pure helpers, tested alone ---- */

/* One line of a pull's progress: 0 with p filled; 1 for an {"error":"..."} line (the sentence
 * in err); -1 (errno EINVAL) for a line that is neither (not an object, no string status, a
 * total or completed that is not a non-negative number). */
int ollama_progress_parse(const char *line, size_t n, struct ollama_progress *p, char *err,
                          size_t errlen);
/* {"version":"..."} read: 0 with the version in out, or -1. */
int ollama_version_parse(const char *body, size_t n, char *out, size_t outlen);

#endif
