/* SPDX-License-Identifier: MIT */
/*
 * POST /v1/messages, Anthropic's Messages API as Ollama serves it: the request mapped onto a
 * chat request entry by chat_map_messages, the answer written as one message object
 * (content blocks thinking, text, tool_use; stop_reason; usage) or as Anthropic's named
 * events (message_start, content_block_start / _delta / _stop, message_delta, message_stop),
 * errors in Anthropic's shape ({"type":"error","error":{"type","message"},"request_id"}).
 * Anthropic's clients send their key as x-api-key: the front takes it as the bearer token.
 */
#include "gateway_int.h"

#include "orion/chat_map.h"
#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>

#define MS_MAX (64u * 1024 * 1024)

/* A message's state from the request to its last event. */
struct ms {
    long estimate; /* input tokens for message_start (Ollama's guess: bytes / 4) */
    int index;     /* the next content block */
    bool begun, open; /* message_start sent; a text block is open */
    bool think_open;  /* a thinking block is open: thinking deltas went out */
};

static const char *error_type(int status)
{
    switch (status) {
    case 400:
        return "invalid_request_error";
    case 401:
        return "authentication_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 429:
        return "rate_limit_error";
    case 503:
    case 529:
        return "overloaded_error";
    default:
        return "api_error";
    }
}

static void error_obj(struct buf *b, int status, const char *msg, const char *id)
{
    buf_printf(b, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":",
               error_type(status));
    json_quote(b, msg, strlen(msg));
    buf_putc(b, '}');
    if (id)
        buf_printf(b, ",\"request_id\":\"req_%s\"", id);
    buf_putc(b, '}');
}

void gw_messages_error(struct httpd_req *hr, int status, const char *msg)
{
    static unsigned long n;
    char id[32];
    struct buf b;

    snprintf(id, sizeof(id), "%lu", ++n);
    buf_init(&b, MS_MAX);
    error_obj(&b, status, msg, id);
    buf_putc(&b, '\n');
    gw_respond(hr, status, "application/json", NULL, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

static void event(struct gw_req *q, const char *type, const char *data)
{
    struct buf e;

    buf_init(&e, MS_MAX);
    buf_printf(&e, "event: %s\ndata: %s\n\n", type, data);
    if (gw_start(q, "text/event-stream") == 0)
        httpd_write_chunk(q->hr, buf_data(&e), buf_size(&e));
    buf_release(&e);
}

void gw_messages_fail(struct gw_req *q, int status, const char *msg)
{
    struct buf b;

    if (!q->started) {
        gw_messages_error(q->hr, status, msg);
        return;
    }
    buf_init(&b, MS_MAX);
    error_obj(&b, status, msg, NULL);
    event(q, "error", buf_data(&b));
    httpd_end(q->hr);
    buf_release(&b);
}

/* --- content blocks ----------------------------------------------------------------------- */

static const cJSON *calls_of(const cJSON *msg)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");

    return cJSON_IsArray(c) && cJSON_GetArraySize(c) ? c : NULL;
}

static const char *thinking_of(const cJSON *msg)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(msg, "thinking");

    return cJSON_IsString(t) && *t->valuestring ? t->valuestring : NULL;
}

/* {"type":"tool_use","id":..,"name":..,"input":ARGS} (input {} when with_input is false) */
static void tool_use(struct buf *b, const cJSON *c, int i, bool with_input)
{
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
    char *args = with_input ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(fn, "arguments"))
                            : NULL;

    buf_puts(b, "{\"type\":\"tool_use\",\"id\":");
    if (cJSON_IsString(id) && *id->valuestring)
        json_quote(b, id->valuestring, strlen(id->valuestring));
    else
        buf_printf(b, "\"call_%d\"", i);
    buf_puts(b, ",\"name\":");
    json_quote(b, cJSON_IsString(name) ? name->valuestring : "",
               cJSON_IsString(name) ? strlen(name->valuestring) : 0);
    buf_printf(b, ",\"input\":%s}", args ? args : "{}");
    cJSON_free(args);
}

static void usage(struct buf *b, const struct entry_answer *a)
{
    buf_printf(b, "\"usage\":{\"input_tokens\":%lld,\"output_tokens\":%lld}",
               entry_counter(a, ENTRY_PROMPT_EVAL_COUNT), entry_counter(a, ENTRY_EVAL_COUNT));
}

static void whole(struct gw_req *q, const struct entry_answer *a)
{
    cJSON *msg = a->message.n ? cJSON_ParseWithLength(a->message.p, a->message.n) : NULL;
    const cJSON *calls = calls_of(msg), *c;
    const char *sr = chat_map_stop_reason(a->done_reason.p, a->done_reason.n, calls != NULL);
    bool first = true;
    struct buf b;
    int i = 0;

    gw_note_load(q, a);
    buf_init(&b, MS_MAX);
    buf_printf(&b, "{\"id\":\"msg_%s\",\"type\":\"message\",\"role\":\"assistant\",\"model\":",
               q->id);
    json_quote(&b, q->model, strlen(q->model));
    buf_puts(&b, ",\"content\":[");
    if (thinking_of(msg)) {
        buf_puts(&b, "{\"type\":\"thinking\",\"thinking\":");
        json_quote(&b, thinking_of(msg), strlen(thinking_of(msg)));
        buf_putc(&b, '}');
        first = false;
    }
    if (a->response.n) {
        buf_puts(&b, first ? "{\"type\":\"text\",\"text\":" : ",{\"type\":\"text\",\"text\":");
        json_quote(&b, a->response.p, a->response.n);
        buf_putc(&b, '}');
        first = false;
    }
    cJSON_ArrayForEach(c, calls) {
        if (!first)
            buf_putc(&b, ',');
        tool_use(&b, c, i++, true);
        first = false;
    }
    buf_puts(&b, "],");
    if (sr)
        buf_printf(&b, "\"stop_reason\":\"%s\",", sr);
    usage(&b, a);
    gw_orion_obj(q, &b);
    buf_puts(&b, "}\n");
    gw_answer(q, "application/json", buf_data(&b), buf_size(&b));
    buf_release(&b);
    cJSON_Delete(msg);
}

/* --- the stream --------------------------------------------------------------------------- */

static void begin(struct gw_req *q)
{
    struct ms *s = q->ext;
    struct buf b;

    if (s->begun)
        return;
    s->begun = true;
    buf_init(&b, MS_MAX);
    buf_printf(&b, "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_%s\",\"type\":"
                   "\"message\",\"role\":\"assistant\",\"model\":", q->id);
    json_quote(&b, q->model, strlen(q->model));
    buf_printf(&b, ",\"content\":[],\"usage\":{\"input_tokens\":%ld,\"output_tokens\":0}}}",
               s->estimate);
    event(q, "message_start", buf_data(&b));
    buf_release(&b);
}

/* content_block_start with BLOCK, content_block_delta with DELTA: one block opened. */
static void block_open(struct gw_req *q, const char *block)
{
    struct ms *s = q->ext;
    struct buf b;

    buf_init(&b, MS_MAX);
    buf_printf(&b, "{\"type\":\"content_block_start\",\"index\":%d,\"content_block\":%s}",
               s->index, block);
    event(q, "content_block_start", buf_data(&b));
    buf_release(&b);
}

/* content_block_delta: {"type":TYPE,FIELD:text} */
static void block_delta(struct gw_req *q, const char *type, const char *field, const char *t,
                        size_t n)
{
    struct ms *s = q->ext;
    struct buf b;

    buf_init(&b, MS_MAX);
    buf_printf(&b, "{\"type\":\"content_block_delta\",\"index\":%d,\"delta\":{\"type\":\"%s\","
                   "\"%s\":", s->index, type, field);
    json_quote(&b, t, n);
    buf_puts(&b, "}}");
    event(q, "content_block_delta", buf_data(&b));
    buf_release(&b);
}

static void block_close(struct gw_req *q)
{
    struct ms *s = q->ext;
    char d[80];

    snprintf(d, sizeof(d), "{\"type\":\"content_block_stop\",\"index\":%d}", s->index++);
    event(q, "content_block_stop", d);
}

static void text_delta(struct gw_req *q, const char *t, size_t n)
{
    struct ms *s = q->ext;

    begin(q);
    if (s->think_open) {
        block_close(q);
        s->think_open = false;
    }
    if (!s->open) {
        s->open = true;
        block_open(q, "{\"type\":\"text\",\"text\":\"\"}");
    }
    block_delta(q, "text_delta", "text", t, n);
    q->streamed += n;
}

/* A streamed piece of thinking: a thinking block opens with the first (thinking after the
 * text began is not streamed: it comes with the answer). */
static void think_delta(struct gw_req *q, const char *t, size_t n)
{
    struct ms *s = q->ext;

    if (s->open)
        return;
    begin(q);
    if (!s->think_open) {
        s->think_open = true;
        block_open(q, "{\"type\":\"thinking\",\"thinking\":\"\"}");
    }
    block_delta(q, "thinking_delta", "thinking", t, n);
    q->thought += n;
}

/* The end: the open text block closes; thinking (handed over with the answer) and the text
 * when none was streamed; the tool calls; message_delta with the stop reason and usage. */
static void done_stream(struct gw_req *q, const struct entry_answer *a)
{
    struct ms *s = q->ext;
    cJSON *msg = a->message.n ? cJSON_ParseWithLength(a->message.p, a->message.n) : NULL;
    const cJSON *calls = calls_of(msg), *c;
    const char *sr = chat_map_stop_reason(a->done_reason.p, a->done_reason.n, calls != NULL);
    struct buf b;
    int i = 0;

    begin(q);
    buf_init(&b, MS_MAX);
    if (s->open || s->think_open) {
        block_close(q);
        s->open = s->think_open = false;
    }
    if (thinking_of(msg) && !q->thought) {
        block_open(q, "{\"type\":\"thinking\",\"thinking\":\"\"}");
        block_delta(q, "thinking_delta", "thinking", thinking_of(msg), strlen(thinking_of(msg)));
        block_close(q);
    }
    if (!q->streamed && a->response.n) {
        text_delta(q, a->response.p, a->response.n);
        block_close(q);
        s->open = false;
    }
    cJSON_ArrayForEach(c, calls) {
        char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(c, "function"), "arguments"));
        buf_reset(&b);
        tool_use(&b, c, i++, false);
        block_open(q, buf_data(&b));
        block_delta(q, "input_json_delta", "partial_json", args ? args : "{}",
                    strlen(args ? args : "{}"));
        block_close(q);
        cJSON_free(args);
    }
    buf_reset(&b);
    buf_puts(&b, "{\"type\":\"message_delta\",\"delta\":{");
    if (sr)
        buf_printf(&b, "\"stop_reason\":\"%s\"", sr);
    buf_puts(&b, "},");
    usage(&b, a);
    buf_putc(&b, '}');
    event(q, "message_delta", buf_data(&b));
    event(q, "message_stop", "{\"type\":\"message_stop\"}");
    if (gw_start(q, "text/event-stream") == 0)
        httpd_end(q->hr);
    buf_release(&b);
    cJSON_Delete(msg);
}

bool gw_messages_entry(struct gw_req *q, const struct entry_answer *a)
{
    if (!q->hr)
        return true;
    switch (a->type) {
    case ENTRY_CHUNK:
        if (q->stream && a->thinking.n)
            think_delta(q, a->thinking.p, a->thinking.n);
        if (q->stream && a->delta.n)
            text_delta(q, a->delta.p, a->delta.n);
        return false;
    case ENTRY_DONE:
        if (a->node.n)
            snprintf(q->node, sizeof(q->node), "%.*s", (int)a->node.n, a->node.p);
        if (q->stream)
            done_stream(q, a);
        else
            whole(q, a);
        q->hr = NULL;
        return true;
    case ENTRY_ERROR:
        gw_entry_error(q, a);
        return true;
    default:
        return false;
    }
}

/* --- the request -------------------------------------------------------------------------- */

static int submit(struct gateway *g, struct httpd_req *hr, const char *model,
                  const struct chat_map *m, const cJSON *body)
{
    struct gw_req *q = gw_req_new(g, hr, GW_MESSAGES, model);
    struct ms *s = q ? orion_calloc(1, sizeof(*s)) : NULL;
    struct resp_cmd c;

    if (!s) {
        if (q)
            gw_req_finish(q);
        return -1;
    }
    s->estimate = m->estimate;
    q->ext = s;
    q->ext_free = orion_free;
    q->stream = m->stream;
    gw_xadd_begin(q, &c);
    gw_add_chat_map(&c, q->model, m);
    gw_add_task(q, &c, body);
    gw_submit(q, &c);
    return 0;
}

void gw_messages_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    cJSON *j = gw_parse_body(hr, req, gw_messages_error);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const char *name;
    struct chat_map m;
    char msg[ORION_MODEL_MAX + 32];
    bool pick = false;

    if (!j)
        return;
    if (chat_map_messages(j, &m) < 0)
        gw_messages_error(hr, m.status, m.err);
    else if (strlen(model->valuestring) > ORION_MODEL_MAX)
        gw_messages_error(hr, 400, "invalid model name");
    else if (name = gw_model_name(model->valuestring, &pick), !pick && gw_model_unknown(g, name)) {
        snprintf(msg, sizeof(msg), "model '%.*s' not found", ORION_MODEL_MAX, name);
        gw_messages_error(hr, 404, msg);
    } else if (submit(g, hr, name, &m, j) < 0)
        gw_messages_error(hr, 500, "out of memory");
    chat_map_release(&m);
    cJSON_Delete(j);
}
