/* SPDX-License-Identifier: MIT */
/*
 * openai: /v1/chat/completions and /v1/models as Ollama's middleware renders them, in the
 * stream layout of v0.32.6 and later: role only in the first delta, a separate finish chunk
 * with an empty delta, the usage chunk (choices []) when asked, then data: [DONE]; the last
 * events share one HTTP chunk; one "created" for the whole stream.
 */
#include "native.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>

static const char *err_type(int status)
{
    return status == 400   ? "invalid_request_error"
           : status == 404 ? "not_found_error"
                           : "api_error";
}

static void error_body(struct buf *b, int status, const char *msg)
{
    buf_puts(b, "{\"error\":{\"message\":");
    go_quote(b, msg, strlen(msg));
    buf_printf(b, ",\"type\":\"%s\",\"param\":null,\"code\":null}}", err_type(status));
}

void openai_error(struct httpd_req *hr, int status, const char *msg)
{
    struct buf b;

    buf_init(&b, ORION_HTTP_MAX_OUT);
    error_body(&b, status, msg);
    buf_putc(&b, '\n'); /* json.Encoder */
    reply_json(hr, status, "application/json", buf_data(&b), buf_size(&b));
    buf_release(&b);
}

/* errors of the request-parsing middleware: gin's AbortWithStatusJSON */
void openai_early_error(struct httpd_req *hr, int status, const char *msg)
{
    struct buf b;

    buf_init(&b, ORION_HTTP_MAX_OUT);
    error_body(&b, status, msg);
    reply_json(hr, status, "application/json; charset=utf-8", buf_data(&b), buf_size(&b));
    buf_release(&b);
}

static void chunk_head(struct buf *b, const struct sim_req *r, const char *object)
{
    buf_printf(b,
               "{\"id\":\"chatcmpl-%d\",\"object\":\"%s\",\"created\":%lld,\"model\":", r->oai_id,
               object, r->created);
    go_quote(b, r->model, strlen(r->model));
    buf_puts(b, ",\"system_fingerprint\":\"fp_ollama\",\"choices\":");
}

void openai_token(struct sim_req *r, const char *tok, size_t n)
{
    struct buf b;

    buf_init(&b, ORION_HTTP_MAX_OUT);
    buf_puts(&b, "data: ");
    chunk_head(&b, r, "chat.completion.chunk");
    buf_puts(&b, r->ntok == 0 ? "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
                              : "[{\"index\":0,\"delta\":{\"content\":");
    go_quote(&b, tok, n);
    buf_puts(&b, "},\"finish_reason\":null}]}\n\n");
    reply_chunk(r, "text/event-stream", buf_data(&b), buf_size(&b));
    buf_release(&b);
}

static void usage(struct buf *b, long long p, long long e)
{
    buf_printf(
        b, "\"usage\":{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,\"total_tokens\":%lld}", p,
        e, p + e);
}

void openai_final(struct sim_req *r, const char *reason, long long prompt_n, long long eval_n)
{
    struct buf b;

    buf_init(&b, ORION_HTTP_MAX_OUT);
    if (!r->stream) {
        chunk_head(&b, r, "chat.completion");
        buf_puts(&b, "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
        go_quote(&b, buf_data(&r->acc), buf_size(&r->acc));
        buf_printf(&b, "},\"finish_reason\":\"%s\"}],", reason);
        usage(&b, prompt_n, eval_n);
        buf_puts(&b, "}\n");
        reply_json(r->hr, 200, "application/json", buf_data(&b), buf_size(&b));
        buf_release(&b);
        return;
    }
    buf_puts(&b, "data: ");
    chunk_head(&b, r, "chat.completion.chunk");
    buf_printf(&b, "[{\"index\":0,\"delta\":{},\"finish_reason\":\"%s\"}]}\n\n", reason);
    if (r->include_usage) {
        buf_puts(&b, "data: ");
        chunk_head(&b, r, "chat.completion.chunk");
        buf_puts(&b, "[],");
        usage(&b, prompt_n, eval_n);
        buf_puts(&b, "}\n\n");
    }
    buf_puts(&b, "data: [DONE]\n\n");
    reply_chunk(r, "text/event-stream", buf_data(&b), buf_size(&b));
    httpd_end(r->hr);
    buf_release(&b);
}

void openai_chat(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    cJSON *j = cJSON_ParseWithLength(q->body, q->body_len);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "max_tokens");
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(j, "stream_options");
    struct sim_req *r;
    char err[512];
    int status;

    if (!cJSON_IsObject(j)) {
        go_json_error(q->body, q->body_len, err, sizeof err);
        openai_early_error(hr, 400, q->body_len ? err : "EOF");
    } else if (cJSON_GetArraySize(msgs) == 0)
        openai_early_error(hr, 400, "[] is too short - 'messages'");
    else if (!(r = sim_req_new(s, hr, K_OPENAI)))
        openai_error(hr, 500, "out of memory");
    else if ((status = native_decode(s, r, q->body, q->body_len, err, sizeof err))) {
        openai_error(hr, status, err);
        gen_free(r);
    } else {
        r->has_ka = false; /* no keep_alive through /v1 */
        r->num_predict = native_long(mt, -1);
        r->include_usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage"));
        r->oai_id = (int)(r->hash % 999u);
        r->created = (long long)(r->t0_ns / 1000000000);
        sim_req_go(r);
    }
    cJSON_Delete(j);
}

void openai_models(struct sim *s, struct httpd_req *hr)
{
    bool done[SIM_MAX_MODELS] = {false};
    struct buf b;
    int i, k, n;

    buf_init(&b, ORION_HTTP_MAX_OUT);
    buf_puts(&b, "{\"object\":\"list\",\"data\":");
    for (i = 0;; i++) { /* /api/tags' order: most recently modified first */
        const struct sim_model *m;
        const char *slash;

        for (k = -1, n = 0; n < s->nmodels; n++)
            if (!done[n] && s->models[n].installed &&
                (k < 0 || s->models[n].modified_ms > s->models[k].modified_ms))
                k = n;
        if (k < 0)
            break;
        done[k] = true;
        m = &s->models[k];
        slash = strchr(m->name, '/');

        buf_puts(&b, i ? ",{\"id\":" : "[{\"id\":");
        go_quote(&b, m->name, strlen(m->name));
        buf_printf(&b,
                   ",\"object\":\"model\",\"created\":%lld,\"owned_by\":", m->modified_ms / 1000);
        go_quote(&b, slash ? m->name : "library", slash ? (size_t)(slash - m->name) : 7);
        buf_putc(&b, '}');
    }
    buf_puts(&b, i ? "]}\n" : "null}\n"); /* no models: a nil slice */
    reply_json(hr, 200, "application/json", buf_data(&b), buf_size(&b));
    buf_release(&b);
}
