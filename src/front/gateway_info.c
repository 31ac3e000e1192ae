/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's read-only answers out of the nodes' health records: /api/tags (what is
 * installed anywhere), /api/ps (what is loaded where, with a "node" field), /v1/models,
 * /health (every node, eligible or why not) and /health/ready (503 while none is eligible).
 */
#include "gateway_int.h"

#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define JSON_UTF8 "application/json; charset=utf-8"
#define INFO_MAX (16u * 1024 * 1024)
#define MAX_NAMES (ORION_ROUTE_MAX_NODES * HEALTH_MAX_MODELS * 2)

static const char details[] = "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\","
                              "\"family\":\"\",\"families\":null,\"parameter_size\":\"\","
                              "\"quantization_level\":\"\"}";

/* Model names over every node with health: installed (and loaded), each once. */
static size_t union_names(const struct router *r, const char **out, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < r->nnodes; i++) {
        const struct health *h = &r->nodes[i].h;
        char **lists[2] = {h->installed, h->models};
        size_t lens[2] = {h->ninstalled, h->nmodels};
        if (!r->nodes[i].has_health)
            continue;
        for (int l = 0; l < 2; l++) {
            for (size_t m = 0; m < lens[l] && k < max; m++) {
                size_t s = 0;
                while (s < k && !route_model_eq(out[s], lists[l][m]))
                    s++;
                if (s == k)
                    out[k++] = lists[l][m];
            }
        }
    }
    return k;
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

void gw_tags(struct gateway *g, struct httpd_req *hr)
{
    static const char *names[MAX_NAMES];
    size_t n = union_names(g->r, names, MAX_NAMES);
    char t[40];
    struct buf b;

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
}

void gw_ps(struct gateway *g, struct httpd_req *hr)
{
    const struct router *r = g->r;
    char t[40];
    struct buf b;
    bool first = true;

    local_time(t, (long long)(loop_wall_ms() / 1000) + 300);
    buf_init(&b, INFO_MAX);
    buf_puts(&b, "{\"models\":[");
    for (size_t i = 0; i < r->nnodes; i++) {
        const struct rnode *nd = &r->nodes[i];
        for (size_t m = 0; nd->has_health && m < nd->h.nmodels; m++) {
            const char *name = nd->h.models[m];
            buf_puts(&b, first ? "{\"name\":" : ",{\"name\":");
            first = false;
            json_quote(&b, name, strlen(name));
            buf_puts(&b, ",\"model\":");
            json_quote(&b, name, strlen(name));
            buf_printf(&b, ",\"size\":0,\"digest\":\"\",%s,\"expires_at\":\"%s\",\"size_vram\":0,"
                           "\"node\":", details, t);
            json_quote(&b, nd->id, strlen(nd->id));
            buf_putc(&b, '}');
        }
    }
    buf_puts(&b, "]}");
    send_json(hr, 200, &b);
}

void gw_models(struct gateway *g, struct httpd_req *hr)
{
    static const char *names[MAX_NAMES];
    size_t n = union_names(g->r, names, MAX_NAMES);
    long long now = (long long)(loop_wall_ms() / 1000);
    struct buf b;

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
}

static void backend(struct buf *b, const struct rnode *nd, bool ok, const char *why)
{
    const struct health *h = &nd->h;

    buf_puts(b, "{\"node\":");
    json_quote(b, nd->id, strlen(nd->id));
    buf_printf(b, ",\"eligible\":%s,\"reason\":", ok ? "true" : "false");
    json_quote(b, ok ? "" : why, ok ? 0 : strlen(why));
    if (nd->has_health && h->has_temp)
        buf_printf(b, ",\"temp_c\":%.3f", h->temp_c);
    else
        buf_puts(b, ",\"temp_c\":null");
    if (nd->has_health)
        buf_printf(b, ",\"ram_percent\":%.1f,\"models\":[", h->ram_percent);
    else
        buf_puts(b, ",\"ram_percent\":null,\"models\":[");
    for (size_t m = 0; nd->has_health && m < h->nmodels; m++) {
        if (m)
            buf_putc(b, ',');
        json_quote(b, h->models[m], strlen(h->models[m]));
    }
    buf_puts(b, "]}");
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
    struct router *r = g->r;
    static struct route_node nodes[ORION_ROUTE_MAX_NODES]; /* ~30 KB: not on the stack */
    static struct rnode *map[ORION_ROUTE_MAX_NODES];
    size_t n = router_route_nodes(r, nodes, map, ORION_ROUTE_MAX_NODES), eligible = 0;
    double now = router_now(r);
    char why[160];
    struct buf b, list, reasons;
    bool up = redis_up(r->cmd);

    buf_init(&b, INFO_MAX);
    buf_init(&list, INFO_MAX);
    buf_init(&reasons, INFO_MAX);
    for (size_t i = 0; i < n; i++) {
        bool ok = route_eligible(&nodes[i], NULL, &r->rs, &r->st, now, why, sizeof(why));
        eligible += ok;
        if (!ok)
            buf_printf(&reasons, "%s%s: %s", buf_size(&reasons) ? "; " : "", map[i]->id, why);
        if (i)
            buf_putc(&list, ',');
        backend(&list, map[i], ok, why);
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
    static const char *names[MAX_NAMES];
    size_t n = union_names(g->r, names, MAX_NAMES), i = 0;
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
}

bool gw_model_unknown(const struct gateway *g, const char *model)
{
    static const char *names[MAX_NAMES];
    const struct router *r = g->r;
    size_t n, with_health = 0;

    for (size_t i = 0; i < r->nnodes; i++) {
        if (!r->nodes[i].has_health)
            continue;
        if (!r->nodes[i].h.ninstalled)
            return false; /* this node does not say what it has: let the router decide */
        with_health++;
    }
    if (!with_health)
        return false;
    n = union_names(r, names, MAX_NAMES);
    for (size_t i = 0; i < n; i++)
        if (route_model_eq(names[i], model))
            return false;
    return true;
}

size_t gw_model_loaded_on(const struct gateway *g, const char *model, const char **out,
                          size_t max)
{
    const struct router *r = g->r;
    size_t k = 0;

    for (size_t i = 0; i < r->nnodes && k < max; i++) {
        const struct rnode *nd = &r->nodes[i];
        for (size_t m = 0; nd->has_health && m < nd->h.nmodels; m++)
            if (route_model_eq(nd->h.models[m], model)) {
                out[k++] = nd->id;
                break;
            }
    }
    return k;
}

/* One model object as Ollama's GET /v1/models/{id} gives it: the id echoes the request. */
void gw_model_get(struct gateway *g, struct httpd_req *hr, const char *id)
{
    static const char *names[MAX_NAMES];
    size_t n = union_names(g->r, names, MAX_NAMES), i = 0;
    const char *slash = strchr(id, '/');
    char msg[ORION_MODEL_MAX + 32];
    struct buf b;

    while (i < n && !route_model_eq(names[i], id))
        i++;
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
