/* SPDX-License-Identifier: MIT */
/*
 * ollama: a client for one Ollama server, on the loop (HTTP through httpc). It always asks
 * Ollama to stream (/api/chat or /api/generate, NDJSON) and hands text pieces, tool calls and
 * the final counters to callbacks; errors arrive as one short code. JSON fields of a request
 * (messages, options, format, tools, think, images) are raw JSON text passed through untouched.
 *
 * Error codes given to ollama_cbs.error:
 *   ollama_unreachable  connect refused / host unreachable / connection lost early (retriable)
 *   model_not_found     HTTP 404
 *   ollama_busy         HTTP 503, e.g. "maximum pending requests exceeded" (retriable)
 *   ollama_error        another 4xx/5xx, or an {"error":...} line in the stream
 *   timeout             no head / no bytes within httpc's timeouts (retriable)
 *   bad_response        a line that is not JSON, over ORION_HTTP_MAX_LINE, or a stream ending
 *                       without done:true
 *
 * The pure helpers (ollama_build_body, ollama_parse_line) do no I/O and are what tests link.
 */
#ifndef ORION_OLLAMA_H
#define ORION_OLLAMA_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/buf.h"
#include "orion/loop.h"

struct httpc;
struct ollama;      /* a client for one Ollama base URL, on the loop (uses httpc) */
struct ollama_call; /* one chat/generate in flight */

struct ollama_final { /* the final object of a generation */
    bool ok;
    char done_reason[32];
    long long total_duration, load_duration, prompt_eval_count, prompt_eval_duration, eval_count,
        eval_duration; /* 0 when absent */
};

struct ollama_cbs {
    /* text pieces as they come */
    void (*chunk)(void *arg, const char *delta, size_t n, const char *thinking, size_t tn);
    /* raw JSON array from message.tool_calls, passed through untouched */
    void (*tool_calls)(void *arg, const char *json, size_t n);
    void (*done)(void *arg, const struct ollama_final *f);
    /* model_not_found, ollama_unreachable, ollama_busy, ollama_error, timeout, bad_response */
    void (*error)(void *arg, const char *code, bool retriable, const char *msg);
};

struct ollama_gen { /* a request; JSON fields are raw JSON text passed through (NULL = absent) */
    const char *model;
    size_t model_len;
    const char *messages;
    size_t messages_len; /* JSON array => /api/chat */
    const char *prompt;
    size_t prompt_len; /* string    => /api/generate */
    /* NUL-terminated or NULL; think: true/false/"low".. as text; keep_alive: "10m" or "300"
     * (number of s) or "-1" */
    const char *system, *options, *format, *tools, *think, *images, *keep_alive;
    const char *suffix; /* generate only: text after the insertion (fill-in-the-middle) */
};

/* header_ms: how long Ollama may take to send a response head (0: 600 000, httpc's default);
 * past it the call fails with code timeout. NULL: bad URL. */
/* connect_ms: how long a connect may take (0: httpc's 3000). */
struct ollama *ollama_new_timeouts(struct loop *l, const char *base_url, long connect_ms,
                                   long header_ms);
static inline struct ollama *ollama_new(struct loop *l, const char *base_url, long header_ms)
{
    return ollama_new_timeouts(l, base_url, 0, header_ms);
}
void ollama_free(struct ollama *o); /* cancels every call and list, no callbacks */
/* always streams from Ollama; NULL on ENOMEM. Exactly one of done/error later, never inside. */
struct ollama_call *ollama_generate(struct ollama *o, const struct ollama_gen *g,
                                    const struct ollama_cbs *cb, void *arg);
void ollama_cancel(struct ollama_call *c); /* closes the connection (Ollama stops generating);
                                              no callbacks after */

/* The HTTP client of o, for the other calls on the same Ollama (ollama_embed.h,
 * ollama_models.h). Their calls must be cancelled before ollama_free. */
struct httpc *ollama_http(struct ollama *o);

/* Node facts for health: loaded models (/api/ps), installed (/api/tags), version. names:
 * NUL-separated list. cb runs once, later; 0, or -1 with errno ENOMEM. */
typedef void ollama_list_fn(void *arg, bool ok, const char *names, size_t count);
int ollama_ps(struct ollama *o, ollama_list_fn *cb, void *arg);
int ollama_tags(struct ollama *o, ollama_list_fn *cb, void *arg);

/* Any other request (/api/show, /api/tags and /api/ps whole, ...): cb runs once, later, with
 * the status and the body (status -1: no answer; the body is then empty; it is capped at
 * ORION_HTTP_MAX_BODY). body may be NULL (then no Content-Type). 0, or -1 (ENOMEM). */
typedef void ollama_fetch_fn(void *arg, int status, const char *body, size_t n);
int ollama_fetch(struct ollama *o, const char *method, const char *path, const char *body,
                 size_t len, ollama_fetch_fn *cb, void *arg);

/* ---- pure helpers, tested alone ---- */

/* Request JSON for g (stream is never sent: Ollama's default is true). *chat is true for
 * /api/chat (messages set), false for /api/generate. A keep_alive that is a bare number
 * ("300", "-1", "2.5") goes out as a JSON number, anything else as a JSON string.
 * 0, or -1 with errno EINVAL (no model, neither/both of messages and prompt) or ENOMEM. */
int ollama_build_body(const struct ollama_gen *g, struct buf *out, bool *chat);

/* Append ,"keep_alive":V for a keep_alive given as ollama_gen has it (a bare number as a JSON
 * number, anything else as a string); nothing for NULL. 0 or -1 (ENOMEM/ENOBUFS). */
int ollama_put_keep_alive(struct buf *b, const char *keep_alive);

/* One NDJSON line of /api/chat or /api/generate, decoded. Strings are NUL-terminated heap
 * copies (JSON escapes decoded), NULL when absent or empty; tool_calls is the raw JSON array
 * (compact). Release with ollama_line_release. */
struct ollama_line {
    char *delta, *thinking, *tool_calls, *error;
    size_t delta_len, thinking_len, tool_calls_len, error_len;
    bool done;                 /* "done":true */
    struct ollama_final final; /* counters when done (ok = done && no error) */
};
/* 0 (an {"error":...} line is 0 with error set), or -1 for a line that is not a JSON object
 * of the expected shape (errno EINVAL) or ENOMEM; nothing to release after -1. */
int ollama_parse_line(const char *line, size_t n, struct ollama_line *out);
void ollama_line_release(struct ollama_line *l);

/* The bytes of key's value (key an unescaped name) in the JSON object that starts at p (white
 * space first is skipped), for a text already known to be valid JSON; NULL when absent. */
const char *ollama_json_member(const char *p, const char *e, const char *key, size_t *len);

/* Error code and retriability for an HTTP status of a failed call: 400 bad_request (Ollama
 * refused the request itself: the caller gets 400 with Ollama's message, no other node is
 * tried), 404 model_not_found, 503 ollama_busy (retriable), else ollama_error. */
const char *ollama_status_code(int status, bool *retriable);

#endif
