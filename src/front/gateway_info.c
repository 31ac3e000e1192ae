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

#define JSON_UTF8 "application/json; charset=utf-8"
#define INFO_MAX (16u * 1024 * 1024)

static const char details[] = "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\","
                              "\"family\":\"\",\"families\":null,\"parameter_size\":\"\","
                              "\"quantization_level\":\"\"}";

/* Model names over every node with health: installed (and loaded), each once. The array is
 * the caller's to free; NULL with *n 0 when there is none (or no memory). */
static const char **union_names(struct gateway *g, size_t *n)
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
    const char **names = union_names(g, &n);
    char t[40];
    struct buf b;

    (void)req;
    local_time(t, (long long)(loop_wall_ms() / 1000));
    buf_init(&b, INFO_MAX);
    buf_puts(&b, "{\"models\":[");
    for (size_t i = 0; i < n; i++) {
        buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        json_quote(&b, names[i], strlen(names[i]));
        buf_puts(&b, ",\"model\":");
        json_quote(&b, names[i], strlen(names[i]));
        buf_printf(&b, ",\"modified_at\":\"%s\",\"size\":0,\"digest\":\"\",%s}", t, details);
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
            buf_puts(&b, first ? "{\"name\":" : ",{\"name\":");
            first = false;
            json_quote(&b, name, strlen(name));
            buf_puts(&b, ",\"model\":");
            json_quote(&b, name, strlen(name));
            buf_printf(&b, ",\"size\":0,\"digest\":\"\",%s,\"expires_at\":\"%s\",\"size_vram\":0,"
                           "\"node\":", details, t);
            json_quote(&b, v[i].id, strlen(v[i].id));
            buf_putc(&b, '}');
        }
    }
    buf_puts(&b, "]}");
    send_json(hr, 200, &b);
}

void gw_models(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    size_t n;
    const char **names = union_names(g, &n);
    long long now = (long long)(loop_wall_ms() / 1000);
    struct buf b;

    (void)req;
    buf_init(&b, INFO_MAX);
    buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(names[i], '/');
        buf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
        json_quote(&b, names[i], strlen(names[i]));
        buf_printf(&b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":", now);
        if (slash)
            json_quote(&b, names[i], (size_t)(slash - names[i]));
        else
            buf_puts(&b, "\"library\"");
        buf_putc(&b, '}');
    }
    buf_puts(&b, "]}\n");
    gw_respond(hr, 200, "application/json", NULL, buf_data(&b), buf_size(&b));
    buf_release(&b);
    orion_free(names);
}

static void ready_body(struct buf *b, bool redis, size_t eligible, const struct buf *reasons)
{
    if (!redis) {
        buf_puts(b, "{\"ready\":false,\"reason\":\"redis is not available\"}");
    } else if (!eligible) {
        buf_puts(b, "{\"ready\":false,\"reason\":");
        if (buf_size(reasons)) {
            buf_puts(b, "\"no eligible node\",\"nodes\":");
            json_quote(b, buf_data(reasons), buf_size(reasons));
        } else {
            buf_puts(b, "\"no node has reported health\"");
        }
        buf_putc(b, '}');
    } else {
        buf_printf(b, "{\"ready\":true,\"eligible\":%zu}", eligible);
    }
}

void gw_health(struct gateway *g, struct httpd_req *hr, bool ready)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now), eligible = 0;
    struct buf b, list, reasons;
    bool up = redis_up(g->cmd);

    buf_init(&b, INFO_MAX);
    buf_init(&list, INFO_MAX);
    buf_init(&reasons, INFO_MAX);
    for (size_t i = 0; i < n; i++) {
        eligible += v[i].eligible;
        if (!v[i].eligible)
            buf_printf(&reasons, "%s%s: %s", buf_size(&reasons) ? "; " : "", v[i].id, v[i].why);
        if (i)
            buf_putc(&list, ',');
        node_view_json(&v[i], &list);
    }
    if (ready) {
        ready_body(&b, up, eligible, &reasons);
        send_json(hr, eligible && up ? 200 : 503, &b);
    } else {
        buf_printf(&b, "{\"ok\":%s,\"backends\":[", eligible && up ? "true" : "false");
        buf_append(&b, buf_data(&list), buf_size(&list));
        buf_puts(&b, "]}");
        send_json(hr, 200, &b);
    }
    buf_release(&list);
    buf_release(&reasons);
}

/* POST /api/show: enough for the Ollama CLI, which asks before it runs a model. */
void gw_show(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    size_t n, i = 0;
    const char **names = union_names(g, &n);
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
    char msg[ORION_MODEL_MAX + 32];
    struct buf b;

    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "name");
    buf_init(&b, INFO_MAX);
    if (!cJSON_IsString(m) || !*m->valuestring) {
        buf_puts(&b, "{\"error\":\"model is required\"}");
        send_json(hr, 400, &b);
        cJSON_Delete(j);
        orion_free(names);
        return;
    }
    while (i < n && !route_model_eq(names[i], m->valuestring))
        i++;
    if (i == n) {
        snprintf(msg, sizeof(msg), "model '%.*s' not found", ORION_MODEL_MAX, m->valuestring);
        buf_puts(&b, "{\"error\":");
        json_quote(&b, msg, strlen(msg));
        buf_putc(&b, '}');
        send_json(hr, 404, &b);
    } else {
        buf_printf(&b, "{\"license\":\"\",\"modelfile\":\"\",\"parameters\":\"\",\"template\":\"\","
                       "%s,\"model_info\":{},\"capabilities\":[\"completion\"]}", details);
        send_json(hr, 200, &b);
    }
    cJSON_Delete(j);
    orion_free(names);
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
    names = union_names(g, &n);
    if (!names)
        return false; /* no memory: let the router decide */
    for (size_t i = 0; i < n && unknown; i++)
        unknown = !route_model_eq(names[i], model);
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
    const char **names = union_names(g, &n);
    const char *slash = strchr(id, '/');
    char msg[ORION_MODEL_MAX + 32];
    struct buf b;

    while (i < n && !route_model_eq(names[i], id))
        i++;
    orion_free(names);
    if (i == n) {
        snprintf(msg, sizeof(msg), "model '%.*s' not found", ORION_MODEL_MAX, id);
        gw_openai_error(hr, 404, msg);
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
