/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's embeddings: POST /api/embed, /api/embeddings (Ollama's legacy endpoint) and
 * /v1/embeddings, each an embedding request of the contract (`input`), routed like any
 * request: sticky to where the model is loaded, health-aware, failed over, answered once.
 *
 * A batch of more than ORION_EMBED_PIECE inputs (or more than ORION_FIELD_MAX bytes of them) is
 * cut into pieces, one entry each (request_id <id>.<piece>, one callback for all), spread
 * round robin over the eligible nodes that have the model (those that have it loaded first),
 * each pinned there with `node` and a 30 s wait; a piece whose node fails it with a retriable
 * error (the node died, went hot, Ollama was away) is sent once more unpinned
 * (<id>.<piece>.2), for the router to place. The client's answer is written once every piece
 * is in, the vectors in the inputs' order; an error of a piece is the request's error.
 *
 * Limits: ORION_EMBED_MAX_INPUTS inputs a request; an input's JSON within ORION_FIELD_MAX; the
 * whole answer within EMBED_ANSWER_MAX (the front's per-connection output buffer): about
 * 1 900 vectors of 768 dimensions. Past each, a 400 that says which.
 */
#include "gateway_int.h"

#include "orion/jsonw.h"
#include "orion/log.h"

#include "cJSON.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSON_UTF8 "application/json; charset=utf-8"
#define PIN_TIMEOUT_MS "30000" /* how long a pinned piece may wait for its node */
#define EMBED_ANSWER_MAX (ORION_HTTP_MAX_OUT - 64u * 1024)

struct piece {
    size_t first, count; /* its inputs */
    char *input;         /* their JSON array (legacy: the one JSON string) */
    char node[ORION_NODE_ID_MAX + 1]; /* pinned there; "" when the router places it */
    int tries;
    bool done;
    char *vecs; /* the answer's embeddings */
    size_t vecs_len;
    char ran[ORION_NODE_ID_MAX + 1];
};

struct embed {
    struct piece *p;
    size_t npieces, pending;
    cJSON *common; /* the fields every piece carries: keep_alive, priority, timeout, ... */
    bool b64;      /* /v1/embeddings with encoding_format base64 */
    long long total, load, count;
};

static void embed_free(void *arg)
{
    struct embed *e = arg;

    for (size_t i = 0; e && i < e->npieces; i++) {
        orion_free(e->p[i].input);
        orion_free(e->p[i].vecs);
    }
    if (e) {
        orion_free(e->p);
        cJSON_Delete(e->common);
    }
    orion_free(e);
}

typedef void err_fn(struct httpd_req *, int, const char *);

/* Go's message for a field of the wrong JSON type, as Ollama's decoder writes it. */
static void type_err(err_fn *err, struct httpd_req *hr, const cJSON *v, const char *field,
                     const char *want)
{
    char msg[160];
    const char *t = cJSON_IsString(v) ? "string" : cJSON_IsNumber(v) ? "number"
                    : cJSON_IsArray(v) ? "array" : cJSON_IsBool(v) ? "bool" : "object";

    snprintf(msg, sizeof(msg), "json: cannot unmarshal %s into Go struct field %s of type %s", t,
             field, want);
    err(hr, 400, msg);
}

/* The inputs as a list of JSON strings, or NULL after answering 400. */
static cJSON *inputs_of(const cJSON *j, enum gw_kind kind, err_fn *err, struct httpd_req *hr)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, kind == GW_EMBED_LEGACY ? "prompt"
                                                                                  : "input");
    const cJSON *e, *list = cJSON_IsArray(in) ? in : NULL;
    cJSON *out;

    if (kind == GW_EMBED_OPENAI && (!in || cJSON_IsNull(in) ||
                                    (cJSON_IsArray(in) && !cJSON_GetArraySize(in)))) {
        err(hr, 400, "invalid input");
        return NULL;
    }
    if (kind == GW_EMBED_LEGACY && in && !cJSON_IsNull(in) && !cJSON_IsString(in)) {
        type_err(err, hr, in, "EmbeddingRequest.prompt", "string");
        return NULL;
    }
    out = cJSON_CreateArray();
    if (cJSON_IsString(in) && (*in->valuestring || kind != GW_EMBED))
        cJSON_AddItemToArray(out, cJSON_CreateString(in->valuestring));
    else if (kind == GW_EMBED_LEGACY)
        cJSON_AddItemToArray(out, cJSON_CreateString(""));
    else if (in && !cJSON_IsNull(in) && !cJSON_IsString(in) && !cJSON_IsArray(in))
        goto bad;
    cJSON_ArrayForEach(e, list) {
        if (!cJSON_IsString(e))
            goto bad;
        cJSON_AddItemToArray(out, cJSON_CreateString(e->valuestring));
    }
    return out;
bad:
    cJSON_Delete(out);
    err(hr, 400, "invalid input type");
    return NULL;
}

/* The fields every piece carries, checked: NULL after answering 400. */
static cJSON *common_of(const cJSON *j, enum gw_kind kind, err_fn *err, struct httpd_req *hr,
                        bool *b64)
{
    static const char *const keep[] = {"keep_alive", "priority", "timeout", "options"};
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "truncate");
    const cJSON *dim = cJSON_GetObjectItemCaseSensitive(j, "dimensions");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "encoding_format");
    cJSON *c;

    if (kind != GW_EMBED_LEGACY && dim && !cJSON_IsNull(dim) && !cJSON_IsNumber(dim)) {
        type_err(err, hr, dim, "EmbedRequest.dimensions", "int");
        return NULL;
    }
    if (kind == GW_EMBED && tr && !cJSON_IsNull(tr) && !cJSON_IsBool(tr)) {
        type_err(err, hr, tr, "EmbedRequest.truncate", "bool");
        return NULL;
    }
    if (kind == GW_EMBED_OPENAI && cJSON_IsString(fmt) && *fmt->valuestring &&
        strcasecmp(fmt->valuestring, "float") && strcasecmp(fmt->valuestring, "base64")) {
        char msg[ORION_MODEL_MAX + 96];
        snprintf(msg, sizeof(msg), "Invalid value for 'encoding_format' = %.*s. Supported "
                 "values: ['float', 'base64'].", ORION_MODEL_MAX, fmt->valuestring);
        err(hr, 400, msg);
        return NULL;
    }
    *b64 = cJSON_IsString(fmt) && !strcasecmp(fmt->valuestring, "base64");
    c = cJSON_CreateObject();
    /* Ollama's /v1/embeddings passes only model, input and dimensions on */
    for (size_t i = kind == GW_EMBED_OPENAI ? 1 : 0; c && i < sizeof(keep) / sizeof(keep[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keep[i]);
        if (v && !(kind == GW_EMBED_OPENAI && i == 3))
            cJSON_AddItemToObject(c, keep[i], cJSON_Duplicate(v, 1));
    }
    if (kind == GW_EMBED && cJSON_IsBool(tr))
        cJSON_AddBoolToObject(c, "truncate", cJSON_IsTrue(tr));
    if (kind != GW_EMBED_LEGACY && cJSON_IsNumber(dim) && dim->valuedouble >= 1)
        cJSON_AddNumberToObject(c, "dimensions", dim->valuedouble);
    return c;
}

/* One piece's entry: model, its input, the common fields, pinned or not. */
static void piece_cmd(struct gw_req *q, const struct embed *e, size_t k, struct resp_cmd *c)
{
    const struct piece *p = &e->p[k];
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(e->common, "truncate");
    const cJSON *dim = cJSON_GetObjectItemCaseSensitive(e->common, "dimensions");

    resp_cmd_init(c);
    entry_request_begin(c, &q->g->keys);
    resp_cmd_adds(c, "request_id");
    if (p->tries > 1)
        resp_cmd_addf(c, "%s.%zu.%d", q->id, k, p->tries);
    else
        resp_cmd_addf(c, "%s.%zu", q->id, k);
    resp_cmd_adds(c, "callback");
    resp_cmd_adds(c, q->cb);
    resp_cmd_adds(c, "model");
    resp_cmd_adds(c, q->model);
    resp_cmd_adds(c, "input");
    resp_cmd_adds(c, p->input);
    if (q->kind == GW_EMBED_LEGACY) {
        resp_cmd_adds(c, "legacy");
        resp_cmd_adds(c, "true");
    }
    if (tr) {
        resp_cmd_adds(c, "truncate");
        resp_cmd_adds(c, cJSON_IsTrue(tr) ? "true" : "false");
    }
    if (dim && dim->valuedouble <= 65536) {
        resp_cmd_adds(c, "dimensions");
        resp_cmd_addf(c, "%d", (int)dim->valuedouble);
    }
    gw_add_json(c, "options", cJSON_GetObjectItemCaseSensitive(e->common, "options"));
    if (*p->node && p->tries == 1) {
        resp_cmd_adds(c, "node");
        resp_cmd_adds(c, p->node);
        if (!cJSON_GetObjectItemCaseSensitive(e->common, "timeout")) {
            resp_cmd_adds(c, "timeout_ms");
            resp_cmd_adds(c, PIN_TIMEOUT_MS);
        }
    }
    gw_add_common(c, e->common);
}

static bool has_model(const struct health *h, const char *model, bool loaded)
{
    char **list = loaded ? h->models : h->installed;
    size_t n = loaded ? h->nmodels : h->ninstalled;

    for (size_t i = 0; i < n; i++)
        if (route_model_eq(list[i], model))
            return true;
    return false;
}

/* Pin the pieces: over the eligible nodes with the model, loaded first. */
static void place(struct gateway *g, struct gw_req *q, struct embed *e)
{
    const struct node_view *v;
    const char *res[ORION_ROUTE_MAX_NODES], *oth[ORION_ROUTE_MAX_NODES], **to;
    size_t nres = 0, noth = 0;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now);

    for (size_t i = 0; i < n && i < ORION_ROUTE_MAX_NODES; i++) {
        if (!v[i].eligible || !v[i].h)
            continue;
        if (has_model(v[i].h, q->model, true))
            res[nres++] = v[i].id;
        else if (has_model(v[i].h, q->model, false))
            oth[noth++] = v[i].id;
    }
    to = orion_calloc(e->npieces, sizeof(*to));
    if (to && gw_embed_nodes(res, nres, oth, noth, e->npieces, to))
        for (size_t k = 0; k < e->npieces; k++)
            snprintf(e->p[k].node, sizeof(e->p[k].node), "%s", to[k]);
    orion_free(to);
}

/* Cut the inputs into pieces with their JSON: 0, or -1 with the status and sentence to answer
 * in msg (400: an input too large; 500: no memory). */
static int make_pieces(struct embed *e, const cJSON *inputs, bool legacy, char *msg, size_t mn)
{
    size_t n = (size_t)cJSON_GetArraySize(inputs), i = 0, *len, *first, np;
    char **js = orion_calloc(n ? n : 1, sizeof(*js));
    const cJSON *in, *list;
    int rc = 500;

    len = orion_calloc(n ? n : 1, sizeof(*len));
    first = orion_calloc(n ? n : 1, sizeof(*first));
    list = js && len && first ? inputs : NULL;
    cJSON_ArrayForEach(in, list) {
        if (!(js[i] = cJSON_PrintUnformatted(in)))
            goto out;
        len[i] = strlen(js[i]);
        if (len[i] + 2 > ORION_FIELD_MAX) {
            snprintf(msg, mn, "input %zu is larger than the 4 MiB a request field may have", i);
            rc = 400;
            goto out;
        }
        i++;
    }
    if (i < n)
        goto out;
    np = n ? gw_embed_plan(len, n, ORION_EMBED_PIECE, ORION_FIELD_MAX, first) : 1;
    first[0] = 0;
    if (!(e->p = orion_calloc(np, sizeof(*e->p))))
        goto out;
    e->npieces = e->pending = np;
    for (size_t k = 0; k < np; k++) {
        struct piece *p = &e->p[k];
        struct buf b;
        p->first = first[k];
        p->count = (k + 1 < np ? first[k + 1] : n) - p->first;
        p->tries = 1;
        buf_init(&b, ORION_FIELD_MAX);
        if (!legacy)
            buf_putc(&b, '[');
        for (size_t x = p->first; x < p->first + p->count; x++)
            buf_printf(&b, "%s%s", x > p->first ? "," : "", js[x]);
        if (!legacy)
            buf_putc(&b, ']');
        p->input = buf_detach(&b, NULL);
        if (!p->input)
            goto out;
    }
    rc = 0;
out:
    for (size_t x = 0; js && x < n; x++)
        cJSON_free(js[x]);
    orion_free(js);
    orion_free(len);
    orion_free(first);
    if (rc == 500)
        snprintf(msg, mn, "out of memory");
    return rc;
}

/* The client left: every piece still out is cancelled too. */
static void embed_gone(struct gw_req *q)
{
    const struct embed *e = q->ext;
    char id[sizeof(q->id) + 32];

    for (size_t k = 0; e && k < e->npieces; k++) {
        if (e->p[k].done)
            continue;
        if (e->p[k].tries > 1)
            snprintf(id, sizeof(id), "%s.%zu.%d", q->id, k, e->p[k].tries);
        else
            snprintf(id, sizeof(id), "%s.%zu", q->id, k);
        gw_cancel_id(q->g, id);
    }
}

/* Check the body, then one entry per piece. */
static void submit(struct gateway *g, struct httpd_req *hr, const cJSON *j, enum gw_kind kind,
                   err_fn *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const char *name = cJSON_IsString(model) ? model->valuestring : "";
    struct embed *e = orion_calloc(1, sizeof(*e));
    cJSON *inputs = NULL;
    struct resp_cmd *cmds = NULL;
    struct gw_req *q;
    char msg[ORION_MODEL_MAX + 64];

    if (!e) {
        err(hr, 500, "out of memory");
        return;
    }
    if (!*name) {
        if (kind == GW_EMBED_LEGACY)
            err(hr, 400, "model is required");
        else
            gw_error_code(hr, kind == GW_EMBED_OPENAI, "model_not_found", "model '' not found");
    } else if (strlen(name) > ORION_MODEL_MAX) {
        err(hr, 400, "invalid model name");
    } else if (!(inputs = inputs_of(j, kind, err, hr)) ||
               !(e->common = common_of(j, kind, err, hr, &e->b64))) {
        /* answered */
    } else if (cJSON_GetArraySize(inputs) > ORION_EMBED_MAX_INPUTS) {
        snprintf(msg, sizeof(msg), "too many inputs: %d (at most %d in one request)",
                 cJSON_GetArraySize(inputs), ORION_EMBED_MAX_INPUTS);
        err(hr, 400, msg);
    } else if (gw_model_unknown(g, name)) {
        snprintf(msg, sizeof(msg), "model '%s' not found", name);
        gw_error_code(hr, kind == GW_EMBED_OPENAI, "model_not_found", msg);
    } else if (!(q = gw_req_new(g, hr, kind, name))) {
        err(hr, 500, "out of memory");
    } else {
        int status;
        q->ext = e;
        q->ext_free = embed_free;
        q->ext_gone = embed_gone;
        status = make_pieces(e, inputs, kind == GW_EMBED_LEGACY, msg, sizeof(msg));
        e = NULL;
        if (!status) {
            struct embed *qe = q->ext;
            place(g, q, qe);
            if ((cmds = orion_calloc(qe->npieces, sizeof(*cmds)))) {
                for (size_t k = 0; k < qe->npieces; k++)
                    piece_cmd(q, qe, k, &cmds[k]);
                gw_submit_n(q, cmds, qe->npieces);
            }
        }
        if (!cmds) { /* nothing was sent: answer and forget it */
            err(hr, status ? status : 500, status ? msg : "out of memory");
            q->hr = NULL;
            q->submitted = true;
            gw_req_finish(q);
        }
    }
    orion_free(cmds);
    cJSON_Delete(inputs);
    embed_free(e);
}

void gw_embed_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                   enum gw_kind kind)
{
    err_fn *err = kind == GW_EMBED_OPENAI ? gw_openai_error : gw_native_err;
    cJSON *j = gw_parse_body(hr, req, err);

    if (!j)
        return;
    submit(g, hr, j, kind, err);
    cJSON_Delete(j);
}

/* --- answers ------------------------------------------------------------------------------ */

/* The piece an answer is for, from its request_id <id>.<piece>[.<try>]; -1 when not ours. */
static long piece_of(const struct gw_req *q, const struct embed *e, struct contract_str rid,
                     int *try)
{
    size_t idn = strlen(q->id), i;
    long k = 0;

    *try = 1;
    if (rid.n <= idn + 1 || memcmp(rid.p, q->id, idn) || rid.p[idn] != '.')
        return -1;
    for (i = idn + 1; i < rid.n && rid.p[i] >= '0' && rid.p[i] <= '9' && k < 1000000; i++)
        k = k * 10 + (rid.p[i] - '0');
    if (i == idn + 1 || (size_t)k >= e->npieces)
        return -1;
    if (i < rid.n && rid.p[i] == '.')
        *try = rid.n == i + 2 && rid.p[i + 1] == '2' ? 2 : 0;
    else if (i < rid.n)
        return -1;
    return k;
}

struct resub {
    struct gateway *g;
    unsigned long n;
};

static void resub_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct resub *r = arg;
    struct gw_req *q = gw_req_by_n(r->g, r->n);

    (void)c;
    orion_free(r);
    if (!q || (reply && reply->type == RESP_BULK))
        return;
    gw_fail(q, 503, "the request queue (redis) is not available");
    gw_req_finish(q);
}

/* Send piece k once more, unpinned: false when it could not be sent. */
static bool resubmit(struct gw_req *q, struct embed *e, size_t k)
{
    struct resub *r = orion_calloc(1, sizeof(*r));
    struct resp_cmd c;
    bool sent;

    e->p[k].tries = 2;
    piece_cmd(q, e, k, &c);
    sent = r && resp_cmd_finish(&c) == 0 &&
           redis_cmdv(q->g->cmd, 0, resub_cb, r, c.argc, c.argv, c.len) == 0;
    resp_cmd_release(&c);
    if (!sent) {
        orion_free(r);
        return false;
    }
    r->g = q->g;
    r->n = q->n;
    log_info("request %s: piece %zu failed on %s; sent again for the router to place", q->id,
             k, e->p[k].node);
    return true;
}

/* The vectors of every piece, in order, comma-separated, each piece's outer [ ] dropped. */
static int join_vectors(const struct embed *e, struct buf *b)
{
    bool first = true;
    int rc = 0;

    for (size_t k = 0; k < e->npieces && rc == 0; k++) {
        const char *s = e->p[k].vecs, *open = memchr(s, '[', e->p[k].vecs_len);
        const char *close = s + e->p[k].vecs_len;
        while (close > s && close[-1] != ']')
            close--;
        if (!open || close - 1 <= open + 1)
            continue; /* [] */
        if (!first)
            rc |= buf_putc(b, ',');
        rc |= buf_append(b, open + 1, (size_t)(close - 1 - (open + 1)));
        first = false;
    }
    return rc;
}

static void orion_nodes(const struct embed *e, struct buf *b)
{
    buf_printf(b, ",\"orion\":{\"pieces\":%zu,\"nodes\":[", e->npieces);
    for (size_t k = 0; k < e->npieces; k++) {
        if (k)
            buf_putc(b, ',');
        json_quote(b, e->p[k].ran, strlen(e->p[k].ran));
    }
    buf_puts(b, "]}");
}

static int native_answer(struct gw_req *q, const struct embed *e, struct buf *b)
{
    int rc;

    if (q->kind == GW_EMBED_LEGACY) { /* one vector: [[...]] -> [...] */
        rc = buf_puts(b, "{\"embedding\":") | join_vectors(e, b) | buf_putc(b, '}');
        return rc;
    }
    rc = buf_puts(b, "{\"model\":") | json_quote(b, q->model, strlen(q->model));
    rc |= buf_puts(b, ",\"embeddings\":[") | join_vectors(e, b) | buf_putc(b, ']');
    if (e->total)
        rc |= buf_printf(b, ",\"total_duration\":%lld", e->total);
    if (e->load)
        rc |= buf_printf(b, ",\"load_duration\":%lld", e->load);
    if (e->count)
        rc |= buf_printf(b, ",\"prompt_eval_count\":%lld", e->count);
    orion_nodes(e, b);
    return rc | buf_putc(b, '}');
}

static int openai_answer(struct gw_req *q, const struct embed *e, struct buf *b)
{
    size_t index = 0;
    int rc = buf_puts(b, "{\"object\":\"list\",\"data\":[");

    for (size_t k = 0; k < e->npieces && rc == 0; k++) {
        const char *v;
        size_t pos = 0, vlen;
        int got;
        while ((got = entry_vec_next(e->p[k].vecs, e->p[k].vecs_len, &pos, &v, &vlen)) == 1) {
            rc |= buf_puts(b, index ? ",{\"object\":\"embedding\",\"embedding\":"
                                    : "{\"object\":\"embedding\",\"embedding\":");
            if (e->b64) {
                rc |= buf_putc(b, '"') | gw_vec_base64(v, vlen, b) | buf_putc(b, '"');
            } else {
                rc |= buf_append(b, v, vlen);
            }
            rc |= buf_printf(b, ",\"index\":%zu}", index++);
        }
        rc |= got < 0 ? -1 : 0;
    }
    rc |= buf_puts(b, "],\"model\":") | json_quote(b, q->model, strlen(q->model));
    rc |= buf_printf(b, ",\"usage\":{\"prompt_tokens\":%lld,\"total_tokens\":%lld}", e->count,
                     e->count);
    orion_nodes(e, b);
    return rc | buf_puts(b, "}\n");
}

/* Every piece is in: the client's answer. */
static void answer(struct gw_req *q, const struct embed *e)
{
    struct buf b;
    int rc;

    snprintf(q->node, sizeof(q->node), "%s", e->p[0].ran);
    buf_init(&b, EMBED_ANSWER_MAX);
    rc = q->kind == GW_EMBED_OPENAI ? openai_answer(q, e, &b) : native_answer(q, e, &b);
    if (rc < 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "the embeddings are larger than the %u MiB an answer may "
                 "have: send fewer inputs or ask for fewer dimensions",
                 (unsigned)(EMBED_ANSWER_MAX >> 20) + 1);
        gw_fail(q, 400, msg);
    } else {
        gw_answer(q, q->kind == GW_EMBED_OPENAI ? "application/json" : JSON_UTF8, buf_data(&b),
                  buf_size(&b));
        q->hr = NULL;
    }
    buf_release(&b);
}

bool gw_embed_entry(struct gw_req *q, const struct entry_answer *a)
{
    struct embed *e = q->ext;
    struct piece *p;
    int try;
    long k;

    if (!q->hr || !e)
        return true;
    if (a->type != ENTRY_DONE && a->type != ENTRY_ERROR)
        return false;
    k = piece_of(q, e, a->request_id, &try);
    if (k < 0 || e->p[k].done || try != e->p[k].tries)
        return false; /* not one of ours, or an answer already replaced */
    p = &e->p[k];
    if (a->type == ENTRY_ERROR) {
        if (a->retriable && *p->node && p->tries == 1 && resubmit(q, e, (size_t)k))
            return false;
        gw_entry_error(q, a);
        return true;
    }
    if (!(p->vecs = orion_strndup(a->embeddings.p, a->embeddings.n))) {
        gw_fail(q, 500, "out of memory");
        return true;
    }
    p->vecs_len = a->embeddings.n;
    p->done = true;
    snprintf(p->ran, sizeof(p->ran), "%.*s", (int)a->node.n, a->node.p);
    if (entry_counter(a, ENTRY_TOTAL_DURATION) > e->total) /* the pieces ran side by side */
        e->total = entry_counter(a, ENTRY_TOTAL_DURATION);
    if (entry_counter(a, ENTRY_LOAD_DURATION) > e->load)
        e->load = entry_counter(a, ENTRY_LOAD_DURATION);
    e->count += entry_counter(a, ENTRY_PROMPT_EVAL_COUNT);
    if (--e->pending > 0)
        return false;
    answer(q, e);
    return true;
}
