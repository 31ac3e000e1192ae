/* SPDX-License-Identifier: MIT */
/*
 * POST /backends/register {"url":"http://HOST:PORT","name":"NAME"} and POST
 * /backends/deregister {"url":...} | {"node":"NAME"}: the URL backends of P:backends
 * (name -> URL), which every router reads each second and runs (router_backends.c).
 *
 * register: the spec is checked (backend.h: http:// only, a name of letters, digits, . _ -;
 * without a name it is HOST-PORT); a name already taken by another URL, a URL already
 * registered under another name, or the name of a node that reports health (a worker's), is
 * a 400 that changes nothing.
 * Then GET /api/version is tried once (3 s): reachable or not, the backend is registered; the
 * answer says whether it answered, and it is eligible only once the runner's probe answers.
 * Registering the same name and URL again is a 200 that changes nothing.
 *
 * deregister: by URL or by name, HDEL from P:backends: the router stops its runner (running
 * requests finish, waiting ones move). A "node" that is no registered backend keeps the old
 * meaning of these endpoints: drain it (and register {"node"} without a URL undrains it).
 */
#include "gateway_int.h"

#include "orion/backend.h"
#include "orion/httpc.h"
#include "orion/jsonw.h"
#include "orion/log.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>

#define REG_PROBE_MS 3000

struct reg {
    struct gateway *g;
    struct httpd_req *hr; /* NULL once the client is gone */
    bool deregister;
    bool by_node;                  /* deregister {"node"}: not a backend means drain it */
    struct backend_spec spec;      /* register: the spec; deregister: what to match */
    char found[ORION_NODE_ID_MAX + 1]; /* deregister: the name matched */
    struct httpc *hc;
    struct httpc_req *probe;
    int status;
};

static void reg_gone(void *arg) { ((struct reg *)arg)->hr = NULL; }

static void reg_free(struct reg *x)
{
    if (x->hr)
        httpd_on_close(x->hr, NULL, NULL);
    httpc_free(x->hc);
    orion_free(x);
}

static void answer(struct reg *x, int status, struct buf *b)
{
    if (x->hr) {
        httpd_on_close(x->hr, NULL, NULL);
        gw_respond(x->hr, status, "application/json; charset=utf-8", NULL, buf_data(b),
                   buf_size(b));
        x->hr = NULL;
    }
    buf_release(b);
}

static void answer_error(struct reg *x, int status, const char *msg)
{
    struct buf b;

    buf_init(&b, 4096);
    buf_puts(&b, "{\"error\":");
    json_quote(&b, msg, strlen(msg));
    buf_putc(&b, '}');
    answer(x, status, &b);
}

static void spec_json(struct buf *b, const struct backend_spec *s)
{
    buf_puts(b, "{\"node\":");
    json_quote(b, s->name, strlen(s->name));
    buf_puts(b, ",\"url\":");
    json_quote(b, s->url, strlen(s->url));
}

static void hset_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct reg *x = arg;
    struct buf b;
    bool up = x->status == 200;

    (void)c;
    if (!reply || reply->type != RESP_INT) {
        answer_error(x, 503, "redis is not available");
        reg_free(x);
        return;
    }
    log_info("http front: backend %s (%s) registered%s", x->spec.name, x->spec.url,
             up ? "" : "; it does not answer yet");
    buf_init(&b, 4096);
    spec_json(&b, &x->spec);
    buf_printf(&b, ",\"registered\":true,\"reachable\":%s,\"eligible\":false,\"note\":",
               up ? "true" : "false");
    if (up)
        buf_puts(&b, "\"eligible once the router's first probe answers (about a second)\"}");
    else
        buf_puts(&b, "\"GET /api/version did not answer: registered, but not eligible until "
                     "it answers\"}");
    answer(x, 200, &b);
    reg_free(x);
}

static void store(struct reg *x)
{
    x->probe = NULL;
    if (redis_cmd(x->g->cmd, hset_cb, x, "HSET", x->g->keys.backends, x->spec.name, x->spec.url,
                  (char *)NULL) < 0) {
        answer_error(x, 503, "redis is not available");
        reg_free(x);
    }
}

static void probe_head(void *arg, const struct http_head *h) { ((struct reg *)arg)->status = h->status; }
static void probe_data(void *arg, const char *p, size_t n)
{
    (void)arg;
    (void)p;
    (void)n;
}
static void probe_done(void *arg) { store(arg); }
static void probe_error(void *arg, enum httpc_err kind, const char *msg)
{
    struct reg *x = arg;

    (void)kind;
    (void)msg;
    x->status = 0;
    store(x);
}

/* Does a node of this id publish health now (a worker's, or a backend still stopping)? */
static bool node_reports(struct gateway *g, const char *id)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now);

    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].id, id) && v[i].h)
            return true;
    return false;
}

static void reg_list_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    static const struct httpc_cb cb = {probe_head, probe_data, probe_done, probe_error};
    struct reg *x = arg;
    struct httpc_opts o = {REG_PROBE_MS, REG_PROBE_MS, REG_PROBE_MS};
    char msg[300];

    (void)c;
    if (!reply || reply->type != RESP_ARRAY) {
        answer_error(x, 503, "redis is not available");
        reg_free(x);
        return;
    }
    for (size_t i = 0; i + 1 < reply->n; i += 2) {
        const struct resp_reply *k = &reply->elem[i], *v = &reply->elem[i + 1];
        bool same_name, same_url;
        struct buf b;

        if (k->type != RESP_BULK || v->type != RESP_BULK)
            continue;
        same_name = !strcmp(k->str, x->spec.name);
        same_url = !strcmp(v->str, x->spec.url);
        if (same_name && same_url) {
            buf_init(&b, 4096);
            spec_json(&b, &x->spec);
            buf_puts(&b, ",\"registered\":true,\"already\":true}");
            answer(x, 200, &b);
            reg_free(x);
            return;
        }
        if (same_name || same_url) {
            snprintf(msg, sizeof(msg), same_name ? "the name '%s' is taken (by %s)"
                                                 : "this URL is registered already, as '%s'",
                     same_name ? x->spec.name : k->str, v->str);
            answer_error(x, 400, msg);
            reg_free(x);
            return;
        }
    }
    if (node_reports(x->g, x->spec.name)) {
        snprintf(msg, sizeof(msg), "a node named '%s' reports health already (a worker's): "
                 "choose another name", x->spec.name);
        answer_error(x, 400, msg);
        reg_free(x);
        return;
    }
    x->hc = httpc_new(x->g->l, x->spec.url, &o);
    x->probe = x->hc ? httpc_request(x->hc, "GET", "/api/version", NULL, NULL, 0, &cb, x) : NULL;
    if (!x->probe)
        store(x); /* no memory for the probe: registered all the same, said unreachable */
}

static void dereg_del_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct reg *x = arg;
    struct buf b;

    (void)c;
    if (!reply || reply->type != RESP_INT) {
        answer_error(x, 503, "redis is not available");
        reg_free(x);
        return;
    }
    log_info("http front: backend %s deregistered", x->found);
    buf_init(&b, 4096);
    buf_puts(&b, "{\"node\":");
    json_quote(&b, x->found, strlen(x->found));
    buf_puts(&b, ",\"deregistered\":true,\"note\":\"its running requests finish; the waiting "
                 "ones go to other nodes\"}");
    answer(x, 200, &b);
    reg_free(x);
}

static void dereg_list_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct reg *x = arg;

    (void)c;
    if (!reply || reply->type != RESP_ARRAY) {
        answer_error(x, 503, "redis is not available");
        reg_free(x);
        return;
    }
    for (size_t i = 0; i + 1 < reply->n && !x->found[0]; i += 2) {
        const struct resp_reply *k = &reply->elem[i], *v = &reply->elem[i + 1];

        if (k->type == RESP_BULK && v->type == RESP_BULK && k->len <= ORION_NODE_ID_MAX &&
            (x->by_node ? !strcmp(k->str, x->spec.name) : !strcmp(v->str, x->spec.url)))
            memcpy(x->found, k->str, k->len + 1);
    }
    if (x->found[0]) {
        if (redis_cmd(x->g->cmd, dereg_del_cb, x, "HDEL", x->g->keys.backends, x->found,
                      (char *)NULL) < 0) {
            answer_error(x, 503, "redis is not available");
            reg_free(x);
        }
        return;
    }
    if (x->by_node && x->hr) { /* not a URL backend: drain the node, as this endpoint did */
        struct httpd_req *hr = x->hr;
        httpd_on_close(hr, NULL, NULL);
        x->hr = NULL;
        gw_drain_node(x->g, hr, x->spec.name, true);
    } else {
        answer_error(x, 404, "no backend is registered with this URL");
    }
    reg_free(x);
}

static struct reg *reg_new(struct gateway *g, struct httpd_req *hr, bool deregister)
{
    struct reg *x = orion_calloc(1, sizeof(*x));

    if (!x) {
        gw_respond(hr, 500, "application/json; charset=utf-8", NULL,
                   "{\"error\":\"out of memory\"}", 25);
        return NULL;
    }
    x->g = g;
    x->hr = hr;
    x->deregister = deregister;
    return x;
}

/* The string member name of the body, or NULL (absent, null, not a string). */
static const char *member(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void bad(struct httpd_req *hr, const char *msg)
{
    struct reg x;

    memset(&x, 0, sizeof(x));
    x.hr = hr;
    answer_error(&x, 400, msg);
}

void gw_backend_register(struct gateway *g, struct httpd_req *hr,
                         const struct httpd_request *req)
{
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    const char *url = member(j, "url"), *name = member(j, "name"), *node = member(j, "node");
    char in[ORION_NODE_ID_MAX + ORION_BACKEND_URL_MAX + 2], err[200];
    struct backend_spec spec;
    struct reg *x;

    if (!url && node) { /* the old meaning: put a drained node back in rotation */
        gw_drain_node(g, hr, node, false);
        cJSON_Delete(j);
        return;
    }
    if (!url || (name && !backend_name_ok(name, strlen(name), err, sizeof(err)))) {
        bad(hr, url ? err
                    : "want {\"url\":\"http://HOST:PORT\",\"name\":\"NAME\"} (name optional), "
                      "or {\"node\":\"ID\"} to undrain a node");
        cJSON_Delete(j);
        return;
    }
    snprintf(in, sizeof(in), "%s%s%s", name ? name : "", name ? "=" : "", url);
    if (strlen(url) > ORION_BACKEND_URL_MAX ||
        backend_spec_parse(in, strlen(in), &spec, err, sizeof(err)) < 0) {
        bad(hr, strlen(url) > ORION_BACKEND_URL_MAX ? "the backend URL is too long" : err);
        cJSON_Delete(j);
        return;
    }
    cJSON_Delete(j);
    if (!(x = reg_new(g, hr, false)))
        return;
    x->spec = spec;
    if (redis_cmd(g->cmd, reg_list_cb, x, "HGETALL", g->keys.backends, (char *)NULL) < 0) {
        answer_error(x, 503, "redis is not available");
        reg_free(x);
        return;
    }
    httpd_on_close(hr, reg_gone, x);
}

void gw_backend_deregister(struct gateway *g, struct httpd_req *hr,
                           const struct httpd_request *req)
{
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    const char *url = member(j, "url"), *node = member(j, "node");
    struct reg *x;

    if ((!url && !node) || (url && strlen(url) > ORION_BACKEND_URL_MAX) ||
        (node && strlen(node) > ORION_NODE_ID_MAX)) {
        bad(hr, "want {\"url\":\"http://HOST:PORT\"} or {\"node\":\"NAME\"}");
        cJSON_Delete(j);
        return;
    }
    if (!(x = reg_new(g, hr, true))) {
        cJSON_Delete(j);
        return;
    }
    x->by_node = !url;
    snprintf(x->spec.url, sizeof(x->spec.url), "%s", url ? url : "");
    snprintf(x->spec.name, sizeof(x->spec.name), "%s", node ? node : "");
    cJSON_Delete(j);
    if (redis_cmd(g->cmd, dereg_list_cb, x, "HGETALL", g->keys.backends, (char *)NULL) < 0) {
        answer_error(x, 503, "redis is not available");
        reg_free(x);
        return;
    }
    httpd_on_close(hr, reg_gone, x);
}
