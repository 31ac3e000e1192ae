/* SPDX-License-Identifier: MIT */
/*
 * router_orch_report: the one answer of an orchestrated request. A run with a usable text
 * answers done (done_reason "partial" when a step failed for good on the way: the saga rule),
 * with Ollama's counters summed over the steps (total_duration: the run's wall time), the
 * final step's node and model, and two JSON objects: `orchestration` (mode, models used,
 * rounds, confidence, agreement, partial, completed and total steps, error, wall and summed
 * step times, and each step: kind, round, model asked and used, node, status, tries, score,
 * start and duration) and `inference_metadata` (config, orchestration_mode, models_used,
 * handoff_steps, compression_applied, context_utilization). A run without one answers
 * orchestration_failed (retriable when the last failed step's error was), or
 * context_budget_exceeded when a handoff did not fit after ORCH_MAX_COMPRESS compressions,
 * its details the orchestration object, the same two objects along.
 */
#include "router_orch.h"

#include "orion/entry.h"
#include "orion/jsonw.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>

#define REPORT_MAX (256 * 1024)

static const char *const state_names[] = {"waiting", "running", "ok", "failed"};

static void quote(struct buf *b, const char *s) { json_quote(b, s, strlen(s)); }

static void num_or_null(struct buf *b, double v)
{
    if (v < 0)
        buf_puts(b, "null");
    else
        buf_printf(b, "%.4g", v);
}

/* The distinct models that answered, in the order they first did. */
static void models_used(const struct orun *u, struct buf *b)
{
    buf_putc(b, '[');
    for (size_t i = 0, k = 0; i < u->o.nsteps; i++) {
        bool seen = false;
        if (!u->st[i].model[0])
            continue;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(u->st[j].model, u->st[i].model);
        if (seen)
            continue;
        if (k++)
            buf_putc(b, ',');
        quote(b, u->st[i].model);
    }
    buf_putc(b, ']');
}

static double step_ms(const struct orun_step *s)
{
    return s->t1 > s->t0 && s->t0 > 0 ? (s->t1 - s->t0) * 1000.0 : 0;
}

static void steps_json(const struct orun *u, struct buf *b)
{
    buf_puts(b, ",\"steps\":[");
    for (size_t i = 0; i < u->o.nsteps; i++) {
        const struct orch_step *s = &u->o.step[i];
        const struct orun_step *t = &u->st[i];
        buf_printf(b, "%s{\"step\":%zu,\"kind\":", i ? "," : "", i + 1);
        quote(b, orch_kind_name(s->kind));
        if (s->kind == ORCH_K_STAGE) {
            buf_puts(b, ",\"stage\":");
            quote(b, u->o.k.stages[s->leg]);
        }
        buf_printf(b, ",\"round\":%d,\"requested\":", s->round);
        quote(b, s->model);
        buf_puts(b, ",\"model\":");
        quote(b, t->model);
        buf_puts(b, ",\"node\":");
        quote(b, t->node);
        buf_printf(b, ",\"status\":\"%s\",\"tries\":%d,\"markers\":%d,\"quarantined\":%s,"
                      "\"score\":",
                   state_names[s->state], s->tries, s->markers, s->fresh ? "true" : "false");
        num_or_null(b, s->score);
        buf_printf(b, ",\"started_ms\":%.1f,\"ms\":%.1f}",
                   t->t0 > u->started ? (t->t0 - u->started) * 1000.0 : 0, step_ms(t));
    }
    buf_putc(b, ']');
}

static void orchestration_json(const struct orun *u, double now, struct buf *b)
{
    const struct orch *o = &u->o;
    double sum = 0;

    for (size_t i = 0; i < o->nsteps; i++)
        sum += step_ms(&u->st[i]);
    buf_puts(b, "{\"mode\":");
    quote(b, orch_mode_name(o->mode));
    buf_puts(b, ",\"models_used\":");
    models_used(u, b);
    buf_printf(b, ",\"rounds\":%d,\"confidence\":", o->rounds);
    num_or_null(b, o->confidence);
    buf_puts(b, ",\"agreement\":");
    num_or_null(b, o->agreement);
    if (o->mode == ORCH_ENSEMBLE || o->mode == ORCH_DEBATE)
        buf_printf(b, ",\"min_agreement\":%.4g", o->k.ensemble_min_agreement);
    if (o->mode == ORCH_CRITIQUE)
        buf_printf(b, ",\"threshold\":%.4g", o->k.critique_threshold);
    buf_printf(b, ",\"partial\":%s,\"completed_steps\":%zu,\"total_steps\":%zu,\"error\":",
               o->partial ? "true" : "false", orch_completed(o),
               o->partial ? (o->total > o->nsteps ? o->total : o->nsteps) : o->nsteps);
    if (o->error[0])
        quote(b, o->error);
    else
        buf_puts(b, "null");
    buf_printf(b, ",\"contamination_markers\":%d,\"quarantined_steps\":%d", o->contaminated,
               o->quarantined);
    buf_printf(b, ",\"wall_ms\":%.1f,\"steps_ms\":%.1f", (now - u->started) * 1000.0, sum);
    steps_json(u, b);
    buf_putc(b, '}');
}

/* The largest share of a step's context its prompt took: prompt_eval_count / the budget of
 * the model that answered (-1: no step's budget is known). */
static double utilization(const struct router *r, const struct orun *u)
{
    double best = -1;

    for (size_t i = 0; i < u->o.nsteps; i++) {
        long budget = u->st[i].model[0] ? router_budget(r, u->st[i].model, 0) : 0;
        double x;
        if (budget <= 0 || u->st[i].counter[ENTRY_PROMPT_EVAL_COUNT] <= 0)
            continue;
        x = (double)u->st[i].counter[ENTRY_PROMPT_EVAL_COUNT] / (double)budget;
        if (x > best)
            best = x;
    }
    return best;
}

static void metadata_json(const struct router *r, const struct orun *u, struct buf *b)
{
    size_t handoff = 0;

    for (size_t i = 0; i < u->o.nsteps; i++)
        handoff += !orch_first(&u->o, i);
    buf_puts(b, "{\"config\":");
    if (r->active)
        quote(b, r->active->name);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"orchestration_mode\":");
    quote(b, orch_mode_name(u->o.mode));
    buf_puts(b, ",\"models_used\":");
    models_used(u, b);
    buf_printf(b, ",\"handoff_steps\":%zu,\"compression_applied\":%s,"
                  "\"context_utilization\":", handoff, u->o.compressed ? "true" : "false");
    num_or_null(b, utilization(r, u));
    buf_putc(b, '}');
}

static void answer_done(struct router *r, struct orun *u, const char *orch, const char *meta,
                        double now)
{
    const struct orch_step *s = &u->o.step[u->o.final];
    const struct orun_step *t = &u->st[u->o.final];
    struct entry_done d;
    struct resp_cmd c;
    struct buf msg;

    memset(&d, 0, sizeof(d));
    buf_init(&msg, ORION_FIELD_MAX + 64);
    d.response = entry_cstr(s->text);
    if (u->req.messages.p && t->message) {
        d.message = entry_cstr(t->message); /* with its thinking and tool calls */
    } else if (u->req.messages.p) {
        buf_puts(&msg, "{\"role\":\"assistant\",\"content\":");
        quote(&msg, s->text);
        buf_putc(&msg, '}');
        d.message = entry_cstr(buf_data(&msg));
    }
    d.model = entry_cstr(t->model[0] ? t->model : s->model);
    d.done_reason = u->o.partial ? "partial" : "stop";
    for (size_t i = 0; i < u->o.nsteps; i++)
        for (int k = 0; k < ENTRY_NCOUNTERS; k++)
            d.counter[k] += u->st[i].counter[k];
    d.counter[ENTRY_TOTAL_DURATION] = (long long)((now - u->started) * 1e9);
    resp_cmd_init(&c);
    entry_answer_begin(&c, &r->keys, &u->req, r->keys.requests, CONTRACT_GROUP_ROUTER,
                       t->node[0] ? t->node : NULL);
    entry_answer_done(&c, &d);
    entry_answer_orch(&c, orch, meta);
    if (resp_cmd_finish(&c) < 0 || redis_cmdv(r->cmd, 0, NULL, NULL, c.argc, c.argv, c.len) < 0)
        log_warnx("request %s: could not answer now; it stays pending", u->id);
    resp_cmd_release(&c);
    buf_release(&msg);
}

static void answer_error(struct router *r, struct orun *u, const char *orch, const char *meta)
{
    struct contract_str none = {NULL, 0};
    struct resp_cmd c;
    char msg[sizeof(u->o.error) + 64];

    snprintf(msg, sizeof(msg), "the %s run has no usable answer: %s", orch_mode_name(u->o.mode),
             u->o.error[0] ? u->o.error : "every step failed");
    resp_cmd_init(&c);
    entry_answer_begin(&c, &r->keys, &u->req, r->keys.requests, CONTRACT_GROUP_ROUTER, NULL);
    if (u->o.budget_exceeded) /* the service contract's code: the caller must shorten it */
        entry_answer_error(&c, "context_budget_exceeded", false, msg, none);
    else
        entry_answer_error(&c, "orchestration_failed", u->retriable, msg, none);
    entry_answer_error_more(&c, orch, 0);
    entry_answer_orch(&c, orch, meta);
    if (resp_cmd_finish(&c) < 0 || redis_cmdv(r->cmd, 0, NULL, NULL, c.argc, c.argv, c.len) < 0)
        log_warnx("request %s: could not answer now; it stays pending", u->id);
    resp_cmd_release(&c);
}

void router_orch_answer(struct router *r, struct orun *u)
{
    struct buf orch, meta;
    double now = router_now(r);

    buf_init(&orch, REPORT_MAX);
    buf_init(&meta, REPORT_MAX);
    orchestration_json(u, now, &orch);
    metadata_json(r, u, &meta);
    if (u->o.final >= 0 && u->o.step[u->o.final].text)
        answer_done(r, u, buf_data(&orch), buf_data(&meta), now);
    else
        answer_error(r, u, buf_data(&orch), buf_data(&meta));
    buf_release(&orch);
    buf_release(&meta);
}
