/* SPDX-License-Identifier: MIT */
/*
 * Anthropic's Messages request (POST /v1/messages) as Ollama's chat request, mapped as
 * Ollama's anthropic/anthropic.go maps it: system (a string or text blocks) -> a system
 * message; content blocks text, image (base64), tool_use, tool_result, thinking; max_tokens
 * -> num_predict, temperature, top_p, top_k, stop_sequences -> stop; tools' input_schema ->
 * parameters; thinking.type and output_config.effort -> think.
 */
#include "orion/chat_map.h"

#include "orion/buf.h"

#include "cJSON.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define GET(o, k) cJSON_GetObjectItemCaseSensitive(o, k)

static int fail(struct chat_map *m, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m->err, sizeof(m->err), fmt, ap);
    va_end(ap);
    m->status = status;
    return -1;
}

static const char *str_or(const cJSON *v, const char *dflt)
{
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static bool is(const cJSON *v, const char *s) { return !strcmp(str_or(v, ""), s); }

static const cJSON *arr(const cJSON *v) { return cJSON_IsArray(v) ? v : NULL; }

/* An image block's base64 data; only base64 sources, as Ollama. */
static const char *image_source(struct chat_map *m, const cJSON *src)
{
    if (!cJSON_IsObject(src)) {
        fail(m, 400, "invalid image source");
        return NULL;
    }
    if (!is(GET(src, "type"), "base64")) {
        fail(m, 400, "invalid image source type: %.40s. Only base64 images are supported.",
             str_or(GET(src, "type"), ""));
        return NULL;
    }
    return str_or(GET(src, "data"), "");
}

static void add_image(cJSON *msg, const char *data)
{
    if (!cJSON_IsArray(GET(msg, "images")))
        cJSON_AddArrayToObject(msg, "images");
    cJSON_AddItemToArray(GET(msg, "images"), cJSON_CreateString(data));
}

/* A tool_result's content (a string or text and image blocks) into a tool message. */
static int tool_result(struct chat_map *m, cJSON *results, const cJSON *blk)
{
    const cJSON *c = GET(blk, "content"), *p;
    cJSON *msg = cJSON_CreateObject();
    struct buf t;
    const char *img;

    buf_init(&t, 1u << 30);
    if (cJSON_IsString(c))
        buf_puts(&t, c->valuestring);
    cJSON_ArrayForEach(p, arr(c)) {
        if (is(GET(p, "type"), "text"))
            buf_puts(&t, str_or(GET(p, "text"), ""));
        else if (is(GET(p, "type"), "image")) {
            if (!cJSON_IsObject(GET(p, "source"))) {
                buf_release(&t);
                cJSON_Delete(msg);
                return fail(m, 400, "invalid tool_result image source");
            }
            if (!(img = image_source(m, GET(p, "source")))) {
                buf_release(&t);
                cJSON_Delete(msg);
                return -1;
            }
            add_image(msg, img);
        }
    }
    cJSON_AddStringToObject(msg, "role", "tool");
    cJSON_AddStringToObject(msg, "content", buf_data(&t));
    if (*str_or(GET(blk, "tool_use_id"), ""))
        cJSON_AddStringToObject(msg, "tool_call_id", GET(blk, "tool_use_id")->valuestring);
    cJSON_AddItemToArray(results, msg);
    buf_release(&t);
    return 0;
}

static void tool_call(cJSON *calls, const cJSON *blk)
{
    const cJSON *in = GET(blk, "input");
    cJSON *c = cJSON_CreateObject(), *fn;

    if (*str_or(GET(blk, "id"), ""))
        cJSON_AddStringToObject(c, "id", GET(blk, "id")->valuestring);
    fn = cJSON_AddObjectToObject(c, "function");
    cJSON_AddStringToObject(fn, "name", str_or(GET(blk, "name"), ""));
    cJSON_AddItemToObject(fn, "arguments",
                          cJSON_IsObject(in) ? cJSON_Duplicate(in, 1) : cJSON_CreateObject());
    cJSON_AddItemToArray(calls, c);
}

/* One block of a message into msg (text, images, tool calls, thinking) or results. */
static int block(struct chat_map *m, cJSON *msg, struct buf *text, cJSON *calls, cJSON *results,
                 const cJSON *blk)
{
    const char *type = str_or(GET(blk, "type"), ""), *img;

    if (!strcmp(type, "text"))
        buf_puts(text, str_or(GET(blk, "text"), ""));
    else if (!strcmp(type, "image")) {
        if (!(img = image_source(m, GET(blk, "source"))))
            return -1;
        add_image(msg, img);
    } else if (!strcmp(type, "tool_use")) {
        if (!*str_or(GET(blk, "id"), ""))
            return fail(m, 400, "tool_use block missing required 'id' field");
        if (!*str_or(GET(blk, "name"), ""))
            return fail(m, 400, "tool_use block missing required 'name' field");
        tool_call(calls, blk);
    } else if (!strcmp(type, "server_tool_use"))
        tool_call(calls, blk);
    else if (!strcmp(type, "tool_result"))
        return tool_result(m, results, blk);
    else if (!strcmp(type, "thinking") && cJSON_IsString(GET(blk, "thinking"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(msg, "thinking");
        cJSON_AddStringToObject(msg, "thinking", GET(blk, "thinking")->valuestring);
    }
    return 0;
}

static void append_all(cJSON *to, cJSON *from)
{
    cJSON *e;

    while ((e = cJSON_DetachItemFromArray(from, 0)))
        cJSON_AddItemToArray(to, e);
}

/* One message: its tool results (first for a user message, as Ollama), then the message
 * itself when it carries text, images, tool calls or thinking. */
static int message(struct chat_map *m, cJSON *msgs, const cJSON *mp)
{
    const cJSON *content = GET(mp, "content"), *blk;
    cJSON *msg = cJSON_CreateObject(), *calls = cJSON_CreateArray(), *results = cJSON_CreateArray();
    char role[32];
    struct buf text;
    int rc = 0;

    snprintf(role, sizeof(role), "%s", str_or(GET(mp, "role"), ""));
    for (char *p = role; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    buf_init(&text, 1u << 30);
    if (cJSON_IsString(content))
        buf_puts(&text, content->valuestring);
    else if (!cJSON_IsArray(content))
        rc = fail(m, 400, "messages: content must be a string or an array of content blocks");
    cJSON_ArrayForEach(blk, arr(content))
        if (rc == 0)
            rc = block(m, msg, &text, calls, results, blk);
    if (rc == 0 && !strcmp(role, "user"))
        append_all(msgs, results);
    if (rc == 0 && (buf_size(&text) || GET(msg, "images") || cJSON_GetArraySize(calls) ||
                    GET(msg, "thinking"))) {
        cJSON_AddStringToObject(msg, "role", role);
        cJSON_AddStringToObject(msg, "content", buf_data(&text));
        if (cJSON_GetArraySize(calls)) {
            cJSON_AddItemToObject(msg, "tool_calls", calls);
            calls = NULL;
        }
        cJSON_AddItemToArray(msgs, msg);
        msg = NULL;
    }
    if (rc == 0)
        append_all(msgs, results);
    buf_release(&text);
    cJSON_Delete(msg);
    cJSON_Delete(calls);
    cJSON_Delete(results);
    return rc;
}

/* system: a string, or the text of its text blocks. */
static void system_msg(cJSON *msgs, const cJSON *sys, long *len)
{
    struct buf t;
    const cJSON *b;
    cJSON *msg;

    buf_init(&t, 1u << 30);
    if (cJSON_IsString(sys))
        buf_puts(&t, sys->valuestring);
    cJSON_ArrayForEach(b, arr(sys))
        if (is(GET(b, "type"), "text"))
            buf_puts(&t, str_or(GET(b, "text"), ""));
    *len += (long)buf_size(&t);
    if (buf_size(&t)) {
        msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "role", "system");
        cJSON_AddStringToObject(msg, "content", buf_data(&t));
        cJSON_AddItemToArray(msgs, msg);
    }
    buf_release(&t);
}

/* Ollama's guess of the input tokens: the bytes of roles, texts, thinking, tool blocks and
 * tools, over 4 (at least 1). */
static long estimate(const cJSON *b, long sys)
{
    const cJSON *mp, *blk, *t;
    long n = sys;

    cJSON_ArrayForEach(mp, GET(b, "messages")) {
        n += (long)strlen(str_or(GET(mp, "role"), ""));
        if (cJSON_IsString(GET(mp, "content")))
            n += (long)strlen(GET(mp, "content")->valuestring);
        cJSON_ArrayForEach(blk, arr(GET(mp, "content"))) {
            n += (long)strlen(str_or(GET(blk, "text"), "")) +
                 (long)strlen(str_or(GET(blk, "thinking"), ""));
            if (is(GET(blk, "type"), "tool_use") || is(GET(blk, "type"), "tool_result")) {
                char *s = cJSON_PrintUnformatted(blk);
                n += s ? (long)strlen(s) : 0;
                cJSON_free(s);
            }
        }
    }
    cJSON_ArrayForEach(t, GET(b, "tools")) {
        char *s = cJSON_PrintUnformatted(GET(t, "input_schema"));
        n += (long)strlen(str_or(GET(t, "name"), "")) +
             (long)strlen(str_or(GET(t, "description"), "")) + (s ? (long)strlen(s) : 0);
        cJSON_free(s);
    }
    return n / 4 ? n / 4 : 1;
}

static char *print(cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;

    cJSON_Delete(j);
    return s;
}

static char *options_of(const cJSON *b)
{
    static const char *const copy[] = {"temperature", "top_p", "top_k"};
    const cJSON *stop = GET(b, "stop_sequences");
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "num_predict", GET(b, "max_tokens")->valuedouble);
    for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++)
        if (cJSON_IsNumber(GET(b, copy[i])))
            cJSON_AddNumberToObject(o, copy[i], GET(b, copy[i])->valuedouble);
    if (cJSON_IsArray(stop) && cJSON_GetArraySize(stop))
        cJSON_AddItemToObject(o, "stop", cJSON_Duplicate(stop, 1));
    return print(o);
}

static int tools_of(struct chat_map *m, const cJSON *b)
{
    const cJSON *t;
    cJSON *out;

    if (!cJSON_IsArray(GET(b, "tools")) || !cJSON_GetArraySize(GET(b, "tools")))
        return 0;
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(t, GET(b, "tools")) {
        const cJSON *schema = GET(t, "input_schema");
        cJSON *o, *fn;
        if (!strncmp(str_or(GET(t, "type"), ""), "web_search", 10)) {
            cJSON_Delete(out);
            return fail(m, 501, "the web_search tool is not served by the router (Ollama runs "
                                "it against ollama.com); declare your own tool instead");
        }
        if (schema && !cJSON_IsNull(schema) && !cJSON_IsObject(schema)) {
            cJSON_Delete(out);
            return fail(m, 400, "invalid input_schema for tool \"%.100s\"",
                        str_or(GET(t, "name"), ""));
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "function");
        fn = cJSON_AddObjectToObject(o, "function");
        cJSON_AddStringToObject(fn, "name", str_or(GET(t, "name"), ""));
        cJSON_AddStringToObject(fn, "description", str_or(GET(t, "description"), ""));
        cJSON_AddItemToObject(fn, "parameters", cJSON_IsObject(schema) ? cJSON_Duplicate(schema, 1)
                                                                       : cJSON_CreateObject());
        cJSON_AddItemToArray(out, o);
    }
    m->tools = print(out);
    return 0;
}

/* thinking.type enabled/disabled, else output_config.effort (xhigh counts as high). */
static const char *think_of(const cJSON *b)
{
    static const char *const efforts[] = {"high", "medium", "low", "max"};
    const cJSON *tt = GET(GET(b, "thinking"), "type");
    const char *e = str_or(GET(GET(b, "output_config"), "effort"), "");
    char low[16];
    size_t n = 0;

    if (is(tt, "enabled"))
        return "true";
    if (is(tt, "disabled"))
        return "false";
    while (*e == ' ' || *e == '\t' || *e == '\n' || *e == '\r')
        e++;
    for (; e[n] && n < sizeof(low) - 1; n++)
        low[n] = (char)(e[n] >= 'A' && e[n] <= 'Z' ? e[n] - 'A' + 'a' : e[n]);
    while (n && strchr(" \t\r\n", low[n - 1]))
        n--;
    low[n] = '\0';
    if (!strcmp(low, "xhigh"))
        return "high";
    for (size_t i = 0; i < sizeof(efforts) / sizeof(efforts[0]); i++)
        if (!strcmp(low, efforts[i]))
            return efforts[i];
    return NULL;
}

int chat_map_messages(const cJSON *b, struct chat_map *m)
{
    const cJSON *model = GET(b, "model"), *mt = GET(b, "max_tokens"), *mp;
    cJSON *msgs;
    long sys = 0;

    memset(m, 0, sizeof(*m));
    if (!cJSON_IsObject(b))
        return fail(m, 400, "invalid request body: not a JSON object");
    if (!cJSON_IsString(model) || !*model->valuestring)
        return fail(m, 400, "model is required");
    if (!cJSON_IsNumber(mt) || mt->valuedouble < 1)
        return fail(m, 400, "max_tokens is required and must be positive");
    if (!cJSON_IsArray(GET(b, "messages")) || !cJSON_GetArraySize(GET(b, "messages")))
        return fail(m, 400, "messages is required");
    msgs = cJSON_CreateArray();
    system_msg(msgs, GET(b, "system"), &sys);
    cJSON_ArrayForEach(mp, GET(b, "messages"))
        if (message(m, msgs, mp) < 0) {
            cJSON_Delete(msgs);
            return -1;
        }
    if (tools_of(m, b) < 0) {
        cJSON_Delete(msgs);
        return -1;
    }
    m->messages = print(msgs);
    m->options = options_of(b);
    m->think = think_of(b);
    m->stream = cJSON_IsTrue(GET(b, "stream"));
    m->estimate = estimate(b, sys);
    return m->messages && m->options ? 0 : fail(m, 500, "out of memory");
}
