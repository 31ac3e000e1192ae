/* SPDX-License-Identifier: MIT */
/*
 * What the front says of Ollama itself: GET /api/version answers the lowest Ollama version
 * among the eligible nodes (clients compare it with what they need, so the cluster promises
 * only what every node it would route to can do), the router's own version in the
 * X-Orion-Version header; and Ollama's endpoints the front does not run across the cluster
 * answer 501 with a sentence naming the path and what to do instead, never 404.
 */
#include "gateway_int.h"

#include "orion/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ORION_VERSION
#define ORION_VERSION "dev"
#endif

/* The leading number of s, moving s past it; 0 when the version ends here (0.12 is 0.12.0), -1
 * when something else stands there (a version that is no number sorts first). */
static long part(const char **s)
{
    char *end;
    long v;

    if (!**s || **s == '-' || **s == '+')
        return 0;
    if (**s < '0' || **s > '9')
        return -1;
    v = strtol(*s, &end, 10);
    *s = end;
    return v;
}

int gw_version_cmp(const char *a, const char *b)
{
    const char *pa = a, *pb = b;

    for (int i = 0; i < 3; i++) {
        long x = part(&pa), y = part(&pb);
        if (x != y)
            return x < y ? -1 : 1;
        if (*pa == '.')
            pa++;
        if (*pb == '.')
            pb++;
    }
    /* a pre-release (0.13.0-rc1) comes before its release (0.13.0) */
    if ((*pa == '-') != (*pb == '-'))
        return *pa == '-' ? -1 : 1;
    return strcmp(pa, pb) < 0 ? -1 : strcmp(pa, pb) > 0;
}

/* The lowest Ollama version of the eligible nodes; of every node when none is eligible;
 * "0.0.0" (what a source build of Ollama says) when no node has told. */
static const char *lowest(struct gateway *g)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now);
    const char *low = NULL;

    for (int pass = 0; pass < 2 && !low; pass++)
        for (size_t i = 0; i < n; i++) {
            const struct health *h = v[i].h;
            if (!h || !h->has_ollama_version || !*h->ollama_version || (!pass && !v[i].eligible))
                continue;
            if (!low || gw_version_cmp(h->ollama_version, low) < 0)
                low = h->ollama_version;
        }
    return low ? low : "0.0.0";
}

void gw_version(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    const char *h[] = {"Content-Type: application/json; charset=utf-8",
                       "X-Orion-Version: " ORION_VERSION, NULL};
    const char *v = lowest(g);
    struct buf b;

    (void)req;
    buf_init(&b, 4096);
    buf_puts(&b, "{\"version\":");
    json_quote(&b, v, strlen(v));
    buf_putc(&b, '}');
    httpd_respond(hr, 200, h, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

/* Ollama's endpoints the front does not serve ([O] server/routes.go's table): a path, or a
 * prefix when it ends in '/', and what to say. */
static const struct {
    const char *path, *say;
} unserved[] = {
    {"/api/create", "builds a model on one Ollama: run `ollama create` against a node "
                    "(OLLAMA_HOST=<node>:11434); the router sees the model once that node's "
                    "health lists it, and POST /api/pull or /api/copy spread it"},
    {"/api/push", "sends one node's model to a registry: run `ollama push` against the node "
                  "that has it (OLLAMA_HOST=<node>:11434)"},
    {"/api/blobs/", "uploads a blob to one Ollama for /api/create: send it to a node"},
    {"/api/status", "is one Ollama's own state: ask a node"},
    {"/api/me", "is one Ollama's account: ask a node"},
    {"/api/signout", "is one Ollama's account: ask a node"},
    {"/api/user/", "is one Ollama's account: ask a node"},
    {"/api/experimental/", "is not run across the cluster: ask a node"},
    {"/v1/audio/", "is not run across the cluster: ask a node"},
};

bool gw_unserved(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    char msg[512];

    (void)g;
    for (size_t i = 0; i < sizeof(unserved) / sizeof(unserved[0]); i++) {
        const char *p = unserved[i].path;
        size_t n = strlen(p);
        if (p[n - 1] == '/' ? strncmp(req->path, p, n) : strcmp(req->path, p))
            continue;
        snprintf(msg, sizeof(msg), "%s %.200s: not served by the ORION router: this endpoint %s",
                 req->method, req->path, unserved[i].say);
        if (!strncmp(req->path, "/v1/", 4))
            gw_openai_error(hr, 501, msg);
        else
            gw_native_err(hr, 501, msg);
        return true;
    }
    return false;
}
