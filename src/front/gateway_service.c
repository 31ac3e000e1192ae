/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's service-contract answers (docs/PROTOCOL.md): GET /v1/models with what each
 * model is (status, memory, context length, roles, capabilities) and the active preset;
 * GET /health and /health/ready; GET and POST /v1/config (the active preset). What a model is
 * comes from the workers' P:models records, which the router reads (node_view.mi).
 */
#include "gateway_int.h"

#include "orion/jsonw.h"

#include "cJSON.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SVC_MAX (16u * 1024 * 1024)
#define JSON_UTF8 "application/json; charset=utf-8"

const struct ollama_model *gw_meta(struct gateway *g, const char *model)
{
    const struct node_view *v;
    const struct ollama_model *best = NULL, *m;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now);

    for (size_t i = 0; i < n; i++) {
        if (!v[i].h || !(m = modelinfo_find(v[i].mi, model)))
            continue;
        if (!best || (m->loaded && !best->loaded) || (m->ram > best->ram && m->loaded))
            best = m;
    }
    return best;
}

long gw_meta_memory_mb(const struct ollama_model *m)
{
    if (!m)
        return -1;
    if (m->loaded && m->ram > 0)
        return (long)(m->ram >> 20);
    return m->size > 0 ? (long)((m->size / 7 * 8) >> 20) : -1; /* Ollama: about 8/7 of it */
}

void gw_put_caps(struct buf *b, const struct ollama_model *m)
{
    bool first = true;

    buf_puts(b, "[");
    for (int i = 0; m && m->has_caps && i < OLLAMA_NCAPS; i++) {
        if (!(m->caps & (1u << i)))
            continue;
        buf_printf(b, "%s\"%s\"", first ? "" : ",", ollama_cap_name(1u << i));
        first = false;
    }
    buf_putc(b, ']');
}

static void put_roles(struct buf *b, const struct gw_service *s, const char *model)
{
    unsigned r = role_resolve(s->maps, 2, model);
    bool first = true;

    buf_putc(b, '[');
    for (int i = 0; i < ROLE_NROLES; i++) {
        if (!(r & (1u << i)))
            continue;
        buf_printf(b, "%s\"%s\"", first ? "" : ",", role_name(1u << i));
        first = false;
    }
    buf_putc(b, ']');
}

static void put_str_or_null(struct buf *b, const char *s)
{
    if (s)
        json_quote(b, s, strlen(s));
    else
        buf_puts(b, "null");
}

static void put_nodes(struct buf *b, struct gateway *g, const char *model, bool loaded)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now);
    bool first = true;

    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        const struct health *h = v[i].h;
        if (!h || !route_has_model((const char *const *)(loaded ? h->models : h->installed),
                                   loaded ? h->nmodels : h->ninstalled, model))
            continue;
        buf_puts(b, first ? "" : ",");
        json_quote(b, v[i].id, strlen(v[i].id));
        first = false;
    }
    buf_putc(b, ']');
}

/* One entry of /v1/models. */
static void model_entry(struct gateway *g, struct buf *b, const char *name,
                        const struct gw_service *s, bool loaded, long long now)
{
    const struct ollama_model *m = gw_meta(g, name);
    const char *slash = strchr(name, '/');
    long mb = gw_meta_memory_mb(m);

    buf_puts(b, "{\"id\":");
    json_quote(b, name, strlen(name));
    buf_printf(b, ",\"object\":\"model\",\"created\":%lld,\"owned_by\":", now);
    if (slash)
        json_quote(b, name, (size_t)(slash - name));
    else
        buf_puts(b, "\"library\"");
    buf_printf(b, ",\"status\":\"%s\",\"memory_mb\":", loaded ? "loaded" : "available");
    buf_printf(b, mb >= 0 ? "%ld" : "null", mb);
    if (m && m->context_length)
        buf_printf(b, ",\"context_length\":%ld", m->context_length);
    else
        buf_puts(b, ",\"context_length\":null");
    buf_puts(b, ",\"roles\":");
    put_roles(b, s, name);
    buf_puts(b, ",\"capabilities\":");
    gw_put_caps(b, m);
    buf_puts(b, ",\"nodes\":");
    put_nodes(b, g, name, false);
    buf_puts(b, ",\"loaded_on\":");
    put_nodes(b, g, name, true);
    buf_putc(b, '}');
}

void gw_models(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    size_t n;
    const char **names = gw_union_names(g, &n);
    const struct node_view *v;
    double t;
    size_t nn = g->host.nodes(g->host.arg, &v, &t);
    long long now = (long long)(loop_wall_ms() / 1000);
    struct gw_service s;
    struct buf b;

    (void)req;
    g->host.service(g->host.arg, &s);
    buf_init(&b, SVC_MAX);
    buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < n; i++) {
        bool loaded = false;
        for (size_t k = 0; k < nn && !loaded; k++)
            loaded = v[k].h && route_has_model((const char *const *)v[k].h->models,
                                               v[k].h->nmodels, names[i]);
        if (i)
            buf_putc(&b, ',');
        model_entry(g, &b, names[i], &s, loaded, now);
    }
    buf_puts(&b, "],\"config\":");
    put_str_or_null(&b, s.config);
    buf_puts(&b, ",\"orchestration_mode\":");
    put_str_or_null(&b, s.mode);
    buf_puts(&b, "}\n");
    gw_respond(hr, 200, "application/json", NULL, buf_data(&b), buf_size(&b));
    buf_release(&b);
    orion_free(names);
}

/* --- health ----------------------------------------------------------------------------------- */

static void send_json(struct httpd_req *hr, int status, struct buf *b)
{
    const char *h[3] = {"Content-Type: " JSON_UTF8, status == 503 ? "Retry-After: 5" : NULL,
                        NULL};

    httpd_respond(hr, status, h, buf_data(b), buf_size(b));
    buf_release(b);
}

/* The models loaded anywhere (no preset, no --preload: readiness is any eligible node). */
static void put_loaded(struct buf *b, struct gateway *g, const struct gw_service *s)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now), k = 0;
    const char *seen[256];

    buf_puts(b, ",\"loaded_models\":[");
    if (s->wanted) {
        for (size_t i = 0; i < s->nloaded_models; i++) {
            buf_puts(b, i ? "," : "");
            json_quote(b, s->loaded_models[i], strlen(s->loaded_models[i]));
        }
    }
    for (size_t i = 0; !s->wanted && i < n; i++) {
        for (size_t m = 0; v[i].h && v[i].eligible && m < v[i].h->nmodels && k < 256; m++) {
            const char *name = v[i].h->models[m];
            size_t j = 0;
            while (j < k && !route_model_eq(seen[j], name))
                j++;
            if (j < k)
                continue;
            buf_puts(b, k ? "," : "");
            json_quote(b, name, strlen(name));
            seen[k++] = name;
        }
    }
    buf_putc(b, ']');
}

static void put_service(struct buf *b, const struct gw_service *s)
{
    buf_puts(b, ",\"config\":");
    put_str_or_null(b, s->config);
    buf_puts(b, ",\"orchestration_mode\":");
    put_str_or_null(b, s->mode);
}

static void ready(struct gateway *g, struct httpd_req *hr, size_t eligible, const struct buf *why)
{
    struct gw_service s;
    struct buf b;
    bool up = redis_up(g->cmd);

    g->host.service(g->host.arg, &s);
    buf_init(&b, SVC_MAX);
    if (up && eligible && s.loaded >= s.wanted) {
        buf_printf(&b, "{\"status\":\"ready\",\"ready\":true,\"eligible\":%zu", eligible);
        put_service(&b, &s);
        put_loaded(&b, g, &s);
        buf_putc(&b, '}');
        send_json(hr, 200, &b);
        return;
    }
    buf_puts(&b, "{\"status\":\"not_ready\",\"ready\":false,\"reason\":");
    if (!up)
        buf_puts(&b, "\"redis is not available\"");
    else if (!eligible && buf_size(why))
        buf_puts(&b, "\"no eligible node\"");
    else if (!eligible)
        buf_puts(&b, "\"no node has reported health\"");
    else
        json_quote(&b, s.reason && *s.reason ? s.reason : "models still loading",
                   strlen(s.reason && *s.reason ? s.reason : "models still loading"));
    if (up && !eligible && buf_size(why)) {
        buf_puts(&b, ",\"nodes\":");
        json_quote(&b, buf_data(why), buf_size(why));
    }
    if (s.wanted)
        buf_printf(&b, ",\"progress\":\"%zu/%zu\"", s.loaded, s.wanted);
    put_service(&b, &s);
    buf_putc(&b, '}');
    send_json(hr, 503, &b);
}

void gw_health(struct gateway *g, struct httpd_req *hr, bool want_ready)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now), eligible = 0;
    struct buf b, why;
    bool up = redis_up(g->cmd);

    buf_init(&b, SVC_MAX);
    buf_init(&why, SVC_MAX);
    for (size_t i = 0; i < n; i++) {
        eligible += v[i].eligible;
        if (!v[i].eligible)
            buf_printf(&why, "%s%s: %s", buf_size(&why) ? "; " : "", v[i].id, v[i].why);
    }
    if (want_ready) {
        ready(g, hr, eligible, &why);
        buf_release(&b);
        buf_release(&why);
        return;
    }
    buf_printf(&b, "{\"status\":\"%s\",\"ok\":%s,", up ? "ok" : "unavailable",
               eligible && up ? "true" : "false");
    if (!up)
        buf_puts(&b, "\"reason\":\"redis is not available\",");
    buf_puts(&b, "\"backends\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&b, ',');
        node_view_json(&v[i], &b);
    }
    buf_puts(&b, "],\"version\":"); /* the router's own, after the backends */
    json_quote(&b, ORION_VERSION, strlen(ORION_VERSION));
    buf_putc(&b, '}');
    send_json(hr, up ? 200 : 503, &b);
    buf_release(&why);
}

/* --- /v1/config ------------------------------------------------------------------------------- */

static void config_state(struct gateway *g, struct httpd_req *hr)
{
    struct gw_service s;
    struct buf b;

    g->host.service(g->host.arg, &s);
    buf_init(&b, SVC_MAX);
    buf_puts(&b, "{\"config\":");
    put_str_or_null(&b, s.config);
    buf_puts(&b, ",\"orchestration_mode\":");
    put_str_or_null(&b, s.mode);
    buf_printf(&b, ",\"progress\":\"%zu/%zu\"", s.loaded, s.wanted);
    put_loaded(&b, g, &s);
    buf_puts(&b, "}\n");
    gw_respond(hr, 200, "application/json", NULL, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

void gw_config_get(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    (void)req;
    config_state(g, hr);
}

void gw_config_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    cJSON *j = gw_parse_body(hr, req, gw_openai_error);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "config");
    char err[256];

    if (!j)
        return;
    if (!cJSON_IsString(name))
        name = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (!cJSON_IsString(name) || !*name->valuestring)
        gw_openai_error(hr, 400, "want {\"config\":\"NAME\"}, NAME a preset");
    else if (g->host.set_config(g->host.arg, name->valuestring, err, sizeof(err)) < 0)
        gw_error_code(hr, true, errno == ENOENT ? "config_not_found" : "internal_error", err);
    else
        config_state(g, hr);
    cJSON_Delete(j);
}
