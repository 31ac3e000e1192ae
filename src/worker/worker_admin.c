/* SPDX-License-Identifier: MIT */
/*
 * The worker's model management: the entries of P:admin:{node} (pull, copy, delete), run on
 * its own Ollama, so that only a worker ever talks to its Ollama. Read once a second without
 * blocking (these are rare, and a second's wait is nothing beside a pull), at most
 * ADMIN_MAX at once and apart from --parallel: a pull of minutes never holds up generation.
 * A pull's progress goes to the callback as progress entries; the answer through the
 * one-answer script. The caller's P:cancel:{request_id} stops a call (Ollama stops a pull when
 * its client leaves). On SIGTERM running calls are dropped and their entries stay pending: the
 * next start runs them again (Ollama resumes a pull's download where it stopped).
 */
#include "worker_int.h"

#include "orion/entry.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>

#define ADMIN_MAX 4
#define ADMIN_POLL_MS 1000

struct admin_job {
    struct worker_admin *wa;
    char entry_id[48];
    struct resp_reply *fields; /* owned clone */
    struct contract_admin a;
    struct ollama_admin_call *call;
    long seq;
    bool ok, answering, has_answer;
    struct resp_cmd answer;
    unsigned tries;
};

struct worker_admin {
    struct worker *w;
    char stream[CONTRACT_KEY_MAX];
    struct admin_job *job[ADMIN_MAX];
    size_t n;
    bool group_ok, history_done, reading, polling_cancel, stopped;
    unsigned long timer;
    bool warned;
};

static void job_drop(struct worker_admin *wa, struct admin_job *j)
{
    for (size_t i = 0; i < wa->n; i++)
        if (wa->job[i] == j) {
            wa->job[i] = wa->job[--wa->n];
            break;
        }
    ollama_admin_cancel(j->call);
    if (j->has_answer)
        resp_cmd_release(&j->answer);
    resp_reply_free(j->fields);
    orion_free(j);
}

static void answer_cb(struct redis *c, struct resp_reply *reply, void *arg);

static void answer_send(struct admin_job *j)
{
    struct worker *w = j->wa->w;

    if (j->answering || !j->has_answer || j->wa->stopped)
        return;
    if (redis_cmdv(w->cmd, 0, answer_cb, j, j->answer.argc, j->answer.argv, j->answer.len) == 0)
        j->answering = true;
}

static void answer_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct admin_job *j = arg;

    (void)c;
    j->answering = false;
    if (!reply) /* link lost: worker_admin_link sends it again */
        return;
    if (reply->type == RESP_ERROR) {
        if (j->tries++ % 20 == 0)
            log_warnx("request %s: writing the answer failed: %s; trying again", j->entry_id,
                      reply->str);
        return; /* the poll timer sends it again */
    }
    job_drop(j->wa, j);
}

/* Build the answer (done, or the error) and send it. */
static void answer(struct admin_job *j, const char *code, bool retriable, const char *msg)
{
    struct worker *w = j->wa->w;

    j->call = NULL;
    if (j->has_answer)
        resp_cmd_release(&j->answer);
    resp_cmd_init(&j->answer);
    j->has_answer = true;
    j->ok = !code;
    entry_admin_answer_begin(&j->answer, &w->keys, &j->a, j->wa->stream, CONTRACT_GROUP_WORKERS,
                             w->node);
    if (code)
        entry_answer_error(&j->answer, code, retriable, msg, j->a.model);
    else
        entry_admin_done(&j->answer, &j->a);
    if (resp_cmd_finish(&j->answer) < 0) { /* stays pending: run again after a restart */
        log_warnx("request %s: the answer could not be built", j->entry_id);
        resp_cmd_release(&j->answer);
        j->has_answer = false;
        return;
    }
    if (code)
        log_warnx("request %s: %s of '%.*s': %s: %s", j->entry_id, contract_op_name(j->a.op),
                  (int)j->a.model.n, j->a.model.p, code, msg);
    else
        log_info("request %s: %s of '%.*s' done", j->entry_id, contract_op_name(j->a.op),
                 (int)j->a.model.n, j->a.model.p);
    answer_send(j);
    if (!code && !w->publishing) /* the health shows the change now, not at the next tick */
        worker_health_cb(w->l, w);
}

static void on_progress(void *arg, const struct ollama_progress *p)
{
    struct admin_job *j = arg;
    struct entry_progress e = {p->status, p->digest, p->total, p->completed};
    struct entry_argv a;

    if (!j->a.callback.p)
        return;
    entry_progress(&a, j->a.callback, contract_admin_id(&j->a), j->wa->w->node, ++j->seq, &e);
    redis_cmdv(j->wa->w->cmd, 0, NULL, NULL, a.argc, a.argv, a.len);
}

static void on_done(void *arg) { answer(arg, NULL, false, NULL); }

static void on_error(void *arg, const char *code, bool retriable, const char *msg)
{
    answer(arg, code, retriable, msg);
}

static void job_run(struct admin_job *j)
{
    static const struct ollama_admin_cbs cbs = {on_progress, on_done, on_error};
    struct ollama *o = j->wa->w->ollama;
    const char *model = j->a.model.p, *dst = j->a.destination.p; /* bulk strings end in NUL */

    if (j->a.op == CONTRACT_PULL)
        j->call = ollama_pull(o, model, j->a.insecure, &cbs, j);
    else if (j->a.op == CONTRACT_COPY)
        j->call = ollama_copy(o, model, dst, &cbs, j);
    else
        j->call = ollama_delete(o, model, &cbs, j);
    if (!j->call)
        answer(j, "ollama_unreachable", true, "could not start the call (no memory)");
    else
        log_info("request %s: %s of '%s' started", j->entry_id, contract_op_name(j->a.op), model);
}

static void take(struct worker_admin *wa, const struct resp_reply *e)
{
    const struct resp_reply *id = resp_at(e, 0), *fields = resp_at(e, 1);
    struct admin_job *j;
    char err[200];

    if (!id || id->type != RESP_BULK || id->len >= sizeof(j->entry_id) || wa->n >= ADMIN_MAX)
        return;
    for (size_t i = 0; i < wa->n; i++)
        if (!strcmp(wa->job[i]->entry_id, id->str))
            return; /* runs already */
    if (!fields || fields->type != RESP_ARRAY) { /* deleted while pending */
        redis_cmd(wa->w->cmd, NULL, NULL, "XACK", wa->stream, CONTRACT_GROUP_WORKERS, id->str,
                  (char *)NULL);
        return;
    }
    j = orion_calloc(1, sizeof(*j));
    if (!j || !(j->fields = resp_reply_clone(fields))) {
        orion_free(j);
        return; /* stays pending */
    }
    j->wa = wa;
    snprintf(j->entry_id, sizeof(j->entry_id), "%s", id->str);
    wa->job[wa->n++] = j;
    if (contract_admin_parse(j->fields, j->entry_id, &j->a, err, sizeof(err)) < 0)
        answer(j, "bad_request", false, err);
    else
        job_run(j);
}

static void read_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct worker_admin *wa = arg;
    const struct resp_reply *entries = resp_at(resp_at(reply, 0), 1);

    (void)c;
    wa->reading = false;
    if (!reply || wa->stopped)
        return;
    if (reply->type == RESP_ERROR) {
        if (resp_is_error(reply, "NOGROUP"))
            wa->group_ok = false; /* created again at the next poll */
        else if (!wa->warned)
            log_warnx("XREADGROUP %s: %s", wa->stream, reply->str);
        wa->warned = true;
        return;
    }
    wa->warned = false;
    for (size_t i = 0; entries && i < entries->n; i++)
        take(wa, &entries->elem[i]);
    wa->history_done = true;
}

static void group_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct worker_admin *wa = arg;

    (void)c;
    wa->reading = false;
    if (reply && (reply->type != RESP_ERROR || resp_is_error(reply, "BUSYGROUP")))
        wa->group_ok = true;
}

static void cancel_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct worker_admin *wa = arg;
    size_t k = 0;

    (void)c;
    wa->polling_cancel = false;
    for (size_t i = 0; reply && reply->type == RESP_ARRAY && i < wa->n && k < reply->n; i++) {
        struct admin_job *j = wa->job[i];
        if (!j->call)
            continue;
        if (reply->elem[k++].type != RESP_BULK) /* nil: not canceled */
            continue;
        log_info("request %s: canceled by its caller", j->entry_id);
        ollama_admin_cancel(j->call); /* Ollama stops a pull whose client leaves */
        answer(j, "canceled", false, "the request was canceled by its caller");
    }
}

/* One MGET of the cancel keys of the calls that run, in job order. */
static void poll_cancel(struct worker_admin *wa)
{
    struct resp_cmd c;
    char key[CONTRACT_KEY_MAX];

    if (wa->polling_cancel)
        return;
    resp_cmd_init(&c);
    resp_cmd_adds(&c, "MGET");
    for (size_t i = 0; i < wa->n; i++) {
        struct contract_str id = contract_admin_id(&wa->job[i]->a);
        if (!wa->job[i]->call)
            continue;
        if (contract_cancel_key(&wa->w->keys, id.p, id.n, key, sizeof(key)) < 0)
            snprintf(key, sizeof(key), "%s:cancel:-", wa->w->keys.prefix); /* keeps the order */
        resp_cmd_adds(&c, key);
    }
    if (c.argc > 1 && resp_cmd_finish(&c) == 0 &&
        redis_cmdv(wa->w->cmd, 0, cancel_cb, wa, c.argc, c.argv, c.len) == 0)
        wa->polling_cancel = true;
    resp_cmd_release(&c);
}

static long poll_cb(struct loop *l, void *arg)
{
    struct worker_admin *wa = arg;
    struct worker *w = wa->w;
    char count[8];

    (void)l;
    if (wa->stopped || !redis_up(w->cmd))
        return ADMIN_POLL_MS;
    for (size_t i = 0; i < wa->n; i++)
        answer_send(wa->job[i]); /* answers Redis refused go again */
    poll_cancel(wa);
    if (wa->reading || w->stopping || wa->n >= ADMIN_MAX)
        return ADMIN_POLL_MS;
    snprintf(count, sizeof(count), "%zu", ADMIN_MAX - wa->n);
    if (!wa->group_ok) {
        if (redis_cmd(w->cmd, group_cb, wa, "XGROUP", "CREATE", wa->stream,
                      CONTRACT_GROUP_WORKERS, "0", "MKSTREAM", (char *)NULL) == 0)
            wa->reading = true;
    } else if (redis_cmd(w->cmd, read_cb, wa, "XREADGROUP", "GROUP", CONTRACT_GROUP_WORKERS,
                         w->node, "COUNT", count, "STREAMS", wa->stream,
                         wa->history_done ? ">" : "0", (char *)NULL) == 0) {
        wa->reading = true;
    }
    return ADMIN_POLL_MS;
}

struct worker_admin *worker_admin_new(struct worker *w)
{
    struct worker_admin *wa = orion_calloc(1, sizeof(*wa));

    if (!wa)
        return NULL;
    wa->w = w;
    if (contract_admin_stream(&w->keys, w->node, wa->stream, sizeof(wa->stream)) < 0 ||
        !(wa->timer = loop_timer(w->l, ADMIN_POLL_MS, poll_cb, wa))) {
        orion_free(wa);
        return NULL;
    }
    return wa;
}

void worker_admin_link(struct worker_admin *wa, bool up)
{
    if (!wa)
        return;
    wa->reading = wa->polling_cancel = false;
    if (!up)
        return;
    wa->history_done = false; /* our pending entries again: what runs is skipped */
    for (size_t i = 0; i < wa->n; i++)
        answer_send(wa->job[i]);
}

/* Calls that run are dropped (their entries stay pending); an answer on its way to Redis is
 * let finish: its reply frees the job. */
void worker_admin_stop(struct worker_admin *wa)
{
    size_t running = 0;

    if (!wa || wa->stopped)
        return;
    wa->stopped = true;
    for (size_t i = wa->n; i-- > 0;)
        if (!wa->job[i]->answering) {
            running += wa->job[i]->call != NULL;
            job_drop(wa, wa->job[i]);
        }
    if (running)
        log_info("%zu model call(s) stopped; they run again at the next start", running);
}

void worker_admin_free(struct worker_admin *wa)
{
    if (!wa)
        return;
    while (wa->n) /* the connections are freed next: no reply comes any more */
        job_drop(wa, wa->job[0]);
    loop_timer_cancel(wa->w->l, wa->timer);
    orion_free(wa);
}
