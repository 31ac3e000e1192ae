/* SPDX-License-Identifier: MIT */
/*
 * embed: POST /api/embed (server/routes.go EmbedHandler), the legacy POST /api/embeddings
 * (EmbeddingsHandler) and POST /v1/embeddings (middleware/openai.go EmbeddingsMiddleware +
 * EmbedWriter, openai/openai.go ToEmbeddingList). A request is scheduled like a generation
 * (load, keep-alive, one slot of the model), evaluates its tokens at the model's prefill rate,
 * then answers.
 *
 * The vector of a text has the model's embedding_length: each token id adds a pseudo-random
 * vector (a function of the model's name, the id and the dimension), so texts that share
 * tokens point in similar directions; an empty text gets the model's own vector. /api/embed
 * normalises it in float32 as Ollama's normalize() does, and again after cutting it to
 * `dimensions`. The legacy endpoint answers the runner's vector: unnormalised for nomic-bert
 * (llm/llama_server.go legacyEmbeddingsWereRaw), normalised otherwise.
 * Tokens of an input: the tok.h pieces of its text plus 2 (the tokenizer's BOS and EOS); at
 * most the context (the model's training context, capped by num_ctx), else cut (truncate,
 * the default) or refused.
 */
#include "native.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char no_embed_30[] =
    "This server does not support embeddings. Start it with `--embeddings`";
static const char no_embed_24[] = "this model does not support embeddings";

static void fail_now(struct httpd_req *hr, enum sim_kind k, int status, const char *msg)
{
    if (k == K_EMBED_OPENAI)
        openai_error(hr, status, msg);
    else
        reply_error(hr, status, msg);
}

/* the Go decoder's type checks of the fields each request type has (others are ignored) */
static int types(enum sim_kind k, const cJSON *j, char *err, size_t errlen)
{
#define KINDS(a, b, c) ((a) << K_EMBED | (b) << K_EMBED_LEGACY | (c) << K_EMBED_OPENAI)
    static const struct {
        const char *f, *t, *st;
        int json, kinds; /* native, legacy, OpenAI */
    } want[] = {
        {"model", "string", "model", cJSON_String, KINDS(1, 1, 1)},
        {"truncate", "bool", "EmbedRequest.truncate", cJSON_True | cJSON_False, KINDS(1, 0, 0)},
        {"dimensions", "int", "dimensions", cJSON_Number, KINDS(1, 0, 1)},
        {"prompt", "string", "EmbeddingRequest.prompt", cJSON_String, KINDS(0, 1, 0)},
        {"encoding_format", "string", "EmbedRequest.encoding_format", cJSON_String, KINDS(0, 0, 1)},
    };
#undef KINDS
    size_t i;

    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, want[i].f);

        if (!v || cJSON_IsNull(v) || (v->type & want[i].json) || !(want[i].kinds & (1 << k)))
            continue;
        snprintf(err, errlen, "json: cannot unmarshal %s into Go struct field %s of type %s",
                 cJSON_IsString(v)   ? "string"
                 : cJSON_IsNumber(v) ? "number"
                 : cJSON_IsBool(v)   ? "bool"
                 : cJSON_IsArray(v)  ? "array"
                                     : "object",
                 want[i].st, want[i].t);
        return -1;
    }
    return 0;
}

/* the inputs of /api/embed or /v1/embeddings: 0, or 400 with err */
static int inputs(struct sim_req *r, const cJSON *in, char *err, size_t errlen)
{
    const cJSON *e;
    int n = cJSON_IsArray(in) ? cJSON_GetArraySize(in) : 1;

    if (cJSON_IsString(in) && !*in->valuestring && r->kind == K_EMBED)
        return 0;
    if (in && !cJSON_IsNull(in) && !cJSON_IsString(in) && !cJSON_IsArray(in))
        return snprintf(err, errlen, "invalid input type"), 400;
    cJSON_ArrayForEach(e, in) if (!cJSON_IsString(e)) return snprintf(err, errlen,
                                                                      "invalid input type"),
        400;
    if (!in || cJSON_IsNull(in))
        return 0;
    if (!(r->inputs = orion_calloc((size_t)n + 1, sizeof *r->inputs)) ||
        !(r->in_tokens = orion_calloc((size_t)n + 1, sizeof *r->in_tokens)))
        return snprintf(err, errlen, "out of memory"), 500;
    if (cJSON_IsString(in))
        r->inputs[r->ninputs++] = orion_strdup(in->valuestring);
    else
        cJSON_ArrayForEach(e, in) r->inputs[r->ninputs++] = orion_strdup(e->valuestring);
    for (n = 0; n < r->ninputs; n++)
        if (!r->inputs[n])
            return snprintf(err, errlen, "out of memory"), 500;
    return 0;
}

/* each input's tokens within the context, or the runner's error for r->err_status */
static void limits(struct sim_req *r, bool truncate)
{
    long limit = r->num_ctx - 2;
    int i;

    for (i = 0; i < r->ninputs; i++) {
        long t = tok_count(r->inputs[i], strlen(r->inputs[i]));

        if (t > limit && !truncate && !r->err_status) {
            r->err_status = r->kind == K_EMBED_LEGACY ? 500 : 400;
            r->err_msg = orion_strdup("the input length exceeds the context length");
        }
        r->in_tokens[i] = (t < limit ? t : limit > 0 ? limit : 0) + 2;
    }
}

/* decode and check; 0 with r ready for the scheduler, else the status with err */
static int decode(struct sim *s, struct sim_req *r, const struct httpd_request *q, char *err,
                  size_t errlen)
{
    cJSON *j = cJSON_ParseWithLength(q->body, q->body_len);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "options");
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(o, "num_ctx");
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(j, "dimensions");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "truncate");
    const char *name = cJSON_IsString(model) ? model->valuestring : "";
    int st = 400;

    if (!q->body_len)
        snprintf(err, errlen, "missing request body");
    else if (!cJSON_IsObject(j))
        go_json_error(q->body, q->body_len, err, errlen);
    else if (types(r->kind, j, err, errlen) < 0 ||
             (r->kind != K_EMBED_OPENAI && /* the middleware passes no keep_alive */
              native_keep_alive(cJSON_GetObjectItemCaseSensitive(j, "keep_alive"), r, err,
                                errlen) < 0))
        ;
    else if (!*name && r->kind == K_EMBED_LEGACY)
        snprintf(err, errlen, "model is required");
    else if (!*name)
        st = 404, snprintf(err, errlen, "model '' not found");
    else if (!sim_name_valid(name))
        snprintf(err, errlen, "invalid model name");
    else if (r->kind != K_EMBED_LEGACY &&
             (st = inputs(r, cJSON_GetObjectItemCaseSensitive(j, "input"), err, errlen)))
        ;
    else if (!(r->model = orion_strdup(name)))
        st = 500, snprintf(err, errlen, "out of memory");
    else if (!(r->m = sim_find_model(s, name))) {
        struct buf b;

        buf_init(&b, 4096);
        buf_puts(&b, "model ");
        go_q(&b, name, strlen(name));
        buf_puts(&b, " not found, try pulling it first");
        st = 404, snprintf(err, errlen, "%s", buf_data(&b));
        buf_release(&b);
    } else {
        st = 0;
        r->dims = native_long(dims, 0);
        r->num_ctx = sim_req_ctx(r->m, native_long(nc, 0));
        if (r->kind == K_EMBED_LEGACY) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "prompt");

            if (cJSON_IsString(p) && *p->valuestring && (st = inputs(r, p, err, errlen)))
                goto out;
        }
        r->load_only = r->ninputs == 0;
        limits(r, r->kind == K_EMBED_LEGACY ? false : !cJSON_IsFalse(tr));
    }
out:
    cJSON_Delete(j);
    return st;
}

static void start(struct sim *s, struct httpd_req *hr, const struct httpd_request *q,
                  enum sim_kind k)
{
    struct sim_req *r = sim_req_new(s, hr, k);
    char err[ORION_MODEL_MAX + 512];
    int st;

    if (!r) {
        fail_now(hr, k, 500, "out of memory");
        return;
    }
    if ((st = decode(s, r, q, err, sizeof err))) {
        fail_now(hr, k, st, err);
        gen_free(r);
        return;
    }
    sim_req_go(r);
}

void embed_native(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    start(s, hr, q, K_EMBED);
}

void embed_legacy(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    start(s, hr, q, K_EMBED_LEGACY);
}

static uint32_t mixh(uint32_t h, uint32_t k)
{
    h ^= (k + 1u) * 2654435761u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return h;
}

/* the model's raw vector for text, dim floats, from its first ntok - 2 tokens */
static void raw_vector(const struct sim_model *m, const char *text, long ntok, float *v, long dim)
{
    uint32_t seed = 2166136261u;
    const char *p = text;
    size_t n = strlen(text);
    long i, t;

    for (p = m->name; *p; p++)
        seed = (seed ^ (unsigned char)*p) * 16777619u;
    for (i = 0; i < dim; i++)
        v[i] = (float)((double)(mixh(seed, (uint32_t)i) & 0xffff) / 65535.0 - 0.5) * 0.25f;
    for (t = 0, p = text; t < ntok - 2 && n; t++) {
        size_t k = tok_piece(p, n);
        uint32_t id = tok_id(p, k) * 2654435761u ^ seed;

        for (i = 0; i < dim; i++)
            v[i] += (float)((double)(mixh(id, (uint32_t)i) & 0xffff) / 32767.5 - 1.0);
        p += k, n -= k;
    }
}

/* server/routes.go normalize(): float32 sums, 1 / max(sqrt, 1e-12) */
static void normalize(float *v, long n)
{
    float sum = 0, norm;
    long i;

    for (i = 0; i < n; i++)
        sum += v[i] * v[i];
    norm = (float)(1.0 / fmax(sqrt((double)sum), 1e-12));
    for (i = 0; i < n; i++)
        v[i] *= norm;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* openai floatsToBase64: the float32s little-endian, standard base64 */
static void put_base64(struct buf *b, const float *v, long n)
{
    unsigned char q[3];
    size_t len = (size_t)n * 4, i, k = 0;

    buf_putc(b, '"');
    for (i = 0; i < len; i++) {
        uint32_t u;

        memcpy(&u, &v[i / 4], 4);
        q[k++] = (unsigned char)(u >> (8 * (i % 4)));
        if (k == 3 || i + 1 == len) {
            char o[4] = {b64[q[0] >> 2], b64[((q[0] & 3) << 4) | (k > 1 ? q[1] >> 4 : 0)],
                         k > 1 ? b64[((q[1] & 15) << 2) | (k > 2 ? q[2] >> 6 : 0)] : '=',
                         k > 2 ? b64[q[2] & 63] : '='};

            buf_append(b, o, 4);
            k = 0;
        }
    }
    buf_putc(b, '"');
}

static void vector(struct buf *b, const struct sim_req *r, int i, float *v)
{
    long dim = r->m->embed_len, n = dim, k;
    bool norm = r->kind != K_EMBED_LEGACY || !r->m->raw_legacy;

    raw_vector(r->m, r->inputs[i], r->in_tokens[i], v, dim);
    if (norm)
        normalize(v, dim);
    if (r->kind != K_EMBED_LEGACY && r->dims > 0 && r->dims < dim)
        normalize(v, n = r->dims);
    if (r->kind == K_EMBED_OPENAI && r->b64) {
        put_base64(b, v, n);
        return;
    }
    buf_putc(b, '[');
    for (k = 0; k < n; k++) {
        if (k)
            buf_putc(b, ',');
        if (r->kind == K_EMBED_LEGACY)
            go_float64(b, (double)v[k]);
        else
            go_float32(b, v[k]);
    }
    buf_putc(b, ']');
}

static void answer(struct sim_req *r)
{
    struct buf b;
    float *v = orion_calloc((size_t)r->m->embed_len + 1, sizeof *v);
    long total = 0;
    int i;

    if (!v) {
        gen_fail(r, 500, "out of memory");
        return;
    }
    gen_let_go(r);
    buf_init(&b, ORION_HTTP_MAX_OUT);
    for (i = 0; i < r->ninputs; i++)
        total += r->in_tokens[i];
    if (r->kind == K_EMBED_LEGACY)
        buf_puts(&b, "{\"embedding\":");
    else if (r->kind == K_EMBED_OPENAI)
        buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    else {
        buf_puts(&b, "{\"model\":");
        go_quote(&b, r->model, strlen(r->model));
        buf_puts(&b, ",\"embeddings\":[");
    }
    for (i = 0; i < r->ninputs; i++) {
        if (r->kind == K_EMBED_OPENAI)
            buf_puts(&b, i ? ",{\"object\":\"embedding\",\"embedding\":"
                           : "{\"object\":\"embedding\",\"embedding\":");
        else if (i)
            buf_putc(&b, ',');
        vector(&b, r, i, v);
        if (r->kind == K_EMBED_OPENAI)
            buf_printf(&b, ",\"index\":%d}", i);
    }
    if (r->kind == K_EMBED_LEGACY)
        buf_putc(&b, '}');
    else if (r->kind == K_EMBED_OPENAI) {
        buf_puts(&b, "],\"model\":");
        go_quote(&b, r->model, strlen(r->model));
        buf_printf(&b, ",\"usage\":{\"prompt_tokens\":%ld,\"total_tokens\":%ld}}\n", total, total);
    } else
        buf_printf(&b,
                   "],\"total_duration\":%lld,\"load_duration\":%lld,\"prompt_eval_count\":%ld}",
                   (long long)(now_ns() - r->t0_ns), (long long)(r->loaded_ns - r->t0_ns), total);
    reply_json(r->hr, 200,
               r->kind == K_EMBED_OPENAI ? "application/json" : "application/json; charset=utf-8",
               buf_data(&b), buf_size(&b));
    buf_release(&b);
    orion_free(v);
    r->tmr = 0;
    sched_finish(r);
    gen_free(r);
}

static long done_tick(struct loop *l, void *arg)
{
    (void)l;
    answer(arg);
    return -1;
}

void embed_run(struct sim_req *r)
{
    long total = 0;
    int i;

    if (!(r->m->caps & CAP_EMBEDDING)) {
        gen_fail(r, r->kind == K_EMBED_LEGACY ? 500 : 501,
                 r->s->gen < 30 ? no_embed_24 : no_embed_30);
        return;
    }
    for (i = 0; i < r->ninputs; i++)
        total += r->in_tokens[i];
    r->tmr = loop_timer(r->s->l, (long)((double)total * 1000.0 / sim_prefill(r->m)), done_tick, r);
}

void embed_loaded(struct sim_req *r)
{
    struct buf b;

    gen_let_go(r);
    buf_init(&b, 4096);
    if (r->kind == K_EMBED_LEGACY)
        buf_puts(&b, "{\"embedding\":[]}");
    else {
        buf_puts(&b, "{\"model\":");
        go_quote(&b, r->model, strlen(r->model));
        buf_puts(&b, ",\"embeddings\":[]}");
    }
    reply_json(r->hr, 200, "application/json; charset=utf-8", buf_data(&b), buf_size(&b));
    buf_release(&b);
    gen_free(r);
}

/* EmbeddingsMiddleware's own checks, then the native handler with an OpenAI writer */
void embed_openai(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    cJSON *j = cJSON_ParseWithLength(q->body, q->body_len);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "encoding_format");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "input");
    struct sim_req *r;
    char err[ORION_MODEL_MAX + 512];
    int st;

    if (!cJSON_IsObject(j) || types(K_EMBED_OPENAI, j, err, sizeof err) < 0) { /* ShouldBindJSON */
        if (!cJSON_IsObject(j))
            go_json_error(q->body, q->body_len, err, sizeof err);
        openai_early_error(hr, 400, q->body_len ? err : "EOF");
    } else if (cJSON_IsString(fmt) && *fmt->valuestring &&
               strcasecmp(fmt->valuestring, "float") != 0 &&
               strcasecmp(fmt->valuestring, "base64") != 0) {
        snprintf(err, sizeof err,
                 "Invalid value for 'encoding_format' = %s. Supported values: ['float', 'base64'].",
                 fmt->valuestring);
        openai_early_error(hr, 400, err);
    } else if (!in || cJSON_IsNull(in) || (cJSON_IsArray(in) && cJSON_GetArraySize(in) == 0))
        openai_early_error(hr, 400, "invalid input");
    else if (!(r = sim_req_new(s, hr, K_EMBED_OPENAI)))
        openai_error(hr, 500, "out of memory");
    else if ((st = decode(s, r, q, err, sizeof err))) {
        openai_error(hr, st, err);
        gen_free(r);
    } else {
        r->has_ka = false; /* the middleware passes model, input and dimensions only */
        r->b64 = cJSON_IsString(fmt) && strcasecmp(fmt->valuestring, "base64") == 0;
        sim_req_go(r);
    }
    cJSON_Delete(j);
}
