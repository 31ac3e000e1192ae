/* SPDX-License-Identifier: MIT */
/*
 * The Ollama side of one request: start the generation (always streamed from Ollama, so the
 * worker sees progress and can relay chunks), collect text, thinking and tool calls, and
 * build the answer entry. Chunks are written to the callback as they come when the entry
 * asked for stream=true; the final answer goes through the one-answer script.
 */
#include "worker_int.h"

#include "orion/entry.h"
#include "orion/jsonw.h"
#include "orion/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int worker_ollama_init(struct worker *w)
{
    w->ollama = ollama_new_timeouts(w->l, w->wc->ollama_url, w->wc->connect_timeout * 1000,
                                    w->wc->ollama_timeout * 1000);
    return w->ollama ? 0 : -1;
}

void worker_ollama_release(struct worker *w)
{
    ollama_free(w->ollama);
    w->ollama = NULL;
}

bool job_running(const struct job *j) { return j->call || j->ecall; }

void job_stop(struct job *j)
{
    ollama_cancel(j->call);
    ollama_embed_cancel(j->ecall);
    j->call = NULL;
    j->ecall = NULL;
}

void job_free(struct job *j)
{
    if (!j)
        return;
    worker_note_streaming(j, false);
    job_stop(j);
    if (j->answer_timer)
        loop_timer_cancel(j->w->l, j->answer_timer);
    buf_release(&j->text);
    buf_release(&j->thinking);
    buf_release(&j->tool_calls);
    if (j->has_answer)
        resp_cmd_release(&j->answer);
    resp_reply_free(j->fields);
    orion_free(j);
}

/* Start the answer: the script's keys and arguments, then request_id and node_id. */
void job_answer_begin(struct job *j)
{
    struct worker *w = j->w;

    if (j->has_answer)
        resp_cmd_release(&j->answer);
    resp_cmd_init(&j->answer);
    j->has_answer = true;
    entry_answer_begin(&j->answer, &w->keys, &j->req, w->stream, CONTRACT_GROUP_WORKERS,
                       w->node);
}

/* A command that could not be built (out of memory, past the command buffer) is never sent:
 * the caller is answered too_large instead; only when not even that can be built does the
 * entry stay pending (taken again when the worker restarts). */
void job_answer_send(struct job *j)
{
    int e;

    if (resp_cmd_finish(&j->answer) == 0) {
        worker_answer(j);
        return;
    }
    e = errno;
    resp_cmd_release(&j->answer);
    j->has_answer = false;
    if (j->answer_fallback) {
        log_warnx("request %s: not even an error answer could be built (%s); it stays pending",
                  j->entry_id, strerror(e));
        return;
    }
    j->answer_fallback = true;
    log_warnx("request %s: the answer could not be built (%s); answering too_large", j->entry_id,
              strerror(e));
    job_answer_error(j, "too_large", false, "the answer is too large for the worker to write");
}

void job_answer_error(struct job *j, const char *code, bool retriable, const char *msg)
{
    j->final.ok = false;
    snprintf(j->err_code, sizeof(j->err_code), "%s", code);
    job_answer_begin(j);
    entry_answer_error(&j->answer, code, retriable, msg, j->req.model);
    job_answer_send(j);
}

/* The assistant message as JSON for chat answers: role, content, thinking, tool_calls. */
static void message_json(struct job *j, struct buf *m)
{
    buf_puts(m, "{\"role\":\"assistant\",\"content\":");
    json_quote(m, buf_data(&j->text), buf_size(&j->text));
    if (buf_size(&j->thinking)) {
        buf_puts(m, ",\"thinking\":");
        json_quote(m, buf_data(&j->thinking), buf_size(&j->thinking));
    }
    if (buf_size(&j->tool_calls)) {
        buf_puts(m, ",\"tool_calls\":");
        buf_append(m, buf_data(&j->tool_calls), buf_size(&j->tool_calls));
    }
    buf_putc(m, '}');
}

static void on_done(void *arg, const struct ollama_final *f)
{
    struct job *j = arg;
    struct entry_done d;
    struct buf m;

    j->call = NULL;
    worker_note_streaming(j, false);
    j->final = *f;
    j->final.ok = true;
    memset(&d, 0, sizeof(d));
    buf_init(&m, ORION_FIELD_MAX * 2);
    if (j->req.messages.p) {
        message_json(j, &m);
        d.message.p = buf_data(&m);
        d.message.n = buf_size(&m);
    }
    d.response.p = buf_data(&j->text);
    d.response.n = buf_size(&j->text);
    d.model = j->req.model;
    d.role = j->req.role;
    d.done_reason = f->done_reason;
    d.counter[ENTRY_TOTAL_DURATION] = f->total_duration;
    d.counter[ENTRY_LOAD_DURATION] = f->load_duration;
    d.counter[ENTRY_PROMPT_EVAL_COUNT] = f->prompt_eval_count;
    d.counter[ENTRY_PROMPT_EVAL_DURATION] = f->prompt_eval_duration;
    d.counter[ENTRY_EVAL_COUNT] = f->eval_count;
    d.counter[ENTRY_EVAL_DURATION] = f->eval_duration;
    job_answer_begin(j);
    entry_answer_done(&j->answer, &d);
    buf_release(&m);
    log_debug("request %s: done (%s, %lld tokens, load %.2f s)", j->entry_id, f->done_reason,
              f->eval_count, (double)f->load_duration / 1e9);
    job_answer_send(j);
}

static void on_error(void *arg, const char *code, bool retriable, const char *msg)
{
    struct job *j = arg;

    j->call = NULL;
    worker_note_streaming(j, false);
    if (j->w->wc->remote && !strcmp(code, "ollama_unreachable") && !buf_size(&j->text) &&
        !j->w->stopping) {
        /* the backend is gone: the request stays pending, and the router moves it to another
         * node once the probe has marked this one down */
        log_warnx("request %s: backend %s: %s; left for another node", j->entry_id, j->w->node,
                  msg);
        j->w->probe_ok = false;
        worker_job_abandon(j);
        return;
    }
    log_warnx("request %s: %s: %s", j->entry_id, code, msg);
    job_answer_error(j, code, retriable, msg);
}

static void on_chunk(void *arg, const char *delta, size_t n, const char *thinking, size_t tn)
{
    struct job *j = arg;
    struct entry_argv a;

    if ((n || tn) && !j->first_token)
        j->first_token = loop_now();
    if (n || tn)
        worker_note_streaming(j, true);
    if ((n && buf_append(&j->text, delta, n) < 0) ||
        (tn && buf_append(&j->thinking, thinking, tn) < 0)) {
        ollama_cancel(j->call);
        j->call = NULL;
        job_answer_error(j, "too_large", false, "the answer is larger than the field limit");
        return;
    }
    if (!j->req.stream || !j->req.callback.p || (!n && !tn))
        return;
    entry_chunk(&a, j->req.callback, contract_request_id(&j->req), ++j->seq, delta, n, thinking,
                tn);
    redis_cmdv(j->w->cmd, 0, NULL, NULL, a.argc, a.argv, a.len);
}

static void on_tool_calls(void *arg, const char *json, size_t n)
{
    struct job *j = arg;

    /* Ollama sends the calls in one line; several lines: keep them as one JSON array */
    if (buf_size(&j->tool_calls) && n > 2 && json[0] == '[') {
        j->tool_calls.len--; /* drop ']' and append ",<elements>]" */
        buf_putc(&j->tool_calls, ',');
        buf_append(&j->tool_calls, json + 1, n - 1);
        return;
    }
    buf_append(&j->tool_calls, json, n);
}

static const char *cstr(struct contract_str s) { return s.p; } /* bulk strings end in NUL */

void job_start(struct job *j)
{
    static const struct ollama_cbs cbs = {on_chunk, on_tool_calls, on_done, on_error};
    struct ollama_gen g;
    char think[16]; /* the contract's word as Ollama's JSON: true, false, or "low" ... "max" */

    if (j->req.kind == CONTRACT_EMBED) {
        job_start_embed(j);
        return;
    }
    memset(&g, 0, sizeof(g));
    g.model = j->req.model.p;
    g.model_len = j->req.model.n;
    g.messages = j->req.messages.p;
    g.messages_len = j->req.messages.n;
    g.prompt = j->req.prompt.p;
    g.prompt_len = j->req.prompt.n;
    g.system = cstr(j->req.system);
    g.suffix = cstr(j->req.suffix);
    g.options = cstr(j->req.options);
    g.format = cstr(j->req.format);
    g.tools = cstr(j->req.tools);
    if (j->req.think.p && (entry_is(j->req.think, "true") || entry_is(j->req.think, "false")))
        g.think = cstr(j->req.think);
    else if (j->req.think.p && snprintf(think, sizeof(think), "\"%s\"", j->req.think.p) > 0)
        g.think = think; /* contract_request_parse allows only these words */
    g.images = cstr(j->req.images);
    g.keep_alive = j->req.keep_alive.p ? cstr(j->req.keep_alive) : j->w->wc->keep_alive;
    j->started = loop_now();
    j->first_token = 0;
    j->call = ollama_generate(j->w->ollama, &g, &cbs, j);
    if (!j->call) {
        job_answer_error(j, "ollama_unreachable", true, "could not start the request (no memory)");
        return;
    }
    worker_event(j->w, "started", j, NULL);
}
