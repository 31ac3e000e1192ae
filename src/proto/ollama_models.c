/* SPDX-License-Identifier: MIT */
/*
 * ollama_models: pull, copy, delete and version on one Ollama. One call object serves them
 * all: a pull reads its body as NDJSON progress lines, the others keep a small body for the
 * error sentence or the version.
 */
#include "orion/ollama_models.h"

#include "cJSON.h"
#include "orion/httpc.h"
#include "orion/jsonw.h"
#include "orion/limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define ADMIN_BODY_MAX 4096u
#define PROGRESS_LINE_MAX 4096u /* a progress object is under 200 bytes */

static int copy_str(const cJSON *v, char *out, size_t max)
{
    if (!v || cJSON_IsNull(v)) {
        out[0] = '\0';
        return 0;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= max)
        return -1;
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

static int count(const cJSON *v, long long *out)
{
    *out = -1;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9e18)
        return -1;
    *out = (long long)v->valuedouble;
    return 0;
}

int ollama_progress_parse(const char *line, size_t n, struct ollama_progress *p, char *err,
                          size_t errlen)
{
    cJSON *j;
    const cJSON *e, *st;
    int rc = -1;

    memset(p, 0, sizeof(*p));
    p->total = p->completed = -1;
    json_init();
    j = cJSON_ParseWithLength(line, n);
    if (!cJSON_IsObject(j))
        goto out;
    e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (e && !cJSON_IsNull(e)) {
        snprintf(err, errlen, "%s", cJSON_IsString(e) ? e->valuestring : "unknown error");
        rc = 1;
        goto out;
    }
    st = cJSON_GetObjectItemCaseSensitive(j, "status");
    if (!cJSON_IsString(st) || copy_str(st, p->status, sizeof(p->status)) < 0 ||
        copy_str(cJSON_GetObjectItemCaseSensitive(j, "digest"), p->digest, sizeof(p->digest)) < 0 ||
        count(cJSON_GetObjectItemCaseSensitive(j, "total"), &p->total) < 0 ||
        count(cJSON_GetObjectItemCaseSensitive(j, "completed"), &p->completed) < 0)
        goto out;
    rc = 0;
out:
    cJSON_Delete(j);
    if (rc < 0)
        errno = EINVAL;
    return rc;
}

int ollama_version_parse(const char *body, size_t n, char *out, size_t outlen)
{
    cJSON *j;
    const cJSON *v;
    int rc = -1;

    json_init();
    j = cJSON_ParseWithLength(body, n);
    v = cJSON_GetObjectItemCaseSensitive(j, "version");
    if (cJSON_IsString(v) && *v->valuestring && strlen(v->valuestring) < outlen &&
        strlen(v->valuestring) <= ORION_VERSION_MAX) {
        memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
        rc = 0;
    }
    cJSON_Delete(j);
    return rc;
}

/* ---- the calls on the loop ---- */

struct ollama_admin_call {
    struct httpc_req *req;
    struct ollama_admin_cbs cb;
    ollama_version_fn *version;
    void *arg;
    int status;
    bool pull, success, got, over, in_cb, dead;
    struct http_lines lines;
    struct buf body;
};

static void call_free(struct ollama_admin_call *c)
{
    http_lines_release(&c->lines);
    buf_release(&c->body);
    orion_free(c);
}

void ollama_admin_cancel(struct ollama_admin_call *c)
{
    if (!c)
        return;
    if (c->in_cb) { /* freed when the callback returns */
        c->dead = true;
        return;
    }
    if (c->req)
        httpc_cancel(c->req);
    call_free(c);
}

/* The user's last callback. */
static void finish(struct ollama_admin_call *c, const char *code, bool retriable, const char *msg)
{
    char v[ORION_VERSION_MAX + 1];

    if (c->over || c->dead)
        return;
    c->over = true;
    c->in_cb = true;
    if (c->version)
        c->version(c->arg, !code && ollama_version_parse(buf_data(&c->body), buf_size(&c->body),
                                                         v, sizeof(v)) == 0 ? v : NULL);
    else if (!code)
        c->cb.done(c->arg);
    else
        c->cb.error(c->arg, code, retriable, msg);
    c->in_cb = false;
}

static int on_line(void *arg, const char *p, size_t n)
{
    struct ollama_admin_call *c = arg;
    struct ollama_progress pr;
    char err[512];
    int rc = ollama_progress_parse(p, n, &pr, err, sizeof(err));

    c->got = true;
    if (rc < 0) {
        finish(c, "bad_response", false, "ollama sent a line that is not a progress object");
        return -1;
    }
    if (rc > 0) {
        finish(c, "ollama_error", false, err);
        return -1;
    }
    c->success = !strcmp(pr.status, "success");
    if (c->cb.progress) {
        c->in_cb = true;
        c->cb.progress(c->arg, &pr);
        c->in_cb = false;
    }
    return c->dead ? -1 : 0;
}

static void on_head(void *arg, const struct http_head *h)
{
    struct ollama_admin_call *c = arg;

    c->status = h->status;
}

static void on_data(void *arg, const char *p, size_t n)
{
    struct ollama_admin_call *c = arg;
    size_t room = ADMIN_BODY_MAX - buf_size(&c->body);

    if (c->over || c->dead)
        return;
    if (!c->pull || c->status != 200) {
        buf_append(&c->body, p, n < room ? n : room);
        return;
    }
    if (http_lines_feed(&c->lines, p, n, on_line, c) < 0 && !c->over && !c->dead)
        finish(c, "bad_response", false, "ollama sent a progress line over the size cap");
    if (c->dead) {
        ollama_admin_cancel(c);
    } else if (c->over) { /* stop reading: drop the connection */
        httpc_cancel(c->req);
        call_free(c);
    }
}

static void fail_status(struct ollama_admin_call *c)
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
    finish(c, code, retry, msg);
}

static void on_done(void *arg)
{
    struct ollama_admin_call *c = arg;

    c->req = NULL;
    if (c->status != 200 && !c->version)
        fail_status(c);
    else if (c->pull && !c->over && http_lines_flush(&c->lines, on_line, c) == 0 && !c->over)
        finish(c, c->success ? NULL : "bad_response", false,
               "ollama ended the pull without \"success\"");
    else
        finish(c, NULL, false, NULL);
    call_free(c);
}

static void on_error(void *arg, enum httpc_err kind, const char *msg)
{
    struct ollama_admin_call *c = arg;

    c->req = NULL;
    if (kind == HTTPC_UNREACHABLE)
        finish(c, "ollama_unreachable", true, msg);
    else if (kind == HTTPC_TIMEOUT)
        finish(c, "timeout", true, msg);
    else if (kind == HTTPC_EOF)
        finish(c, "ollama_unreachable", !c->got, msg);
    else
        finish(c, kind == HTTPC_OOM ? "ollama_error" : "bad_response", kind == HTTPC_OOM, msg);
    call_free(c);
}

static struct ollama_admin_call *start(struct ollama *o, const char *method, const char *path,
                                       const struct buf *body, const struct ollama_admin_cbs *cb,
                                       void *arg)
{
    static const struct httpc_cb hcb = {on_head, on_data, on_done, on_error};
    struct ollama_admin_call *c = orion_calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    if (cb)
        c->cb = *cb;
    c->arg = arg;
    c->pull = !strcmp(path, "/api/pull");
    http_lines_init(&c->lines, PROGRESS_LINE_MAX);
    buf_init(&c->body, ADMIN_BODY_MAX);
    c->req = httpc_request(ollama_http(o), method, path, body ? "application/json" : NULL,
                           body ? buf_data(body) : NULL, body ? buf_size(body) : 0, &hcb, c);
    if (!c->req) {
        call_free(c);
        errno = ENOMEM;
        return NULL;
    }
    return c;
}

/* {"k1":"v1","k2":"v2"}; then start. */
static struct ollama_admin_call *start_json(struct ollama *o, const char *method, const char *path,
                                            const char *const *kv, size_t nkv, const char *tail,
                                            const struct ollama_admin_cbs *cb, void *arg)
{
    struct ollama_admin_call *c = NULL;
    struct buf b;
    int rc = 0;

    buf_init(&b, ORION_HTTP_MAX_BODY);
    for (size_t i = 0; i + 1 < nkv; i += 2) {
        if (!kv[i + 1] || !*kv[i + 1]) {
            buf_release(&b);
            errno = EINVAL;
            return NULL;
        }
        rc |= buf_puts(&b, i ? ",\"" : "{\"") | buf_puts(&b, kv[i]) | buf_puts(&b, "\":");
        rc |= json_quote(&b, kv[i + 1], strlen(kv[i + 1]));
    }
    rc |= buf_puts(&b, tail ? tail : "") | buf_putc(&b, '}');
    if (rc == 0)
        c = start(o, method, path, &b, cb, arg);
    else
        errno = ENOMEM;
    buf_release(&b);
    return c;
}

struct ollama_admin_call *ollama_pull(struct ollama *o, const char *model, bool insecure,
                                      const struct ollama_admin_cbs *cb, void *arg)
{
    const char *kv[] = {"model", model};

    return start_json(o, "POST", "/api/pull", kv, 2, insecure ? ",\"insecure\":true" : NULL, cb,
                      arg);
}

struct ollama_admin_call *ollama_copy(struct ollama *o, const char *source,
                                      const char *destination, const struct ollama_admin_cbs *cb,
                                      void *arg)
{
    const char *kv[] = {"source", source, "destination", destination};

    return start_json(o, "POST", "/api/copy", kv, 4, NULL, cb, arg);
}

struct ollama_admin_call *ollama_delete(struct ollama *o, const char *model,
                                        const struct ollama_admin_cbs *cb, void *arg)
{
    const char *kv[] = {"model", model};

    return start_json(o, "DELETE", "/api/delete", kv, 2, NULL, cb, arg);
}

struct ollama_admin_call *ollama_version(struct ollama *o, ollama_version_fn *cb, void *arg)
{
    struct ollama_admin_call *c = start(o, "GET", "/api/version", NULL, NULL, arg);

    if (c)
        c->version = cb;
    return c;
}
