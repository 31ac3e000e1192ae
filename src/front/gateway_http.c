/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's server side: one table of endpoints (path, method, handler), the bearer
 * token check (every endpoint but /health and /health/ready), 404 and 405.
 */
#include "gateway_int.h"

#include "orion/jsonw.h"

#include <string.h>
#include <strings.h>

#ifndef ORION_VERSION
#define ORION_VERSION "dev"
#endif

/* Is s (n bytes) the token? In the same time whatever the first wrong byte. */
static bool is_token(const struct gateway *g, const char *s, size_t n)
{
    size_t tl = strlen(g->token);
    unsigned char diff = 0;

    if (n != tl)
        return false;
    for (size_t i = 0; i < tl; i++)
        diff |= (unsigned char)(s[i] ^ g->token[i]);
    return diff == 0;
}

static bool authorized(const struct gateway *g, const struct httpd_request *req)
{
    const struct http_header *h = http_find(req->head, "Authorization");

    return h && h->value_len >= 7 && !strncasecmp(h->value, "Bearer ", 7) &&
           is_token(g, h->value + 7, h->value_len - 7);
}

/* /ui?token=T: a browser cannot send a header when it opens a page; the page then sends the
 * token as a bearer header itself. */
static bool query_token(const struct gateway *g, const char *q)
{
    const char *v = NULL;

    for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (!strncmp(p, "token=", 6))
            v = p + 6;
    return v && is_token(g, v, strcspn(v, "&"));
}

static void plain(struct httpd_req *hr, int status, const char *ctype, const char *body)
{
    gw_respond(hr, status, ctype, NULL, body, strlen(body));
}

static void version(struct httpd_req *hr)
{
    struct buf b;

    buf_init(&b, 4096);
    buf_puts(&b, "{\"version\":");
    json_quote(&b, ORION_VERSION, strlen(ORION_VERSION));
    buf_putc(&b, '}');
    gw_respond(hr, 200, "application/json; charset=utf-8", NULL, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

static bool is_get(const char *m) { return !strcmp(m, "GET") || !strcmp(m, "HEAD"); }

/* One row per endpoint; /chat, /generate and /models are aliases of the Ollama ones (the
 * names an earlier service used, which callers may still send). */
static void h_chat(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    gw_native_post(g, hr, req, GW_CHAT);
}
static void h_generate(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    gw_native_post(g, hr, req, GW_GENERATE);
}
static void h_version(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    (void)g;
    (void)req;
    version(hr);
}
static void h_register(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    gw_drain(g, hr, req, false);
}
static void h_deregister(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    gw_drain(g, hr, req, true);
}
static void h_ui(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    (void)g;
    (void)req;
    gw_ui(hr);
}
static void h_root(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    (void)g;
    (void)req;
    plain(hr, 200, "text/plain; charset=utf-8", "Ollama is running");
}

static const struct {
    const char *path;
    bool post; /* false: GET and HEAD */
    gw_handler *fn;
} routes[] = {
    {"/api/chat", true, h_chat},           {"/api/generate", true, h_generate},
    {"/v1/chat/completions", true, gw_openai_post}, {"/api/show", true, gw_show},
    {"/v1/completions", true, gw_completion_post},
    {"/api/tags", false, gw_tags},          {"/api/ps", false, gw_ps},
    {"/v1/models", false, gw_models},       {"/api/version", false, h_version},
    {"/metrics", false, gw_metrics},        {"/stats", false, gw_stats},
    {"/backends", false, gw_backends},      {"/backends/register", true, h_register},
    {"/backends/deregister", true, h_deregister}, {"/ui", false, h_ui},
    {"/", false, h_root},                  {"/chat", true, h_chat},
    {"/generate", true, h_generate},       {"/models", false, gw_tags},
    {"/v1/config", false, gw_config_get},  {"/v1/config", true, gw_config_post},
    {"/v1/vision/health", false, gw_vision_health},
    {"/v1/vision/classify", true, gw_vision_classify},
    {"/v1/vision/classify/batch", true, gw_vision_batch},
    {"/v1/vision/load", true, gw_vision_load}, {"/v1/vision/unload", true, gw_vision_unload},
};

/* Route a request by path and method; false: no such path. */
static bool route(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    bool post = !strcmp(req->method, "POST"), path_known = false;

    if (!strncmp(req->path, "/v1/models/", 11)) {
        gw_models_path(g, hr, req); /* GET {id}, POST {id}/load, POST {id}/unload */
        return true;
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(req->path, routes[i].path))
            continue;
        path_known = true;
        if (routes[i].post ? post : is_get(req->method)) {
            routes[i].fn(g, hr, req);
            return true;
        }
    }
    if (path_known)
        plain(hr, 405, "text/plain", "405 method not allowed");
    return path_known;
}

void gw_on_http(void *arg, struct httpd_req *hr, const struct httpd_request *req)
{
    struct gateway *g = arg;

    if (!strcmp(req->path, "/health") || !strcmp(req->path, "/health/ready")) {
        if (is_get(req->method))
            gw_health(g, hr, req->path[7] == '/');
        else
            plain(hr, 405, "text/plain", "405 method not allowed");
        return;
    }
    if (g->token && !authorized(g, req) &&
        !(!strcmp(req->path, "/ui") && query_token(g, req->query))) {
        if (!strncmp(req->path, "/v1/", 4))
            gw_error_code(hr, true, "unauthorized", "missing or wrong bearer token");
        else
            gw_error_code(hr, false, "unauthorized", "unauthorized: missing or wrong bearer token");
        return;
    }
    if (!route(g, hr, req))
        plain(hr, 404, "text/plain", "404 page not found");
}
