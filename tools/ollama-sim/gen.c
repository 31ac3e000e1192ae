/* SPDX-License-Identifier: MIT */
/*
 * gen: one generation, driven by loop timers: prompt evaluation first (the tokens the slot did
 * not hold, at the model's prefill rate), then one token per 1/tokens_per_s. The free text is
 * a deterministic function of a hash of the request, so the same prompt always gets the same
 * answer; a structured output (schema.h) or a reply marker is a fixed text sent one tok.h piece
 * a token. Native lines are rendered here in Ollama's key order; /v1 requests go through
 * openai.c, embeddings through embed.c.
 */
#include "native.h"

#include <stdio.h>
#include <string.h>

static const char *const words[] = {
    "the",     "model", "runs",     "on",      "a",       "small",     "board",  "and",
    "answers", "every", "question", "with",    "care",    "while",     "fans",   "spin",
    "quietly", "in",    "rack",     "of",      "tiny",    "computers", "that",   "share",
    "one",     "queue", "light",    "travels", "fast",    "through",   "clear",  "air",
    "so",      "sky",   "looks",    "blue",    "because", "short",     "waves",  "scatter",
    "more",    "than",  "long",     "ones",    "hello",   "there",     "friend", "nice",
    "to",      "meet",  "you",      "today",   "we",      "can",       "help",   "learn",
    "build",   "test",  "code",     "cluster", "node",    "token",     "stream", "simple",
};

static uint32_t mix(uint32_t h, uint32_t i)
{
    h ^= i * 2654435761u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return h;
}

int gen_natural_len(uint32_t hash)
{
    return 6 + (int)(hash % 19u);
}

void gen_text(uint32_t hash, int i, int n, struct buf *out)
{
    const char *w = words[mix(hash, (uint32_t)i) % (sizeof words / sizeof words[0])];

    if (i > 0)
        buf_putc(out, ' ');
    if (i == 0)
        buf_putc(out, (char)(w[0] - 'a' + 'A')), w++;
    buf_puts(out, w);
    if (i == n - 1)
        buf_putc(out, '.');
}

/* r's answer ends here and r is freed after it. Unhook client_gone first: when the client has
 * just left, the last write fails, httpd_end/httpd_respond return -1 without ending the
 * request, and httpd frees the connection later, calling on_close with r long freed. */
void gen_let_go(struct sim_req *r)
{
    httpd_on_close(r->hr, NULL, NULL);
}

void gen_free(struct sim_req *r)
{
    int i;

    if (!r)
        return;
    if (r->tmr)
        loop_timer_cancel(r->s->l, r->tmr);
    buf_release(&r->acc);
    buf_release(&r->ans);
    tokv_release(&r->ptok);
    cJSON_Delete(r->format);
    for (i = 0; i < r->ninputs; i++)
        orion_free(r->inputs[i]);
    orion_free(r->inputs);
    orion_free(r->in_tokens);
    orion_free(r->answer);
    orion_free(r->err_msg);
    orion_free(r->model);
    orion_free(r);
}

/* the answer's tokens as the slot keeps them: all but a last one sampled at num_predict */
int gen_answer_tokens(const struct sim_req *r, struct tokv *t)
{
    if (tokv_text(t, buf_data(&r->ans), buf_size(&r->ans)) < 0)
        return -1;
    if (r->length && t->n > 0)
        t->n--;
    return 0;
}

void gen_fail(struct sim_req *r, int status, const char *msg)
{
    gen_let_go(r);
    msg = msg ? msg : "out of memory";
    if (r->kind == K_OPENAI || r->kind == K_EMBED_OPENAI)
        openai_error(r->hr, status, msg);
    else /* streamResponse sets application/json before c.JSON; c.JSON alone adds the charset */
        reply_error_ct(r->hr, status,
                       r->stream && r->kind <= K_CHAT ? "application/json"
                                                      : "application/json; charset=utf-8",
                       msg);
    r->tmr = 0;
    sched_finish(r);
    gen_free(r);
}

static void head(struct buf *b, const struct sim_req *r)
{
    char t[64];

    go_time_utc(t, now_ns());
    buf_puts(b, "{\"model\":");
    go_quote(b, r->model, strlen(r->model));
    buf_printf(b, ",\"created_at\":\"%s\",", t);
}

static void body_text(struct buf *b, const struct sim_req *r, const char *p, size_t n)
{
    if (r->kind == K_CHAT) {
        buf_puts(b, "\"message\":{\"role\":\"assistant\",\"content\":");
        go_quote(b, p, n);
        buf_putc(b, '}');
    } else {
        buf_puts(b, "\"response\":");
        go_quote(b, p, n);
    }
}

void gen_loaded(struct sim_req *r)
{
    struct buf b;

    if (r->kind >= K_EMBED) {
        embed_loaded(r);
        return;
    }
    gen_let_go(r);
    buf_init(&b, ORION_HTTP_MAX_OUT);
    head(&b, r);
    body_text(&b, r, "", 0);
    buf_puts(&b, ",\"done\":true,\"done_reason\":\"load\"}");
    reply_json(r->hr, 200, "application/json; charset=utf-8", buf_data(&b), buf_size(&b));
    buf_release(&b);
    gen_free(r);
}

static int uncached(const struct sim_req *r)
{
    return r->ptok.n - r->cached;
}

static long long prompt_ns(const struct sim_req *r)
{
    return (long long)((double)uncached(r) * 1e9 / sim_prefill(r->m) * (r->share > 1 ? r->share : 1));
}

static long prompt_count(const struct sim_req *r)
{
    return r->s->count_uncached ? uncached(r) : r->ptok.n;
}

static void context(struct buf *b, const struct sim_req *r)
{
    struct tokv t;
    int i;

    tokv_init(&t);
    if (tokv_append(&t, r->ptok.v, r->ptok.n) < 0 ||
        tokv_text(&t, buf_data(&r->ans), buf_size(&r->ans)) < 0)
        t.n = 0;
    buf_puts(b, ",\"context\":[");
    for (i = 0; i < t.n; i++)
        buf_printf(b, "%s%u", i ? "," : "", t.v[i]);
    buf_putc(b, ']');
    tokv_release(&t);
}

static void final_line(struct sim_req *r, struct buf *b)
{
    int64_t now = now_ns();

    head(b, r);
    if (r->stream)
        body_text(b, r, "", 0);
    else
        body_text(b, r, buf_data(&r->acc), buf_size(&r->acc));
    buf_printf(b, ",\"done\":true,\"done_reason\":\"%s\"", r->length ? "length" : "stop");
    if (r->kind == K_GENERATE && !r->raw)
        context(b, r);
    buf_printf(b,
               ",\"total_duration\":%lld,\"load_duration\":%lld,\"prompt_eval_count\":%ld,"
               "\"prompt_eval_duration\":%lld,\"eval_count\":%d,\"eval_duration\":%lld}",
               (long long)(now - r->t0_ns), (long long)(r->loaded_ns - r->t0_ns), prompt_count(r),
               prompt_ns(r), r->ntok, (long long)(now - r->first_ns));
}

static void finish(struct sim_req *r)
{
    struct buf b;

    gen_let_go(r);
    buf_init(&b, ORION_HTTP_MAX_OUT);
    if (r->kind == K_OPENAI)
        openai_final(r, r->length ? "length" : "stop", prompt_count(r), r->ntok);
    else {
        final_line(r, &b);
        if (r->stream) {
            buf_putc(&b, '\n');
            reply_chunk(r, "application/x-ndjson", buf_data(&b), buf_size(&b));
            httpd_end(r->hr);
        } else
            reply_json(r->hr, 200, "application/json; charset=utf-8", buf_data(&b), buf_size(&b));
    }
    buf_release(&b);
    r->tmr = 0;
    sched_finish(r);
    gen_free(r);
}

static void midstream_error(struct sim_req *r)
{
    static const char line[] =
        "{\"error\":\"an error was encountered while running the model: unexpected EOF\"}\n";

    gen_let_go(r);
    if (!r->started) /* stream:false, or /v1 before its first chunk: a 500 */
        reply_error(r->hr, 500, "an error was encountered while running the model: unexpected EOF");
    else if (r->kind == K_OPENAI)
        httpd_end(r->hr); /* a /v1 stream already under way: it ends short, no [DONE] */
    else {
        reply_chunk(r, "application/x-ndjson", line, sizeof line - 1);
        httpd_end(r->hr);
    }
    r->tmr = 0;
    sched_finish(r);
    gen_free(r);
}

static void emit(struct sim_req *r, const char *tok, size_t n)
{
    struct buf b;

    buf_append(&r->ans, tok, n);
    if (!r->stream) {
        buf_append(&r->acc, tok, n);
        return;
    }
    if (r->kind == K_OPENAI) {
        openai_token(r, tok, n);
        return;
    }
    buf_init(&b, ORION_HTTP_MAX_OUT);
    head(&b, r);
    body_text(&b, r, tok, n);
    buf_puts(&b, ",\"done\":false}\n");
    reply_chunk(r, "application/x-ndjson", buf_data(&b), buf_size(&b));
    buf_release(&b);
}

static long tick(struct loop *l, void *arg)
{
    struct sim_req *r = arg;
    struct buf tok;

    (void)l;
    if (r->ntok == 0)
        r->first_ns = now_ns();
    if (r->s->fail == F_MIDSTREAM && r->ntok >= (r->kind == K_OPENAI && r->stream ? 0 : 3)) {
        midstream_error(r);
        return -1;
    }
    buf_init(&tok, 4096);
    if (r->answer) {
        const char *a = r->answer + r->answer_off;
        size_t k = tok_piece(a, strlen(a));

        buf_append(&tok, a, k);
        r->answer_off += k;
    } else
        gen_text(r->hash, r->ntok, r->length ? -1 : r->maxtok, &tok);
    emit(r, buf_data(&tok), buf_size(&tok));
    buf_release(&tok);
    if (++r->ntok >= r->maxtok) {
        finish(r);
        return -1;
    }
    return 1000 / r->s->tokens_per_s > 0 ? 1000 / r->s->tokens_per_s * sim_share(r->s) : 1;
}

/* a structured output or a reply marker: the whole answer, fixed now */
static int fixed_answer(struct sim_req *r)
{
    struct buf out, text;
    int i, n = gen_natural_len(r->hash);

    if (r->answer || !r->format)
        return 0;
    buf_init(&text, 4096);
    for (i = 0; i < n; i++)
        gen_text(r->hash, i, n, &text);
    buf_init(&out, 1024 * 1024);
    if (schema_gen(r->format, r->hash, &r->steer, buf_data(&text), &out) == 0)
        r->answer = buf_detach(&out, NULL);
    buf_release(&out);
    buf_release(&text);
    return r->answer ? 0 : -1;
}

void gen_start(struct sim_req *r)
{
    struct sim *s = r->s;
    long pe_ms;
    int natural;

    if (s->fail == F_HANG)
        return; /* never answers; the slot is freed when the client leaves */
    if (s->fail == F_GARBAGE) {
        gen_let_go(r);
        reply_chunk(r, "application/x-ndjson", "this is not json\n", 17);
        httpd_end(r->hr);
        sched_finish(r);
        gen_free(r);
        return;
    }
    if (r->err_status || fixed_answer(r) < 0) {
        gen_fail(r, r->err_status ? r->err_status : 500, r->err_msg);
        return;
    }
    if (r->kind >= K_EMBED) {
        embed_run(r);
        return;
    }
    natural = r->answer ? tok_count(r->answer, strlen(r->answer)) : gen_natural_len(r->hash);
    r->maxtok = natural > 0 ? natural : 1;
    if (r->num_predict > 0 && r->num_predict < r->maxtok) {
        r->maxtok = (int)r->num_predict;
        r->length = true;
    }
    r->share = sim_share(s);
    pe_ms = (long)(prompt_ns(r) / 1000000);
    r->tmr = loop_timer(s->l, pe_ms + 1000 / s->tokens_per_s * r->share, tick, r);
}
