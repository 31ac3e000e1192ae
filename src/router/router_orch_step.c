/* SPDX-License-Identifier: MIT */
/*
 * router_orch_step: what one step of an orchestrated request is sent (router_orch.c decides
 * when). Each step is a request entry of its own on P:requests: the position block as its
 * system message, then the caller's conversation (a step answering it, orch_first) or the
 * step's instructions (orch_instructions) as one user message.
 *
 * The caller's fields reach the steps so (the answer the caller sees honours what it asked):
 * A compression is the router's own work, on the fast role, and gets none of options, think,
 * images, task_type, format, tools (the caller's num_predict would cut it, its num_ctx is what
 * did not fit, and the fast model need not think or see). To the other steps:
 * - options: every step (the critic's num_predict raised for its verdict);
 * - keep_alive, priority, timeout_ms: every step;
 * - task_type, think: every step (think: each model
 *   works on the caller's problem as asked; a model that cannot think fails the step as a
 *   single request would);
 * - format and tools: the steps whose text can be the answer (orch_answers): a leg answering
 *   in the caller's schema would have its agreement measured on the schema's keys, and a
 *   critic answers its own verdict schema (verdict.h);
 * - images (the request's, or the last user message's): every step, since a critic, a
 *   reconciler or a later stage judges an answer about them; a step given the caller's
 *   messages as they are has them there already.
 * A handoff step that would not fit its model's context (or a field) is not sent: it is held
 * while the fast model compresses its handoff (orch_compress), up to ORCH_MAX_COMPRESS times.
 * A compression that fits no model the nodes hold (the fast role itself falls back to any model
 * that fits) is cut into pieces compressed at once (orch_compress_split).
 */
#include "router_orch.h"

#include "orion/entry.h"
#include "orion/jsonw.h"
#include "orion/promptest.h"
#include "orion/verdict.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>

/* The text of a message's content: a string, or the text parts of an array joined. */
static void content_text(const cJSON *c, struct buf *out)
{
    const cJSON *part, *arr = cJSON_IsArray(c) ? c : NULL;

    if (cJSON_IsString(c)) {
        buf_puts(out, c->valuestring);
        return;
    }
    cJSON_ArrayForEach(part, arr)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (cJSON_IsString(t)) {
            if (buf_size(out))
                buf_putc(out, '\n');
            buf_puts(out, t->valuestring);
        }
    }
}

/* The last user message's images, a non-empty JSON array printed (heap), or NULL. */
static char *images_of(const cJSON *msg)
{
    const cJSON *im = cJSON_GetObjectItemCaseSensitive(msg, "images");

    return cJSON_IsArray(im) && cJSON_GetArraySize(im) > 0 ? cJSON_PrintUnformatted(im) : NULL;
}

int router_orch_input(struct orun *u)
{
    const struct contract_request *q = &u->req;
    struct buf b;
    cJSON *j, *m, *last = NULL;

    buf_init(&b, ORION_FIELD_MAX);
    if (q->prompt.p) {
        buf_append(&b, q->prompt.p, q->prompt.n);
        if (q->images.p && !(u->images = orion_malloc(q->images.n + 1)))
            goto out_nomem;
        if (q->images.p) {
            memcpy(u->images, q->images.p, q->images.n);
            u->images[q->images.n] = '\0';
        }
        return (u->goal = buf_detach(&b, NULL)) ? 0 : -1;
    }
    j = cJSON_ParseWithLength(q->messages.p, q->messages.n);
    cJSON_ArrayForEach(m, j)
    {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (cJSON_IsString(role) && !strcmp(role->valuestring, "user"))
            last = m;
    }
    if (last) {
        content_text(cJSON_GetObjectItemCaseSensitive(last, "content"), &b);
        u->images = images_of(last); /* cJSON's hooks are orion's allocator (jsonw.h) */
    }
    cJSON_Delete(j);
    return (u->goal = buf_detach(&b, NULL)) ? 0 : -1;
out_nomem:
    buf_release(&b);
    return -1;
}

/* [system: the position block (and the caller's system), then the caller's messages or the
 * step's instructions] */
static int step_messages(const struct orun *u, size_t i, struct buf *out)
{
    const struct contract_request *q = &u->req;
    size_t gn = strlen(u->goal);
    struct buf t;
    int rc;

    buf_init(&t, ORION_FIELD_MAX);
    rc = orch_position(&u->o, i, u->goal, gn, &t);
    if (q->system.p && q->system.n)
        rc |= buf_puts(&t, "\n") | buf_append(&t, q->system.p, q->system.n);
    rc |= buf_puts(out, "[{\"role\":\"system\",\"content\":") |
          json_quote(out, buf_data(&t), buf_size(&t)) | buf_putc(out, '}');
    buf_reset(&t);
    if (orch_first(&u->o, i) && q->messages.p) {
        const char *a = memchr(q->messages.p, '[', q->messages.n);
        size_t k = q->messages.n;
        while (k > 0 && q->messages.p[k - 1] != ']')
            k--;
        if (a && k > (size_t)(a - q->messages.p) + 1) {
            size_t len = k - 1 - (size_t)(a + 1 - q->messages.p);
            if (strspn(a + 1, " \t\r\n") < len)
                rc |= buf_putc(out, ',') | buf_append(out, a + 1, len);
        }
    } else {
        if (orch_first(&u->o, i))
            rc |= buf_append(&t, q->prompt.p, q->prompt.n);
        else
            rc |= orch_instructions(&u->o, i, u->goal, gn, &t);
        rc |= buf_puts(out, ",{\"role\":\"user\",\"content\":") |
              json_quote(out, buf_data(&t), buf_size(&t));
        if (u->images && u->o.step[i].kind != ORCH_K_COMPRESS)
            rc |= buf_puts(out, ",\"images\":") | buf_puts(out, u->images);
        rc |= buf_putc(out, '}');
    }
    buf_release(&t);
    return rc | buf_putc(out, ']');
}

static void add_field(struct resp_cmd *c, const char *name, struct contract_str v)
{
    if (!v.p)
        return;
    resp_cmd_adds(c, name);
    resp_cmd_add(c, v.p, v.n);
}

/* The caller's options with room for the verdict: num_predict at least ORCH_VERDICT_TOKENS
 * (a caller's short answers must not cut the critic's JSON). */
static void critic_options(struct resp_cmd *c, struct contract_str opts)
{
    cJSON *j = opts.p ? cJSON_ParseWithLength(opts.p, opts.n) : cJSON_CreateObject();
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(j, "num_predict");
    char *text;

    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return;
    }
    if (!cJSON_IsNumber(np) || (np->valuedouble >= 0 && np->valuedouble < ORCH_VERDICT_TOKENS)) {
        cJSON_DeleteItemFromObjectCaseSensitive(j, "num_predict");
        cJSON_AddNumberToObject(j, "num_predict", ORCH_VERDICT_TOKENS);
    }
    if ((text = cJSON_PrintUnformatted(j)) != NULL) {
        resp_cmd_adds(c, "options");
        resp_cmd_adds(c, text);
        cJSON_free(text);
    }
    cJSON_Delete(j);
}

/* A step named by a role may get any model that can answer (every role's chain ends with all
 * models, and the router passes over those too small): the largest budget of the models the
 * nodes hold (0: none known, no check). */
static long role_budget(const struct router *r, long num_ctx)
{
    long best = 0;

    for (size_t i = 0; i < r->nnodes; i++) {
        const struct modelinfo *mi = &r->nodes[i].mi;
        for (size_t j = 0; r->nodes[i].has_health && j < mi->n; j++) {
            long b = router_budget(r, mi->m[j].name, num_ctx);
            if (b > best)
                best = b;
        }
    }
    return best;
}

/* Would step i's messages overflow its model's context (the router's guard, as for any request:
 * the learned token estimate against the budget)? Only a handoff step is checked: a step
 * answering the caller's own messages meets the guard like a single request. */
static bool over_budget(struct router *r, const struct orun *u, size_t i, const struct buf *msg)
{
    const struct orch_step *s = &u->o.step[i];
    struct tokest_text t;
    struct role_spec sp;
    char key[ORION_MODEL_MAX + 1];
    long num_ctx, num_predict, need, budget;
    bool named;

    if (orch_first(&u->o, i) || s->kind == ORCH_K_COMPRESS)
        return false;
    role_spec_parse(s->model, &sp);
    named = sp.kind == ROLE_SPEC_MODEL;
    if (named && route_model_norm(s->model, key, sizeof(key)) < 0)
        return false;
    memset(&t, 0, sizeof(t));
    tokest_feed(&t, buf_data(msg), buf_size(msg));
    t.messages = 2;
    promptest_options(&u->req, &num_ctx, &num_predict);
    budget = named ? router_budget(r, s->model, num_ctx) : role_budget(r, num_ctx);
    return !tokest_fits(tokest_estimate(&r->est, named ? key : NULL, tokest_prior(&t)),
                        num_predict, budget, &need);
}

/* How many pieces a whole compression is cut in: 1 when its messages fit some model the nodes
 * hold (the fast role falls back along its chain to any model that fits, as any request's
 * role does) or no budget is known; else enough for each piece to take about half the largest
 * budget, at most ORCH_MAX_PIECES. Compressions get no options: the default context. */
static int compress_pieces(struct router *r, const struct buf *msg)
{
    struct tokest_text t;
    long budget = role_budget(r, 0), need;
    long k;

    memset(&t, 0, sizeof(t));
    tokest_feed(&t, buf_data(msg), buf_size(msg));
    t.messages = 2;
    if (budget <= 0 || tokest_fits(tokest_estimate(&r->est, NULL, tokest_prior(&t)), 0, budget,
                                   &need))
        return 1;
    k = (2 * need + budget - 1) / budget;
    return k < 2 ? 2 : k > ORCH_MAX_PIECES ? ORCH_MAX_PIECES : (int)k;
}

int router_orch_issue(struct router *r, struct orun *u, size_t i)
{
    const struct orch_step *s = &u->o.step[i];
    const struct contract_request *q = &u->req;
    struct resp_cmd c;
    struct buf msg;
    int rc = -1, full, k;

    buf_init(&msg, ORION_FIELD_MAX);
    full = step_messages(u, i, &msg) < 0; /* past ORION_FIELD_MAX (or no memory) */
    if (full && (orch_first(&u->o, i) || s->kind == ORCH_K_COMPRESS))
        goto out;
    if (s->kind == ORCH_K_COMPRESS && s->pieces <= 1 && (k = compress_pieces(r, &msg)) > 1 &&
        (orch_compress_split(&u->o, i, k) == 0 || u->o.finished)) { /* pieces: next round */
        buf_release(&msg);
        return 1;
    }
    if (full || over_budget(r, u, i, &msg)) {
        if (orch_compress(&u->o, i, ORCH_COMPRESS_MODEL) < 0)
            snprintf(u->code, sizeof(u->code), "context_budget_exceeded");
        buf_release(&msg);
        return 1;
    }
    resp_cmd_init(&c);
    entry_request_begin(&c, &r->keys);
    resp_cmd_adds(&c, "request_id");
    resp_cmd_addf(&c, "%s.s%zu.t%d", u->id, i, s->tries);
    resp_cmd_adds(&c, "model");
    resp_cmd_adds(&c, s->model);
    resp_cmd_adds(&c, "messages");
    resp_cmd_add(&c, buf_data(&msg), buf_size(&msg));
    resp_cmd_adds(&c, "callback");
    resp_cmd_adds(&c, u->cb);
    resp_cmd_adds(&c, "orchestration_mode");
    resp_cmd_adds(&c, "single");
    if (router_orch_streams(u, i)) { /* its chunks are relayed to the caller */
        resp_cmd_adds(&c, "stream");
        resp_cmd_adds(&c, "true");
    }
    if (s->kind == ORCH_K_CRITIC) {
        resp_cmd_adds(&c, "format");
        resp_cmd_adds(&c, verdict_schema);
    }
    if (orch_answers(&u->o, i)) {
        add_field(&c, "format", q->format);
        add_field(&c, "tools", q->tools);
    }
    if (s->kind != ORCH_K_COMPRESS)
        add_field(&c, "think", q->think);
    if (s->kind == ORCH_K_CRITIC)
        critic_options(&c, q->options);
    else if (s->kind != ORCH_K_COMPRESS) /* the caller's num_predict, num_ctx are not its */
        add_field(&c, "options", q->options);
    add_field(&c, "keep_alive", q->keep_alive);
    if (s->kind != ORCH_K_COMPRESS)
        add_field(&c, "task_type", q->task_type);
    if (q->has_priority) {
        resp_cmd_adds(&c, "priority");
        resp_cmd_addf(&c, "%d", q->priority);
    }
    if (q->timeout_ms) {
        resp_cmd_adds(&c, "timeout_ms");
        resp_cmd_addf(&c, "%lld", q->timeout_ms);
    }
    if (resp_cmd_finish(&c) == 0 &&
        redis_cmdv(r->cmd, 0, NULL, NULL, c.argc, c.argv, c.len) == 0) {
        u->st[i].t0 = router_now(r);
        u->st[i].t1 = 0;
        rc = 0;
    }
    resp_cmd_release(&c);
out:
    buf_release(&msg);
    return rc;
}

