/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's read-only answers out of the nodes' health records: /api/tags (what is
 * installed anywhere), /api/ps (what is loaded where, with a "node" field), /v1/models,
 * /health (every node, eligible or why not) and /health/ready (503 while none is eligible).
 */
#include "gateway_int.h"

#include "orion/jsonw.h"
#include "orion/route_union.h"

#include "cJSON.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ORION_VERSION
#define ORION_VERSION "dev"
#endif

#define JSON_UTF8 "application/json; charset=utf-8"
#define INFO_MAX (16u * 1024 * 1024)

/* "details":{...} of a model, from what its record says ("" where it says nothing) */
static void put_details(struct buf *b, const struct ollama_model *m)
{
    const char *fam = m ? m->family : "";

    buf_puts(b, "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":");
    json_quote(b, fam, strlen(fam));
    buf_puts(b, ",\"families\":");
    if (*fam) {
        buf_putc(b, '[');
        json_quote(b, fam, strlen(fam));
        buf_putc(b, ']');
    } else {
        buf_puts(b, "null");
    }
    buf_puts(b, ",\"parameter_size\":");
    json_quote(b, m ? m->params : "", m ? strlen(m->params) : 0);
    buf_puts(b, ",\"quantization_level\":");
    json_quote(b, m ? m->quant : "", m ? strlen(m->quant) : 0);
    buf_putc(b, '}');
}

/* Model names over every node with health: installed (and loaded), each once. The array is
 * the caller's to free; NULL with *n 0 when there is none (or no memory). */
const char **gw_union_names(struct gateway *g, size_t *n)
{
    const struct node_view *v;
    double now;
    size_t nn = g->host.nodes(g->host.arg, &v, &now), max = 0, k = 0;
    const char **out;

    for (size_t i = 0; i < nn; i++)
        if (v[i].h)
            max += v[i].h->ninstalled + v[i].h->nmodels;
    out = max ? orion_malloc(max * sizeof(*out)) : NULL;
    for (size_t i = 0; out && i < nn; i++) {
        const struct health *h = v[i].h;

        for (size_t m = 0; h && m < h->ninstalled; m++)
            out[k++] = h->installed[m];
        for (size_t m = 0; h && m < h->nmodels; m++)
            out[k++] = h->models[m];
    }
    if (out && route_union(out, &k) < 0) {
        free(out);
        out = NULL;
    }
    *n = out ? k : 0;
    return out;
}

static void send_json(struct httpd_req *hr, int status, struct buf *b)
{
    gw_respond(hr, status, JSON_UTF8, NULL, buf_data(b), buf_size(b));
    buf_release(b);
}

static void local_time(char out[40], long long s)
{
    time_t t = (time_t)s;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void gw_tags(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    size_t n;
    const char **names = gw_union_names(g, &n);
    char t[40];
    struct buf b;

    (void)req;
    local_time(t, (long long)(loop_wall_ms() / 1000));
    buf_init(&b, INFO_MAX);
    buf_puts(&b, "{\"models\":[");
    for (size_t i = 0; i < n; i++) {
        const struct ollama_model *m = gw_meta(g, names[i]);

        buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        json_quote(&b, names[i], strlen(names[i]));
        buf_puts(&b, ",\"model\":");
        json_quote(&b, names[i], strlen(names[i]));
        buf_printf(&b, ",\"modified_at\":\"%s\",\"size\":%lld,\"digest\":", t, m ? m->size : 0);
        json_quote(&b, m ? m->digest : "", m ? strlen(m->digest) : 0);
        buf_putc(&b, ',');
        put_details(&b, m);
        if (m && m->has_caps) {
            buf_puts(&b, ",\"capabilities\":");
            gw_put_caps(&b, m);
        }
        buf_putc(&b, '}');
    }
    buf_puts(&b, "]}");
    send_json(hr, 200, &b);
    orion_free(names);
}

void gw_ps(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    const struct node_view *v;
    double now;
    size_t nn = g->host.nodes(g->host.arg, &v, &now);
    char t[40];
    struct buf b;
    bool first = true;

    (void)req;
    local_time(t, (long long)(loop_wall_ms() / 1000) + 300);
    buf_init(&b, INFO_MAX);
    buf_puts(&b, "{\"models\":[");
    for (size_t i = 0; i < nn; i++) {
        for (size_t m = 0; v[i].h && m < v[i].h->nmodels; m++) {
            const char *name = v[i].h->models[m];
            const struct ollama_model *mm = modelinfo_find(v[i].mi, name);

            buf_puts(&b, first ? "{\"name\":" : ",{\"name\":");
            first = false;
            json_quote(&b, name, strlen(name));
            buf_puts(&b, ",\"model\":");
            json_quote(&b, name, strlen(name));
            buf_printf(&b, ",\"size\":%lld,\"digest\":", mm ? mm->ram : 0);
            json_quote(&b, mm ? mm->digest : "", mm ? strlen(mm->digest) : 0);
            buf_putc(&b, ',');
            put_details(&b, mm);
            buf_printf(&b, ",\"expires_at\":\"%s\",\"size_vram\":0", t);
            if (mm && mm->loaded_ctx)
                buf_printf(&b, ",\"context_length\":%ld", mm->loaded_ctx);
            buf_puts(&b, ",\"node\":");
            json_quote(&b, v[i].id, strlen(v[i].id));
            buf_putc(&b, '}');
        }
    }
    buf_puts(&b, "]}");
    send_json(hr, 200, &b);
}

/* What the P:models records say of a model, in /api/show's shape: the Modelfile's num_ctx,
 * details, model_info's architecture and context length, capabilities (completion when
 * unknown). */
static void show_body(struct buf *b, const struct ollama_model *m)
{
    const char *arch = m && *m->family ? m->family : "llama";

    buf_puts(b, "{\"license\":\"\",\"modelfile\":\"\",\"parameters\":");
    if (m && m->num_ctx) {
        char p[64];
        snprintf(p, sizeof(p), "%-30s %ld", "num_ctx", m->num_ctx);
        json_quote(b, p, strlen(p));
    } else {
        buf_puts(b, "\"\"");
    }
    buf_puts(b, ",\"template\":\"\",");
    put_details(b, m);
    buf_puts(b, ",\"model_info\":{");
    if (m && m->context_length) {
        char key[48];
        snprintf(key, sizeof(key), "%.31s.context_length", arch);
        buf_puts(b, "\"general.architecture\":");
        json_quote(b, arch, strlen(arch));
        buf_putc(b, ',');
        json_quote(b, key, strlen(key));
        buf_printf(b, ":%ld", m->context_length);
    }
    buf_puts(b, "},\"capabilities\":");
    if (m && m->has_caps)
        gw_put_caps(b, m);
    else
        buf_puts(b, "[\"completion\"]");
    buf_putc(b, '}');
}

/* POST /api/show: enough for the Ollama CLI, which asks before it runs a model. */
void gw_show(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    size_t n, i = 0;
    const char **names = gw_union_names(g, &n);
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
    char msg[ORION_MODEL_MAX + 32];
    struct buf b;

    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "name");
    buf_init(&b, INFO_MAX);
    if (!cJSON_IsString(m) || !*m->valuestring) {
        gw_native_err(hr, 400, "model is required");
        buf_release(&b);
        cJSON_Delete(j);
        orion_free(names);
        return;
    }
    while (i < n && !route_model_eq(names[i], m->valuestring))
        i++;
    if (i == n) {
        snprintf(msg, sizeof(msg), "model '%.*s' not found", ORION_MODEL_MAX, m->valuestring);
        gw_error_code(hr, false, "model_not_found", msg);
        buf_release(&b);
    } else {
        show_body(&b, gw_meta(g, names[i]));
        send_json(hr, 200, &b);
    }
    cJSON_Delete(j);
    orion_free(names);
}

const char *gw_model_name(const char *model, bool *pick)
{
    struct role_spec sp;

    role_spec_parse(model, &sp);
    *pick = sp.kind != ROLE_SPEC_MODEL;
    return sp.model;
}

bool gw_model_unknown(struct gateway *g, const char *model)
{
    const struct node_view *v;
    double now;
    size_t nn = g->host.nodes(g->host.arg, &v, &now), n, with_health = 0;
    const char **names;
    bool unknown = true;

    for (size_t i = 0; i < nn; i++) {
        if (!v[i].h)
            continue;
        if (!v[i].h->ninstalled)
            return false; /* this node does not say what it has: let the router decide */
        with_health++;
    }
    if (!with_health)
        return false;
    names = gw_union_names(g, &n);
    if (!names)
        return false; /* no memory: let the router decide */
    for (size_t i = 0; i < n && unknown; i++) /* the seed's names too: llama-3.2-3b */
        unknown = role_key_match(model, names[i]) < 2;
    orion_free(names);
    return unknown;
}

size_t gw_model_loaded_on(struct gateway *g, const char *model, const char **out, size_t max)
{
    const struct node_view *v;
    double now;
    size_t nn = g->host.nodes(g->host.arg, &v, &now), k = 0;

    for (size_t i = 0; i < nn && k < max; i++) {
        for (size_t m = 0; v[i].h && m < v[i].h->nmodels; m++)
            if (route_model_eq(v[i].h->models[m], model)) {
                out[k++] = v[i].id;
                break;
            }
    }
    return k;
}

/* One model object as Ollama's GET /v1/models/{id} gives it: the id echoes the request. */
void gw_model_get(struct gateway *g, struct httpd_req *hr, const char *id)
{
    size_t n, i = 0;
    const char **names = gw_union_names(g, &n);
    const char *slash = strchr(id, '/');
    char msg[ORION_MODEL_MAX + 32];
    struct buf b;

    while (i < n && !route_model_eq(names[i], id))
        i++;
    orion_free(names);
    if (i == n) {
        snprintf(msg, sizeof(msg), "model '%.*s' not found", ORION_MODEL_MAX, id);
        gw_error_code(hr, true, "model_not_found", msg);
        return;
    }
    buf_init(&b, INFO_MAX);
    buf_puts(&b, "{\"id\":");
    json_quote(&b, id, strlen(id));
    buf_printf(&b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":",
               (long long)(loop_wall_ms() / 1000));
    if (slash)
        json_quote(&b, id, (size_t)(slash - id));
    else
        buf_puts(&b, "\"library\"");
    buf_puts(&b, "}\n");
    gw_respond(hr, 200, "application/json", NULL, buf_data(&b), buf_size(&b));
    buf_release(&b);
}
