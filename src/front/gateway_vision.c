/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's vision endpoints (docs/SERVICE.md "Vision"), mapped onto Ollama's
 * vision-capable models (capabilities "vision" in the workers' P:models records) with the
 * image in a chat message:
 *   GET  /v1/vision/health          the vision models and where they are; 503 when none is on
 *                                   an eligible node
 *   POST /v1/vision/classify        {"image":B64,"labels":[..],"model":..,"prompt":..}: one chat
 *                                   entry; answers {"model","label","text","node",...}
 *   POST /v1/vision/classify/batch  {"images":[B64,..],...}: one entry per image, pinned in
 *                                   turn to the eligible nodes that have the model (the `node`
 *                                   field), under one callback; answers {"model","results":[..]}
 *                                   in the images' order, each a label or an error
 *   POST /v1/vision/load, /unload   {"model":..}: as /v1/models/{id}/load and /unload
 * Without "model" the vision model loaded somewhere is taken, else the first installed (by
 * name). A named model whose capabilities are known and lack vision is 400 MODEL_NOT_CAPABLE.
 * The label is the given label found earliest in the answer (case-insensitive), else null.
 */
#include "gateway_int.h"

#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIS_MAX (4u << 20)
#define VIS_BATCH_MAX 32 /* images of one batch: one MULTI of that many XADDs */
#define VIS_LABELS_MAX 64

struct gw_vis {
    char **res; /* per image: its result object's JSON, NULL until answered */
    size_t n;
    cJSON *labels; /* the request's labels (an array of strings), or NULL */
};

void gw_vision_free(struct gw_req *q)
{
    struct gw_vis *v = q->vis;

    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        orion_free(v->res[i]);
    orion_free(v->res);
    cJSON_Delete(v->labels);
    orion_free(v);
    q->vis = NULL;
}

size_t gw_vision_parts(const struct gw_req *q)
{
    return q->kind == GW_VISION_BATCH && q->vis ? q->vis->n : 0;
}

static bool is_vision(const struct ollama_model *m)
{
    return m && m->has_caps && (m->caps & OLLAMA_CAP_VISION);
}

/* The default vision model: loaded first, then by name. NULL: none. */
static const char *default_model(struct gateway *g, char *out, size_t max)
{
    size_t n;
    const char **names = gw_union_names(g, &n);
    const char *best = NULL;
    bool best_loaded = false;

    for (size_t i = 0; i < n; i++) {
        const struct ollama_model *m = gw_meta(g, names[i]);
        if (!is_vision(m))
            continue;
        if (!best || (m->loaded && !best_loaded) ||
            (m->loaded == best_loaded && strcmp(names[i], best) < 0)) {
            best = names[i];
            best_loaded = m->loaded;
        }
    }
    if (best)
        snprintf(out, max, "%s", best);
    orion_free(names);
    return best ? out : NULL;
}

/* The model a vision request runs on, in out; false after answering the error. */
static bool pick_model(struct gateway *g, struct httpd_req *hr, const cJSON *body, char *out,
                       size_t max)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "model");
    const char *name;
    bool pick = false;
    char msg[ORION_MODEL_MAX + 96];

    if (m && !cJSON_IsNull(m) && (!cJSON_IsString(m) || strlen(m->valuestring) > ORION_MODEL_MAX)) {
        gw_openai_error(hr, 400, "model: want a model name");
        return false;
    }
    name = cJSON_IsString(m) ? gw_model_name(m->valuestring, &pick) : "";
    if (!*name || pick) {
        if (default_model(g, out, max))
            return true;
        gw_error_code(hr, true, "model_not_found", "no vision-capable model is installed on any node");
        return false;
    }
    snprintf(out, max, "%s", name);
    if (gw_model_unknown(g, out)) {
        snprintf(msg, sizeof(msg), "model '%s' not found", out);
        gw_error_code(hr, true, "model_not_found", msg);
        return false;
    }
    if (gw_meta(g, out) && gw_meta(g, out)->has_caps && !is_vision(gw_meta(g, out))) {
        snprintf(msg, sizeof(msg), "model '%s' does not take images (no vision capability)", out);
        gw_error_code(hr, true, "model_not_capable", msg);
        return false;
    }
    return true;
}

/* labels: absent, or an array of 1..VIS_LABELS_MAX non-empty strings. */
static bool labels_ok(const cJSON *l)
{
    const cJSON *e;
    int n = 0;

    if (!l || cJSON_IsNull(l))
        return true;
    if (!cJSON_IsArray(l))
        return false;
    cJSON_ArrayForEach(e, l) {
        if (!cJSON_IsString(e) || !*e->valuestring || ++n > VIS_LABELS_MAX)
            return false;
    }
    return n > 0;
}

/* The chat messages of one image: the prompt (the body's, else one asking for a label) and
 * the image. NULL: out of memory. */
static char *messages(const cJSON *body, const char *image)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "prompt");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(body, "labels"), *e;
    cJSON *arr = cJSON_CreateArray(), *msg = cJSON_CreateObject(), *imgs = cJSON_CreateArray();
    struct buf b;
    char *out = NULL;

    buf_init(&b, VIS_MAX);
    if (cJSON_IsString(p) && *p->valuestring) {
        buf_puts(&b, p->valuestring);
    } else if (cJSON_IsArray(l)) {
        buf_puts(&b, "Classify this image. Answer with exactly one of these labels and nothing "
                     "else:");
        cJSON_ArrayForEach(e, l) buf_printf(&b, "%s %s", e == l->child ? "" : ",", e->valuestring);
        buf_putc(&b, '.');
    } else {
        buf_puts(&b, "What does this image show? Answer in a few words.");
    }
    if (arr && msg && imgs && cJSON_AddStringToObject(msg, "role", "user") &&
        cJSON_AddStringToObject(msg, "content", buf_data(&b)) &&
        cJSON_AddItemToArray(imgs, cJSON_CreateString(image))) {
        cJSON_AddItemToObject(msg, "images", imgs);
        imgs = NULL;
        cJSON_AddItemToArray(arr, msg);
        msg = NULL;
        out = cJSON_PrintUnformatted(arr);
    }
    cJSON_Delete(imgs);
    cJSON_Delete(msg);
    cJSON_Delete(arr);
    buf_release(&b);
    return out;
}

/* One image's entry in c: model, messages, options, the body's keep_alive/priority/timeout.
 * index 0: the request itself (gw_xadd_begin's id); k > 0: image k of a batch, request_id
 * ID.(k-1), pinned to node when one is given. -1: out of memory. */
static int image_cmd(struct gw_req *q, struct resp_cmd *c, const cJSON *body, const char *image,
                     const char *node, size_t index)
{
    char *msgs = messages(body, image);

    if (!msgs)
        return -1;
    if (!index) {
        gw_xadd_begin(q, c);
    } else {
        resp_cmd_init(c);
        entry_request_begin(c, &q->g->keys);
        resp_cmd_adds(c, "request_id");
        resp_cmd_addf(c, "%s.%zu", q->id, index - 1);
        resp_cmd_adds(c, "callback");
        resp_cmd_adds(c, q->cb);
    }
    resp_cmd_adds(c, "model");
    resp_cmd_adds(c, q->model);
    resp_cmd_adds(c, "messages");
    resp_cmd_adds(c, msgs);
    resp_cmd_adds(c, "options");
    resp_cmd_adds(c, "{\"temperature\":0}");
    if (node) {
        resp_cmd_adds(c, "node");
        resp_cmd_adds(c, node);
    }
    gw_add_common(c, body);
    cJSON_free(msgs);
    return 0;
}

/* The eligible nodes that have the model installed or loaded, at most max. */
static size_t model_nodes(struct gateway *g, const char *model, const char **out, size_t max)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now), k = 0;

    for (size_t i = 0; i < n && k < max; i++) {
        const struct health *h = v[i].h;
        if (h && v[i].eligible &&
            (route_has_model((const char *const *)h->installed, h->ninstalled, model) ||
             route_has_model((const char *const *)h->models, h->nmodels, model)))
            out[k++] = v[i].id;
    }
    return k;
}

static void classify(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                     bool batch)
{
    cJSON *body = gw_parse_body(hr, req, gw_openai_error);
    const cJSON *img = cJSON_GetObjectItemCaseSensitive(body, "image");
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(body, "images"), *e;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(body, "labels");
    const char *nodes[ORION_ROUTE_MAX_NODES];
    struct resp_cmd c[VIS_BATCH_MAX];
    char model[ORION_MODEL_MAX + 1];
    struct gw_req *q;
    size_t n = 1, nn, made = 0;
    bool ok = true;

    if (!body)
        return;
    if (batch) {
        n = (size_t)cJSON_GetArraySize(imgs);
        cJSON_ArrayForEach(e, imgs) ok &= cJSON_IsString(e) && *e->valuestring;
        if (!cJSON_IsArray(imgs) || !n || n > VIS_BATCH_MAX || !ok) {
            gw_openai_error(hr, 400, "images: want an array of 1 to 32 base64 images");
            goto out;
        }
    } else if (!cJSON_IsString(img) || !*img->valuestring) {
        gw_openai_error(hr, 400, "image: want a base64 image");
        goto out;
    }
    if (!labels_ok(labels)) {
        gw_openai_error(hr, 400, "labels: want an array of 1 to 64 non-empty strings");
        goto out;
    }
    if (!pick_model(g, hr, body, model, sizeof(model)))
        goto out;
    if (!(q = gw_req_new(g, hr, batch ? GW_VISION_BATCH : GW_VISION, model))) {
        gw_openai_error(hr, 500, "out of memory");
        goto out;
    }
    if (!(q->vis = orion_calloc(1, sizeof(*q->vis))) ||
        !(q->vis->res = orion_calloc(n, sizeof(char *))) ||
        (labels && !cJSON_IsNull(labels) && !(q->vis->labels = cJSON_Duplicate(labels, 1)))) {
        gw_req_abort(q, "out of memory");
        goto out;
    }
    q->vis->n = n;
    if (!batch) {
        if (image_cmd(q, &c[0], body, img->valuestring, NULL, 0) < 0)
            gw_req_abort(q, "out of memory");
        else
            gw_submit(q, &c[0]);
        goto out;
    }
    nn = model_nodes(g, model, nodes, ORION_ROUTE_MAX_NODES);
    for (e = imgs->child; e && made < n; e = e->next, made++)
        if (image_cmd(q, &c[made], body, e->valuestring, nn ? nodes[made % nn] : NULL,
                      made + 1) < 0)
            break;
    if (made < n) {
        for (size_t i = 0; i < made; i++)
            resp_cmd_release(&c[i]);
        gw_req_abort(q, "out of memory");
        goto out;
    }
    q->pending = (int)n;
    gw_submit_n(q, c, n);
out:
    cJSON_Delete(body);
}

void gw_vision_classify(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    classify(g, hr, req, false);
}

void gw_vision_batch(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    classify(g, hr, req, true);
}

static void load_unload(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                        bool load)
{
    cJSON *body = req->body_len ? gw_parse_body(hr, req, gw_openai_error) : cJSON_CreateObject();
    char model[ORION_MODEL_MAX + 1];

    if (body && pick_model(g, hr, body, model, sizeof(model)))
        gw_model_action_body(g, hr, model, body, load);
    cJSON_Delete(body);
}

void gw_vision_load(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    load_unload(g, hr, req, true);
}

void gw_vision_unload(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    load_unload(g, hr, req, false);
}

/* --- GET /v1/vision/health -------------------------------------------------------------------- */

void gw_vision_health(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    size_t n, usable = 0;
    const char **names = gw_union_names(g, &n);
    const char *nodes[ORION_ROUTE_MAX_NODES];
    char def[ORION_MODEL_MAX + 1];
    const char *h[3] = {"Content-Type: application/json", NULL, NULL};
    struct buf b, list;
    int status;

    (void)req;
    buf_init(&b, VIS_MAX);
    buf_init(&list, VIS_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct ollama_model *m = gw_meta(g, names[i]);
        size_t k;
        if (!is_vision(m))
            continue;
        k = model_nodes(g, names[i], nodes, ORION_ROUTE_MAX_NODES);
        usable += k > 0;
        buf_puts(&list, buf_size(&list) ? ",{\"id\":" : "{\"id\":");
        json_quote(&list, names[i], strlen(names[i]));
        buf_printf(&list, ",\"status\":\"%s\",\"nodes\":[", m->loaded ? "loaded" : "available");
        for (size_t j = 0; j < k; j++) {
            buf_puts(&list, j ? "," : "");
            json_quote(&list, nodes[j], strlen(nodes[j]));
        }
        buf_puts(&list, "]}");
    }
    status = usable ? 200 : 503;
    buf_printf(&b, "{\"status\":\"%s\",", usable ? "ok" : "unavailable");
    if (!usable)
        buf_puts(&b, "\"reason\":\"no vision-capable model on an eligible node\",");
    buf_puts(&b, "\"default_model\":");
    if (default_model(g, def, sizeof(def)))
        json_quote(&b, def, strlen(def));
    else
        buf_puts(&b, "null");
    buf_printf(&b, ",\"models\":[%.*s]}\n", (int)buf_size(&list), buf_data(&list));
    if (status == 503)
        h[1] = "Retry-After: 5";
    httpd_respond(hr, status, h, buf_data(&b), buf_size(&b));
    buf_release(&list);
    buf_release(&b);
    orion_free(names);
}

/* --- answers ---------------------------------------------------------------------------------- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* Where s (n bytes) first holds w, case-insensitive; -1: nowhere. */
static long find_ci(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);

    for (size_t i = 0; k && i + k <= n; i++) {
        size_t j = 0;
        while (j < k && lower((unsigned char)s[i + j]) == lower((unsigned char)w[j]))
            j++;
        if (j == k)
            return (long)i;
    }
    return -1;
}

/* ,"label":L (the label found earliest; the longer on a tie), or null. */
static void put_label(struct buf *b, const cJSON *labels, const char *text, size_t n)
{
    const cJSON *e, *best = NULL;
    long at = -1;

    cJSON_ArrayForEach(e, labels) {
        long p = find_ci(text, n, e->valuestring);
        if (p >= 0 && (at < 0 || p < at ||
                       (p == at && strlen(e->valuestring) > strlen(best->valuestring)))) {
            at = p;
            best = e;
        }
    }
    buf_puts(b, ",\"label\":");
    if (best)
        json_quote(b, best->valuestring, strlen(best->valuestring));
    else
        buf_puts(b, "null");
}

/* One image's result object: label and text, or the error's code and message. */
static void result(struct buf *b, const struct gw_req *q, const struct entry_answer *a)
{
    if (a->type == ENTRY_DONE) {
        buf_puts(b, "{\"node\":");
        json_quote(b, a->node.p ? a->node.p : "", a->node.n);
        put_label(b, q->vis->labels, a->response.p ? a->response.p : "", a->response.n);
        buf_puts(b, ",\"text\":");
        json_quote(b, a->response.p ? a->response.p : "", a->response.n);
    } else {
        const struct gw_code *c = gw_code_find(a->code.p, a->code.n);
        buf_puts(b, "{\"node\":");
        json_quote(b, a->node.p ? a->node.p : "", a->node.n);
        buf_printf(b, ",\"label\":null,\"error\":{\"code\":\"%s\",\"type\":\"%s\",\"message\":",
                   c ? c->http : "INTERNAL_ERROR", a->retriable ? "retriable" : "non_retriable");
        json_quote(b, a->error.p ? a->error.p : "", a->error.n);
        buf_putc(b, '}');
    }
    buf_putc(b, '}');
}

/* The index of a batch answer from its request id ID.INDEX; -1: not one of q's. */
static long batch_index(const struct gw_req *q, const struct entry_answer *a)
{
    size_t idn = strlen(q->id);
    char num[24];
    char *end;
    long i;

    if (a->request_id.n <= idn + 1 || a->request_id.n - idn - 1 >= sizeof(num) ||
        memcmp(a->request_id.p, q->id, idn) || a->request_id.p[idn] != '.')
        return -1;
    memcpy(num, a->request_id.p + idn + 1, a->request_id.n - idn - 1);
    num[a->request_id.n - idn - 1] = '\0';
    i = strtol(num, &end, 10);
    return *end || i < 0 || (size_t)i >= q->vis->n ? -1 : i;
}

static bool batch_entry(struct gw_req *q, const struct entry_answer *a)
{
    long i = batch_index(q, a);
    struct buf b;

    if (i < 0 || q->vis->res[i])
        return false;
    buf_init(&b, VIS_MAX);
    result(&b, q, a);
    q->vis->res[i] = orion_strndup(buf_data(&b), buf_size(&b));
    buf_release(&b);
    if (--q->pending > 0)
        return false;
    buf_init(&b, VIS_MAX * 2);
    buf_puts(&b, "{\"model\":");
    json_quote(&b, q->model, strlen(q->model));
    buf_puts(&b, ",\"results\":[");
    for (size_t k = 0; k < q->vis->n; k++)
        buf_printf(&b, "%s{\"index\":%zu,%s", k ? "," : "", k,
                   q->vis->res[k] ? q->vis->res[k] + 1 : "\"label\":null}");
    buf_puts(&b, "]}\n");
    gw_respond(q->hr, 200, "application/json", NULL, buf_data(&b), buf_size(&b));
    buf_release(&b);
    q->hr = NULL;
    return true;
}

bool gw_vision_entry(struct gw_req *q, const struct entry_answer *a)
{
    struct buf b;

    if (!q->hr)
        return true;
    if (a->type != ENTRY_DONE && a->type != ENTRY_ERROR)
        return false; /* chunks: the answer is given whole */
    if (q->kind == GW_VISION_BATCH)
        return batch_entry(q, a);
    if (a->node.n)
        snprintf(q->node, sizeof(q->node), "%.*s", (int)a->node.n, a->node.p);
    if (a->type == ENTRY_ERROR) {
        gw_entry_error(q, a);
        return true;
    }
    buf_init(&b, VIS_MAX);
    buf_puts(&b, "{\"model\":");
    json_quote(&b, a->model.n ? a->model.p : q->model, a->model.n ? a->model.n : strlen(q->model));
    put_label(&b, q->vis->labels, a->response.p ? a->response.p : "", a->response.n);
    buf_puts(&b, ",\"text\":");
    json_quote(&b, a->response.p ? a->response.p : "", a->response.n);
    buf_puts(&b, ",\"node\":");
    json_quote(&b, q->node, strlen(q->node));
    gw_orion_obj(q, &b);
    buf_puts(&b, "}\n");
    gw_answer(q, "application/json", buf_data(&b), buf_size(&b));
    buf_release(&b);
    q->hr = NULL;
    return true;
}
