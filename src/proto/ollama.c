/* SPDX-License-Identifier: MIT */
/*
 * ollama: the Ollama client. The pure half: request bodies written by hand (the caller's JSON
 * fields copied byte for byte); response lines read with cJSON, except message.tool_calls, whose
 * raw bytes are cut out of the line so that they pass through exactly as Ollama sent them.
 */
#include "orion/ollama.h"

#include "cJSON.h"
#include "orion/jsonw.h"
#include "orion/limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool is_json_number(const char *s)
{
    const char *p = s;

    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

static int put_raw(struct buf *b, const char *key, const char *v)
{
    if (!v)
        return 0;
    return buf_printf(b, ",\"%s\":", key) | buf_puts(b, v);
}

static int put_str(struct buf *b, const char *key, const char *v, size_t n)
{
    if (!v)
        return 0;
    return buf_printf(b, ",\"%s\":", key) | json_quote(b, v, n);
}

/* messages with a system message put in front (chat has no "system" field) */
static int put_messages(struct buf *b, const struct ollama_gen *g)
{
    size_t i = 0, n = g->messages_len;
    const char *m = g->messages;
    int rc = buf_puts(b, ",\"messages\":");

    if (!g->system)
        return rc | buf_append(b, m, n);
    while (i < n && m[i] != '[')
        i++;
    if (i == n)
        return -1;
    rc |= buf_append(b, m, i + 1) | buf_puts(b, "{\"role\":\"system\",\"content\":");
    rc |= json_quote(b, g->system, strlen(g->system)) | buf_putc(b, '}');
    for (i++; i < n && strchr(" \t\r\n", m[i]); i++)
        ;
    if (i < n && m[i] != ']')
        rc |= buf_putc(b, ',');
    return rc | buf_append(b, m + i, n - i);
}

int ollama_put_keep_alive(struct buf *b, const char *keep_alive)
{
    if (keep_alive && is_json_number(keep_alive))
        return put_raw(b, "keep_alive", keep_alive);
    return put_str(b, "keep_alive", keep_alive, keep_alive ? strlen(keep_alive) : 0);
}

int ollama_build_body(const struct ollama_gen *g, struct buf *out, bool *chat)
{
    int rc;

    if (!g->model || !g->model_len || !g->messages == !g->prompt) {
        errno = EINVAL;
        return -1;
    }
    *chat = g->messages != NULL;
    rc = buf_puts(out, "{\"model\":") | json_quote(out, g->model, g->model_len);
    if (*chat)
        rc |= put_messages(out, g);
    else
        rc |= put_str(out, "prompt", g->prompt, g->prompt_len) |
              put_str(out, "system", g->system, g->system ? strlen(g->system) : 0) |
              put_str(out, "suffix", g->suffix, g->suffix ? strlen(g->suffix) : 0);
    rc |= put_raw(out, "format", g->format) | put_raw(out, "options", g->options);
    rc |= put_raw(out, "tools", g->tools) | put_raw(out, "think", g->think);
    rc |= put_raw(out, "images", g->images);
    rc |= ollama_put_keep_alive(out, g->keep_alive);
    rc |= buf_putc(out, '}');
    if (rc < 0 && errno != ENOBUFS)
        errno = ENOMEM;
    return rc < 0 ? -1 : 0;
}

/* ---- line parsing ---- */

static int depth_of(const cJSON *j, int d)
{
    int m = d;

    for (j = j->child; j && m <= ORION_JSON_MAX_DEPTH; j = j->next) {
        int c = depth_of(j, d + 1);

        m = c > m ? c : m;
    }
    return m;
}

static int take_str(const cJSON *obj, const char *key, char **dst, size_t *len)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!s || cJSON_IsNull(s))
        return 0;
    if (!cJSON_IsString(s))
        return -1;
    *len = strlen(s->valuestring);
    if (*len == 0)
        return 0;
    *dst = orion_strndup(s->valuestring, *len);
    return *dst ? 0 : -1;
}

static long long num(const cJSON *obj, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    double d = cJSON_IsNumber(n) ? n->valuedouble : 0;

    return d > -9e18 && d < 9e18 ? (long long)d : 0; /* past long long's range: undefined */
}

static void take_final(const cJSON *j, struct ollama_final *f)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "done_reason");

    if (cJSON_IsString(r))
        snprintf(f->done_reason, sizeof f->done_reason, "%s", r->valuestring);
    f->total_duration = num(j, "total_duration");
    f->load_duration = num(j, "load_duration");
    f->prompt_eval_count = num(j, "prompt_eval_count");
    f->prompt_eval_duration = num(j, "prompt_eval_duration");
    f->eval_count = num(j, "eval_count");
    f->eval_duration = num(j, "eval_duration");
}

static int take_tool_calls(const char *line, size_t n, bool chat, struct ollama_line *out)
{
    const char *e = line + n, *v = line;
    size_t len = n;

    if (chat && !(v = ollama_json_member(line, e, "message", &len)))
        return -1;
    v = ollama_json_member(v, v + len, "tool_calls", &len);
    if (!v || len < 2 || *v != '[')
        return v ? -1 : 0;
    if (len == 2 || (v[1] == ']'))
        return 0;
    out->tool_calls = orion_strndup(v, len);
    out->tool_calls_len = len;
    return out->tool_calls ? 0 : -1;
}

static int take_body(const cJSON *j, const char *line, size_t n, struct ollama_line *out)
{
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
    const cJSON *src = msg ? msg : j;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(src, "tool_calls");

    if (msg && !cJSON_IsObject(msg))
        return -1;
    if (take_str(src, msg ? "content" : "response", &out->delta, &out->delta_len) < 0 ||
        take_str(src, "thinking", &out->thinking, &out->thinking_len) < 0)
        return -1;
    if (tc && !cJSON_IsNull(tc) && (!cJSON_IsArray(tc) || take_tool_calls(line, n, msg != NULL, out) < 0))
        return -1;
    return 0;
}

int ollama_parse_line(const char *line, size_t n, struct ollama_line *out)
{
    cJSON *j;
    const cJSON *done;
    int rc = -1;

    memset(out, 0, sizeof *out);
    json_init();
    j = cJSON_ParseWithLength(line, n);
    if (!j || !cJSON_IsObject(j) || depth_of(j, 0) > ORION_JSON_MAX_DEPTH)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(j, "error")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        const char *s = cJSON_IsString(e) ? e->valuestring : "unknown error";

        out->error_len = strlen(s);
        out->error = orion_strndup(s, out->error_len);
        rc = out->error ? 0 : -1;
        goto out;
    }
    done = cJSON_GetObjectItemCaseSensitive(j, "done");
    if (!cJSON_IsBool(done) || take_body(j, line, n, out) < 0)
        goto out;
    out->done = cJSON_IsTrue(done);
    if (out->done) {
        take_final(j, &out->final);
        out->final.ok = true;
    }
    rc = 0;
out:
    if (rc < 0) {
        ollama_line_release(out);
        errno = errno == ENOMEM ? ENOMEM : EINVAL;
    }
    cJSON_Delete(j);
    return rc;
}

void ollama_line_release(struct ollama_line *l)
{
    orion_free(l->delta);
    orion_free(l->thinking);
    orion_free(l->tool_calls);
    orion_free(l->error);
    memset(l, 0, sizeof *l);
}

const char *ollama_status_code(int status, bool *retriable)
{
    *retriable = status == 503;
    if (status == 400)
        return "bad_request";
    if (status == 404)
        return "model_not_found";
    if (status == 503)
        return "ollama_busy";
    return "ollama_error";
}

/* ---- the client on the loop ---- */

#include "orion/httpc.h"

#define ERRBODY_MAX 4096u

struct ollama {
    struct loop *l;
    struct httpc *h;
    struct ollama_call *calls;
    struct ollama_list *lists;
};

struct ollama_call {
    struct ollama *o;
    struct ollama_call *next, *prev;
    struct httpc_req *req;
    struct ollama_cbs cb;
    void *arg;
    struct http_lines lines;
    struct buf errbody;
    int status, depth;          /* depth: inside our httpc callbacks; frees wait for 0 */
    bool over, failed, got_text, dead; /* over: the user had its last callback; dead: cancelled */
};

struct ollama_list { /* a GET of /api/ps or /api/tags, or an ollama_fetch */
    struct ollama *o;
    struct ollama_list *next, *prev;
    struct httpc_req *req;
    ollama_list_fn *cb;
    ollama_fetch_fn *fetch;
    void *arg;
    struct buf body;
    int status;
};

struct ollama *ollama_new_timeouts(struct loop *l, const char *base_url, long connect_ms,
                                   long header_ms)
{
    struct ollama *o = orion_calloc(1, sizeof(*o));
    struct httpc_opts ho;

    if (!o)
        return NULL;
    memset(&ho, 0, sizeof(ho));
    ho.connect_ms = connect_ms;
    ho.header_ms = header_ms;
    o->l = l;
    o->h = httpc_new(l, base_url, &ho);
    if (!o->h) {
        orion_free(o);
        return NULL;
    }
    json_init();
    return o;
}

/* Unlink and cancel at once; the memory goes when no callback of ours is on the stack. */
static void call_free(struct ollama_call *c)
{
    if (!c->dead) {
        c->dead = true;
        if (c->req)
            httpc_cancel(c->req);
        c->req = NULL;
        if (c->prev)
            c->prev->next = c->next;
        else
            c->o->calls = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    if (c->depth > 0)
        return;
    http_lines_release(&c->lines);
    buf_release(&c->errbody);
    orion_free(c);
}

/* leave one of our callbacks: true when c is gone */
static bool leave(struct ollama_call *c)
{
    if (--c->depth == 0 && c->dead) {
        call_free(c);
        return true;
    }
    return c->dead;
}

static void list_free(struct ollama_list *s)
{
    if (s->req)
        httpc_cancel(s->req);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->o->lists = s->next;
    if (s->next)
        s->next->prev = s->prev;
    buf_release(&s->body);
    orion_free(s);
}

struct httpc *ollama_http(struct ollama *o) { return o->h; }

void ollama_free(struct ollama *o)
{
    if (!o)
        return;
    while (o->calls)
        call_free(o->calls);
    while (o->lists)
        list_free(o->lists);
    httpc_free(o->h);
    orion_free(o);
}

void ollama_cancel(struct ollama_call *c)
{
    if (c)
        call_free(c);
}

/* The user's last callback: error. The call stays until httpc is finished with it. */
static void fail(struct ollama_call *c, const char *code, bool retriable, const char *msg)
{
    if (c->over)
        return;
    c->over = c->failed = true;
    if (c->cb.error)
        c->cb.error(c->arg, code, retriable, msg);
}

static void deliver(struct ollama_call *c, const struct ollama_line *ln)
{
    if (ln->error)
        fail(c, "ollama_error", false, ln->error);
    if (!c->dead && !c->over && (ln->delta || ln->thinking) && c->cb.chunk)
        c->cb.chunk(c->arg, ln->delta ? ln->delta : "", ln->delta_len,
                    ln->thinking ? ln->thinking : "", ln->thinking_len);
    if (!c->dead && !c->over && ln->tool_calls && c->cb.tool_calls)
        c->cb.tool_calls(c->arg, ln->tool_calls, ln->tool_calls_len);
    if (!c->dead && !c->over && ln->done) {
        c->over = true;
        if (c->cb.done)
            c->cb.done(c->arg, &ln->final);
    }
}

static int on_line(void *arg, const char *p, size_t n)
{
    struct ollama_call *c = arg;
    struct ollama_line ln;

    if (c->over || c->dead)
        return -1;
    if (ollama_parse_line(p, n, &ln) < 0) {
        fail(c, "bad_response", false, "ollama sent a line that is not a response object");
        return -1;
    }
    c->got_text |= ln.delta || ln.thinking || ln.tool_calls;
    deliver(c, &ln);
    ollama_line_release(&ln);
    return c->over || c->dead ? -1 : 0;
}

static void on_head(void *arg, const struct http_head *h)
{
    struct ollama_call *c = arg;

    c->status = h->status;
}

static void on_data(void *arg, const char *p, size_t n)
{
    struct ollama_call *c = arg;

    if (c->over || c->dead)
        return;
    if (c->status != 200) {
        size_t room = ERRBODY_MAX - buf_size(&c->errbody);

        buf_append(&c->errbody, p, n < room ? n : room);
        return;
    }
    c->depth++;
    if (http_lines_feed(&c->lines, p, n, on_line, c) < 0 && !c->dead && !c->over)
        fail(c, "bad_response", false, "ollama sent a line over the size cap");
    if (!leave(c) && c->failed) /* stop reading, drop the connection */
        call_free(c);
}

/* {"error":"..."} of a failed response, else the status line's words */
static void fail_status(struct ollama_call *c)
{
    char msg[512];
    bool retry;
    const char *code = ollama_status_code(c->status, &retry);
    cJSON *j = cJSON_ParseWithLength(buf_data(&c->errbody), buf_size(&c->errbody));
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

    if (cJSON_IsString(e)) {
        snprintf(msg, sizeof msg, "%s", e->valuestring);
    } else { /* gin's plain "404 page not found": a wrong URL, not a missing model */
        snprintf(msg, sizeof msg, "ollama answered %d %s", c->status, http_reason(c->status));
        if (c->status == 404)
            code = "ollama_error";
    }
    cJSON_Delete(j);
    fail(c, code, retry, msg);
}

static void on_done(void *arg)
{
    struct ollama_call *c = arg;

    c->req = NULL;
    c->depth++;
    if (c->status != 200)
        fail_status(c);
    else if (!c->over && http_lines_flush(&c->lines, on_line, c) == 0 && !c->dead && !c->over)
        fail(c, "bad_response", false, "ollama ended the stream without done:true");
    if (!leave(c))
        call_free(c);
}

static void on_error(void *arg, enum httpc_err kind, const char *msg)
{
    struct ollama_call *c = arg;

    c->req = NULL;
    c->depth++;
    if (kind == HTTPC_UNREACHABLE)
        fail(c, "ollama_unreachable", true, msg);
    else if (kind == HTTPC_TIMEOUT)
        fail(c, "timeout", true, msg);
    else if (kind == HTTPC_EOF)
        fail(c, "ollama_unreachable", !c->got_text, msg);
    else if (kind == HTTPC_OOM)
        fail(c, "ollama_error", true, msg);
    else
        fail(c, "bad_response", false, msg);
    if (!leave(c))
        call_free(c);
}

struct ollama_call *ollama_generate(struct ollama *o, const struct ollama_gen *g,
                                    const struct ollama_cbs *cb, void *arg)
{
    static const struct httpc_cb hcb = {on_head, on_data, on_done, on_error};
    struct ollama_call *c;
    struct buf body;
    bool chat;

    buf_init(&body, ORION_HTTP_MAX_BODY);
    if (ollama_build_body(g, &body, &chat) < 0 || !(c = orion_calloc(1, sizeof(*c)))) {
        buf_release(&body);
        return NULL;
    }
    c->o = o;
    c->cb = *cb;
    c->arg = arg;
    http_lines_init(&c->lines, ORION_HTTP_MAX_LINE);
    buf_init(&c->errbody, ERRBODY_MAX);
    c->req = httpc_request(o->h, "POST", chat ? "/api/chat" : "/api/generate", "application/json",
                           buf_data(&body), buf_size(&body), &hcb, c);
    buf_release(&body);
    if (!c->req) {
        orion_free(c);
        errno = ENOMEM;
        return NULL;
    }
    c->next = o->calls;
    if (o->calls)
        o->calls->prev = c;
    o->calls = c;
    return c;
}

/* ---- /api/ps and /api/tags ---- */

static void list_head(void *arg, const struct http_head *h)
{
    ((struct ollama_list *)arg)->status = h->status;
}

static void list_data(void *arg, const char *p, size_t n)
{
    struct ollama_list *s = arg;

    if (buf_append(&s->body, p, n) < 0)
        s->status = -1;
}

/* names of {"models":[{"name":..}]} into out, NUL-separated; count or -1 */
static long list_names(const char *p, size_t n, struct buf *out)
{
    cJSON *j = cJSON_ParseWithLength(p, n);
    const cJSON *m, *models = cJSON_GetObjectItemCaseSensitive(j, "models");
    long count = 0;

    if (!cJSON_IsArray(models) && !cJSON_IsNull(models))
        count = -1;
    cJSON_ArrayForEach(m, models)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");

        if (count < 0 || !cJSON_IsString(name) ||
            buf_append(out, name->valuestring, strlen(name->valuestring) + 1) < 0) {
            count = -1;
            break;
        }
        count++;
    }
    cJSON_Delete(j);
    return count;
}

static void list_done(void *arg)
{
    struct ollama_list *s = arg;
    struct buf names;
    long count = -1;

    s->req = NULL;
    if (s->fetch) {
        s->fetch(s->arg, s->status, buf_data(&s->body), buf_size(&s->body));
        list_free(s);
        return;
    }
    buf_init(&names, ORION_HTTP_MAX_BODY);
    if (s->status == 200)
        count = list_names(buf_data(&s->body), buf_size(&s->body), &names);
    s->cb(s->arg, count >= 0, count >= 0 ? buf_data(&names) : "", count >= 0 ? (size_t)count : 0);
    buf_release(&names);
    list_free(s);
}

static void list_error(void *arg, enum httpc_err kind, const char *msg)
{
    struct ollama_list *s = arg;

    (void)kind;
    (void)msg;
    s->req = NULL;
    if (s->fetch)
        s->fetch(s->arg, -1, "", 0);
    else
        s->cb(s->arg, false, "", 0);
    list_free(s);
}

static int list_start(struct ollama *o, const char *method, const char *path, const char *body,
                      size_t len, ollama_list_fn *cb, ollama_fetch_fn *fetch, void *arg)
{
    static const struct httpc_cb hcb = {list_head, list_data, list_done, list_error};
    struct ollama_list *s = orion_calloc(1, sizeof(*s));

    if (!s)
        return -1;
    s->o = o;
    s->cb = cb;
    s->fetch = fetch;
    s->arg = arg;
    buf_init(&s->body, ORION_HTTP_MAX_BODY);
    s->req = httpc_request(o->h, method, path, body ? "application/json" : NULL, body, len, &hcb,
                           s);
    if (!s->req) {
        orion_free(s);
        errno = ENOMEM;
        return -1;
    }
    s->next = o->lists;
    if (o->lists)
        o->lists->prev = s;
    o->lists = s;
    return 0;
}

int ollama_ps(struct ollama *o, ollama_list_fn *cb, void *arg)
{
    return list_start(o, "GET", "/api/ps", NULL, 0, cb, NULL, arg);
}

int ollama_tags(struct ollama *o, ollama_list_fn *cb, void *arg)
{
    return list_start(o, "GET", "/api/tags", NULL, 0, cb, NULL, arg);
}

int ollama_fetch(struct ollama *o, const char *method, const char *path, const char *body,
                 size_t len, ollama_fetch_fn *cb, void *arg)
{
    return list_start(o, method, path, body, len, NULL, cb, arg);
}
