/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's Ollama-native side: POST /api/chat and /api/generate turned into request
 * entries, their answers relayed in Ollama's shapes (NDJSON lines, or one JSON object), the
 * cluster-wide /api/tags and /api/ps out of the nodes' health, and /health, /health/ready.
 */
#include "gateway_int.h"

#include "orion/chat_map.h"

#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_UTF8 "application/json; charset=utf-8"
#define GW_BODY_MAX (64u * 1024 * 1024)

/* A JSON value of the body as a field: strings as their text, everything else as JSON. */
void gw_add_json(struct resp_cmd *c, const char *name, const struct cJSON *v)
{
    char *s;

    if (!v || cJSON_IsNull(v))
        return;
    resp_cmd_adds(c, name);
    if (cJSON_IsString(v)) {
        resp_cmd_adds(c, v->valuestring);
        return;
    }
    s = cJSON_PrintUnformatted(v);
    resp_cmd_adds(c, s ? s : "null");
    cJSON_free(s);
}

/* suffix (generate, completions): a non-empty string, passed on. */
void gw_add_suffix(struct resp_cmd *c, const struct cJSON *body)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "suffix");

    if (cJSON_IsString(v) && *v->valuestring)
        gw_add_json(c, "suffix", v);
}

/* keep_alive, priority, timeout (s) -> timeout_ms: the fields every API shares. */
void gw_add_common(struct resp_cmd *c, const struct cJSON *body)
{
    const cJSON *ka = cJSON_GetObjectItemCaseSensitive(body, "keep_alive");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(body, "priority");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(body, "timeout");

    if (cJSON_IsNumber(ka)) {
        resp_cmd_adds(c, "keep_alive");
        resp_cmd_addf(c, "%lld", (long long)ka->valuedouble);
    } else if (cJSON_IsString(ka) && *ka->valuestring) {
        gw_add_json(c, "keep_alive", ka);
    }
    if (cJSON_IsNumber(pr) && pr->valuedouble >= 1 && pr->valuedouble <= 3) {
        resp_cmd_adds(c, "priority");
        resp_cmd_addf(c, "%d", (int)pr->valuedouble);
    }
    if (cJSON_IsNumber(to) && to->valuedouble > 0 && to->valuedouble < 1e9) {
        resp_cmd_adds(c, "timeout_ms");
        resp_cmd_addf(c, "%lld", (long long)(to->valuedouble * 1000));
    }
}

/* task_type (the service contract: it picks the role for "auto"), noted in q for the answer;
 * orchestration_mode (a string) and models (an array), passed on for the router to check. */
void gw_add_task(struct gw_req *q, struct resp_cmd *c, const struct cJSON *body)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "task_type");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "orchestration_mode");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(body, "models");

    if (cJSON_IsString(m) && strlen(m->valuestring) < 32) {
        resp_cmd_adds(c, "orchestration_mode");
        resp_cmd_adds(c, m->valuestring);
    }
    if (cJSON_IsArray(l))
        gw_add_json(c, "models", l);

    if (!cJSON_IsString(t) || !*t->valuestring || strlen(t->valuestring) > 64)
        return;
    resp_cmd_adds(c, "task_type");
    resp_cmd_adds(c, t->valuestring);
    snprintf(q->task, sizeof(q->task), "%s", t->valuestring);
}

/* Parse the body into an object: NULL after answering 400 (through err). */
cJSON *gw_parse_body(struct httpd_req *hr, const struct httpd_request *req,
                     void (*err)(struct httpd_req *, int, const char *))
{
    cJSON *j;

    if (!req->body_len) {
        err(hr, 400, "missing request body");
        return NULL;
    }
    j = cJSON_ParseWithLength(req->body, req->body_len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        err(hr, 400, "invalid request body: not a JSON object");
        return NULL;
    }
    return j;
}

static void native_fields(struct resp_cmd *c, const cJSON *j, enum gw_kind kind)
{
    static const char *const pass[] = {"system", "options", "format", "tools", "think"};
    const cJSON *v;

    if (kind == GW_CHAT) {
        v = cJSON_GetObjectItemCaseSensitive(j, "messages");
        if (cJSON_IsArray(v))
            gw_add_json(c, "messages", v);
        else {
            resp_cmd_adds(c, "messages");
            resp_cmd_adds(c, "[]");
        }
    } else {
        v = cJSON_GetObjectItemCaseSensitive(j, "prompt");
        resp_cmd_adds(c, "prompt");
        resp_cmd_adds(c, cJSON_IsString(v) ? v->valuestring : "");
        v = cJSON_GetObjectItemCaseSensitive(j, "images");
        if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0)
            gw_add_json(c, "images", v);
        gw_add_suffix(c, j);
    }
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
        v = cJSON_GetObjectItemCaseSensitive(j, pass[i]);
        if (cJSON_IsBool(v)) {
            resp_cmd_adds(c, pass[i]);
            resp_cmd_adds(c, cJSON_IsTrue(v) ? "true" : "false");
        } else if (v && !(cJSON_IsString(v) && !*v->valuestring && strcmp(pass[i], "system"))) {
            if (!strcmp(pass[i], "format") && cJSON_IsString(v)) {
                char *s = cJSON_PrintUnformatted(v); /* format is JSON: "json" quoted */
                resp_cmd_adds(c, "format");
                resp_cmd_adds(c, s ? s : "\"json\"");
                cJSON_free(s);
            } else
                gw_add_json(c, pass[i], v);
        }
    }
    gw_add_common(c, j);
}

void gw_native_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                    enum gw_kind kind)
{
    cJSON *j = gw_parse_body(hr, req, gw_native_err);
    const cJSON *model;
    const char *name = NULL;
    struct gw_req *q;
    struct resp_cmd c;
    bool pick = false;

    if (!j)
        return;
    model = cJSON_GetObjectItemCaseSensitive(j, "model");
    if (cJSON_IsString(model))
        name = gw_model_name(model->valuestring, &pick);
    if (!cJSON_IsString(model) || !*model->valuestring) {
        if (kind == GW_CHAT)
            gw_native_err(hr, 400, "model is required");
        else
            gw_error_code(hr, false, "model_not_found", "model '' not found");
    } else if (strlen(model->valuestring) > ORION_MODEL_MAX) {
        gw_native_err(hr, 400, "invalid model name");
    } else if (!pick && gw_model_unknown(g, name)) {
        char msg[ORION_MODEL_MAX + 32];
        snprintf(msg, sizeof(msg), "model '%s' not found", name);
        gw_error_code(hr, false, "model_not_found", msg);
    } else if (!(q = gw_req_new(g, hr, kind, name))) {
        gw_native_err(hr, 500, "out of memory");
    } else {
        q->stream = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "stream"));
        gw_xadd_begin(q, &c);
        resp_cmd_adds(&c, "model");
        resp_cmd_adds(&c, q->model);
        native_fields(&c, j, kind);
        gw_add_task(q, &c, j);
        gw_submit(q, &c);
    }
    cJSON_Delete(j);
}

/* --- answers ------------------------------------------------------------------------------ */

void gw_counters(const struct entry_answer *a, struct buf *b)
{
    for (int i = 0; i < ENTRY_NCOUNTERS; i++)
        if (a->counter[i].n)
            buf_printf(b, ",\"%s\":%.*s", entry_counter_names[i], (int)a->counter[i].n,
                       a->counter[i].p);
}

/* {"model":..,"created_at":.., */
static void line_head(const struct gw_req *q, struct buf *b)
{
    char t[40];

    gw_time(t);
    buf_puts(b, "{\"model\":");
    json_quote(b, q->model, strlen(q->model));
    buf_printf(b, ",\"created_at\":\"%s\",", t);
}

static void put_text(const struct gw_req *q, struct buf *b, const char *s, size_t n)
{
    if (q->kind == GW_CHAT) {
        buf_puts(b, "\"message\":{\"role\":\"assistant\",\"content\":");
        json_quote(b, s, n);
        buf_putc(b, '}');
    } else {
        buf_puts(b, "\"response\":");
        json_quote(b, s, n);
    }
}

/* A streamed line's text and thinking, as Ollama streams a thinking model: chat
 * "message":{"role":"assistant","content":D,"thinking":T}, generate "response":D,"thinking":T */
static void put_delta(const struct gw_req *q, struct buf *b, const struct entry_answer *a)
{
    if (q->kind == GW_CHAT) {
        buf_puts(b, "\"message\":{\"role\":\"assistant\",\"content\":");
        json_quote(b, a->delta.p, a->delta.n);
    } else {
        buf_puts(b, "\"response\":");
        json_quote(b, a->delta.p, a->delta.n);
    }
    if (a->thinking.n) {
        buf_puts(b, ",\"thinking\":");
        json_quote(b, a->thinking.p, a->thinking.n);
    }
    if (q->kind == GW_CHAT)
        buf_putc(b, '}');
}

static void native_chunk(struct gw_req *q, const struct entry_answer *a)
{
    struct buf b;

    if (!q->stream || (!a->delta.n && !a->thinking.n))
        return;
    buf_init(&b, GW_BODY_MAX);
    line_head(q, &b);
    put_delta(q, &b, a);
    q->thought += a->thinking.n;
    buf_puts(&b, ",\"done\":false}\n");
    if (gw_start(q, "application/x-ndjson") == 0)
        httpd_write_chunk(q->hr, buf_data(&b), buf_size(&b));
    q->streamed += a->delta.n;
    buf_release(&b);
}

/* The chat message of the final object: the worker's message JSON (tool calls, thinking),
 * its content emptied when the text went out in the stream already. */
static void put_message(const struct gw_req *q, struct buf *b, const struct entry_answer *a)
{
    cJSON *j = a->message.n ? cJSON_ParseWithLength(a->message.p, a->message.n) : NULL;
    char *s;

    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        put_text(q, b, a->response.p, q->streamed ? 0 : a->response.n);
        return;
    }
    if (q->streamed)
        cJSON_ReplaceItemInObjectCaseSensitive(j, "content", cJSON_CreateString(""));
    if (q->thought)
        cJSON_DeleteItemFromObjectCaseSensitive(j, "thinking");
    s = cJSON_PrintUnformatted(j);
    buf_puts(b, "\"message\":");
    buf_puts(b, s ? s : "{\"role\":\"assistant\",\"content\":\"\"}");
    cJSON_free(s);
    cJSON_Delete(j);
}

static void native_done(struct gw_req *q, const struct entry_answer *a)
{
    struct buf b;

    if (a->node.n)
        snprintf(q->node, sizeof(q->node), "%.*s", (int)a->node.n, a->node.p);
    if (!q->stream)
        gw_note_load(q, a);
    buf_init(&b, GW_BODY_MAX);
    line_head(q, &b);
    if (q->kind == GW_CHAT)
        put_message(q, &b, a);
    else
        put_text(q, &b, a->response.p, q->stream && q->streamed ? 0 : a->response.n);
    buf_puts(&b, ",\"done\":true,\"done_reason\":");
    json_quote(&b, a->done_reason.n ? a->done_reason.p : "stop",
               a->done_reason.n ? a->done_reason.n : 4);
    gw_counters(a, &b);
    if (!q->stream)
        gw_orion_obj(q, &b);
    gw_orch_obj(a, &b);
    buf_putc(&b, '}');
    if (q->stream) {
        buf_putc(&b, '\n');
        if (gw_start(q, "application/x-ndjson") == 0)
            httpd_write_chunk(q->hr, buf_data(&b), buf_size(&b));
        httpd_end(q->hr);
    } else {
        gw_answer(q, JSON_UTF8, buf_data(&b), buf_size(&b));
    }
    q->hr = NULL;
    buf_release(&b);
}

/* An orchestration's step ended (a streamed run): a line Ollama's clients read as an empty
 * piece of the answer, the step in orchestration_progress (a field they do not know). */
static void native_progress(struct gw_req *q, const struct entry_answer *a)
{
    struct buf b;

    if (!q->stream || !contract_json_ok(a->progress.p, a->progress.n, '{'))
        return;
    buf_init(&b, GW_BODY_MAX);
    line_head(q, &b);
    put_text(q, &b, "", 0);
    buf_puts(&b, ",\"done\":false,\"orchestration_progress\":");
    buf_append(&b, a->progress.p, a->progress.n);
    buf_puts(&b, "}\n");
    if (gw_start(q, "application/x-ndjson") == 0)
        httpd_write_chunk(q->hr, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

bool gw_native_entry(struct gw_req *q, const struct entry_answer *a)
{
    if (!q->hr)
        return true;
    switch (a->type) {
    case ENTRY_CHUNK:
        native_chunk(q, a);
        return false;
    case ENTRY_PROGRESS:
        native_progress(q, a);
        return false;
    case ENTRY_DONE:
        native_done(q, a);
        return true;
    case ENTRY_ERROR:
        gw_entry_error(q, a);
        return true;
    default:
        return false;
    }
}

void gw_add_chat_map(struct resp_cmd *c, const char *model, const struct chat_map *m)
{
    const char *const f[] = {"messages", m->messages, "options", m->options,
                             "tools",    m->tools,    "format",  m->format,
                             "think",    m->think};

    resp_cmd_adds(c, "model");
    resp_cmd_adds(c, model);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i += 2)
        if (f[i + 1]) {
            resp_cmd_adds(c, f[i]);
            resp_cmd_adds(c, f[i + 1]);
        }
}
