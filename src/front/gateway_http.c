/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's server side: one table of endpoints (path, method, handler), the bearer
 * token check (every endpoint but /health and /health/ready; a bearer header, or x-api-key
 * as Anthropic's clients send it), 404 and 405.
 */
#include "gateway_int.h"


#include <string.h>
#include <strings.h>

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

/* A bearer token, or (Anthropic's clients) the token as x-api-key. */
static bool authorized(const struct gateway *g, const struct httpd_request *req)
{
    const struct http_header *h = http_find(req->head, "Authorization");
    const struct http_header *k = http_find(req->head, "x-api-key");

    return (h && h->value_len >= 7 && !strncasecmp(h->value, "Bearer ", 7) &&
            is_token(g, h->value + 7, h->value_len - 7)) ||
           (k && is_token(g, k->value, k->value_len));
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
static void h_embed(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    gw_embed_post(g, hr, req, GW_EMBED);
}
static void h_embeddings(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    gw_embed_post(g, hr, req, GW_EMBED_LEGACY);
}
static void h_v1_embeddings(struct gateway *g, struct httpd_req *hr,
                            const struct httpd_request *req)
{
    gw_embed_post(g, hr, req, GW_EMBED_OPENAI);
}
static void h_undrain(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    gw_drain(g, hr, req, false);
}
static void h_drain(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
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
    {"/api/embed", true, h_embed},          {"/api/embeddings", true, h_embeddings},
    {"/v1/embeddings", true, h_v1_embeddings},
    {"/v1/responses", true, gw_responses_post}, {"/v1/messages", true, gw_messages_post},
    {"/api/pull", true, gw_pull},           {"/api/copy", true, gw_copy},
    {"/api/tags", false, gw_tags},          {"/api/ps", false, gw_ps},
    {"/v1/models", false, gw_models},       {"/api/version", false, gw_version},
    {"/metrics", false, gw_metrics},        {"/stats", false, gw_stats},
    {"/backends", false, gw_backends},      {"/backends/register", true, gw_backend_register},
    {"/backends/deregister", true, gw_backend_deregister}, {"/ui", false, h_ui},
    {"/nodes/drain", true, h_drain},        {"/nodes/undrain", true, h_undrain},
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
    if (!strcmp(req->path, "/api/delete")) { /* the one DELETE */
        if (!strcmp(req->method, "DELETE"))
            gw_delete(g, hr, req);
        else
            plain(hr, 405, "text/plain", "405 method not allowed");
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
        if (!strcmp(req->path, "/v1/messages"))
            gw_messages_error(hr, 401, "missing or wrong API key (x-api-key) or bearer token");
        else if (!strncmp(req->path, "/v1/", 4))
            gw_error_code(hr, true, "unauthorized", "missing or wrong bearer token");
        else
            gw_error_code(hr, false, "unauthorized", "unauthorized: missing or wrong bearer token");
        return;
    }
    if (!route(g, hr, req) && !gw_unserved(g, hr, req))
        plain(hr, 404, "text/plain", "404 page not found");
}
