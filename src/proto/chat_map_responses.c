/* SPDX-License-Identifier: MIT */
/*
 * OpenAI's Responses request (POST /v1/responses) as Ollama's chat request, mapped as
 * Ollama's openai/responses.go maps it: instructions -> a system message first; input a
 * string -> one user message, or a list of items (messages, function_call,
 * function_call_output, reasoning); max_output_tokens -> num_predict; temperature defaults to
 * 1.0; reasoning.effort -> think; text.format json_schema -> format; function and namespace
 * tools. Stateless: previous_response_id and conversation are not read (as Ollama).
 */
#include "orion/chat_map.h"

#include "orion/buf.h"
#include "orion/jsonw.h"

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

/* A data: URL's base64 payload (Ollama accepts jpeg, jpg, png, webp or no type); NULL with
 * the error set otherwise. */
static const char *image_data(struct chat_map *m, const char *url)
{
    static const char *const pre[] = {"data:;base64,", "data:image/jpeg;base64,",
                                      "data:image/jpg;base64,", "data:image/png;base64,",
                                      "data:image/webp;base64,"};

    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
        fail(m, 400, "image URLs are not currently supported, please use base64 encoded data "
                     "instead");
        return NULL;
    }
    for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
        if (!strncmp(url, pre[i], strlen(pre[i])))
            return url + strlen(pre[i]);
    fail(m, 400, "invalid image input");
    return NULL;
}

/* Content parts (input_text, output_text, input_image, input_file) into msg's content and
 * images; what names the list in errors is what. */
static int put_parts(struct chat_map *m, cJSON *msg, const cJSON *parts, const char *what)
{
    struct buf text;
    cJSON *images = NULL;
    const cJSON *p;
    int i = 0, rc = 0;

    buf_init(&text, 1u << 30);
    cJSON_ArrayForEach(p, parts) {
        const char *type = str_or(GET(p, "type"), "");
        const char *url = str_or(GET(p, "image_url"), "");
        const char *data;
        if (!strcmp(type, "input_text") || !strcmp(type, "output_text"))
            buf_puts(&text, str_or(GET(p, "text"), ""));
        else if (!strcmp(type, "input_image") && *url) {
            if (!(data = image_data(m, url))) {
                rc = -1;
                break;
            }
            if (!images)
                images = cJSON_AddArrayToObject(msg, "images");
            cJSON_AddItemToArray(images, cJSON_CreateString(data));
        } else if (!strcmp(type, "input_file")) {
            rc = fail(m, 400, "file inputs are not currently supported");
            break;
        } else if (strcmp(type, "input_image")) {
            rc = fail(m, 400, "%s[%d]: unknown content type: %.60s", what, i, type);
            break;
        }
        i++;
    }
    cJSON_AddStringToObject(msg, "content", buf_data(&text));
    buf_release(&text);
    return rc;
}

static cJSON *last_msg(cJSON *msgs) { return cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1); }

static bool is_role(const cJSON *msg, const char *role)
{
    return msg && !strcmp(str_or(GET(msg, "role"), ""), role);
}

static void set_str(cJSON *o, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddStringToObject(o, k, v);
}

/* An assistant message replayed between a function_call and its output joins the message of
 * that call, so that the tool's answer follows the call it answers (true: merged). */
static bool merge_into_call(cJSON *msgs, const cJSON *msg, const cJSON *next)
{
    const char *cid = str_or(GET(next, "call_id"), NULL);
    cJSON *last = last_msg(msgs), *calls = GET(last, "tool_calls"), *c;
    const cJSON *img;
    struct buf t;

    if (!cid || !is_role(last, "assistant") || !cJSON_IsArray(calls))
        return false;
    cJSON_ArrayForEach(c, calls)
        if (!strcmp(str_or(GET(c, "id"), ""), cid))
            break;
    if (!c)
        return false;
    buf_init(&t, 1u << 30);
    buf_puts(&t, str_or(GET(last, "content"), ""));
    if (buf_size(&t) && *str_or(GET(msg, "content"), ""))
        buf_putc(&t, '\n');
    buf_puts(&t, str_or(GET(msg, "content"), ""));
    set_str(last, "content", buf_data(&t));
    buf_release(&t);
    cJSON_ArrayForEach(img, GET(msg, "images")) {
        if (!cJSON_IsArray(GET(last, "images")))
            cJSON_AddArrayToObject(last, "images");
        cJSON_AddItemToArray(GET(last, "images"), cJSON_Duplicate(img, 1));
    }
    if (*str_or(GET(msg, "thinking"), ""))
        set_str(last, "thinking", GET(msg, "thinking")->valuestring);
    return true;
}

/* One input message item. */
static int item_message(struct chat_map *m, cJSON *msgs, const cJSON *it, const cJSON *next,
                        char **pending)
{
    const cJSON *content = GET(it, "content");
    cJSON *msg = cJSON_CreateObject();

    cJSON_AddStringToObject(msg, "role", str_or(GET(it, "role"), ""));
    if (cJSON_IsString(content))
        cJSON_AddStringToObject(msg, "content", content->valuestring);
    else if (content && !cJSON_IsNull(content) && !cJSON_IsArray(content)) {
        cJSON_Delete(msg);
        return fail(m, 400, "content must be a string or array");
    } else if (put_parts(m, msg, content, "content") < 0) {
        cJSON_Delete(msg);
        return -1;
    }
    if (is_role(msg, "assistant") && *pending) {
        cJSON_AddStringToObject(msg, "thinking", *pending);
        orion_free(*pending);
        *pending = NULL;
    }
    if (is_role(msg, "assistant") && !strcmp(str_or(GET(next, "type"), ""), "function_call_output") &&
        merge_into_call(msgs, msg, next))
        cJSON_Delete(msg);
    else
        cJSON_AddItemToArray(msgs, msg);
    return 0;
}

/* A function_call item: a tool call of the last assistant message, or of a new one. */
static int item_call(struct chat_map *m, cJSON *msgs, const cJSON *it, char **pending)
{
    const char *args = str_or(GET(it, "arguments"), "");
    cJSON *a = *args ? cJSON_Parse(args) : cJSON_CreateObject();
    cJSON *last = last_msg(msgs), *call, *fn;

    if (!cJSON_IsObject(a)) {
        cJSON_Delete(a);
        return fail(m, 400, "failed to parse function call arguments: not a JSON object");
    }
    if (!is_role(last, "assistant")) {
        last = cJSON_CreateObject();
        cJSON_AddStringToObject(last, "role", "assistant");
        cJSON_AddStringToObject(last, "content", "");
        cJSON_AddItemToArray(msgs, last);
    }
    if (!cJSON_IsArray(GET(last, "tool_calls")))
        cJSON_AddArrayToObject(last, "tool_calls");
    call = cJSON_CreateObject();
    if (*str_or(GET(it, "call_id"), ""))
        cJSON_AddStringToObject(call, "id", GET(it, "call_id")->valuestring);
    fn = cJSON_AddObjectToObject(call, "function");
    cJSON_AddStringToObject(fn, "name", str_or(GET(it, "name"), ""));
    cJSON_AddItemToObject(fn, "arguments", a);
    cJSON_AddItemToArray(GET(last, "tool_calls"), call);
    if (*pending) {
        set_str(last, "thinking", *pending);
        orion_free(*pending);
        *pending = NULL;
    }
    return 0;
}

/* A function_call_output item: a tool message (output a string or content parts). */
static int item_output(struct chat_map *m, cJSON *msgs, const cJSON *it)
{
    const cJSON *out = GET(it, "output");
    cJSON *msg = cJSON_CreateObject();

    cJSON_AddStringToObject(msg, "role", "tool");
    if (cJSON_IsArray(out)) {
        if (put_parts(m, msg, out, "output") < 0) {
            cJSON_Delete(msg);
            return -1;
        }
    } else if (out && !cJSON_IsNull(out) && !cJSON_IsString(out)) {
        cJSON_Delete(msg);
        return fail(m, 400, "output must be a string or array");
    } else
        cJSON_AddStringToObject(msg, "content", str_or(out, ""));
    if (*str_or(GET(it, "call_id"), ""))
        cJSON_AddStringToObject(msg, "tool_call_id", GET(it, "call_id")->valuestring);
    cJSON_AddItemToArray(msgs, msg);
    return 0;
}

static int input_items(struct chat_map *m, cJSON *msgs, const cJSON *input)
{
    char *pending = NULL;
    int i = 0, rc = 0;

    for (const cJSON *it = input->child; it && rc == 0; it = it->next, i++) {
        const char *type = str_or(GET(it, "type"), "");
        if (!*type && *str_or(GET(it, "role"), ""))
            type = "message";
        if (!strcmp(type, "message"))
            rc = item_message(m, msgs, it, it->next, &pending);
        else if (!strcmp(type, "function_call"))
            rc = item_call(m, msgs, it, &pending);
        else if (!strcmp(type, "function_call_output"))
            rc = item_output(m, msgs, it);
        else if (!strcmp(type, "reasoning")) {
            orion_free(pending);
            pending = *str_or(GET(it, "encrypted_content"), "")
                          ? orion_strndup(GET(it, "encrypted_content")->valuestring,
                                          strlen(GET(it, "encrypted_content")->valuestring))
                          : NULL;
        } else if (strcmp(type, "web_search_call"))
            rc = *type ? fail(m, 400, "input[%d]: unknown input item type: \"%.60s\"", i, type)
                       : fail(m, 400, "input[%d]: input item missing required 'type' field", i);
    }
    if (rc == 0 && pending) {
        cJSON *msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "role", "assistant");
        cJSON_AddStringToObject(msg, "content", "");
        cJSON_AddStringToObject(msg, "thinking", pending);
        cJSON_AddItemToArray(msgs, msg);
    }
    orion_free(pending);
    return rc;
}

/* A Responses tool ({type,name,description,parameters}) as Ollama's; a namespace expands to
 * its members named "namespace.member". */
static int add_tool(struct chat_map *m, cJSON *out, const cJSON *t, const char *prefix, int depth)
{
    const char *type = str_or(GET(t, "type"), ""), *name = str_or(GET(t, "name"), "");
    const cJSON *params = GET(t, "parameters"), *sub;
    cJSON *o, *fn;
    char full[512];

    if (!strcmp(type, "web_search"))
        return fail(m, 501, "the web_search tool is not served by the router (Ollama runs it "
                            "against ollama.com); declare your own function instead");
    if (prefix && strncmp(name, prefix, strlen(prefix)))
        snprintf(full, sizeof(full), "%.200s%.300s", prefix, name);
    else
        snprintf(full, sizeof(full), "%.500s", name);
    if (!strcmp(type, "namespace")) {
        char pre[512];
        if (depth > 8)
            return fail(m, 400, "tools: namespaces nested too deep");
        snprintf(pre, sizeof(pre), "%.500s.", full);
        cJSON_ArrayForEach(sub, GET(t, "tools"))
            if (add_tool(m, out, sub, *name ? pre : prefix, depth + 1) < 0)
                return -1;
        return 0;
    }
    if (params && !cJSON_IsNull(params) && !cJSON_IsObject(params))
        return fail(m, 400, "failed to unmarshal tool parameters: not an object");
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    fn = cJSON_AddObjectToObject(o, "function");
    cJSON_AddStringToObject(fn, "name", full);
    cJSON_AddStringToObject(fn, "description", str_or(GET(t, "description"), ""));
    cJSON_AddItemToObject(fn, "parameters",
                          cJSON_IsObject(params) ? cJSON_Duplicate(params, 1) : cJSON_CreateObject());
    cJSON_AddItemToArray(out, o);
    return 0;
}

static const char *think_of(const char *e, bool *bad)
{
    static const char *const same[] = {"low", "medium", "high", "max"};

    *bad = false;
    if (!strcmp(e, "none"))
        return "false";
    if (!strcmp(e, "minimal"))
        return "low";
    if (!strcmp(e, "xhigh") || !strcmp(e, "ultra"))
        return "max";
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        if (!strcmp(e, same[i]))
            return same[i];
    *bad = *e != '\0';
    return NULL;
}

static char *print(cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;

    cJSON_Delete(j);
    return s;
}

/* Options: temperature (default 1.0), top_p when given, max_output_tokens -> num_predict. */
static char *options_of(const cJSON *b)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *t = GET(b, "temperature"), *tp = GET(b, "top_p"), *mt = GET(b, "max_output_tokens");

    cJSON_AddNumberToObject(o, "temperature", cJSON_IsNumber(t) ? t->valuedouble : 1.0);
    if (cJSON_IsNumber(tp))
        cJSON_AddNumberToObject(o, "top_p", tp->valuedouble);
    if (cJSON_IsNumber(mt))
        cJSON_AddNumberToObject(o, "num_predict", mt->valuedouble);
    return print(o);
}

/* v as JSON, or dflt when v is absent or null; with a name: ,"name":v */
static void echo_json(struct buf *b, const char *name, const cJSON *v, const char *dflt)
{
    char *s = v && !cJSON_IsNull(v) ? cJSON_PrintUnformatted(v) : NULL;

    if (name)
        buf_printf(b, ",\"%s\":", name);
    buf_puts(b, s ? s : dflt);
    cJSON_free(s);
}

/* What a response object repeats of its request, rendered once (Ollama's defaults). */
static int render_echo(struct chat_map *m, const cJSON *b)
{
    const cJSON *ins = GET(b, "instructions"), *re = GET(b, "reasoning");
    const cJSON *fmt = GET(GET(b, "text"), "format"), *tr = GET(b, "truncation");
    const cJSON *e = GET(re, "effort"), *s = GET(re, "summary"), *mt = GET(b, "max_output_tokens");
    struct buf o;

    buf_init(&o, 1u << 30);
    echo_json(&o, "instructions", cJSON_IsString(ins) && *ins->valuestring ? ins : NULL, "null");
    echo_json(&o, "tools", cJSON_IsArray(GET(b, "tools")) ? GET(b, "tools") : NULL, "[]");
    buf_puts(&o, ",\"tool_choice\":\"auto\"");
    echo_json(&o, "truncation", cJSON_IsString(tr) ? tr : NULL, "\"disabled\"");
    buf_puts(&o, ",\"parallel_tool_calls\":true,\"text\":{\"format\":");
    echo_json(&o, NULL, cJSON_IsObject(fmt) ? fmt : NULL, "{\"type\":\"text\"}");
    buf_putc(&o, '}');
    echo_json(&o, "top_p", cJSON_IsNumber(GET(b, "top_p")) ? GET(b, "top_p") : NULL, "1");
    buf_puts(&o, ",\"presence_penalty\":0,\"frequency_penalty\":0,\"top_logprobs\":0");
    echo_json(&o, "temperature",
              cJSON_IsNumber(GET(b, "temperature")) ? GET(b, "temperature") : NULL, "1");
    if ((cJSON_IsString(e) && *e->valuestring) || (cJSON_IsString(s) && *s->valuestring)) {
        bool both = cJSON_IsString(e) && *e->valuestring && cJSON_IsString(s) && *s->valuestring;
        buf_puts(&o, ",\"reasoning\":{");
        if (cJSON_IsString(e) && *e->valuestring) {
            buf_puts(&o, "\"effort\":");
            echo_json(&o, NULL, e, "null");
        }
        if (cJSON_IsString(s) && *s->valuestring) {
            buf_puts(&o, both ? ",\"summary\":" : "\"summary\":");
            echo_json(&o, NULL, s, "null");
        }
        buf_putc(&o, '}');
    } else
        buf_puts(&o, ",\"reasoning\":null");
    m->echo = buf_detach(&o, NULL);
    echo_json(&o, "max_output_tokens", cJSON_IsNumber(mt) ? mt : NULL, "null");
    buf_printf(&o, ",\"max_tool_calls\":null,\"store\":false,\"background\":%s,"
                   "\"service_tier\":\"default\",\"metadata\":{},\"safety_identifier\":null,"
                   "\"prompt_cache_key\":null",
               cJSON_IsTrue(GET(b, "background")) ? "true" : "false");
    m->echo_end = buf_detach(&o, NULL);
    return m->echo && m->echo_end ? 0 : fail(m, 500, "out of memory");
}

static int map_input(struct chat_map *m, cJSON *msgs, const cJSON *b)
{
    const cJSON *ins = GET(b, "instructions"), *input = GET(b, "input");
    cJSON *msg;

    if (cJSON_IsString(ins) && *ins->valuestring) {
        msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "role", "system");
        cJSON_AddStringToObject(msg, "content", ins->valuestring);
        cJSON_AddItemToArray(msgs, msg);
    }
    if (cJSON_IsString(input)) {
        if (!*input->valuestring)
            return 0;
        msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "role", "user");
        cJSON_AddStringToObject(msg, "content", input->valuestring);
        cJSON_AddItemToArray(msgs, msg);
        return 0;
    }
    if (cJSON_IsArray(input))
        return input_items(m, msgs, input);
    if (!input || cJSON_IsNull(input))
        return 0;
    return fail(m, 400, "input must be a string or array");
}

static int map_tools(struct chat_map *m, const cJSON *b)
{
    const cJSON *tools = GET(b, "tools"), *t;
    cJSON *out;

    if (!tools || cJSON_IsNull(tools))
        return 0;
    if (!cJSON_IsArray(tools))
        return fail(m, 400, "tools must be an array");
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(t, tools)
        if (add_tool(m, out, t, NULL, 0) < 0) {
            cJSON_Delete(out);
            return -1;
        }
    m->tools = cJSON_GetArraySize(out) ? print(out) : print(NULL);
    if (!m->tools)
        cJSON_Delete(out);
    return 0;
}

int chat_map_responses(const cJSON *b, struct chat_map *m)
{
    const cJSON *model = GET(b, "model"), *fmt = GET(GET(b, "text"), "format");
    const cJSON *effort = GET(GET(b, "reasoning"), "effort");
    cJSON *msgs;
    bool bad;

    memset(m, 0, sizeof(*m));
    if (!cJSON_IsObject(b))
        return fail(m, 400, "invalid request body: not a JSON object");
    if (!cJSON_IsString(model) || !*model->valuestring)
        return fail(m, 400, "model is required");
    m->think = think_of(str_or(effort, ""), &bad);
    if (bad)
        return fail(m, 400, "invalid reasoning value: \"%.40s\" (must be \"minimal\", \"low\", "
                            "\"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")",
                    effort->valuestring);
    msgs = cJSON_CreateArray();
    if (map_input(m, msgs, b) < 0 || map_tools(m, b) < 0) {
        cJSON_Delete(msgs);
        return -1;
    }
    m->messages = print(msgs);
    m->options = options_of(b);
    if (!strcmp(str_or(GET(fmt, "type"), ""), "json_schema") && GET(fmt, "schema") &&
        !cJSON_IsNull(GET(fmt, "schema")))
        m->format = cJSON_PrintUnformatted(GET(fmt, "schema"));
    m->stream = cJSON_IsTrue(GET(b, "stream"));
    if (!m->messages || !m->options)
        return fail(m, 500, "out of memory");
    return render_echo(m, b);
}
