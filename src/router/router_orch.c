/* SPDX-License-Identifier: MIT */
/*
 * router_orch: requests run as several steps (critique, debate, ensemble, pipeline; orch.h
 * decides which steps and when). A request whose mode is not single is not placed: each of its
 * steps is an ordinary request entry XADDed to P:requests (request_id {id}.s{step}.t{try},
 * callback P:orch:{id}, orchestration_mode single), so that every step is routed, admitted,
 * canceled and failed over like any other request, and the legs of a round, issued together,
 * are placed on whichever nodes suit them. The steps' answers are read back from P:orch:{id}
 * (XREAD every ORCH_POLL_MS while runs exist) and fed to the state machine; the caller gets
 * one answer (router_orch_report.c), which acknowledges its entry.
 *
 * Invariants:
 * - The request entry stays pending in the router group until its answer, kept young by the
 *   claim timer like a held request. A router that dies mid-run leaves it to the next reader
 *   (another router's takeover, or itself restarted), which starts the run again and reads
 *   P:orch:{id} from its start: every step answered before is taken from there, in order, and
 *   a step issued again with the request id it had is skipped by the worker (P:done is set),
 *   so no step runs twice to completion and the caller gets one answer.
 * - A retry is a new try number, hence a new request id (the failed try's P:done is set).
 * - The mode: the request's orchestration_mode; without one, the router's default mode (the
 *   active preset's, or --orchestration-mode) for a request that leaves everything to the
 *   router: model auto (or none) and no task_type. A request naming a model or a role, or
 *   giving a task type (which picks one role), runs single, as do loads and unloads (node set,
 *   or an empty prompt).
 */
#include "router_orch.h"

#include "orion/entry.h"
#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/verdict.h"

#include "cJSON.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long orch_poll_cb(struct loop *l, void *arg);

int router_orch_init(struct router *r)
{
    const struct router_conf *rc = r->rc;
    struct orch_knobs *k = &r->orch_knobs;

    orch_knobs_default(k);
    k->critique_max_rounds = rc->critique_max_rounds ? (int)rc->critique_max_rounds : 2;
    k->debate_max_rounds = rc->debate_max_rounds ? (int)rc->debate_max_rounds : 3;
    k->critique_threshold = rc->critique_threshold;
    k->ensemble_min_agreement = rc->ensemble_min_agreement;
    if (rc->debate_reconcile_model && *rc->debate_reconcile_model)
        snprintf(k->reconcile_model, sizeof(k->reconcile_model), "%s",
                 rc->debate_reconcile_model);
    if (rc->ensemble_synthesis_model && *rc->ensemble_synthesis_model)
        snprintf(k->synthesis_model, sizeof(k->synthesis_model), "%s",
                 rc->ensemble_synthesis_model);
    if (rc->pipeline_stages && orch_stages_parse(k, rc->pipeline_stages) < 0) {
        log_errorx("pipeline-stages: want 1 to %d names of letters, digits, '_' or '-' "
                   "(at most %d bytes each), comma-separated, not '%s'",
                   ORCH_MAX_STAGES, ORCH_STAGE_MAX, rc->pipeline_stages);
        return ORION_EXIT_USAGE;
    }
    buf_init(&r->orch_cancel_ids, (size_t)ROUTER_CANCEL_BATCH * 260);
    return 0;
}

static void run_free(struct orun *u)
{
    if (!u)
        return;
    orch_release(&u->o);
    resp_reply_free(u->fields);
    orion_free(u->goal);
    orion_free(u->images);
    for (size_t i = 0; i < ORCH_MAX_STEPS; i++)
        orion_free(u->st[i].message);
    orion_free(u);
}

static void run_unlink(struct router *r, struct orun *u)
{
    for (struct orun **p = &r->runs; *p; p = &(*p)->next) {
        if (*p == u) {
            *p = u->next;
            r->nruns--;
            break;
        }
    }
}

/* The answers' reader: after the loop exists (router_new). */
int router_orch_start(struct router *r)
{
    return loop_timer(r->l, ORCH_POLL_MS, orch_poll_cb, r) ? 0 : -1;
}

void router_orch_release(struct router *r)
{
    buf_release(&r->orch_cancel_ids);
    while (r->runs) {
        struct orun *u = r->runs;
        run_unlink(r, u);
        run_free(u);
    }
}

/* --- which requests, with which models ------------------------------------------------------ */

static bool mode_of(const struct router *r, const struct contract_request *q, enum orch_mode *m)
{
    struct role_spec sp;

    *m = ORCH_SINGLE;
    if (q->node.p || (q->prompt.p && !q->prompt.n))
        return false;
    if (q->orchestration_mode.p) /* checked by contract_request_parse */
        orch_mode_parse(q->orchestration_mode.p, q->orchestration_mode.n, m);
    else {
        role_spec_parse(q->model.p, &sp); /* the clone's strings are NUL-terminated */
        if (sp.kind != ROLE_SPEC_AUTO || q->task_type.p ||
            orch_mode_parse(r->mode, strlen(r->mode), m) < 0)
            *m = ORCH_SINGLE;
    }
    return *m != ORCH_SINGLE;
}

/* The request's models list (checked by contract_request_parse) into names[] (owned by j). */
static size_t list_of(const struct contract_request *q, cJSON **j, const char **names)
{
    const cJSON *e;
    size_t n = 0;

    *j = q->models.p ? cJSON_ParseWithLength(q->models.p, q->models.n) : NULL;
    cJSON_ArrayForEach(e, *j)
        if (cJSON_IsString(e) && n < ORCH_MAX_MODELS)
            names[n++] = e->valuestring;
    return n;
}

static int run_plan(struct router *r, struct orun *u, enum orch_mode m, char *err, size_t n)
{
    const char *list[ORCH_MAX_MODELS], *preset[ORCH_MAX_MODELS];
    size_t nl, np = 0;
    cJSON *j;
    char task[65] = "";
    int rc;

    nl = list_of(&u->req, &j, list);
    for (size_t i = 0; r->active && i < r->active->n && i < ORCH_MAX_MODELS; i++)
        preset[np++] = r->active->models[i];
    if (u->req.task_type.p)
        snprintf(task, sizeof(task), "%.*s", (int)u->req.task_type.n, u->req.task_type.p);
    rc = orch_init(&u->o, m, &r->orch_knobs, list, nl, preset, np, u->req.model.p,
                   *task ? task : NULL, err, n);
    cJSON_Delete(j);
    return rc;
}

/* Issue every step that may run now. A step that cannot be sent (no memory, Redis down) fails
 * retriably, so that it is issued again once. */
static void issue_ready(struct router *r, struct orun *u)
{
    size_t idx[ORCH_MAX_STEPS], n;

    while ((n = orch_next(&u->o, idx, ORCH_MAX_STEPS)) > 0) {
        bool sent = true;
        for (size_t j = 0; j < n && !u->o.finished; j++) {
            int rc = router_orch_issue(r, u, idx[j]);
            if (rc > 0) {
                sent = false; /* its compression is issued next round */
            } else if (rc < 0) {
                orch_failed(&u->o, idx[j], true, "the step could not be sent to Redis");
                snprintf(u->code, sizeof(u->code), "no_available_nodes");
                u->retriable = true;
                sent = false;
            }
        }
        if (sent)
            break;
    }
}

static void run_end(struct router *r, struct orun *u)
{
    redis_cmd(r->cmd, NULL, NULL, "DEL", u->cb, (char *)NULL);
    run_unlink(r, u);
    run_free(u);
}

/* SET P:cancel for the steps still running. */
static void cancel_steps(struct router *r, struct orun *u)
{
    for (size_t i = 0; i < u->o.nsteps; i++) {
        char id[300], key[CONTRACT_KEY_MAX];
        struct entry_argv a;
        int n;
        if (u->o.step[i].state != ORCH_S_RUN)
            continue;
        n = snprintf(id, sizeof(id), "%s.s%zu.t%d", u->id, i, u->o.step[i].tries);
        if (n > 0 && (size_t)n < sizeof(id) && entry_cancel(&a, key, &r->keys, id, (size_t)n) == 0)
            redis_cmdv(r->cmd, 0, NULL, NULL, a.argc, a.argv, a.len);
    }
}

/* After answers: issue what follows, or answer the caller once the run is over. */
static void advance(struct router *r, struct orun *u)
{
    if (!u->o.finished)
        issue_ready(r, u);
    if (!u->o.finished)
        return;
    cancel_steps(r, u);
    router_orch_relay_answer(r, u);
    router_orch_answer(r, u);
    log_info("request %s: %s run over in %.3f s: %zu step(s), %s", u->id,
             orch_mode_name(u->o.mode), router_now(r) - u->started, u->o.nsteps,
             u->o.final < 0 ? "failed" : u->o.partial ? "partial" : "complete");
    run_end(r, u);
}

/* --- taking requests in --------------------------------------------------------------------- */

static struct orun *run_find_entry(struct router *r, const char *entry_id)
{
    for (struct orun *u = r->runs; u; u = u->next)
        if (!strcmp(u->entry_id, entry_id))
            return u;
    return NULL;
}

bool router_orch_take(struct router *r, const struct resp_reply *entry_id,
                      const struct resp_reply *fields, const struct contract_request *req)
{
    struct contract_str rid = contract_request_id(req);
    enum orch_mode m;
    struct orun *u;
    char err[200];

    if (!mode_of(r, req, &m))
        return false;
    if (run_find_entry(r, entry_id->str))
        return true;
    if (!(u = orion_calloc(1, sizeof(*u))) || !(u->fields = resp_reply_clone(fields)))
        goto out_nomem;
    snprintf(u->entry_id, sizeof(u->entry_id), "%s", entry_id->str);
    contract_request_parse(u->fields, u->entry_id, &u->req, err, sizeof(err)); /* parsed once */
    snprintf(u->id, sizeof(u->id), "%.*s", (int)rid.n, rid.p);
    if (router_orch_input(u) < 0)
        goto out_nomem;
    if (snprintf(u->cb, sizeof(u->cb), "%s:orch:%s", r->keys.prefix, u->id) >= (int)sizeof(u->cb) ||
        run_plan(r, u, m, err, sizeof(err)) < 0) {
        if (u->cb[0] && strlen(u->cb) + 1 >= sizeof(u->cb))
            snprintf(err, sizeof(err), "the request id is too long for an orchestration");
        router_answer_error(r, req, r->keys.requests, CONTRACT_GROUP_ROUTER, "bad_request", false,
                            err);
        run_free(u);
        return true;
    }
    snprintf(u->after, sizeof(u->after), "0-0"); /* a resumed run reads its steps' answers */
    u->relay_step = u->relay_try = -1;
    u->started = router_now(r);
    u->next = r->runs;
    r->runs = u;
    r->nruns++;
    log_info("request %s: %s run with %zu model(s) started", u->id, orch_mode_name(m),
             u->o.nmodels);
    issue_ready(r, u);
    return true;
out_nomem:
    run_free(u);
    log_warnx("request %.*s: no memory for its run; it stays pending", (int)rid.n, rid.p);
    return true;
}

/* --- reading the steps' answers --------------------------------------------------------------- */

/* "{id}.s{step}.t{try}": the step, or -1 when the id is not one of u's current tries. */
static int step_of(const struct orun *u, struct contract_str id)
{
    size_t n = strlen(u->id);
    char tail[32], *end;
    unsigned long step, try;

    if (id.n <= n + 2 || id.n - n >= sizeof(tail) || memcmp(id.p, u->id, n) ||
        id.p[n] != '.' || id.p[n + 1] != 's')
        return -1;
    memcpy(tail, id.p + n + 2, id.n - n - 2);
    tail[id.n - n - 2] = '\0';
    step = strtoul(tail, &end, 10);
    if (end == tail || strncmp(end, ".t", 2))
        return -1;
    try = strtoul(end + 2, &end, 10);
    if (*end || step >= u->o.nsteps || (int)try != u->o.step[step].tries)
        return -1;
    return (int)step;
}

static void copy_str(char *dst, size_t n, struct contract_str s)
{
    snprintf(dst, n, "%.*s", (int)(s.n < n ? s.n : n - 1), s.p);
}

/* A streamed run's caller sees each step end: a progress entry on its callback. */
static void progress(struct router *r, const struct orun *u, size_t i, const char *status)
{
    const struct orch_step *s = &u->o.step[i];
    const struct orun_step *t = &u->st[i];
    struct entry_argv a;
    struct buf b;

    if (!u->req.stream || !u->req.callback.p)
        return;
    buf_init(&b, 4096);
    buf_printf(&b, "{\"mode\":\"%s\",\"step\":%zu,\"total\":%zu,\"kind\":\"%s\",\"round\":%d,"
                   "\"model\":", orch_mode_name(u->o.mode), i + 1,
               u->o.total > i ? u->o.total : i + 1, orch_kind_name(s->kind), s->round);
    json_quote(&b, t->model[0] ? t->model : s->model, strlen(t->model[0] ? t->model : s->model));
    buf_puts(&b, ",\"node\":");
    json_quote(&b, t->node, strlen(t->node));
    buf_printf(&b, ",\"status\":\"%s\",\"ms\":%.1f}", status,
               t->t1 > t->t0 ? (t->t1 - t->t0) * 1000.0 : 0);
    entry_orch_progress(&a, u->req.callback, entry_cstr(u->id), buf_data(&b), buf_size(&b));
    if (!a.full)
        redis_cmdv(r->cmd, 0, NULL, NULL, a.argc, a.argv, a.len);
    buf_release(&b);
}

/* One entry of P:orch:{id}: a step's answer, or a chunk of the final step's (relayed).
 * Returns whether it was a chunk (the reader deletes those). */
static bool on_answer(struct router *r, struct orun *u, const struct resp_reply *fields)
{
    struct entry_answer a;
    struct orun_step *st;
    int i;

    entry_answer_read(fields, &a);
    if (a.type == ENTRY_CHUNK) {
        if ((i = step_of(u, a.request_id)) >= 0)
            router_orch_chunk(r, u, (size_t)i, &a);
        return true;
    }
    if ((a.type != ENTRY_DONE && a.type != ENTRY_ERROR) || (i = step_of(u, a.request_id)) < 0)
        return false;
    st = &u->st[i];
    st->t1 = router_now(r);
    copy_str(st->node, sizeof(st->node), a.node);
    copy_str(st->model, sizeof(st->model), a.model);
    if (a.type == ENTRY_ERROR) {
        char why[200];
        copy_str(u->code, sizeof(u->code), a.code);
        u->retriable = a.retriable;
        copy_str(why, sizeof(why), a.error);
        orch_failed(&u->o, (size_t)i, a.retriable, why);
        router_orch_relay_settled(u, (size_t)i);
        progress(r, u, (size_t)i, u->o.step[i].state == ORCH_S_WAIT ? "retrying" : "failed");
        return false;
    }
    for (int k = 0; k < ENTRY_NCOUNTERS; k++)
        st->counter[k] = entry_counter(&a, k);
    if (orch_done(&u->o, (size_t)i, a.response.p, a.response.n,
                  u->o.step[i].kind == ORCH_K_CRITIC
                      ? verdict_score(a.response.p, a.response.n)
                      : -1) < 0)
        log_warnx("request %s: no memory for step %d's answer", u->id, i + 1);
    router_orch_relay_settled(u, (size_t)i);
    if (u->o.step[i].state == ORCH_S_OK && orch_answers(&u->o, (size_t)i) && a.message.p) {
        orion_free(st->message); /* the caller gets its thinking and tool calls */
        if ((st->message = orion_malloc(a.message.n + 1)) != NULL) {
            memcpy(st->message, a.message.p, a.message.n);
            st->message[a.message.n] = '\0';
        }
    }
    progress(r, u, (size_t)i, u->o.step[i].state == ORCH_S_OK ? "ok" : "retrying");
    return false;
}

static struct orun *run_find_cb(struct router *r, const char *cb, size_t n)
{
    for (struct orun *u = r->runs; u; u = u->next)
        if (strlen(u->cb) == n && !memcmp(u->cb, cb, n))
            return u;
    return NULL;
}

static void read_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;

    (void)c;
    r->orch_reading = false;
    for (size_t s = 0; reply && reply->type == RESP_ARRAY && s < reply->n; s++) {
        const struct resp_reply *name = resp_at(&reply->elem[s], 0);
        const struct resp_reply *es = resp_at(&reply->elem[s], 1);
        struct orun *u;
        struct resp_cmd del; /* XDEL of the chunks read (at most COUNT of them) */
        if (!name || name->type != RESP_BULK || !es || es->type != RESP_ARRAY ||
            !(u = run_find_cb(r, name->str, name->len)))
            continue;
        resp_cmd_init(&del);
        resp_cmd_adds(&del, "XDEL");
        resp_cmd_adds(&del, u->cb);
        for (size_t k = 0; k < es->n && !u->o.finished; k++) {
            const struct resp_reply *id = resp_at(&es->elem[k], 0);
            if (!id || id->type != RESP_BULK)
                continue;
            if (id->len < sizeof(u->after))
                snprintf(u->after, sizeof(u->after), "%s", id->str);
            if (on_answer(r, u, resp_at(&es->elem[k], 1)))
                resp_cmd_add(&del, id->str, id->len);
            if (!u->o.finished)
                issue_ready(r, u); /* before the next answer: it may be this step's */
        }
        if (del.argc > 2 && resp_cmd_finish(&del) == 0)
            redis_cmdv(r->cmd, 0, NULL, NULL, del.argc, del.argv, del.len);
        resp_cmd_release(&del);
        advance(r, u);
    }
}

static void read_answers(struct router *r)
{
    struct resp_cmd c;
    struct orun *u;
    size_t n = 0;

    resp_cmd_init(&c);
    resp_cmd_adds(&c, "XREAD");
    resp_cmd_adds(&c, "COUNT");
    resp_cmd_adds(&c, "64");
    resp_cmd_adds(&c, "STREAMS");
    for (u = r->runs; u && n < ORCH_READ_STREAMS; u = u->next, n++)
        resp_cmd_adds(&c, u->cb);
    n = 0;
    for (u = r->runs; u && n < ORCH_READ_STREAMS; u = u->next, n++)
        resp_cmd_adds(&c, u->after);
    if (resp_cmd_finish(&c) == 0 && redis_cmdv(r->cmd, 0, read_cb, r, c.argc, c.argv, c.len) == 0)
        r->orch_reading = true;
    resp_cmd_release(&c);
    /* the runs read next time start after these: the newest first, so rotate the list */
    if (r->nruns > ORCH_READ_STREAMS) {
        struct orun **p = &r->runs, *head = r->runs, *tail;
        for (n = 0; n < ORCH_READ_STREAMS; n++)
            p = &(*p)->next;
        for (tail = *p; tail->next; tail = tail->next)
            ;
        r->runs = *p;
        *p = NULL;
        tail->next = head;
    }
}

/* --- cancels ---------------------------------------------------------------------------------- */

bool router_orch_cancel(struct router *r, const char *request_id)
{
    for (struct orun *u = r->runs; u; u = u->next) {
        if (strcmp(u->id, request_id))
            continue;
        cancel_steps(r, u);
        router_answer_error(r, &u->req, r->keys.requests, CONTRACT_GROUP_ROUTER, "canceled",
                            false, "the request was canceled by its caller");
        run_end(r, u);
        return true;
    }
    return false;
}

static void cancel_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    const char *id = buf_data(&r->orch_cancel_ids);

    (void)c;
    r->orch_cancel_polling = false;
    for (size_t i = 0; reply && reply->type == RESP_ARRAY && i < reply->n; i++) {
        if (reply->elem[i].type == RESP_BULK && router_orch_cancel(r, id)) /* nil: not */
            log_info("request %s: canceled by its caller while its run went on", id);
        id += strlen(id) + 1;
    }
    buf_reset(&r->orch_cancel_ids);
}

/* Once a second: MGET the cancel keys of up to ROUTER_CANCEL_BATCH runs (their ids kept in
 * the router, so that a router stopped with the MGET in flight leaks nothing). */
static void cancel_poll(struct router *r)
{
    struct resp_cmd c;
    char key[CONTRACT_KEY_MAX];
    size_t n = 0;

    if (r->orch_cancel_polling || !r->runs)
        return;
    buf_reset(&r->orch_cancel_ids);
    resp_cmd_init(&c);
    resp_cmd_adds(&c, "MGET");
    for (struct orun *u = r->runs; u && n < ROUTER_CANCEL_BATCH; u = u->next, n++) {
        if (contract_cancel_key(&r->keys, u->id, strlen(u->id), key, sizeof(key)) < 0 ||
            buf_append(&r->orch_cancel_ids, u->id, strlen(u->id) + 1) < 0)
            break;
        resp_cmd_adds(&c, key);
    }
    if (c.argc > 1 && resp_cmd_finish(&c) == 0 &&
        redis_cmdv(r->cmd, 0, cancel_cb, r, c.argc, c.argv, c.len) == 0)
        r->orch_cancel_polling = true;
    resp_cmd_release(&c);
}

static long orch_poll_cb(struct loop *l, void *arg)
{
    struct router *r = arg;

    (void)l;
    if (!r->runs || !redis_up(r->cmd))
        return ORCH_IDLE_MS;
    if (!r->orch_reading)
        read_answers(r);
    if (++r->orch_ticks % (1000 / ORCH_POLL_MS) == 0)
        cancel_poll(r);
    return ORCH_POLL_MS;
}

void router_orch_claim(struct router *r)
{
    struct resp_cmd c;
    size_t n = 0;

    if (!r->runs)
        return;
    resp_cmd_init(&c);
    resp_cmd_adds(&c, "XCLAIM");
    resp_cmd_adds(&c, r->keys.requests);
    resp_cmd_adds(&c, CONTRACT_GROUP_ROUTER);
    resp_cmd_adds(&c, r->me);
    resp_cmd_adds(&c, "0");
    for (struct orun *u = r->runs; u && n < RESP_CMD_MAX_ARGS - 8; u = u->next, n++)
        resp_cmd_adds(&c, u->entry_id);
    resp_cmd_adds(&c, "JUSTID");
    if (resp_cmd_finish(&c) == 0)
        redis_cmdv(r->cmd, 0, NULL, NULL, c.argc, c.argv, c.len);
    resp_cmd_release(&c);
}
