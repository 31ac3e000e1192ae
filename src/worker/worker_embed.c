/* SPDX-License-Identifier: MIT */
/*
 * The Ollama side of an embedding request (an entry with `input`): one call to Ollama's
 * /api/embed (or /api/embeddings with legacy=true), its vectors and counters written as the
 * answer through the one-answer script. Nothing is streamed: the answer is whole or an error.
 */
#include "worker_int.h"

#include "orion/entry.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>

static void on_embed_done(void *arg, const struct ollama_embed_result *r)
{
    struct job *j = arg;
    struct entry_embed e;

    j->ecall = NULL;
    memset(&e, 0, sizeof(e));
    e.embeddings.p = r->embeddings;
    e.embeddings.n = r->embeddings_len;
    e.model = j->req.model;
    e.counter[ENTRY_TOTAL_DURATION] = r->total_duration;
    e.counter[ENTRY_LOAD_DURATION] = r->load_duration;
    e.counter[ENTRY_PROMPT_EVAL_COUNT] = r->prompt_eval_count;
    j->final.ok = true;
    j->final.total_duration = r->total_duration;
    j->final.load_duration = r->load_duration;
    snprintf(j->final.done_reason, sizeof(j->final.done_reason), "stop");
    job_answer_begin(j);
    entry_answer_embed(&j->answer, &e);
    log_debug("request %s: embedded (%lld tokens, load %.2f s)", j->entry_id,
              r->prompt_eval_count, (double)r->load_duration / 1e9);
    job_answer_send(j);
}

static void on_embed_error(void *arg, const char *code, bool retriable, const char *msg)
{
    struct job *j = arg;

    j->ecall = NULL;
    log_warnx("request %s: %s: %s", j->entry_id, code, msg);
    job_answer_error(j, code, retriable, msg);
}

void job_start_embed(struct job *j)
{
    static const struct ollama_embed_cbs cbs = {on_embed_done, on_embed_error};
    const struct contract_request *q = &j->req;
    struct ollama_embed_req r;

    memset(&r, 0, sizeof(r));
    r.model = q->model.p;
    r.model_len = q->model.n;
    r.input = q->input.p;
    r.input_len = q->input.n;
    r.legacy = q->legacy;
    r.truncate = !q->truncate.p ? -1 : q->truncate.n == 4; /* "true" or "false" */
    r.dimensions = q->dimensions;
    r.options = q->options.p; /* bulk strings end in NUL */
    r.keep_alive = q->keep_alive.p ? q->keep_alive.p : j->w->wc->keep_alive;
    j->started = loop_now();
    j->ecall = ollama_embed(j->w->ollama, &r, &cbs, j);
    if (!j->ecall) {
        job_answer_error(j, "ollama_unreachable", true, "could not start the request (no memory)");
        return;
    }
    worker_event(j->w, "started", j, NULL);
}
