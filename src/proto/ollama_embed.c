/* SPDX-License-Identifier: MIT */
/*
 * ollama_embed: one embedding call to Ollama. The body is written by hand (the caller's JSON
 * fields copied byte for byte); the answer is checked with cJSON and its vectors cut out of it
 * raw, so that they reach the client as Ollama wrote them.
 */
#include "orion/ollama_embed.h"

#include "cJSON.h"
#include "orion/httpc.h"
#include "orion/jsonw.h"
#include "orion/limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* An answer past this is too large: the vectors must fit one field of the contract. */
#define EMBED_BODY_MAX (ORION_FIELD_MAX + 64u * 1024)
#define EMBED_ERRBODY_MAX 4096u

int ollama_embed_body(const struct ollama_embed_req *r, struct buf *out, const char **path)
{
    int rc;

    if (!r->model || !r->model_len || !r->input || !r->input_len) {
        errno = EINVAL;
        return -1;
    }
    *path = r->legacy ? "/api/embeddings" : "/api/embed";
    rc = buf_puts(out, "{\"model\":") | json_quote(out, r->model, r->model_len);
    rc |= buf_puts(out, r->legacy ? ",\"prompt\":" : ",\"input\":");
    rc |= buf_append(out, r->input, r->input_len);
    if (!r->legacy && r->truncate >= 0)
        rc |= buf_puts(out, r->truncate ? ",\"truncate\":true" : ",\"truncate\":false");
    if (!r->legacy && r->dimensions > 0)
        rc |= buf_printf(out, ",\"dimensions\":%lld", r->dimensions);
    if (r->options)
        rc |= buf_puts(out, ",\"options\":") | buf_puts(out, r->options);
    rc |= ollama_put_keep_alive(out, r->keep_alive) | buf_putc(out, '}');
    if (rc < 0 && errno != ENOBUFS)
        errno = ENOMEM;
    return rc < 0 ? -1 : 0;
}

static bool numbers(const cJSON *a)
{
    const cJSON *e;

    if (!cJSON_IsArray(a))
        return false;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e))
            return false;
    }
    return true;
}

static long long counter(const cJSON *j, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, key);

    return cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble < 9e18
               ? (long long)n->valuedouble
               : 0;
}

/* The shape: {"embeddings":[[n,...],...]} or (legacy) {"embedding":[n,...]}. */
static bool shape_ok(const cJSON *j, bool legacy)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, legacy ? "embedding" : "embeddings"), *e;

    if (legacy)
        return numbers(v);
    if (!cJSON_IsArray(v))
        return false;
    cJSON_ArrayForEach(e, v) {
        if (!numbers(e))
            return false;
    }
    return true;
}

/* Strict JSON inside the span: cJSON reads any byte below 0x20 as white space, JSON only four. */
static bool strict_span(const char *v, size_t n)
{
    if (!n || v[0] != '[')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 && v[i] != ' ' && v[i] != '\t' && v[i] != '\r' &&
            v[i] != '\n')
            return false;
    return true;
}

int ollama_embed_parse(const char *body, size_t n, bool legacy, struct buf *wrap,
                       struct ollama_embed_result *out)
{
    cJSON *j;
    const char *v;
    size_t len;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    json_init();
    j = cJSON_ParseWithLength(body, n);
    if (!cJSON_IsObject(j) || !shape_ok(j, legacy))
        goto out;
    v = ollama_json_member(body, body + n, legacy ? "embedding" : "embeddings", &len);
    if (!v || !strict_span(v, len))
        goto out;
    if (legacy) {
        buf_reset(wrap);
        if (buf_putc(wrap, '[') < 0 || buf_append(wrap, v, len) < 0 || buf_putc(wrap, ']') < 0)
            goto out;
        v = buf_data(wrap);
        len = buf_size(wrap);
    }
    out->embeddings = v;
    out->embeddings_len = len;
    out->total_duration = counter(j, "total_duration");
    out->load_duration = counter(j, "load_duration");
    out->prompt_eval_count = counter(j, "prompt_eval_count");
    rc = 0;
out:
    cJSON_Delete(j);
    if (rc < 0 && errno != ENOMEM)
        errno = EINVAL;
    return rc;
}

/* ---- the call on the loop ---- */

struct ollama_embed_call {
    struct httpc_req *req;
    struct ollama_embed_cbs cb;
    void *arg;
    bool legacy, too_large;
    int status;
    struct buf body;
};

static void call_free(struct ollama_embed_call *c)
{
    buf_release(&c->body);
    orion_free(c);
}

void ollama_embed_cancel(struct ollama_embed_call *c)
{
    if (!c)
        return;
    if (c->req)
        httpc_cancel(c->req);
    call_free(c);
}

static void on_head(void *arg, const struct http_head *h)
{
    struct ollama_embed_call *c = arg;

    c->status = h->status;
}

static void on_data(void *arg, const char *p, size_t n)
{
    struct ollama_embed_call *c = arg;
    size_t room = c->status == 200 ? EMBED_BODY_MAX : EMBED_ERRBODY_MAX;

    if (buf_size(&c->body) + n > room) {
        c->too_large = c->status == 200;
        n = room > buf_size(&c->body) ? room - buf_size(&c->body) : 0;
    }
    buf_append(&c->body, p, n);
}

/* A failed status: Ollama's {"error":...} sentence, the code from the status. */
static void fail_status(struct ollama_embed_call *c)
{
    cJSON *j = cJSON_ParseWithLength(buf_data(&c->body), buf_size(&c->body));
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    char msg[512];
    bool retry = false;
    const char *code = ollama_status_code(c->status, &retry);

    if (cJSON_IsString(e))
        snprintf(msg, sizeof(msg), "%s", e->valuestring);
    else
        snprintf(msg, sizeof(msg), "ollama answered %d %s", c->status, http_reason(c->status));
    if (c->status == 404 && !cJSON_IsString(e))
        code = "ollama_error"; /* gin's plain 404: a wrong URL, not a missing model */
    cJSON_Delete(j);
    c->cb.error(c->arg, code, retry, msg);
}

static void on_done(void *arg)
{
    struct ollama_embed_call *c = arg;
    struct ollama_embed_result r;
    struct buf wrap;

    c->req = NULL;
    buf_init(&wrap, EMBED_BODY_MAX + 2);
    if (c->status != 200)
        fail_status(c);
    else if (c->too_large)
        c->cb.error(c->arg, "too_large", false,
                    "the embeddings are larger than the field limit (4 MiB): ask for fewer "
                    "inputs or fewer dimensions");
    else if (ollama_embed_parse(buf_data(&c->body), buf_size(&c->body), c->legacy, &wrap, &r) < 0)
        c->cb.error(c->arg, "bad_response", false, "ollama's embedding answer is not of its shape");
    else
        c->cb.done(c->arg, &r);
    buf_release(&wrap);
    call_free(c);
}

static void on_error(void *arg, enum httpc_err kind, const char *msg)
{
    struct ollama_embed_call *c = arg;

    c->req = NULL;
    if (kind == HTTPC_UNREACHABLE || kind == HTTPC_EOF)
        c->cb.error(c->arg, "ollama_unreachable", true, msg);
    else if (kind == HTTPC_TIMEOUT)
        c->cb.error(c->arg, "timeout", true, msg);
    else if (kind == HTTPC_OOM)
        c->cb.error(c->arg, "ollama_error", true, msg);
    else
        c->cb.error(c->arg, "bad_response", false, msg);
    call_free(c);
}

struct ollama_embed_call *ollama_embed(struct ollama *o, const struct ollama_embed_req *r,
                                       const struct ollama_embed_cbs *cb, void *arg)
{
    static const struct httpc_cb hcb = {on_head, on_data, on_done, on_error};
    struct ollama_embed_call *c;
    struct buf body;
    const char *path;

    buf_init(&body, ORION_HTTP_MAX_BODY);
    if (ollama_embed_body(r, &body, &path) < 0 || !(c = orion_calloc(1, sizeof(*c)))) {
        buf_release(&body);
        return NULL;
    }
    c->cb = *cb;
    c->arg = arg;
    c->legacy = r->legacy;
    buf_init(&c->body, EMBED_BODY_MAX);
    c->req = httpc_request(ollama_http(o), "POST", path, "application/json", buf_data(&body),
                           buf_size(&body), &hcb, c);
    buf_release(&body);
    if (!c->req) {
        call_free(c);
        errno = ENOMEM;
        return NULL;
    }
    return c;
}
