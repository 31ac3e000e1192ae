/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's error schema (docs/PROTOCOL.md, "Errors"): every error keeps its API's
 * shape, Ollama's {"error":"..."} for /api/ paths and OpenAI's {"error":{"message":..}} for
 * /v1/ paths, so that existing clients read it as before, and adds code (UPPER_SNAKE), type (retriable or
 * non_retriable), provider, details and, for retriable ones, retry_after_ms; 429 and 503 carry
 * Retry-After (whole seconds, rounded up). One table maps the Redis answers' lower-case codes
 * to their HTTP form and status.
 */
#include "gateway_int.h"

#include "orion/jsonw.h"

#include <stdio.h>
#include <string.h>

#define ERR_MAX (1u << 20)
#define PROVIDER "orion-inference"

/* code (Redis, lower case), HTTP form, status, retriable, retry_after_ms when retriable */
static const struct gw_code codes[] = {
    {"bad_request", "BAD_REQUEST", 400, false, 0},
    {"context_budget_exceeded", "CONTEXT_BUDGET_EXCEEDED", 400, false, 0},
    {"model_not_capable", "MODEL_NOT_CAPABLE", 400, false, 0},
    {"unauthorized", "UNAUTHORIZED", 401, false, 0},
    {"model_not_found", "MODEL_NOT_FOUND", 404, false, 0},
    {"config_not_found", "CONFIG_NOT_FOUND", 404, false, 0},
    {"not_found", "NOT_FOUND", 404, false, 0},
    {"method_not_allowed", "METHOD_NOT_ALLOWED", 405, false, 0},
    {"queue_full", "QUEUE_FULL", 429, true, 5000},
    {"canceled", "CANCELED", 499, false, 0},
    {"internal_error", "INTERNAL_ERROR", 500, true, 1000},
    {"ollama_error", "INFERENCE_ERROR", 500, false, 1000},
    {"too_large", "RESPONSE_TOO_LARGE", 500, false, 0},
    {"duplicate", "DUPLICATE", 409, false, 0},
    {"not_implemented", "NOT_IMPLEMENTED", 501, false, 0},
    {"bad_response", "BAD_UPSTREAM_RESPONSE", 502, false, 0},
    {"failed_over_too_often", "FAILED_OVER_TOO_OFTEN", 502, false, 0},
    {"orchestration_failed", "ORCHESTRATION_FAILED", 502, false, 0},
    {"ollama_unreachable", "NODE_UNREACHABLE", 502, true, 1000},
    {"node_failed", "NODE_FAILED", 502, false, 0},
    {"no_available_nodes", "NO_AVAILABLE_NODES", 503, true, 5000},
    {"ollama_busy", "MODEL_BUSY", 503, true, 1000},
    {"model_loading", "MODEL_LOADING", 503, true, 5000},
    {"unavailable", "SERVICE_UNAVAILABLE", 503, true, 1000},
    {"timeout", "TIMEOUT", 504, true, 1000},
};

const struct gw_code *gw_code_find(const char *code, size_t n)
{
    for (size_t i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strlen(codes[i].code) == n && !memcmp(codes[i].code, code, n))
            return &codes[i];
    return NULL;
}

const struct gw_code *gw_code_table(size_t *n)
{
    *n = sizeof(codes) / sizeof(codes[0]);
    return codes;
}

/* The code an error of this status has when its writer names none. */
static const char *code_of_status(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 429: return "queue_full";
    case 501: return "not_implemented";
    case 502: return "node_failed";
    case 503: return "unavailable";
    case 504: return "timeout";
    default: return "internal_error";
    }
}

int gw_error_status(const char *code)
{
    const struct gw_code *c = gw_code_find(code, code ? strlen(code) : 0);

    return c ? c->status : 500;
}

void gw_error_init(struct gw_error *e, const char *code, const char *msg)
{
    const struct gw_code *c;

    memset(e, 0, sizeof(*e));
    c = gw_code_find(code, strlen(code));
    e->code = c ? c : gw_code_find("internal_error", 14);
    e->status = e->code->status;
    e->retriable = e->code->retriable;
    e->msg = msg;
}

/* details: the given JSON object, else {"model":..,"node":..} with what is known */
static void put_details(struct buf *b, const struct gw_error *e)
{
    bool first = true;

    buf_puts(b, ",\"details\":");
    if (e->details && e->details_len && contract_json_ok(e->details, e->details_len, '{')) {
        buf_append(b, e->details, e->details_len);
        return;
    }
    buf_putc(b, '{');
    if (e->model && *e->model) {
        buf_puts(b, "\"model\":");
        json_quote(b, e->model, strlen(e->model));
        first = false;
    }
    if (e->node && *e->node) {
        buf_puts(b, first ? "\"node\":" : ",\"node\":");
        json_quote(b, e->node, strlen(e->node));
    }
    buf_putc(b, '}');
}

static long retry_ms(const struct gw_error *e)
{
    if (!e->retriable)
        return 0;
    return e->retry_ms > 0 ? e->retry_ms : e->code->retry_ms > 0 ? e->code->retry_ms : 1000;
}

void gw_error_body(struct buf *b, bool openai, const struct gw_error *e)
{
    const char *type = e->retriable ? "retriable" : "non_retriable";

    if (openai) {
        buf_puts(b, "{\"error\":{\"message\":");
        json_quote(b, e->msg, strlen(e->msg));
        buf_printf(b, ",\"type\":\"%s\",\"param\":null,\"code\":\"%s\"", type, e->code->http);
    } else {
        buf_puts(b, "{\"error\":");
        json_quote(b, e->msg, strlen(e->msg));
        buf_printf(b, ",\"code\":\"%s\",\"type\":\"%s\"", e->code->http, type);
    }
    buf_puts(b, ",\"provider\":\"" PROVIDER "\"");
    put_details(b, e);
    if (e->retriable)
        buf_printf(b, ",\"retry_after_ms\":%ld", retry_ms(e));
    buf_puts(b, openai ? "}}\n" : "}");
}

void gw_error_send(struct httpd_req *hr, bool openai, const struct gw_error *e)
{
    char ct[64], ra[48];
    const char *h[3] = {ct, NULL, NULL};
    struct buf b;

    if (!hr)
        return;
    snprintf(ct, sizeof(ct), "Content-Type: %s",
             openai ? "application/json" : "application/json; charset=utf-8");
    if (e->status == 429 || e->status == 503) {
        snprintf(ra, sizeof(ra), "Retry-After: %ld", (retry_ms(e) + 999) / 1000);
        h[1] = ra;
    }
    buf_init(&b, ERR_MAX);
    gw_error_body(&b, openai, e);
    httpd_respond(hr, e->status, h, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

void gw_error_code(struct httpd_req *hr, bool openai, const char *code, const char *msg)
{
    struct gw_error e;

    gw_error_init(&e, code, msg);
    gw_error_send(hr, openai, &e);
}

void gw_openai_error(struct httpd_req *hr, int status, const char *msg)
{
    struct gw_error e;

    gw_error_init(&e, code_of_status(status), msg);
    e.status = status;
    gw_error_send(hr, true, &e);
}

void gw_native_err(struct httpd_req *hr, int status, const char *msg)
{
    struct gw_error e;

    gw_error_init(&e, code_of_status(status), msg);
    e.status = status;
    gw_error_send(hr, false, &e);
}

/* The error of a request in flight: before its answer began, in its API's shape; a native
 * stream gets one more line with the error, then its end; an OpenAI stream ends short. */
void gw_fail_error(struct gw_req *q, const struct gw_error *e)
{
    struct buf b;

    if (!q->hr)
        return;
    if (q->kind == GW_MESSAGES) { /* Anthropic's shape, or its error event once streaming */
        gw_messages_fail(q, e->status, e->msg);
        q->hr = NULL;
        return;
    }
    if (!q->started) {
        gw_error_send(q->hr, GW_OPENAI_SHAPE(q->kind), e);
    } else if (GW_OPENAI_SHAPE(q->kind)) {
        httpd_end(q->hr); /* no [DONE]: the client sees the stream end short */
    } else {
        buf_init(&b, ERR_MAX);
        gw_error_body(&b, false, e);
        buf_putc(&b, '\n');
        httpd_write_chunk(q->hr, buf_data(&b), buf_size(&b));
        httpd_end(q->hr);
        buf_release(&b);
    }
    q->hr = NULL;
}

void gw_fail_code(struct gw_req *q, const char *code, const char *msg)
{
    struct gw_error e;

    gw_error_init(&e, code, msg);
    e.model = q->model;
    e.node = q->node;
    gw_fail_error(q, &e);
}

void gw_fail(struct gw_req *q, int status, const char *msg)
{
    struct gw_error e;

    gw_error_init(&e, code_of_status(status), msg);
    e.status = status;
    e.model = q->model;
    e.node = q->node;
    gw_fail_error(q, &e);
}

/* An error entry: its code, retriability, details and retry time as the answer gives them
 * (model_not_found in Ollama's words). */
void gw_entry_error(struct gw_req *q, const struct entry_answer *a)
{
    char msg[ORION_MODEL_MAX + 64];
    char *text = NULL;
    struct gw_error e;
    char code[40];

    if (a->node.n)
        snprintf(q->node, sizeof(q->node), "%.*s", (int)a->node.n, a->node.p);
    snprintf(code, sizeof(code), "%.*s", (int)(a->code.n < 39 ? a->code.n : 39), a->code.p);
    if (entry_is(a->code, "model_not_found")) {
        snprintf(msg, sizeof(msg), "model '%s' not found", q->model);
        gw_error_init(&e, code, msg);
    } else {
        text = orion_strndup(a->error.n ? a->error.p : "the request failed",
                             a->error.n ? a->error.n : 18);
        gw_error_init(&e, code, text ? text : "the request failed");
        e.retriable = a->retriable; /* the answer's word wins over the table's */
    }
    e.details = a->details.n ? a->details.p : NULL;
    e.details_len = a->details.n;
    e.retry_ms = a->retry_after_ms;
    e.model = q->model;
    e.node = q->node;
    gw_fail_error(q, &e);
    orion_free(text);
}
