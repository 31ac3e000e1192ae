/* SPDX-License-Identifier: MIT */
/*
 * POST /v1/responses, OpenAI's Responses API as Ollama serves it (stateless): the request
 * mapped onto a chat request entry by chat_map_responses, the answer written as one response
 * object or as Ollama's stream of named events (response.created, response.in_progress, the
 * items' added / delta / done events, response.completed), every event numbered by
 * sequence_number. Output items: a reasoning item when the model thought, function_call
 * items when it called tools, else a message item with the text.
 */
#include "gateway_int.h"

#include "orion/chat_map.h"
#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>

#define RS_MAX (64u * 1024 * 1024)

/* A response's state from the request to its last event. */
struct rs {
    char *echo, *echo_end; /* the request's fields a response object repeats (chat_map) */
    struct buf items;      /* the finished output items, comma separated */
    struct buf thinking;   /* the reasoning streamed so far */
    int seq, index;        /* the next sequence_number and output_index */
    bool open;             /* a message item is open: text deltas went out */
    bool think_open;       /* a reasoning item is open: reasoning deltas went out */
};

static void rs_free(void *p)
{
    struct rs *s = p;

    if (!s)
        return;
    orion_free(s->echo);
    orion_free(s->echo_end);
    buf_release(&s->items);
    buf_release(&s->thinking);
    orion_free(s);
}

/* {"id":"resp_..","object":"response",...,"output":[ITEMS],...,"usage":U,...} */
static void object(const struct gw_req *q, const struct rs *s, struct buf *b, const char *status,
                   const char *items, const struct entry_answer *usage)
{
    long long now = (long long)(loop_wall_ms() / 1000);

    buf_printf(b, "{\"id\":\"resp_%s\",\"object\":\"response\",\"created_at\":%lld,", q->id,
               q->created);
    if (usage)
        buf_printf(b, "\"completed_at\":%lld,", now);
    else
        buf_puts(b, "\"completed_at\":null,");
    buf_printf(b, "\"status\":\"%s\",\"incomplete_details\":null,\"model\":", status);
    json_quote(b, q->model, strlen(q->model));
    buf_printf(b, ",\"previous_response_id\":null,\"output\":[%s],\"error\":null%s", items,
               s->echo);
    if (usage) {
        long long in = entry_counter(usage, ENTRY_PROMPT_EVAL_COUNT);
        long long out = entry_counter(usage, ENTRY_EVAL_COUNT);
        buf_printf(b, ",\"usage\":{\"input_tokens\":%lld,\"output_tokens\":%lld,"
                      "\"total_tokens\":%lld,\"input_tokens_details\":{\"cached_tokens\":0},"
                      "\"output_tokens_details\":{\"reasoning_tokens\":0}}",
                   in, out, in + out);
    } else
        buf_puts(b, ",\"usage\":null");
    buf_puts(b, s->echo_end);
}

/* --- output items ------------------------------------------------------------------------- */

static void item_reasoning(const struct gw_req *q, struct buf *b, const char *t)
{
    buf_printf(b, "{\"id\":\"rs_%s\",\"type\":\"reasoning\",\"summary\":[{\"type\":"
                  "\"summary_text\",\"text\":", q->id);
    json_quote(b, t, strlen(t));
    buf_puts(b, "}],\"encrypted_content\":");
    json_quote(b, t, strlen(t));
    buf_putc(b, '}');
}

static void text_part(struct buf *b, const char *t, size_t n)
{
    buf_puts(b, "{\"type\":\"output_text\",\"text\":");
    json_quote(b, t, n);
    buf_puts(b, ",\"annotations\":[],\"logprobs\":[]}");
}

static void item_message(const struct gw_req *q, struct buf *b, const char *status,
                         const char *t, size_t n, bool with_part)
{
    buf_printf(b, "{\"id\":\"msg_%s\",\"type\":\"message\",\"status\":\"%s\",\"role\":"
                  "\"assistant\",\"content\":[", q->id, status);
    if (with_part)
        text_part(b, t, n);
    buf_puts(b, "]}");
}

/* Function call i of the answer: its call id (Ollama's, or call_<i>), name, arguments. */
static void item_call(const struct gw_req *q, struct buf *b, const cJSON *call, int i,
                      const char *status, bool with_args)
{
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(call, "id");
    char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(fn, "arguments"));

    buf_printf(b, "{\"id\":\"fc_%s_%d\",\"type\":\"function_call\",\"status\":\"%s\","
                  "\"call_id\":", q->id, i, status);
    if (cJSON_IsString(id) && *id->valuestring)
        json_quote(b, id->valuestring, strlen(id->valuestring));
    else
        buf_printf(b, "\"call_%d\"", i);
    buf_puts(b, ",\"name\":");
    json_quote(b, cJSON_IsString(name) ? name->valuestring : "",
               cJSON_IsString(name) ? strlen(name->valuestring) : 0);
    buf_puts(b, ",\"arguments\":");
    json_quote(b, with_args && args ? args : (with_args ? "{}" : ""),
               with_args ? strlen(args ? args : "{}") : 0);
    buf_putc(b, '}');
    cJSON_free(args);
}

static const char *thinking_of(const cJSON *msg)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(msg, "thinking");

    return cJSON_IsString(t) && *t->valuestring ? t->valuestring : NULL;
}

static const cJSON *calls_of(const cJSON *msg)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");

    return cJSON_IsArray(c) && cJSON_GetArraySize(c) ? c : NULL;
}

/* Items in a list: a comma before every item but the first. */
static void sep(struct buf *b)
{
    if (buf_size(b))
        buf_putc(b, ',');
}

static void whole(struct gw_req *q, const struct entry_answer *a)
{
    struct rs *s = q->ext;
    cJSON *msg = a->message.n ? cJSON_ParseWithLength(a->message.p, a->message.n) : NULL;
    const cJSON *calls = calls_of(msg), *c;
    struct buf items, b;
    int i = 0;

    gw_note_load(q, a);
    buf_init(&items, RS_MAX);
    buf_init(&b, RS_MAX);
    if (thinking_of(msg))
        item_reasoning(q, &items, thinking_of(msg));
    cJSON_ArrayForEach(c, calls) {
        sep(&items);
        item_call(q, &items, c, i++, "completed", true);
    }
    if (!calls) {
        sep(&items);
        item_message(q, &items, "completed", a->response.p, a->response.n, true);
    }
    object(q, s, &b, "completed", buf_data(&items), a);
    gw_orion_obj(q, &b);
    buf_puts(&b, "}\n");
    gw_answer(q, "application/json", buf_data(&b), buf_size(&b));
    buf_release(&items);
    buf_release(&b);
    cJSON_Delete(msg);
}

/* --- the stream --------------------------------------------------------------------------- */

/* "event: TYPE\ndata: {"type":TYPE,"sequence_number":N,BODY}\n\n" */
static void event(struct gw_req *q, const char *type, const char *body)
{
    struct rs *s = q->ext;
    struct buf e;

    buf_init(&e, RS_MAX);
    buf_printf(&e, "event: %s\ndata: {\"type\":\"%s\",\"sequence_number\":%d,%s}\n\n", type,
               type, s->seq++, body);
    if (gw_start(q, "text/event-stream") == 0)
        httpd_write_chunk(q->hr, buf_data(&e), buf_size(&e));
    buf_release(&e);
}

/* response.created and response.in_progress, before anything else. */
static void begin(struct gw_req *q)
{
    struct rs *s = q->ext;
    struct buf b;

    if (s->seq)
        return;
    buf_init(&b, RS_MAX);
    buf_puts(&b, "\"response\":");
    object(q, s, &b, "in_progress", "", NULL);
    buf_putc(&b, '}');
    event(q, "response.created", buf_data(&b));
    event(q, "response.in_progress", buf_data(&b));
    buf_release(&b);
}

/* item.added or item.done: "output_index":I,"item":ITEM */
static void item_event(struct gw_req *q, const char *type, int index, const char *item)
{
    struct buf b;

    buf_init(&b, RS_MAX);
    buf_printf(&b, "\"output_index\":%d,\"item\":%s", index, item);
    event(q, type, buf_data(&b));
    buf_release(&b);
}

static void think_close(struct gw_req *q);

static void text_delta(struct gw_req *q, const char *d, size_t n)
{
    struct rs *s = q->ext;
    struct buf b;

    begin(q);
    think_close(q);
    buf_init(&b, RS_MAX);
    if (!s->open) {
        s->open = true;
        item_message(q, &b, "in_progress", "", 0, false);
        item_event(q, "response.output_item.added", s->index, buf_data(&b));
        buf_reset(&b);
        buf_printf(&b, "\"item_id\":\"msg_%s\",\"output_index\":%d,\"content_index\":0,"
                       "\"part\":", q->id, s->index);
        text_part(&b, "", 0);
        event(q, "response.content_part.added", buf_data(&b));
        buf_reset(&b);
    }
    buf_printf(&b, "\"item_id\":\"msg_%s\",\"output_index\":%d,\"content_index\":0,\"delta\":",
               q->id, s->index);
    json_quote(&b, d, n);
    buf_puts(&b, ",\"logprobs\":[]");
    event(q, "response.output_text.delta", buf_data(&b));
    q->streamed += n;
    buf_release(&b);
}

/* The open message item ends with the whole text t. */
static void text_close(struct gw_req *q, const char *t, size_t n)
{
    struct rs *s = q->ext;
    struct buf b;

    buf_init(&b, RS_MAX);
    buf_printf(&b, "\"item_id\":\"msg_%s\",\"output_index\":%d,\"content_index\":0,\"text\":",
               q->id, s->index);
    json_quote(&b, t, n);
    buf_puts(&b, ",\"logprobs\":[]");
    event(q, "response.output_text.done", buf_data(&b));
    buf_reset(&b);
    buf_printf(&b, "\"item_id\":\"msg_%s\",\"output_index\":%d,\"content_index\":0,\"part\":",
               q->id, s->index);
    text_part(&b, t, n);
    event(q, "response.content_part.done", buf_data(&b));
    buf_reset(&b);
    item_message(q, &b, "completed", t, n, true);
    item_event(q, "response.output_item.done", s->index++, buf_data(&b));
    sep(&s->items);
    buf_append(&s->items, buf_data(&b), buf_size(&b));
    s->open = false;
    buf_release(&b);
}

static void reasoning(struct gw_req *q, const char *t)
{
    struct rs *s = q->ext;
    struct buf b;

    buf_init(&b, RS_MAX);
    buf_printf(&b, "{\"id\":\"rs_%s\",\"type\":\"reasoning\",\"summary\":[]}", q->id);
    item_event(q, "response.output_item.added", s->index, buf_data(&b));
    buf_reset(&b);
    buf_printf(&b, "\"item_id\":\"rs_%s\",\"output_index\":%d,\"summary_index\":0,\"delta\":",
               q->id, s->index);
    json_quote(&b, t, strlen(t));
    event(q, "response.reasoning_summary_text.delta", buf_data(&b));
    buf_reset(&b);
    buf_printf(&b, "\"item_id\":\"rs_%s\",\"output_index\":%d,\"summary_index\":0,\"text\":",
               q->id, s->index);
    json_quote(&b, t, strlen(t));
    event(q, "response.reasoning_summary_text.done", buf_data(&b));
    buf_reset(&b);
    item_reasoning(q, &b, t);
    item_event(q, "response.output_item.done", s->index++, buf_data(&b));
    sep(&s->items);
    buf_append(&s->items, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

/* A streamed piece of reasoning: the reasoning item opens with the first. Reasoning after the
 * text began is not streamed (it comes with the answer, as an item after the message). */
static void think_delta(struct gw_req *q, const char *t, size_t n)
{
    struct rs *s = q->ext;
    struct buf b;

    if (s->open)
        return;
    begin(q);
    buf_init(&b, RS_MAX);
    if (!s->think_open) {
        s->think_open = true;
        buf_printf(&b, "{\"id\":\"rs_%s\",\"type\":\"reasoning\",\"summary\":[]}", q->id);
        item_event(q, "response.output_item.added", s->index, buf_data(&b));
        buf_reset(&b);
    }
    buf_printf(&b, "\"item_id\":\"rs_%s\",\"output_index\":%d,\"summary_index\":0,\"delta\":",
               q->id, s->index);
    json_quote(&b, t, n);
    event(q, "response.reasoning_summary_text.delta", buf_data(&b));
    buf_append(&s->thinking, t, n);
    q->thought += n;
    buf_release(&b);
}

/* The streamed reasoning item ends: its whole text, the item done. */
static void think_close(struct gw_req *q)
{
    struct rs *s = q->ext;
    struct buf b;

    if (!s->think_open)
        return;
    s->think_open = false;
    buf_init(&b, RS_MAX);
    buf_printf(&b, "\"item_id\":\"rs_%s\",\"output_index\":%d,\"summary_index\":0,\"text\":",
               q->id, s->index);
    json_quote(&b, buf_data(&s->thinking), buf_size(&s->thinking));
    event(q, "response.reasoning_summary_text.done", buf_data(&b));
    buf_reset(&b);
    item_reasoning(q, &b, buf_data(&s->thinking));
    item_event(q, "response.output_item.done", s->index++, buf_data(&b));
    sep(&s->items);
    buf_append(&s->items, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

static void call(struct gw_req *q, const cJSON *c, int i)
{
    struct rs *s = q->ext;
    char *args = cJSON_PrintUnformatted(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "function"),
                                         "arguments"));
    const char *as = args ? args : "{}";
    struct buf b;

    buf_init(&b, RS_MAX);
    item_call(q, &b, c, i, "in_progress", false);
    item_event(q, "response.output_item.added", s->index, buf_data(&b));
    buf_reset(&b);
    buf_printf(&b, "\"item_id\":\"fc_%s_%d\",\"output_index\":%d,\"delta\":", q->id, i, s->index);
    json_quote(&b, as, strlen(as));
    event(q, "response.function_call_arguments.delta", buf_data(&b));
    buf_reset(&b);
    buf_printf(&b, "\"item_id\":\"fc_%s_%d\",\"output_index\":%d,\"arguments\":", q->id, i,
               s->index);
    json_quote(&b, as, strlen(as));
    event(q, "response.function_call_arguments.done", buf_data(&b));
    buf_reset(&b);
    item_call(q, &b, c, i, "completed", true);
    item_event(q, "response.output_item.done", s->index++, buf_data(&b));
    sep(&s->items);
    buf_append(&s->items, buf_data(&b), buf_size(&b));
    cJSON_free(args);
    buf_release(&b);
}

/* The end: the streamed reasoning item closes, or the answer's reasoning comes first unless
 * text went out already; then the tool calls or the text, then response.completed. */
static void done_stream(struct gw_req *q, const struct entry_answer *a)
{
    struct rs *s = q->ext;
    cJSON *msg = a->message.n ? cJSON_ParseWithLength(a->message.p, a->message.n) : NULL;
    const cJSON *calls = calls_of(msg), *c;
    struct buf b;
    int i = 0;

    begin(q);
    think_close(q);
    if (s->open)
        text_close(q, a->response.p, a->response.n);
    if (thinking_of(msg) && !q->thought)
        reasoning(q, thinking_of(msg));
    cJSON_ArrayForEach(c, calls)
        call(q, c, i++);
    if (!calls && !q->streamed && a->response.n) {
        text_delta(q, a->response.p, a->response.n);
        text_close(q, a->response.p, a->response.n);
    }
    buf_init(&b, RS_MAX);
    buf_puts(&b, "\"response\":");
    object(q, s, &b, "completed", buf_data(&s->items), a);
    buf_putc(&b, '}');
    event(q, "response.completed", buf_data(&b));
    if (gw_start(q, "text/event-stream") == 0)
        httpd_end(q->hr);
    buf_release(&b);
    cJSON_Delete(msg);
}

bool gw_responses_entry(struct gw_req *q, const struct entry_answer *a)
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

static int submit(struct gateway *g, struct httpd_req *hr, const char *model, struct chat_map *m,
                  const cJSON *body)
{
    struct gw_req *q = gw_req_new(g, hr, GW_RESPONSES, model);
    struct rs *s = q ? orion_calloc(1, sizeof(*s)) : NULL;
    struct resp_cmd c;

    if (!s) {
        if (q)
            gw_req_finish(q);
        return -1;
    }
    buf_init(&s->items, RS_MAX);
    buf_init(&s->thinking, RS_MAX);
    s->echo = m->echo;
    s->echo_end = m->echo_end;
    m->echo = m->echo_end = NULL;
    q->ext = s;
    q->ext_free = rs_free;
    q->stream = m->stream;
    gw_xadd_begin(q, &c);
    gw_add_chat_map(&c, q->model, m);
    gw_add_task(q, &c, body);
    gw_submit(q, &c);
    return 0;
}

void gw_responses_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    cJSON *j = gw_parse_body(hr, req, gw_openai_error);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const char *name;
    struct chat_map m;
    bool pick = false;

    if (!j)
        return;
    if (chat_map_responses(j, &m) < 0)
        gw_openai_error(hr, m.status, m.err);
    else if (strlen(model->valuestring) > ORION_MODEL_MAX)
        gw_openai_error(hr, 400, "invalid model name");
    else if (name = gw_model_name(model->valuestring, &pick), !pick && gw_model_unknown(g, name))
        gw_openai_not_found(hr, name);
    else if (submit(g, hr, name, &m, j) < 0)
        gw_openai_error(hr, 500, "out of memory");
    chat_map_release(&m);
    cJSON_Delete(j);
}
