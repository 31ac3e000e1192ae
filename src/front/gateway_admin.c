/* SPDX-License-Identifier: MIT */
/*
 * Model management across the cluster, through the workers (only a worker talks to its
 * Ollama): POST /api/pull, POST /api/copy and DELETE /api/delete, each one entry on
 * P:admin:{node} per node (request_id <id>.<node>, one callback for all).
 *
 *   pull    onto the nodes the body names ("nodes": [ids], an extension), else onto every
 *           node that reports health, is not draining or drained, and that the placement
 *           rules allow for the model. Streamed (the default) as Ollama streams it, NDJSON,
 *           each progress object with a "node" field, the nodes' lines interleaved as they
 *           come; the final {"status":"success"} once every node has the model (a node's own
 *           "success" is not relayed), or an {"error":...} line naming the nodes that failed.
 *           stream:false: only that last object.
 *   copy, delete   on every node whose health lists the model (or the nodes named); 200 with
 *           an empty body once each has done it; a delete that finds the model gone already
 *           counts as done.
 * An answer of success waits until the nodes' health shows it (at most 15 s), so that what
 * the client asks next (ollama run: /api/show after the pull) sees it.
 * A node that stops reporting its health while its part is out is given up with a sentence;
 * its worker runs the part when it is back. A client that leaves cancels every part (Ollama
 * stops a pull whose client leaves). A router restart ends the client's stream but not the
 * pulls: they run on the workers, the models arrive, /api/tags shows them.
 */
#include "gateway_int.h"

#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/placement.h"

#include "cJSON.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_MAX (1u << 20)
#define STALE_CHECK_MS 2000
#define SETTLE_TICK_MS 200
#define SETTLE_TICKS 75 /* 15 s: a worker's health interval plus the router's refresh */

enum part_state { PART_OUT = 0, PART_DONE, PART_FAILED };

struct part {
    char node[ORION_NODE_ID_MAX + 1];
    enum part_state state;
    char code[32];
};

struct admin {
    enum contract_op op;
    struct part *p;
    size_t n, pending, gone; /* gone: delete parts that found no model */
    struct buf errors; /* "pi-b: sentence; ..." */
    char code[32];     /* the first failure's code */
    char dest[ORION_MODEL_MAX + 1];
    unsigned long timer; /* stale_cb while parts are out, then settle_cb */
    int settle;          /* settle_cb runs so far */
    struct loop *l;
};

static void admin_free(void *arg)
{
    struct admin *a = arg;

    if (!a)
        return;
    if (a->timer)
        loop_timer_cancel(a->l, a->timer);
    buf_release(&a->errors);
    orion_free(a->p);
    orion_free(a);
}

static void admin_gone(struct gw_req *q)
{
    const struct admin *a = q->ext;
    char id[sizeof(q->id) + ORION_NODE_ID_MAX + 2];

    for (size_t i = 0; a && i < a->n; i++)
        if (a->p[i].state == PART_OUT) {
            snprintf(id, sizeof(id), "%s.%s", q->id, a->p[i].node);
            gw_cancel_id(q->g, id);
        }
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);

    if (!n || n > ORION_MODEL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return false;
    return true;
}

/* A node that reports health now (stale nodes have no worker to run the part). */
static bool alive(const struct node_view *v)
{
    return v->h && (v->eligible || (strncmp(v->why, "stale", 5) && strcmp(v->why, "unavailable")));
}

static bool lists(char *const *names, size_t n, const char *model)
{
    for (size_t i = 0; i < n; i++)
        if (route_model_eq(names[i], model))
            return true;
    return false;
}

/* May the part go to v? pull: alive, not draining or drained, placement allows the model;
 * copy, delete: alive and the model installed there. */
static bool target(const struct gateway *g, const struct node_view *v, enum contract_op op,
                   const char *model)
{
    char key[ORION_MODEL_MAX + 1];

    if (!alive(v))
        return false;
    if (op != CONTRACT_PULL)
        return lists(v->h->installed, v->h->ninstalled, model) ||
               lists(v->h->models, v->h->nmodels, model);
    if (v->drained || v->rn.draining || route_model_norm(model, key, sizeof(key)) < 0)
        return false;
    return placement_allows(g->placement, v->id, v->rn.labels, v->rn.nlabels,
                            v->rn.ram_total_mb, key, NULL);
}

/* The parts: the nodes named in the body, or the targets. 0, or the status to answer with
 * the sentence in msg. */
static int choose(struct gateway *g, const cJSON *named, enum contract_op op, const char *model,
                  struct admin *a, char *msg, size_t mn)
{
    const struct node_view *v;
    double now;
    size_t nv = g->host.nodes(g->host.arg, &v, &now);
    const cJSON *e;

    if (!(a->p = orion_calloc(nv ? nv : 1, sizeof(*a->p))))
        return snprintf(msg, mn, "out of memory"), 500;
    if (named && !cJSON_IsArray(named))
        return snprintf(msg, mn, "nodes must be a list of node ids"), 400;
    cJSON_ArrayForEach(e, named) {
        size_t i = 0;
        while (i < nv && !(cJSON_IsString(e) && !strcmp(v[i].id, e->valuestring)))
            i++;
        if (i == nv || !alive(&v[i]))
            return snprintf(msg, mn, "node '%.64s' %s", cJSON_IsString(e) ? e->valuestring : "?",
                            i == nv ? "is not known" : "does not report its health now"), 400;
        if (op != CONTRACT_PULL && !target(g, &v[i], op, model))
            return snprintf(msg, mn, "model '%s' not found on node '%s'", model, v[i].id), 404;
        snprintf(a->p[a->n++].node, sizeof(a->p[0].node), "%s", v[i].id);
    }
    for (size_t i = 0; !named && i < nv; i++)
        if (target(g, &v[i], op, model))
            snprintf(a->p[a->n++].node, sizeof(a->p[0].node), "%s", v[i].id);
    a->pending = a->n;
    if (a->n)
        return 0;
    if (op != CONTRACT_PULL)
        return snprintf(msg, mn, op == CONTRACT_COPY ? "model \"%s\" not found"
                                                     : "model '%s' not found", model), 404;
    return snprintf(msg, mn, "no node can take a pull of '%s' now (none reports its health, or "
                    "placement allows it nowhere)", model), 503;
}

static void part_cmd(struct gw_req *q, const struct admin *a, size_t i, bool insecure,
                     struct resp_cmd *c)
{
    char stream[CONTRACT_KEY_MAX], id[sizeof(q->id) + ORION_NODE_ID_MAX + 2];
    struct entry_admin e;

    contract_admin_stream(&q->g->keys, a->p[i].node, stream, sizeof(stream));
    snprintf(id, sizeof(id), "%s.%s", q->id, a->p[i].node);
    memset(&e, 0, sizeof(e));
    e.request_id = id;
    e.op = contract_op_name(a->op);
    e.model = q->model;
    e.destination = a->op == CONTRACT_COPY ? a->dest : NULL;
    e.insecure = insecure;
    e.callback = q->cb;
    resp_cmd_init(c);
    entry_admin(c, stream, &e);
}

static long stale_cb(struct loop *l, void *arg);

/* Validated: send one entry per part. */
static void submit(struct gateway *g, struct httpd_req *hr, struct admin *a, const char *model,
                   bool stream, bool insecure)
{
    struct gw_req *q = gw_req_new(g, hr, a->op == CONTRACT_PULL ? GW_PULL
                                         : a->op == CONTRACT_COPY ? GW_COPY : GW_DELETE, model);
    struct resp_cmd *c = q ? orion_calloc(a->n, sizeof(*c)) : NULL;

    if (!c) {
        gw_native_err(hr, 500, "out of memory");
        admin_free(a);
        if (q) {
            q->hr = NULL;
            q->submitted = true;
            gw_req_finish(q);
        }
        return;
    }
    q->stream = stream;
    q->ext = a;
    q->ext_free = admin_free;
    q->ext_gone = admin_gone;
    a->l = g->l;
    for (size_t i = 0; i < a->n; i++)
        part_cmd(q, a, i, insecure, &c[i]);
    log_info("request %s: %s of '%s' on %zu node(s)", q->id, contract_op_name(a->op), model, a->n);
    a->timer = loop_timer(g->l, STALE_CHECK_MS, stale_cb, q);
    gw_submit_n(q, c, a->n);
    orion_free(c);
}

static void admin_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                       enum contract_op op)
{
    cJSON *j = gw_parse_body(hr, req, gw_native_err);
    const cJSON *m, *dst = NULL;
    const char *model;
    struct admin *a;
    char msg[ORION_MODEL_MAX * 2 + 128];
    int st;

    if (!j)
        return;
    m = cJSON_GetObjectItemCaseSensitive(j, op == CONTRACT_COPY ? "source" : "model");
    if (op != CONTRACT_COPY && !(cJSON_IsString(m) && *m->valuestring))
        m = cJSON_GetObjectItemCaseSensitive(j, "name"); /* Ollama's older name */
    model = cJSON_IsString(m) ? m->valuestring : "";
    if (op == CONTRACT_COPY)
        dst = cJSON_GetObjectItemCaseSensitive(j, "destination");
    a = orion_calloc(1, sizeof(*a));
    if (a) {
        a->op = op;
        buf_init(&a->errors, ADMIN_MAX);
    }
    if (!a) {
        gw_native_err(hr, 500, "out of memory");
    } else if (op == CONTRACT_DELETE && !*model) {
        gw_native_err(hr, 400, "model is required");
    } else if (!name_ok(model)) {
        snprintf(msg, sizeof(msg), op == CONTRACT_COPY ? "source \"%.256s\" is invalid"
                                   : op == CONTRACT_DELETE ? "name \"%.256s\" is invalid"
                                                           : "invalid model name", model);
        gw_native_err(hr, 400, msg);
    } else if (op == CONTRACT_COPY && !(cJSON_IsString(dst) && name_ok(dst->valuestring))) {
        snprintf(msg, sizeof(msg), "destination \"%.256s\" is invalid",
                 cJSON_IsString(dst) ? dst->valuestring : "");
        gw_native_err(hr, 400, msg);
    } else if ((st = choose(g, cJSON_GetObjectItemCaseSensitive(j, "nodes"), op, model, a, msg,
                            sizeof(msg)))) {
        gw_native_err(hr, st, msg);
    } else {
        if (dst)
            snprintf(a->dest, sizeof(a->dest), "%s", dst->valuestring);
        submit(g, hr, a, model, !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "stream")),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "insecure")));
        a = NULL;
    }
    admin_free(a);
    cJSON_Delete(j);
}

void gw_pull(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    admin_post(g, hr, req, CONTRACT_PULL);
}

void gw_copy(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    admin_post(g, hr, req, CONTRACT_COPY);
}

void gw_delete(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    admin_post(g, hr, req, CONTRACT_DELETE);
}

/* --- answers ------------------------------------------------------------------------------ */

static struct part *part_of(struct gw_req *q, struct admin *a, struct contract_str rid)
{
    size_t idn = strlen(q->id);

    if (rid.n <= idn + 1 || memcmp(rid.p, q->id, idn) || rid.p[idn] != '.')
        return NULL;
    for (size_t i = 0; i < a->n; i++)
        if (strlen(a->p[i].node) == rid.n - idn - 1 &&
            !memcmp(a->p[i].node, rid.p + idn + 1, rid.n - idn - 1))
            return &a->p[i];
    return NULL;
}

static void stream_line(struct gw_req *q, struct buf *b)
{
    if (gw_start(q, "application/x-ndjson") == 0)
        httpd_write_chunk(q->hr, buf_data(b), buf_size(b));
}

/* A progress entry as Ollama's object (status, digest, total, completed) with "node". */
static void progress(struct gw_req *q, const struct entry_answer *e)
{
    struct buf b;

    if (!q->stream || entry_is(e->progress, "success"))
        return; /* the one success comes when every node has the model */
    buf_init(&b, ADMIN_MAX);
    buf_puts(&b, "{\"status\":");
    json_quote(&b, e->progress.p, e->progress.n);
    if (e->digest.n) {
        buf_puts(&b, ",\"digest\":");
        json_quote(&b, e->digest.p, e->digest.n);
    }
    if (e->total.n)
        buf_printf(&b, ",\"total\":%.*s", (int)e->total.n, e->total.p);
    if (e->completed.n)
        buf_printf(&b, ",\"completed\":%.*s", (int)e->completed.n, e->completed.p);
    buf_puts(&b, ",\"node\":");
    json_quote(&b, e->node.p, e->node.n);
    buf_puts(&b, "}\n");
    stream_line(q, &b);
    buf_release(&b);
}

static void fail_part(struct admin *a, struct part *p, const char *code, const char *msg,
                      size_t mn)
{
    p->state = PART_FAILED;
    snprintf(p->code, sizeof(p->code), "%s", code);
    if (!a->code[0])
        snprintf(a->code, sizeof(a->code), "%s", code);
    buf_printf(&a->errors, "%s%s: %.*s", buf_size(&a->errors) ? "; " : "", p->node, (int)mn, msg);
    a->pending--;
}

/* Every part is in: the client's answer. */
static void finish(struct gw_req *q, struct admin *a)
{
    const char *op = contract_op_name(a->op);
    struct buf b;

    buf_init(&b, ADMIN_MAX);
    if (buf_size(&a->errors))
        buf_printf(&b, "%s of '%s' failed on %.*s", op, q->model, (int)buf_size(&a->errors),
                   buf_data(&a->errors));
    if (a->op == CONTRACT_PULL && q->stream) {
        struct buf line;
        buf_init(&line, ADMIN_MAX);
        if (buf_size(&b)) {
            buf_puts(&line, "{\"error\":");
            json_quote(&line, buf_data(&b), buf_size(&b));
            buf_puts(&line, "}\n");
        } else {
            buf_puts(&line, "{\"status\":\"success\"}\n");
        }
        stream_line(q, &line);
        httpd_end(q->hr);
        buf_release(&line);
    } else if (a->op == CONTRACT_DELETE && a->gone == a->n) { /* gone everywhere already */
        buf_reset(&b);
        buf_printf(&b, "model '%s' not found", q->model);
        gw_native_err(q->hr, 404, buf_data(&b));
    } else if (buf_size(&b)) {
        gw_native_err(q->hr, gw_error_status(a->code), buf_data(&b));
    } else if (a->op == CONTRACT_PULL) {
        gw_respond(q->hr, 200, "application/json", NULL, "{\"status\":\"success\"}", 20);
    } else {
        httpd_respond(q->hr, 200, NULL, NULL, 0); /* Ollama: 200, nothing more */
    }
    q->hr = NULL;
    buf_release(&b);
}

/* Does the front's view of the nodes show what the done parts did (the model, or the copy,
 * listed on each; a deleted model on none)? A node no longer alive is not waited for. */
static bool settled(struct gw_req *q, const struct admin *a)
{
    const char *model = a->op == CONTRACT_COPY ? a->dest : q->model;
    const struct node_view *v;
    double now;
    size_t nv = q->g->host.nodes(q->g->host.arg, &v, &now);

    for (size_t i = 0; i < a->n; i++)
        for (size_t k = 0; a->p[i].state == PART_DONE && k < nv; k++) {
            bool has;
            if (strcmp(v[k].id, a->p[i].node) || !alive(&v[k]))
                continue;
            has = lists(v[k].h->installed, v[k].h->ninstalled, model) ||
                  lists(v[k].h->models, v[k].h->nmodels, model);
            if (has != (a->op != CONTRACT_DELETE))
                return false;
        }
    return true;
}

/* Every part is done: the answer waits (at most SETTLE_TICKS) until the nodes' health shows
 * it, so that the client's next request (ollama run: /api/show after the pull) sees it. */
static long settle_cb(struct loop *l, void *arg)
{
    struct gw_req *q = arg;
    struct admin *a = q->ext;

    (void)l;
    if (q->hr && !settled(q, a) && ++a->settle < SETTLE_TICKS)
        return SETTLE_TICK_MS;
    if (a->settle >= SETTLE_TICKS)
        log_warnx("request %s: the nodes' health does not show the %s of '%s' yet; answered",
                  q->id, contract_op_name(a->op), q->model);
    a->timer = 0; /* ends with this call */
    if (q->hr)
        finish(q, a);
    gw_req_finish(q);
    return -1;
}

bool gw_admin_entry(struct gw_req *q, const struct entry_answer *e)
{
    struct admin *a = q->ext;
    struct part *p;

    if (!q->hr || !a)
        return true;
    if (e->type == ENTRY_PROGRESS) {
        progress(q, e);
        return false;
    }
    if ((e->type != ENTRY_DONE && e->type != ENTRY_ERROR) ||
        !(p = part_of(q, a, e->request_id)) || p->state != PART_OUT)
        return false;
    if (e->type == ENTRY_DONE || (a->op == CONTRACT_DELETE && entry_is(e->code, "model_not_found"))) {
        p->state = PART_DONE;
        a->pending--;
        a->gone += e->type == ENTRY_ERROR;
    } else {
        fail_part(a, p, e->code.n ? e->code.p : "ollama_error", e->error.p, e->error.n);
    }
    if (a->pending || a->settle)
        return false;
    if (!buf_size(&a->errors) && !settled(q, a)) {
        if (a->timer)
            loop_timer_cancel(a->l, a->timer);
        a->settle = 1;
        if ((a->timer = loop_timer(a->l, SETTLE_TICK_MS, settle_cb, q)))
            return false;
    }
    finish(q, a);
    return true;
}

/* Give up the parts of nodes that stopped reporting their health. */
static long stale_cb(struct loop *l, void *arg)
{
    struct gw_req *q = arg;
    struct admin *a = q->ext;
    const struct node_view *v;
    double now;
    size_t nv = q->g->host.nodes(q->g->host.arg, &v, &now);
    char msg[160];

    (void)l;
    for (size_t i = 0; i < a->n && q->hr; i++) {
        size_t k = 0;
        if (a->p[i].state != PART_OUT)
            continue;
        while (k < nv && strcmp(v[k].id, a->p[i].node))
            k++;
        if (k < nv && alive(&v[k]))
            continue;
        snprintf(msg, sizeof(msg), "the node stopped reporting its health; its worker runs the "
                 "%s when it is back", contract_op_name(a->op));
        fail_part(a, &a->p[i], "ollama_unreachable", msg, strlen(msg));
    }
    if (!q->hr || a->pending || a->settle)
        return a->settle ? -1 : STALE_CHECK_MS;
    a->timer = 0; /* ends with this call */
    finish(q, a);
    gw_req_finish(q);
    return -1;
}
