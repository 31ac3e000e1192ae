/* SPDX-License-Identifier: MIT */
/*
 * prompt: what the runner evaluates for a chat or generate request. The messages (a generate
 * request is its system and prompt as messages, as Ollama's template gets them) are rendered
 * with tok.h's template; with truncate (the default) the oldest messages go until the render
 * fits num_ctx (server/prompt.go chatPrompt), then a prompt still too long is cut as the
 * runner generation of --version-string does (tok_truncate). truncate:false, and shift:false
 * on >= v0.30, make an over-long prompt an error instead (runner/ollamarunner/runner.go
 * errorInputTooLong; llama-server's context error; llm/llama_server.go:295-299).
 *
 * Test markers (simulator only): "[[sim:reply=TEXT]]" in a message makes TEXT the answer,
 * "[[sim:score=X]]" steers structured output's "score" (schema.h); the latest message that
 * carries a marker wins.
 */
#include "native.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msgs {
    struct tok_msg *m;
    int n;
    uint32_t *img; /* every message's image hashes, in turn */
    int nimg;
    char **own; /* text this module joined (OpenAI content parts) */
    char *tools;
};

static uint32_t fnv_add(uint32_t h, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void msgs_free(struct msgs *ms)
{
    int i;

    for (i = 0; ms->own && i < ms->n; i++)
        orion_free(ms->own[i]);
    orion_free(ms->own);
    orion_free(ms->m);
    orion_free(ms->img);
    if (ms->tools)
        cJSON_free(ms->tools);
    memset(ms, 0, sizeof *ms);
}

static void add_image(struct msgs *ms, const cJSON *b64)
{
    if (cJSON_IsString(b64))
        ms->img[ms->nimg++] = fnv_add(2166136261u, b64->valuestring, strlen(b64->valuestring));
}

/* an OpenAI content array: its text parts joined, its data: URL images (openai/openai.go) */
static int parts(struct msgs *ms, int k, const cJSON *content, char *err, size_t errlen)
{
    struct buf t;
    const cJSON *p;

    buf_init(&t, ORION_HTTP_MAX_BODY);
    cJSON_ArrayForEach(p, content)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(p, "text");
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(p, "image_url"), "url");
        const char *comma;

        if (cJSON_IsString(type) && strcmp(type->valuestring, "text") == 0 && cJSON_IsString(text))
            buf_puts(&t, text->valuestring);
        else if (cJSON_IsString(type) && strcmp(type->valuestring, "image_url") == 0 &&
                 cJSON_IsString(url)) {
            if (strncmp(url->valuestring, "data:", 5) != 0 ||
                !(comma = strchr(url->valuestring, ','))) {
                buf_release(&t);
                snprintf(err, errlen,
                         "image URLs are not currently supported, please use base64 encoded data "
                         "instead");
                return 400;
            }
            ms->img[ms->nimg++] = fnv_add(2166136261u, comma + 1, strlen(comma + 1));
        }
    }
    ms->own[k] = buf_detach(&t, NULL);
    ms->m[k].content = ms->own[k] ? ms->own[k] : "";
    ms->m[k].len = ms->own[k] ? strlen(ms->own[k]) : 0;
    return ms->own[k] ? 0 : 500;
}

static int one_message(struct sim_req *r, struct msgs *ms, const cJSON *msg, char *err,
                       size_t errlen)
{
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content"), *i;
    struct tok_msg *t = &ms->m[ms->n];
    int st;

    t->role = cJSON_IsString(role) ? role->valuestring : "user";
    t->img = ms->img + ms->nimg;
    cJSON_ArrayForEach(i, cJSON_GetObjectItemCaseSensitive(msg, "images")) add_image(ms, i);
    if (cJSON_IsString(content))
        t->content = content->valuestring, t->len = strlen(content->valuestring);
    else if (cJSON_IsArray(content) && r->kind == K_OPENAI) {
        if ((st = parts(ms, ms->n, content, err, errlen)))
            return st;
    } else if (cJSON_IsArray(content) || cJSON_IsObject(content)) {
        snprintf(err, errlen,
                 "json: cannot unmarshal %s into Go struct field Message.messages.content of type "
                 "string",
                 cJSON_IsArray(content) ? "array" : "object");
        return 400;
    } else
        t->content = "", t->len = 0;
    t->nimg = (int)(ms->img + ms->nimg - t->img);
    r->hash = fnv_add(r->hash, t->content, t->len);
    ms->n++;
    return 0;
}

static int collect(struct sim_req *r, const cJSON *j, struct msgs *ms, char *err, size_t errlen)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages"), *m;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "prompt");
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(j, "system");
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(j, "tools");
    int cap = 2, nimg = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "images")), st;

    cJSON_ArrayForEach(m, msgs)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");

        cap++;
        nimg += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "images")) +
                cJSON_GetArraySize(c);
    }
    ms->m = orion_calloc((size_t)cap, sizeof *ms->m);
    ms->own = orion_calloc((size_t)cap, sizeof *ms->own);
    ms->img = orion_calloc((size_t)nimg + 1, sizeof *ms->img);
    if (!ms->m || !ms->own || !ms->img)
        return snprintf(err, errlen, "out of memory"), 500;
    if (cJSON_GetArraySize(tools) > 0 && r->kind != K_GENERATE)
        ms->tools = cJSON_PrintUnformatted(tools);
    if (r->kind != K_GENERATE) {
        r->load_only = r->kind == K_CHAT && cJSON_GetArraySize(msgs) == 0;
        cJSON_ArrayForEach(m, msgs) if ((st = one_message(r, ms, m, err, errlen))) return st;
        return 0;
    }
    r->load_only = !cJSON_IsString(p) || !*p->valuestring;
    if (cJSON_IsString(sys) && *sys->valuestring && !r->raw)
        ms->m[ms->n++] =
            (struct tok_msg){"system", sys->valuestring, strlen(sys->valuestring), NULL, 0};
    ms->m[ms->n].role = "user";
    ms->m[ms->n].content = cJSON_IsString(p) ? p->valuestring : "";
    ms->m[ms->n].len = strlen(ms->m[ms->n].content);
    ms->m[ms->n].img = ms->img;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "images")) add_image(ms, m);
    ms->m[ms->n].nimg = ms->nimg;
    r->hash = fnv_add(r->hash, ms->m[ms->n].content, ms->m[ms->n].len);
    ms->n++;
    return 0;
}

/* the latest message's "[[sim:KEY=VALUE]]": VALUE (allocated), or NULL */
static char *marker(const struct msgs *ms, const char *key)
{
    char open[32];
    int i;

    snprintf(open, sizeof open, "[[sim:%s=", key);
    for (i = ms->n - 1; i >= 0; i--) {
        const char *c = ms->m[i].content, *a = strstr(c, open), *z;

        if (a && (z = strstr(a += strlen(open), "]]")))
            return orion_strndup(a, (size_t)(z - a));
    }
    return NULL;
}

static void markers(struct sim_req *r, const struct msgs *ms)
{
    char *score = marker(ms, "score"), *end;
    double v;

    r->steer = r->s->steer;
    if (score && (v = strtod(score, &end), end != score && !*end))
        r->steer.has_score = true, r->steer.score = v;
    orion_free(score);
    r->answer = marker(ms, "reply");
}

/* OpenAI's response_format as openai/openai.go maps it: json_object is "json", json_schema
 * its schema, anything else nothing */
static const cJSON *openai_format(const cJSON *j, bool *json)
{
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(j, "response_format");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(rf, "type");
    char type[32] = "";
    size_t i, k = 0;

    for (i = 0; cJSON_IsString(t) && t->valuestring[i] && k + 1 < sizeof type; i++) {
        char c = t->valuestring[i];

        if (c != ' ')
            type[k++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    type[k] = '\0';
    *json = strcmp(type, "json_object") == 0;
    if (strcmp(type, "json_schema") != 0)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rf, "json_schema"),
                                            "schema");
}

static int format(struct sim_req *r, const cJSON *j)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "format");
    struct buf q;
    char *raw;
    bool json = false;

    if (r->kind == K_OPENAI && !(f = openai_format(j, &json)) && json)
        return (r->format = cJSON_CreateString("json")) ? 0 : -1;

    if (!f || cJSON_IsNull(f) || (cJSON_IsString(f) && !*f->valuestring))
        return 0;
    if ((cJSON_IsString(f) && strcmp(f->valuestring, "json") == 0) || cJSON_IsObject(f))
        return (r->format = cJSON_Duplicate(f, true)) ? 0 : -1;
    if (!(raw = cJSON_PrintUnformatted(f)))
        return -1;
    buf_init(&q, 64 * 1024);
    buf_puts(&q, "invalid format: ");
    go_q(&q, raw, strlen(raw));
    buf_puts(&q, "; expected \"json\" or a valid JSON Schema object");
    cJSON_free(raw);
    r->err_status = 500;
    r->err_msg = buf_detach(&q, NULL);
    return r->err_msg ? 0 : -1;
}

static void runner_error(struct sim_req *r, int status, const char *msg)
{
    if (r->err_status)
        return;
    r->err_status = status;
    r->err_msg = orion_strdup(msg);
}

/* the generate request's context ids, then the render without its BOS */
static int with_context(struct sim_req *r, const cJSON *ctx, struct tokv *t)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, ctx) if (cJSON_IsNumber(c) &&
                                   tokv_push(&r->ptok, (uint32_t)native_long(c, 0)) < 0) return -1;
    return tokv_append(&r->ptok, t->v + 1, t->n - 1);
}

static int render(struct sim_req *r, const cJSON *j, const struct msgs *ms)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(j, "context");
    struct tokv t;
    int first = 0, rc, img = (r->m->caps & CAP_VISION) != 0;
    bool over;

    if (r->kind == K_GENERATE && r->raw)
        return tokv_push(&r->ptok, TOK_BOS) | tokv_text(&r->ptok, ms->m[0].content, ms->m[0].len);
    if (r->truncate && (first = tok_chat_fit(ms->m, ms->n, ms->tools, img, r->num_ctx)) < 0)
        return -1;
    tokv_init(&t);
    rc = tok_render_chat(&t, ms->m, ms->n, first, ms->tools, img);
    if (rc == 0 && r->kind == K_GENERATE && cJSON_GetArraySize(ctx) > 0 && t.n > 0)
        rc = with_context(r, ctx, &t);
    else if (rc == 0)
        rc = tokv_append(&r->ptok, t.v, t.n);
    tokv_release(&t);
    if (rc < 0)
        return -1;
    over = r->s->gen < 30 ? r->ptok.n > r->num_ctx : r->ptok.n > r->num_ctx - 1;
    if (over && !r->truncate)
        runner_error(r, 400,
                     r->s->gen < 30
                         ? "the input length exceeds the context length"
                         : "the request exceeds the available context size, try increasing it");
    else if (over && r->s->gen >= 30 && !r->shift)
        runner_error(
            r, 400,
            "the prompt is longer than the context length currently available to the model; "
            "shorten the prompt, adjust the context length in settings, or use a model with a "
            "longer context length");
    else if (over)
        tok_truncate(&r->ptok, r->num_ctx, r->num_keep, r->s->gen);
    return 0;
}

int prompt_build(struct sim_req *r, const cJSON *j, char *err, size_t errlen)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "options");
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(o, "num_ctx");
    struct msgs ms;
    int st;

    memset(&ms, 0, sizeof ms);
    r->hash = fnv_add(2166136261u, r->model, strlen(r->model));
    r->num_ctx = sim_req_ctx(r->m, native_long(nc, 0));
    if ((st = collect(r, j, &ms, err, errlen)))
        goto out;
    markers(r, &ms);
    if (ms.nimg > 0 && !(r->m->caps & CAP_VISION) && r->s->gen >= 30)
        runner_error(r, 500,
                     "image input is not supported - hint: if this is unexpected, you may need to "
                     "provide the mmproj");
    st = 500;
    if (format(r, j) < 0 || (!r->load_only && render(r, j, &ms) < 0))
        snprintf(err, errlen, "out of memory");
    else
        st = 0;
out:
    msgs_free(&ms);
    return st;
}
