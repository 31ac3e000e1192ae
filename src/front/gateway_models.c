/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's model endpoints under /v1/models/: GET {id} (one model object),
 * POST {id}/load and POST {id}/unload. A load is an empty-prompt generate (Ollama's "load
 * only") that goes through P:requests like any request, so the routing rules pick the node.
 * An unload is one empty-prompt entry with keep_alive 0 per node whose health lists the model
 * as loaded, each pinned to its node with the `node` field; they share one callback stream.
 * Answers and errors in OpenAI's shapes.
 */
#include "gateway_int.h"

#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODELS_MAX (1u << 20)
#define UNLOAD_TIMEOUT_MS "30000" /* how long an unload may wait for its node by default */

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The id of the path: percent-decoded, printable, no spaces. -1 when it is not a name. */
static int decode_id(const char *s, size_t n, char *out, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        int v = (unsigned char)s[i];
        if (s[i] == '%') {
            if (i + 2 >= n || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
                return -1;
            v = hex(s[i + 1]) * 16 + hex(s[i + 2]);
            i += 2;
        }
        if (v <= ' ' || v == 0x7f || k + 1 >= max)
            return -1;
        out[k++] = (char)v;
    }
    out[k] = '\0';
    return 0;
}

static void not_found(struct httpd_req *hr, const char *id)
{
    char msg[ORION_MODEL_MAX + 32];

    snprintf(msg, sizeof(msg), "model '%.*s' not found", ORION_MODEL_MAX, id);
    gw_error_code(hr, true, "model_not_found", msg);
}

/* The optional body of load/unload: NULL with ok when there is none. */
static cJSON *action_body(struct httpd_req *hr, const struct httpd_request *req, bool *ok)
{
    cJSON *j = NULL;

    *ok = true;
    if (req->body_len && !(j = gw_parse_body(hr, req, gw_openai_error)))
        *ok = false;
    return j;
}

static void load(struct gateway *g, struct httpd_req *hr, const char *id, const cJSON *body)
{
    struct gw_req *q = gw_req_new(g, hr, GW_LOAD, id);
    struct resp_cmd c;

    if (!q) {
        gw_openai_error(hr, 500, "out of memory");
        return;
    }
    gw_xadd_begin(q, &c);
    resp_cmd_adds(&c, "model");
    resp_cmd_adds(&c, q->model);
    resp_cmd_adds(&c, "prompt");
    resp_cmd_adds(&c, ""); /* Ollama: an empty prompt only loads the model */
    gw_add_common(&c, body);
    gw_submit(q, &c);
}

static void unload_none(struct httpd_req *hr, const char *id)
{
    struct buf b;

    buf_init(&b, MODELS_MAX);
    buf_puts(&b, "{\"model\":");
    json_quote(&b, id, strlen(id));
    buf_puts(&b, ",\"action\":\"unload\",\"nodes\":[]}\n");
    gw_respond(hr, 200, "application/json", NULL, buf_data(&b), buf_size(&b));
    buf_release(&b);
}

/* One entry: model, empty prompt, keep_alive 0, pinned to the node. */
static void unload_cmd(struct gw_req *q, struct resp_cmd *c, const char *node,
                       const cJSON *common)
{
    resp_cmd_init(c);
    entry_request_begin(c, &q->g->keys);
    resp_cmd_adds(c, "request_id");
    resp_cmd_addf(c, "%s.%s", q->id, node); /* the node again, for an answer without node_id */
    resp_cmd_adds(c, "callback");
    resp_cmd_adds(c, q->cb);
    resp_cmd_adds(c, "model");
    resp_cmd_adds(c, q->model);
    resp_cmd_adds(c, "prompt");
    resp_cmd_adds(c, "");
    resp_cmd_adds(c, "keep_alive");
    resp_cmd_adds(c, "0");
    resp_cmd_adds(c, "node");
    resp_cmd_adds(c, node);
    if (!cJSON_GetObjectItemCaseSensitive(common, "timeout")) {
        resp_cmd_adds(c, "timeout_ms");
        resp_cmd_adds(c, UNLOAD_TIMEOUT_MS);
    }
    gw_add_common(c, common);
}

static void unload(struct gateway *g, struct httpd_req *hr, const char *id, const cJSON *body)
{
    const char *nodes[ORION_ROUTE_MAX_NODES];
    size_t n = gw_model_loaded_on(g, id, nodes, ORION_ROUTE_MAX_NODES);
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(body, "timeout");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(body, "priority");
    cJSON *common = cJSON_CreateObject(); /* priority and timeout; never keep_alive */
    struct resp_cmd *c = orion_calloc(n ? n : 1, sizeof(*c));
    struct gw_req *q = NULL;

    if (n && common && c && (q = gw_req_new(g, hr, GW_UNLOAD, id))) {
        if (cJSON_IsNumber(to) && to->valuedouble > 0 && to->valuedouble < 1e9)
            cJSON_AddNumberToObject(common, "timeout", to->valuedouble);
        if (pr)
            cJSON_AddItemToObject(common, "priority", cJSON_Duplicate(pr, 1));
        q->pending = (int)n;
        for (size_t i = 0; i < n; i++)
            unload_cmd(q, &c[i], nodes[i], common);
        gw_submit_n(q, c, n);
    } else if (!n) {
        unload_none(hr, id);
    } else {
        gw_openai_error(hr, 500, "out of memory");
    }
    orion_free(c);
    cJSON_Delete(common);
}

void gw_model_action_body(struct gateway *g, struct httpd_req *hr, const char *model,
                          const cJSON *body, bool is_load)
{
    if (is_load)
        load(g, hr, model, body);
    else
        unload(g, hr, model, body);
}

/* POST /v1/models/{id}/load or /unload, after the id is known to be a name. */
static void action(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                   const char *id, bool is_load)
{
    bool ok;
    cJSON *body = action_body(hr, req, &ok);

    if (!ok)
        return;
    if (!*id)
        gw_openai_error(hr, 400, "model is required");
    else if (strlen(id) > ORION_MODEL_MAX)
        gw_openai_error(hr, 400, "invalid model name");
    else if (gw_model_unknown(g, id))
        not_found(hr, id);
    else if (is_load)
        load(g, hr, id, body);
    else
        unload(g, hr, id, body);
    cJSON_Delete(body);
}

static bool ends_with(const char *s, size_t n, const char *suffix, size_t *stem)
{
    size_t k = strlen(suffix);

    if (n < k || memcmp(s + n - k, suffix, k))
        return false;
    *stem = n - k;
    return true;
}

void gw_models_path(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    const char *rest = req->path + 11; /* after "/v1/models/" */
    size_t n = strlen(rest), stem = n;
    bool is_load = ends_with(rest, n, "/load", &stem), is_unload = false;
    bool post = !strcmp(req->method, "POST");
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    char id[4 * ORION_MODEL_MAX + 4];

    if (!is_load)
        is_unload = ends_with(rest, n, "/unload", &stem);
    if ((is_load || is_unload) ? !post : !get) {
        gw_openai_error(hr, 405, (is_load || is_unload) ? "method not allowed: use POST"
                                                        : "method not allowed: use GET");
        return;
    }
    if (decode_id(rest, stem, id, sizeof(id)) < 0) {
        gw_openai_error(hr, 400, "invalid model name");
        return;
    }
    if (is_load || is_unload)
        action(g, hr, req, id, is_load);
    else if (strlen(id) > ORION_MODEL_MAX)
        gw_openai_error(hr, 400, "invalid model name");
    else if (!*id)
        gw_error_code(hr, true, "model_not_found", "model '' not found");
    else
        gw_model_get(g, hr, id);
}

/* --- answers ------------------------------------------------------------------------------ */

static void load_done(struct gw_req *q, const struct entry_answer *a)
{
    size_t dn = a->done_reason.n;
    const char *reason = a->done_reason.p;
    struct buf b;

    buf_init(&b, MODELS_MAX);
    buf_puts(&b, "{\"model\":");
    json_quote(&b, q->model, strlen(q->model));
    buf_puts(&b, ",\"action\":\"load\",\"nodes\":[");
    json_quote(&b, q->node, strlen(q->node));
    buf_printf(&b, "],\"cold_start\":%s,\"done_reason\":", q->cold ? "true" : "false");
    json_quote(&b, dn ? reason : "load", dn ? dn : 4);
    gw_orion_obj(q, &b);
    buf_puts(&b, "}\n");
    gw_answer(q, "application/json", buf_data(&b), buf_size(&b));
    q->hr = NULL;
    buf_release(&b);
}

/* One node's answer to an unload: noted; the reply goes once every node answered. */
static bool unload_entry(struct gw_req *q, const struct entry_answer *a, bool done)
{
    size_t nn = a->node.n, en = a->error.n, rn = a->request_id.n, idn = strlen(q->id);
    const char *node = a->node.p, *err = a->error.p, *rid = a->request_id.p;
    struct buf b;

    if (!nn && rn > idn + 1 && !memcmp(rid, q->id, idn) && rid[idn] == '.')
        node = rid + idn + 1, nn = rn - idn - 1; /* answered by the router: no node_id */
    if (done) {
        buf_puts(&q->nodes, buf_size(&q->nodes) ? "," : "");
        json_quote(&q->nodes, node, nn);
    } else {
        buf_printf(&q->failed, "%s%.*s: %.*s", buf_size(&q->failed) ? "; " : "",
                   nn ? (int)nn : 9, nn ? node : "(no node)", (int)en, err);
    }
    if (--q->pending > 0)
        return false;
    buf_init(&b, MODELS_MAX);
    if (buf_size(&q->failed)) {
        buf_printf(&b, "unloading '%s' failed on %.*s", q->model, (int)buf_size(&q->failed),
                   buf_data(&q->failed));
        gw_openai_error(q->hr, 502, buf_data(&b));
    } else {
        buf_puts(&b, "{\"model\":");
        json_quote(&b, q->model, strlen(q->model));
        buf_printf(&b, ",\"action\":\"unload\",\"nodes\":[%.*s]}\n", (int)buf_size(&q->nodes),
                   buf_data(&q->nodes));
        gw_respond(q->hr, 200, "application/json", NULL, buf_data(&b), buf_size(&b));
    }
    buf_release(&b);
    q->hr = NULL;
    return true;
}

bool gw_model_entry(struct gw_req *q, const struct entry_answer *a)
{
    bool done = a->type == ENTRY_DONE;

    if (!q->hr)
        return true;
    if (!done && a->type != ENTRY_ERROR)
        return false; /* chunks: a load has no text */
    if (q->kind == GW_UNLOAD)
        return unload_entry(q, a, done);
    if (a->node.n)
        snprintf(q->node, sizeof(q->node), "%.*s", (int)a->node.n, a->node.p);
    if (done)
        load_done(q, a);
    else
        gw_entry_error(q, a);
    return true;
}
