/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's OpenAI-compatible side: POST /v1/chat/completions mapped onto a chat
 * request entry as Ollama maps it (max_tokens -> num_predict, temperature and top_p default
 * 1.0, response_format -> format, reasoning_effort -> think), answered as one
 * chat.completion object or as Server-Sent Events in Ollama's current (>= v0.32.6) layout:
 * a role delta first, content deltas, a finish chunk, the usage chunk when asked, [DONE].
 */
#include "gateway_int.h"

#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OAI_MAX (64u * 1024 * 1024)

void gw_openai_not_found(struct httpd_req *hr, const char *model)
{
    char msg[ORION_MODEL_MAX + 32];

    snprintf(msg, sizeof(msg), "model '%.*s' not found", ORION_MODEL_MAX, model);
    gw_error_code(hr, true, "model_not_found", msg);
}

/* content as a string, or the text parts of an array joined; data: URLs to images. */
static void convert_content(cJSON *out, const cJSON *content)
{
    struct buf text;
    cJSON *images = NULL;
    const cJSON *part;

    if (!cJSON_IsArray(content)) {
        cJSON_AddItemToObject(out, "content", cJSON_IsString(content)
                                                  ? cJSON_CreateString(content->valuestring)
                                                  : cJSON_CreateString(""));
        return;
    }
    buf_init(&text, OAI_MAX);
    cJSON_ArrayForEach(part, content) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(part, "image_url"), "url");
        const char *comma;
        if (cJSON_IsString(t))
            buf_puts(&text, t->valuestring);
        if (cJSON_IsString(u) && !strncmp(u->valuestring, "data:", 5) &&
            (comma = strchr(u->valuestring, ','))) {
            if (!images)
                images = cJSON_AddArrayToObject(out, "images");
            cJSON_AddItemToArray(images, cJSON_CreateString(comma + 1));
        }
    }
    cJSON_AddItemToObject(out, "content", cJSON_CreateString(buf_data(&text)));
    buf_release(&text);
}

/* OpenAI tool calls (arguments a JSON string) as Ollama's (arguments an object). */
static void convert_tool_calls(cJSON *out, const cJSON *calls)
{
    cJSON *arr = cJSON_AddArrayToObject(out, "tool_calls");
    const cJSON *c;

    cJSON_ArrayForEach(c, calls) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
        cJSON *o = cJSON_CreateObject(), *f = cJSON_AddObjectToObject(o, "function");
        cJSON *a = cJSON_IsString(args) ? cJSON_Parse(args->valuestring) : NULL;
        cJSON_AddStringToObject(f, "name", cJSON_IsString(name) ? name->valuestring : "");
        cJSON_AddItemToObject(f, "arguments", a ? a : cJSON_CreateObject());
        cJSON_AddItemToArray(arr, o);
    }
}

static char *convert_messages(const cJSON *msgs)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *m;
    char *s;

    cJSON_ArrayForEach(m, msgs) {
        cJSON *o = cJSON_CreateObject();
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        cJSON_AddStringToObject(o, "role", cJSON_IsString(role) ? role->valuestring : "user");
        convert_content(o, cJSON_GetObjectItemCaseSensitive(m, "content"));
        if (cJSON_IsArray(calls))
            convert_tool_calls(o, calls);
        if (cJSON_IsString(name))
            cJSON_AddStringToObject(o, "tool_name", name->valuestring);
        cJSON_AddItemToArray(arr, o);
    }
    s = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    return s;
}

/* stop: a string becomes [string]; an array keeps its strings. Other elements are skipped
 * (chat) or refused (completions: -1), as Ollama does. */
static int add_stop(cJSON *o, const cJSON *stop, bool strict)
{
    cJSON *arr;
    const cJSON *e;

    if (!stop || cJSON_IsNull(stop))
        return 0;
    if (cJSON_IsString(stop)) {
        arr = cJSON_AddArrayToObject(o, "stop");
        cJSON_AddItemToArray(arr, cJSON_CreateString(stop->valuestring));
        return 0;
    }
    if (!cJSON_IsArray(stop))
        return strict ? -1 : 0;
    arr = cJSON_AddArrayToObject(o, "stop");
    cJSON_ArrayForEach(e, stop) {
        if (cJSON_IsString(e))
            cJSON_AddItemToArray(arr, cJSON_CreateString(e->valuestring));
        else if (strict)
            return -1;
    }
    return 0;
}

/* options out of the OpenAI fields: max_tokens -> num_predict, temperature and top_p default
 * 1.0; for completions the penalties are always sent (0 by default). -1: a bad stop (the
 * completions handler checks it first with stop_ok). */
static int add_options(struct resp_cmd *c, const cJSON *j, bool completion)
{
    static const char *const copy[] = {"seed", "frequency_penalty", "presence_penalty"};
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "max_tokens");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "temperature");
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(j, "top_p");
    cJSON *o = cJSON_CreateObject();
    char *s;

    if (cJSON_IsNumber(mt))
        cJSON_AddNumberToObject(o, "num_predict", mt->valuedouble);
    cJSON_AddNumberToObject(o, "temperature", cJSON_IsNumber(t) ? t->valuedouble : 1.0);
    cJSON_AddNumberToObject(o, "top_p", cJSON_IsNumber(tp) && tp->valuedouble > 0
                                            ? tp->valuedouble : 1.0);
    for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, copy[i]);
        if (v && !cJSON_IsNull(v))
            cJSON_AddItemToObject(o, copy[i], cJSON_Duplicate(v, 1));
        else if (completion && i > 0)
            cJSON_AddNumberToObject(o, copy[i], 0);
    }
    if (add_stop(o, cJSON_GetObjectItemCaseSensitive(j, "stop"), completion) < 0) {
        cJSON_Delete(o);
        return -1;
    }
    s = cJSON_PrintUnformatted(o);
    resp_cmd_adds(c, "options");
    resp_cmd_adds(c, s ? s : "{}");
    cJSON_free(s);
    cJSON_Delete(o);
    return 0;
}

static void add_format_think(struct resp_cmd *c, const cJSON *j)
{
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(j, "response_format");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rf, "type");
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(j, "reasoning_effort");
    const char *e;

    if (cJSON_IsString(type) && !strcmp(type->valuestring, "json_object")) {
        resp_cmd_adds(c, "format");
        resp_cmd_adds(c, "\"json\"");
    } else if (cJSON_IsString(type) && !strcmp(type->valuestring, "json_schema")) {
        gw_add_json(c, "format",
                    cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(rf, "json_schema"), "schema"));
    }
    if (!cJSON_IsString(re))
        return;
    e = re->valuestring;
    resp_cmd_adds(c, "think");
    resp_cmd_adds(c, !strcmp(e, "none")      ? "false"
                     : !strcmp(e, "minimal") ? "low"
                     : !strcmp(e, "xhigh") || !strcmp(e, "ultra") ? "max"
                                                                  : e);
}

void gw_openai_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    cJSON *j = gw_parse_body(hr, req, gw_openai_error);
    const cJSON *model, *msgs;
    const char *name = "";
    struct gw_req *q;
    struct resp_cmd c;
    char *m;
    bool pick = false;

    if (!j)
        return;
    model = cJSON_GetObjectItemCaseSensitive(j, "model");
    msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
    if (cJSON_IsString(model))
        name = gw_model_name(model->valuestring, &pick);
    if (!cJSON_IsString(model) || !*model->valuestring)
        gw_openai_error(hr, 400, "model is required");
    else if (strlen(model->valuestring) > ORION_MODEL_MAX)
        gw_openai_error(hr, 400, "invalid model name");
    else if (!cJSON_IsArray(msgs) || !cJSON_GetArraySize(msgs))
        gw_openai_error(hr, 400, "[] is too short - 'messages'");
    else if (!pick && gw_model_unknown(g, name))
        gw_openai_not_found(hr, name);
    else if (!(m = convert_messages(msgs)) || !(q = gw_req_new(g, hr, GW_OPENAI, name))) {
        cJSON_free(m);
        gw_openai_error(hr, 500, "out of memory");
    } else {
        q->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "stream"));
        q->usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "stream_options"), "include_usage"));
        gw_xadd_begin(q, &c);
        resp_cmd_adds(&c, "model");
        resp_cmd_adds(&c, q->model);
        resp_cmd_adds(&c, "messages");
        resp_cmd_adds(&c, m);
        cJSON_free(m);
        add_options(&c, j, false);
        add_format_think(&c, j);
        gw_add_json(&c, "tools", cJSON_GetObjectItemCaseSensitive(j, "tools"));
        gw_add_common(&c, j);
        gw_add_task(q, &c, j);
        gw_submit(q, &c);
    }
    cJSON_Delete(j);
}

/* --- answers ------------------------------------------------------------------------------ */

/* {"id":..,"object":OBJ,"created":..,"model":..,"system_fingerprint":"fp_ollama", */
static void obj_head(const struct gw_req *q, struct buf *b, const char *obj)
{
    buf_printf(b, "{\"id\":\"chatcmpl-%lu\",\"object\":\"%s\",\"created\":%lld,\"model\":", q->n,
               obj, q->created);
    json_quote(b, q->model, strlen(q->model));
    buf_puts(b, ",\"system_fingerprint\":\"fp_ollama\",");
}

static void sse(struct gw_req *q, struct buf *b) /* send "data: <b>\n\n" */
{
    struct buf e;

    buf_init(&e, OAI_MAX);
    buf_puts(&e, "data: ");
    buf_append(&e, buf_data(b), buf_size(b));
    buf_puts(&e, "\n\n");
    if (gw_start(q, "text/event-stream") == 0)
        httpd_write_chunk(q->hr, buf_data(&e), buf_size(&e));
    buf_release(&e);
}

/* ": <prefix><text>\n\n", a comment line of the event stream (text has no line break: it is
 * compact JSON). */
static void sse_comment(struct gw_req *q, const char *prefix, const char *text, size_t n)
{
    struct buf e;

    buf_init(&e, OAI_MAX);
    buf_puts(&e, ": ");
    buf_puts(&e, prefix);
    buf_append(&e, text, n);
    buf_puts(&e, "\n\n");
    if (!memchr(text, '\n', n) && !memchr(text, '\r', n) && gw_start(q, "text/event-stream") == 0)
        httpd_write_chunk(q->hr, buf_data(&e), buf_size(&e));
    buf_release(&e);
}

static void delta_chunk(struct gw_req *q, const char *d, size_t n)
{
    struct buf b;

    buf_init(&b, OAI_MAX);
    obj_head(q, &b, "chat.completion.chunk");
    buf_puts(&b, "\"choices\":[{\"index\":0,\"delta\":{");
    if (!q->streamed && !q->thought)
        buf_puts(&b, "\"role\":\"assistant\",");
    buf_puts(&b, "\"content\":");
    json_quote(&b, d, n);
    buf_puts(&b, "},\"finish_reason\":null}]}");
    sse(q, &b);
    q->streamed += n ? n : 1; /* the role went out */
    buf_release(&b);
}

/* A streamed piece of the model's reasoning: {"content":"","reasoning":T} (the role first). */
static void reasoning_chunk(struct gw_req *q, const char *t, size_t n)
{
    struct buf b;

    buf_init(&b, OAI_MAX);
    obj_head(q, &b, "chat.completion.chunk");
    buf_puts(&b, "\"choices\":[{\"index\":0,\"delta\":{");
    if (!q->streamed && !q->thought)
        buf_puts(&b, "\"role\":\"assistant\",");
    buf_puts(&b, "\"content\":\"\",\"reasoning\":");
    json_quote(&b, t, n);
    buf_puts(&b, "},\"finish_reason\":null}]}");
    sse(q, &b);
    q->thought += n;
    buf_release(&b);
}

static void usage(const struct entry_answer *a, struct buf *b)
{
    long long pt = entry_counter(a, ENTRY_PROMPT_EVAL_COUNT), et = entry_counter(a, ENTRY_EVAL_COUNT);

    buf_printf(b, "\"usage\":{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,"
                  "\"total_tokens\":%lld}", pt, et, pt + et);
}

/* Ollama's tool calls (arguments an object) as OpenAI's: NULL when there are none. */
static cJSON *tool_calls(const cJSON *msg)
{
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), *c;
    cJSON *out;
    int i = 0;

    if (!cJSON_IsArray(calls) || !cJSON_GetArraySize(calls))
        return NULL;
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(c, calls) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(fn, "arguments"));
        char id[32];
        cJSON *o = cJSON_CreateObject(), *f;
        snprintf(id, sizeof(id), "call_%d", i);
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddNumberToObject(o, "index", i++);
        cJSON_AddStringToObject(o, "type", "function");
        f = cJSON_AddObjectToObject(o, "function");
        cJSON_AddStringToObject(f, "name", cJSON_IsString(name) ? name->valuestring : "");
        cJSON_AddStringToObject(f, "arguments", args ? args : "{}");
        cJSON_free(args);
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

static void finish_reason(struct buf *b, const struct entry_answer *a, bool calls)
{
    size_t dn = a->done_reason.n;
    const char *d = a->done_reason.p;

    buf_puts(b, "\"finish_reason\":");
    if (calls && (!dn || !strncmp(d, "stop", dn)))
        buf_puts(b, "\"tool_calls\"");
    else
        json_quote(b, dn ? d : "stop", dn ? dn : 4);
}

/* The assistant message of a chat.completion: content, reasoning, tool_calls. */
static bool put_message(struct buf *b, const struct entry_answer *a)
{
    cJSON *j = a->message.n ? cJSON_ParseWithLength(a->message.p, a->message.n) : NULL;
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(j, "thinking");
    cJSON *calls = tool_calls(j);
    char *s = calls ? cJSON_PrintUnformatted(calls) : NULL;

    buf_puts(b, "\"message\":{\"role\":\"assistant\",\"content\":");
    json_quote(b, a->response.p, a->response.n);
    if (cJSON_IsString(th) && *th->valuestring) {
        buf_puts(b, ",\"reasoning\":");
        json_quote(b, th->valuestring, strlen(th->valuestring));
    }
    if (s)
        buf_printf(b, ",\"tool_calls\":%s", s);
    buf_putc(b, '}');
    cJSON_free(s);
    cJSON_Delete(calls);
    cJSON_Delete(j);
    return calls != NULL;
}

static void openai_done_whole(struct gw_req *q, const struct entry_answer *a)
{
    struct buf b;
    bool calls;

    buf_init(&b, OAI_MAX);
    gw_note_load(q, a);
    obj_head(q, &b, "chat.completion");
    buf_puts(&b, "\"choices\":[{\"index\":0,");
    calls = put_message(&b, a);
    buf_putc(&b, ',');
    finish_reason(&b, a, calls);
    buf_puts(&b, "}],");
    usage(a, &b);
    gw_orion_obj(q, &b);
    gw_orch_obj(a, &b);
    buf_puts(&b, "}\n");
    gw_answer(q, "application/json", buf_data(&b), buf_size(&b));
    buf_release(&b);
}

static void openai_done_stream(struct gw_req *q, const struct entry_answer *a)
{
    cJSON *j = a->message.n ? cJSON_ParseWithLength(a->message.p, a->message.n) : NULL;
    cJSON *calls = tool_calls(j);
    struct buf b;

    if (!q->streamed)
        delta_chunk(q, a->response.p, a->response.n);
    buf_init(&b, OAI_MAX);
    obj_head(q, &b, "chat.completion.chunk");
    buf_puts(&b, "\"choices\":[{\"index\":0,\"delta\":{");
    if (calls) {
        char *s = cJSON_PrintUnformatted(calls);
        buf_printf(&b, "\"tool_calls\":%s", s ? s : "[]");
        cJSON_free(s);
    }
    buf_puts(&b, "},");
    finish_reason(&b, a, calls != NULL);
    buf_puts(&b, "}]");
    gw_orch_obj(a, &b); /* an orchestrated run's report, as the whole answer carries it */
    buf_putc(&b, '}');
    sse(q, &b);
    if (q->usage) {
        buf_reset(&b);
        obj_head(q, &b, "chat.completion.chunk");
        buf_puts(&b, "\"choices\":[],");
        usage(a, &b);
        buf_putc(&b, '}');
        sse(q, &b);
    }
    if (gw_start(q, "text/event-stream") == 0)
        httpd_write_chunk(q->hr, "data: [DONE]\n\n", 14);
    httpd_end(q->hr);
    cJSON_Delete(calls);
    cJSON_Delete(j);
    buf_release(&b);
}

/* One callback entry for an OpenAI-shaped answer (chat or completions): chunks, the final
 * answer (streamed or whole) and errors, each API with its own writers. */
struct openai_writers {
    void (*chunk)(struct gw_req *q, const char *d, size_t n);
    void (*think)(struct gw_req *q, const char *t, size_t n); /* NULL: reasoning not streamed */
    void (*done_stream)(struct gw_req *q, const struct entry_answer *a);
    void (*done_whole)(struct gw_req *q, const struct entry_answer *a);
};

static bool openai_entry(struct gw_req *q, const struct entry_answer *a,
                         const struct openai_writers *w)
{
    if (!q->hr)
        return true;
    switch (a->type) {
    case ENTRY_CHUNK:
        if (q->stream && a->thinking.n && w->think)
            w->think(q, a->thinking.p, a->thinking.n);
        if (q->stream && a->delta.n)
            w->chunk(q, a->delta.p, a->delta.n);
        return false;
    case ENTRY_PROGRESS: /* an SSE comment: every SSE client skips it */
        if (q->stream && contract_json_ok(a->progress.p, a->progress.n, '{'))
            sse_comment(q, "orchestration_progress ", a->progress.p, a->progress.n);
        return false;
    case ENTRY_DONE:
        if (a->node.n)
            snprintf(q->node, sizeof(q->node), "%.*s", (int)a->node.n, a->node.p);
        if (q->stream)
            w->done_stream(q, a);
        else
            w->done_whole(q, a);
        q->hr = NULL;
        return true;
    case ENTRY_ERROR:
        gw_entry_error(q, a);
        return true;
    default:
        return false;
    }
}

bool gw_openai_entry(struct gw_req *q, const struct entry_answer *a)
{
    static const struct openai_writers chat = {delta_chunk, reasoning_chunk, openai_done_stream,
                                               openai_done_whole};

    return openai_entry(q, a, &chat);
}

/* --- /v1/completions ---------------------------------------------------------------------- */

static bool stop_ok(const cJSON *stop)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add_stop(o, stop, true) == 0;

    cJSON_Delete(o);
    return ok;
}

void gw_completion_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    cJSON *j = gw_parse_body(hr, req, gw_openai_error);
    const cJSON *model, *prompt;
    const char *name = "";
    struct gw_req *q;
    struct resp_cmd c;
    bool pick = false;

    if (!j)
        return;
    model = cJSON_GetObjectItemCaseSensitive(j, "model");
    prompt = cJSON_GetObjectItemCaseSensitive(j, "prompt");
    if (cJSON_IsString(model))
        name = gw_model_name(model->valuestring, &pick);
    if (!cJSON_IsString(model) || !*model->valuestring)
        gw_openai_error(hr, 400, "model is required");
    else if (strlen(model->valuestring) > ORION_MODEL_MAX)
        gw_openai_error(hr, 400, "invalid model name");
    else if (prompt && !cJSON_IsNull(prompt) && !cJSON_IsString(prompt))
        gw_openai_error(hr, 400, "prompt must be a string");
    else if (!stop_ok(cJSON_GetObjectItemCaseSensitive(j, "stop")))
        gw_openai_error(hr, 400, "invalid type for 'stop' field: want a string or strings");
    else if (!pick && gw_model_unknown(g, name))
        gw_openai_not_found(hr, name);
    else if (!(q = gw_req_new(g, hr, GW_COMPLETION, name)))
        gw_openai_error(hr, 500, "out of memory");
    else {
        q->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "stream"));
        q->usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "stream_options"), "include_usage"));
        gw_xadd_begin(q, &c);
        resp_cmd_adds(&c, "model");
        resp_cmd_adds(&c, q->model);
        resp_cmd_adds(&c, "prompt");
        resp_cmd_adds(&c, cJSON_IsString(prompt) ? prompt->valuestring : "");
        add_options(&c, j, true);
        gw_add_suffix(&c, j);
        gw_add_common(&c, j);
        gw_add_task(q, &c, j);
        gw_submit(q, &c);
    }
    cJSON_Delete(j);
}

/* {"id":"cmpl-N","object":"text_completion","created":..,  then the caller's order */
static void cmpl_head(const struct gw_req *q, struct buf *b)
{
    buf_printf(b, "{\"id\":\"cmpl-%lu\",\"object\":\"text_completion\",\"created\":%lld,", q->n,
               q->created);
}

static void cmpl_tail(const struct gw_req *q, struct buf *b) /* ,"model":..,"system_fp.." */
{
    buf_puts(b, ",\"model\":");
    json_quote(b, q->model, strlen(q->model));
    buf_puts(b, ",\"system_fingerprint\":\"fp_ollama\"");
}

/* One streamed chunk: text, finish_reason (NULL: null); with include_usage the zero usage
 * Ollama puts on every chunk. */
/* A text_completion chunk: text d, finish_reason fin (NULL: null) and, on the finishing one,
 * an orchestrated run's report from a (NULL: none). */
static void cmpl_chunk(struct gw_req *q, const char *d, size_t n, const char *fin, size_t fn,
                       const struct entry_answer *a)
{
    struct buf b;

    buf_init(&b, OAI_MAX);
    cmpl_head(q, &b);
    buf_puts(&b, "\"choices\":[{\"text\":");
    json_quote(&b, d, n);
    buf_puts(&b, ",\"index\":0,\"finish_reason\":");
    if (fin)
        json_quote(&b, fin, fn);
    else
        buf_puts(&b, "null");
    buf_puts(&b, "}]");
    cmpl_tail(q, &b);
    if (q->usage)
        buf_puts(&b, ",\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}");
    if (a)
        gw_orch_obj(a, &b);
    buf_putc(&b, '}');
    sse(q, &b);
    q->streamed += n;
    buf_release(&b);
}

static void cmpl_done_stream(struct gw_req *q, const struct entry_answer *a)
{
    size_t dn = a->done_reason.n, rn = a->response.n;
    const char *reason = a->done_reason.p, *resp = a->response.p;
    struct buf b;

    if (!q->streamed && rn)
        cmpl_chunk(q, resp, rn, NULL, 0, NULL); /* the text came in one piece */
    cmpl_chunk(q, "", 0, dn ? reason : "stop", dn ? dn : 4, a);
    if (q->usage) {
        buf_init(&b, OAI_MAX);
        cmpl_head(q, &b);
        buf_puts(&b, "\"choices\":[]");
        cmpl_tail(q, &b);
        buf_putc(&b, ',');
        usage(a, &b);
        buf_putc(&b, '}');
        sse(q, &b);
        buf_release(&b);
    }
    if (gw_start(q, "text/event-stream") == 0)
        httpd_write_chunk(q->hr, "data: [DONE]\n\n", 14);
    httpd_end(q->hr);
}

static void cmpl_done_whole(struct gw_req *q, const struct entry_answer *a)
{
    size_t dn = a->done_reason.n, rn = a->response.n;
    const char *reason = a->done_reason.p, *resp = a->response.p;
    struct buf b;

    gw_note_load(q, a);
    buf_init(&b, OAI_MAX);
    cmpl_head(q, &b);
    buf_puts(&b, "\"model\":");
    json_quote(&b, q->model, strlen(q->model));
    buf_puts(&b, ",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"text\":");
    json_quote(&b, resp, rn);
    buf_puts(&b, ",\"index\":0,\"finish_reason\":");
    json_quote(&b, dn ? reason : "stop", dn ? dn : 4);
    buf_puts(&b, "}],");
    usage(a, &b);
    gw_orion_obj(q, &b);
    gw_orch_obj(a, &b);
    buf_puts(&b, "}\n");
    gw_answer(q, "application/json", buf_data(&b), buf_size(&b));
    buf_release(&b);
}

static void cmpl_delta(struct gw_req *q, const char *d, size_t n)
{
    cmpl_chunk(q, d, n, NULL, 0, NULL);
}

bool gw_completion_entry(struct gw_req *q, const struct entry_answer *a)
{
    static const struct openai_writers cmpl = {cmpl_delta, NULL, cmpl_done_stream,
                                               cmpl_done_whole};

    return openai_entry(q, a, &cmpl);
}
