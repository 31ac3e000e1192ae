/* SPDX-License-Identifier: MIT */
/*
 * tok: the tokenizer rule, the chat template and the truncation rules of tok.h. The chat
 * dropping rule follows Ollama's server/prompt.go chatPrompt: from the oldest message on, drop
 * messages until the render fits num_ctx, keeping the system messages of the dropped part
 * and always the last message.
 */
#include "tok.h"

#include "orion/buf.h"

#include <string.h>

void tokv_init(struct tokv *t)
{
    t->v = NULL;
    t->n = t->cap = 0;
}

void tokv_release(struct tokv *t)
{
    orion_free(t->v);
    tokv_init(t);
}

static int grow(struct tokv *t, int more)
{
    uint32_t *v;
    int cap = t->cap ? t->cap : 64;

    if (t->n + more <= t->cap)
        return 0;
    while (cap < t->n + more)
        cap *= 2;
    if (!(v = orion_realloc(t->v, (size_t)cap * sizeof *v)))
        return -1;
    t->v = v;
    t->cap = cap;
    return 0;
}

int tokv_push(struct tokv *t, uint32_t id)
{
    if (grow(t, 1) < 0)
        return -1;
    t->v[t->n++] = id;
    return 0;
}

int tokv_append(struct tokv *t, const uint32_t *v, int n)
{
    if (n <= 0)
        return 0;
    if (grow(t, n) < 0)
        return -1;
    memcpy(t->v + t->n, v, (size_t)n * sizeof *v);
    t->n += n;
    return 0;
}

static int is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t tok_piece(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, w = 0;

    if (n == 0)
        return 0;
    if (p[0] == ' ' && n > 1 && !is_blank(p[1]))
        i = 1; /* the space joins what follows */
    else if (is_blank(p[0]))
        return 1;
    if (!is_word(p[i]))
        return i + 1;
    while (i + w < n && w < TOK_WORD_MAX && is_word(p[i + w]))
        w++;
    return i + w;
}

int tok_count(const char *s, size_t n)
{
    int c = 0;

    while (n) {
        size_t k = tok_piece(s, n);

        s += k, n -= k, c++;
    }
    return c;
}

uint32_t tok_id(const char *piece, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)piece[i]) * 16777619u;
    return 256u + h % 127744u;
}

int tokv_text(struct tokv *t, const char *s, size_t n)
{
    while (n) {
        size_t k = tok_piece(s, n);

        if (tokv_push(t, tok_id(s, k)) < 0)
            return -1;
        s += k, n -= k;
    }
    return 0;
}

static int render_msg(struct tokv *out, const struct tok_msg *m, int img_tokens)
{
    int i, j;

    if (tokv_push(out, TOK_START) < 0 || tokv_push(out, tok_id(m->role, strlen(m->role))) < 0 ||
        tokv_push(out, TOK_END) < 0)
        return -1;
    for (i = 0; img_tokens && i < m->nimg; i++)
        for (j = 0; j < TOK_IMAGE_TOKENS; j++)
            if (tokv_push(out, TOK_IMAGE_BASE + (m->img[i] * 2654435761u + (uint32_t)j) % 100000u) <
                0)
                return -1;
    if (tokv_text(out, m->content, m->len) < 0)
        return -1;
    return tokv_push(out, TOK_EOT);
}

int tok_render_chat(struct tokv *out, const struct tok_msg *m, int n, int first, const char *tools,
                    int img_tokens)
{
    int i;

    if (tokv_push(out, TOK_BOS) < 0 || (tools && tokv_text(out, tools, strlen(tools)) < 0))
        return -1;
    for (i = 0; i < n; i++)
        if ((i >= first || strcmp(m[i].role, "system") == 0) &&
            render_msg(out, &m[i], img_tokens) < 0)
            return -1;
    if (tokv_push(out, TOK_START) < 0 || tokv_push(out, tok_id("assistant", 9)) < 0)
        return -1;
    return tokv_push(out, TOK_END);
}

int tok_chat_fit(const struct tok_msg *m, int n, const char *tools, int img_tokens, long num_ctx)
{
    int first;

    for (first = 0; first < n - 1; first++) {
        struct tokv t;
        int len;

        tokv_init(&t);
        if (tok_render_chat(&t, m, n, first, tools, img_tokens) < 0) {
            tokv_release(&t);
            return -1;
        }
        len = t.n;
        tokv_release(&t);
        if (len <= num_ctx)
            break;
    }
    return first;
}

int tok_truncate(struct tokv *t, long num_ctx, long num_keep, int gen)
{
    long keep = num_keep < 0 ? t->n : num_keep, limit, discard;

    if (num_ctx <= 1)
        return 0;
    if (gen < 30) {
        if (t->n <= num_ctx)
            return 0;
        keep = keep < num_ctx - 1 ? keep : num_ctx - 1;
        limit = num_ctx;
    } else {
        long half;

        if (t->n <= num_ctx - 1)
            return 0;
        keep = keep + 1 < num_ctx - 1 ? keep + 1 : num_ctx - 1;
        half = (num_ctx - keep) / 2;
        limit = num_ctx - (half > 1 ? half : 1);
    }
    if (keep > limit)
        keep = limit;
    discard = t->n - limit;
    memmove(t->v + keep, t->v + keep + discard, (size_t)(t->n - keep - discard) * sizeof *t->v);
    t->n = (int)limit;
    return (int)discard;
}
