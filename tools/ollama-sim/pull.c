/* SPDX-License-Identifier: MIT */
/*
 * pull: model management. POST /api/pull (server/routes.go PullHandler, server/images.go
 * PullModel, server/download.go): "pulling manifest", then per layer (model, template or
 * none, license, params, config) "pulling <12 hex>" lines with digest, total and completed
 * every 60 ms at --pull-mbps (a layer already on disk: one line, complete), "verifying sha256
 * digest", "writing manifest", "success"; a model not in the registry ends in
 * {"error":"pull model manifest: file does not exist"}. stream:false answers only the last
 * object (waitForStream: application/json). The pulled model is installed, modified now.
 * POST /api/copy (CopyHandler), DELETE /api/delete (DeleteHandler): 200 with an empty body.
 * POST /api/create from an installed model (CreateHandler: "using existing layer ...");
 * POST /api/push: its checks, then the stream stops with a simulator error.
 */
#include "native.h"

#include <stdio.h>
#include <string.h>

#define TICK_MS 60
#define MANIFEST_MS 50
#define NLAYERS 5

struct pull {
    struct sim *s;
    struct httpd_req *hr;
    struct sim_model *m; /* NULL: not in the registry */
    bool stream, started, cached;
    int layer, nlayers;
    long long total[NLAYERS], done;
    char digest[NLAYERS][72];
    unsigned long tmr;
    struct buf last; /* stream:false: the last object */
};

static void layer_digest(char out[72], const char *name, int k)
{
    uint32_t h = 2166136261u;
    int i;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    memcpy(out, "sha256:", 7);
    for (i = 0; i < 8; i++)
        snprintf(out + 7 + 8 * i, 9, "%08x",
                 (unsigned)((h + (uint32_t)k * 977u) * (2654435761u + (unsigned)i * 40503u)));
}

/* the manifest's layers; their sizes add up to the model's /api/tags size */
static void layers(struct pull *p)
{
    static const long long small[] = {1429, 6016, 96, 561}; /* template, license, params, config */
    const struct sim_model *m = p->m;
    long long rest = 0;
    int i, k = 1;

    for (i = (m->caps & CAP_COMPLETION) ? 0 : 1; i < 4; i++, k++)
        rest += p->total[k] = small[i];
    p->nlayers = k;
    p->total[0] = m->disk_size > rest ? m->disk_size - rest : 1;
    for (i = 0; i < k; i++)
        layer_digest(p->digest[i], m->name, i);
    layer_digest(p->digest[0], m->digest, 0);
}

static void pull_free(struct pull *p)
{
    if (p->tmr)
        loop_timer_cancel(p->s->l, p->tmr);
    buf_release(&p->last);
    orion_free(p);
}

static void gone(void *arg)
{
    pull_free(arg);
}

/* one progress object (api.ProgressResponse: digest, total, completed omitempty) */
static void line(struct pull *p, const char *status, const char *digest, long long total,
                 long long done)
{
    struct buf *b = &p->last;

    buf_reset(b);
    buf_puts(b, "{\"status\":");
    go_quote(b, status, strlen(status));
    if (digest)
        buf_printf(b, ",\"digest\":\"%s\"", digest);
    if (total)
        buf_printf(b, ",\"total\":%lld", total);
    if (done)
        buf_printf(b, ",\"completed\":%lld", done);
    buf_putc(b, '}');
    if (!p->stream)
        return;
    buf_putc(b, '\n');
    if (!p->started) {
        const char *hdr[2] = {"Content-Type: application/x-ndjson", NULL};

        p->started = true;
        httpd_start_chunked(p->hr, 200, hdr);
    }
    httpd_write_chunk(p->hr, buf_data(b), buf_size(b));
}

static void end(struct pull *p, const char *error)
{
    httpd_on_close(p->hr, NULL, NULL);
    p->tmr = 0;
    if (error && p->stream) {
        struct buf b;

        buf_init(&b, 4096);
        buf_puts(&b, "{\"error\":");
        go_quote(&b, error, strlen(error));
        buf_puts(&b, "}\n");
        httpd_write_chunk(p->hr, buf_data(&b), buf_size(&b));
        buf_release(&b);
    }
    if (p->stream)
        httpd_end(p->hr);
    else if (error)
        reply_error_ct(p->hr, 500, "application/json", error);
    else
        reply_json(p->hr, 200, "application/json", buf_data(&p->last), buf_size(&p->last));
    pull_free(p);
}

static void progress(struct pull *p)
{
    char st[32];

    snprintf(st, sizeof st, "pulling %.12s", p->digest[p->layer] + 7);
    line(p, st, p->digest[p->layer], p->total[p->layer], p->done);
}

static long step(struct loop *l, void *arg)
{
    struct pull *p = arg;
    double per_tick = p->s->pull_mbps * 1e6 * TICK_MS / 1000.0;

    (void)l;
    if (p->layer < 0) { /* the manifest came */
        if (!p->m) {
            end(p, "pull model manifest: file does not exist");
            return -1;
        }
        p->layer = 0;
        p->done = p->cached ? p->total[0] : 0;
        progress(p);
    } else if (p->done < p->total[p->layer]) {
        p->done += (long long)(per_tick > 1 ? per_tick : 1);
        if (p->done > p->total[p->layer])
            p->done = p->total[p->layer];
        progress(p);
    }
    while (p->layer < p->nlayers && p->done >= p->total[p->layer])
        if (++p->layer < p->nlayers) {
            p->done = p->cached ? p->total[p->layer] : 0;
            progress(p);
            if (!p->cached)
                break;
        }
    if (p->layer < p->nlayers)
        return TICK_MS;
    line(p, "verifying sha256 digest", NULL, 0, 0);
    line(p, "writing manifest", NULL, 0, 0);
    line(p, "success", NULL, 0, 0);
    p->m->installed = true;
    p->m->modified_ms = loop_wall_ms();
    end(p, NULL);
    return -1;
}

/* the body's object and its model name (model, else name): NULL with the answer sent */
static cJSON *body(struct httpd_req *hr, const struct httpd_request *q, const char **name)
{
    cJSON *j = cJSON_ParseWithLength(q->body, q->body_len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
    char err[256];

    if (!cJSON_IsString(m) || !*m->valuestring)
        m = cJSON_GetObjectItemCaseSensitive(j, "name");
    *name = cJSON_IsString(m) ? m->valuestring : "";
    if (q->body_len && cJSON_IsObject(j))
        return j;
    if (q->body_len)
        go_json_error(q->body, q->body_len, err, sizeof err);
    reply_error(hr, 400, q->body_len ? err : "missing request body");
    cJSON_Delete(j);
    return NULL;
}

void pull_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    const char *name;
    cJSON *j = body(hr, q, &name);
    struct pull *p;

    if (!j)
        return;
    if (!*name || !sim_name_valid(name))
        reply_error(hr, 400, "invalid model name");
    else if (!(p = orion_calloc(1, sizeof *p)))
        reply_error(hr, 500, "out of memory");
    else {
        p->s = s;
        p->hr = hr;
        p->m = sim_find_any(s, name);
        p->m = p->m && p->m->pullable ? p->m : NULL;
        p->cached = p->m && p->m->installed;
        p->stream = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "stream"));
        p->layer = -1;
        buf_init(&p->last, 4096);
        if (p->m)
            layers(p);
        httpd_on_close(hr, gone, p);
        line(p, "pulling manifest", NULL, 0, 0);
        p->tmr = loop_timer(s->l, MANIFEST_MS, step, p);
    }
    cJSON_Delete(j);
}

void copy_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    const char *name;
    cJSON *j = body(hr, q, &name);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "source");
    const cJSON *dst = cJSON_GetObjectItemCaseSensitive(j, "destination");
    const char *a = cJSON_IsString(src) ? src->valuestring : "",
               *b = cJSON_IsString(dst) ? dst->valuestring : "";
    struct sim_model *m;
    struct buf e;

    if (!j)
        return;
    buf_init(&e, 4096);
    if (!sim_name_valid(a))
        buf_puts(&e, "source "), go_q(&e, a, strlen(a)), buf_puts(&e, " is invalid");
    else if (!sim_name_valid(b))
        buf_puts(&e, "destination "), go_q(&e, b, strlen(b)), buf_puts(&e, " is invalid");
    if (buf_size(&e))
        reply_error(hr, 400, buf_data(&e));
    else if (!(m = sim_find_model(s, a))) {
        buf_puts(&e, "model "), go_q(&e, a, strlen(a)), buf_puts(&e, " not found");
        reply_error(hr, 404, buf_data(&e));
    } else if (!(m = sim_model_copy(s, m, b)))
        reply_error(hr, 500, "ollama-sim: the model table is full");
    else {
        m->modified_ms = loop_wall_ms();
        reply_empty(hr);
    }
    buf_release(&e);
    cJSON_Delete(j);
}

void delete_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    const char *name;
    cJSON *j = body(hr, q, &name);
    struct sim_model *m;
    struct buf e;

    if (!j)
        return;
    buf_init(&e, 4096);
    if (!*name)
        reply_error(hr, 400, "model is required");
    else if (!sim_name_valid(name)) {
        buf_puts(&e, "name "), go_q(&e, name, strlen(name)), buf_puts(&e, " is invalid");
        reply_error(hr, 400, buf_data(&e));
    } else if (!(m = sim_find_model(s, name))) {
        buf_printf(&e, "model '%s' not found", name);
        reply_error(hr, 404, buf_data(&e));
    } else {
        m->installed = false; /* a loaded runner keeps running, as in Ollama */
        reply_empty(hr);
    }
    buf_release(&e);
    cJSON_Delete(j);
}

/* the create and push streams: their lines at once */
static void statuses(struct httpd_req *hr, bool stream, const char *const *st, int n,
                     const char *error, int status)
{
    struct buf b;
    int i;

    buf_init(&b, 64 * 1024);
    if (!stream || (n == 0 && error)) { /* waitForStream, or an error before any line */
        if (error)
            reply_error_ct(hr, status, "application/json", error);
        else
            reply_json(hr, 200, "application/json", "{\"status\":\"success\"}", 20);
    } else {
        const char *hdr[2] = {"Content-Type: application/x-ndjson", NULL};

        for (i = 0; i < n; i++)
            buf_puts(&b, "{\"status\":"), go_quote(&b, st[i], strlen(st[i])), buf_puts(&b, "}\n");
        if (error)
            buf_puts(&b, "{\"error\":"), go_quote(&b, error, strlen(error)), buf_puts(&b, "}\n");
        if (httpd_start_chunked(hr, 200, hdr) == 0 &&
            httpd_write_chunk(hr, buf_data(&b), buf_size(&b)) == 0)
            httpd_end(hr);
    }
    buf_release(&b);
}

void create_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    const char *name, *st[NLAYERS + 3];
    cJSON *j = body(hr, q, &name);
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(j, "from");
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "parameters"), "num_ctx");
    bool stream = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "stream"));
    char d[NLAYERS + 1][96];
    struct sim_model *m;
    struct pull p;
    int i, n = 0;

    if (!j)
        return;
    if (!sim_name_valid(name))
        reply_error(hr, 400, "invalid model name");
    else if (!cJSON_IsString(from) || !*from->valuestring)
        statuses(hr, stream, NULL, 0,
                 cJSON_GetObjectItemCaseSensitive(j, "files")
                     ? "ollama-sim: creating a model from files is not simulated"
                     : "neither 'from' or 'files' was specified",
                 400);
    else if (!sim_name_valid(from->valuestring))
        statuses(hr, stream, NULL, 0, "invalid model name", 400);
    else if (!(m = sim_find_model(s, from->valuestring))) {
        st[0] = "pulling manifest";
        statuses(hr, stream, st, 1, "pull model manifest: file does not exist", 500);
    } else {
        memset(&p, 0, sizeof p);
        p.m = m;
        layers(&p);
        for (i = 0; i < p.nlayers; i++, n++)
            snprintf(d[i], sizeof d[i], "using existing layer %s", p.digest[i]), st[n] = d[i];
        if (cJSON_IsNumber(nc)) { /* the new params layer */
            char dg[72];

            layer_digest(dg, name, 9);
            snprintf(d[i], sizeof d[i], "creating new layer %s", dg);
            st[n++] = d[i];
        }
        st[n++] = "writing manifest";
        st[n++] = "success";
        if (!(m = sim_model_copy(s, m, name))) {
            statuses(hr, stream, st, 0, "ollama-sim: the model table is full", 500);
        } else {
            m->modified_ms = loop_wall_ms();
            if (native_long(nc, 0) > 0)
                m->num_ctx = native_long(nc, 0) < 1048576 ? native_long(nc, 0) : 1048576;
            statuses(hr, stream, st, n, NULL, 200);
        }
    }
    cJSON_Delete(j);
}

void push_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    const char *name, *st[2] = {"retrieving manifest", "couldn't retrieve manifest"};
    cJSON *j = body(hr, q, &name);
    bool stream = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "stream"));
    char full[ORION_MODEL_MAX + 64], err[ORION_MODEL_MAX + 256], *colon;

    if (!j)
        return;
    if (!*name)
        reply_error(hr, 400, "model is required");
    else if (sim_find_model(s, name))
        statuses(hr, stream, st, 1, "ollama-sim: pushing to a registry is not simulated", 500);
    else {
        sim_full_name(name, full, sizeof full);
        if ((colon = strrchr(full, ':')) && colon > strrchr(full, '/'))
            *colon = '/';
        snprintf(err, sizeof err, "open %s/manifests/%s: no such file or directory", SIM_MODELS_DIR,
                 full);
        statuses(hr, stream, st, 2, err, 500);
    }
    cJSON_Delete(j);
}
