/* SPDX-License-Identifier: MIT */
/*
 * The worker's Redis side: take entries from P:requests:{node} (own pending ones first, then
 * new ones, never more than --parallel at once), answer each exactly once through the
 * one-answer script, keep answers that could not be written until Redis is back, and on
 * SIGTERM stop taking work, let running requests finish, remove the health field and exit.
 */
#include "worker_int.h"

#include "orion/daemon.h"
#include "orion/entry.h"
#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/notify.h"
#include "orion/promptest.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct job *job_find(struct worker *w, const char *id)
{
    for (size_t i = 0; i < w->njobs; i++)
        if (!strcmp(w->jobs[i]->entry_id, id))
            return w->jobs[i];
    return NULL;
}

static void job_remove(struct worker *w, struct job *j)
{
    for (size_t i = 0; i < w->njobs; i++)
        if (w->jobs[i] == j) {
            w->jobs[i] = w->jobs[--w->njobs];
            break;
        }
    job_free(j);
}

void worker_event(struct worker *w, const char *type, const struct job *j, const char *extra)
{
    struct entry_argv a;
    struct entry_event e;

    entry_event_init(&e);
    e.type = entry_cstr(type);
    e.request_id = contract_request_id(&j->req);
    e.node = entry_cstr(w->node);
    e.model = j->req.model;
    e.info = entry_cstr(extra ? extra : "");
    if (j->final.ok && !strcmp(type, "done")) { /* Ollama's counters: routers learn */
        struct tokest_text t;

        e.total_duration = j->final.total_duration;
        e.load_duration = j->final.load_duration;
        e.prompt_eval_count = j->final.prompt_eval_count;
        e.prompt_eval_duration = j->final.prompt_eval_duration;
        e.eval_count = j->final.eval_count;
        e.eval_duration = j->final.eval_duration;
        e.prompt_cached = j->final.prompt_cached;
        e.has_first_token = j->first_token > 0 && j->first_token >= j->started;
        e.first_token_ms = e.has_first_token ? j->first_token - j->started : -1;
        promptest_features(&j->req, &t);
        if (!t.images && j->final.prompt_eval_count > 0) { /* an image's cost is not learned */
            e.prompt_est = (long long)tokest_prior(&t);
        }
    } else if (!strcmp(type, "failed") && j->err_code[0]) { /* routers count outcomes */
        e.code = entry_cstr(j->err_code);
    }
    entry_event(&a, &w->keys, &e);
    redis_cmdv(w->cmd, 0, NULL, NULL, a.argc, a.argv, a.len);
}

static void maybe_exit(struct worker *w)
{
    if (w->stopping && !w->njobs && !w->publishing)
        worker_health_remove(w, NULL, NULL);
}

void worker_job_abandon(struct job *j)
{
    struct worker *w = j->w;

    job_remove(w, j);
    maybe_exit(w);
}

void worker_stopped(struct worker *w)
{
    if (w->hk.stopped)
        w->hk.stopped(w->hk.arg);
}

static long answer_retry_cb(struct loop *l, void *arg)
{
    struct job *j = arg;

    (void)l;
    j->answer_timer = 0;
    worker_answer(j);
    return -1;
}

/* An answer Redis refused (-LOADING, -NOPERM, -OOM, ...) is sent again, 0.5 s doubling to
 * 10 s, until it is written: it is never dropped while the worker runs. */
static void answer_later(struct job *j)
{
    long d = j->answer_backoff ? j->answer_backoff : 500;

    j->answer_backoff = d * 2 > 10000 ? 10000 : d * 2;
    if (!j->answer_timer)
        j->answer_timer = loop_timer(j->w->l, d, answer_retry_cb, j);
}

static void answer_done(struct job *j);

/* --redis-min-replicas: the answer counts once WAIT says the replicas have it; until then the
 * job is kept and its answer sent again (the script writes it once: a copy the master has is
 * only acknowledged again), so a failover cannot lose an answer the worker let go of. */
static void answer_replicated(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct job *j = arg;

    j->answering = false;
    if (!reply) /* Redis went away: cmd_state sends the answer again when it is back */
        return;
    if (!redis_replicated(c, reply)) {
        if (j->repl_tries++ % 20 == 0)
            log_warnx("request %s: the answer is not yet on %ld replica(s) (%s); keeping it",
                      j->entry_id, redis_min_replicas(c),
                      reply->type == RESP_ERROR ? reply->str : "WAIT timed out");
        answer_later(j);
        return;
    }
    answer_done(j);
}

static void answer_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct job *j = arg;

    j->answering = false;
    if (!reply) /* Redis went away: keep the answer and send it again when it is back */
        return;
    if (reply->type == RESP_ERROR) {
        j->answer_tries++;
        if (j->answer_tries == 1 || j->answer_tries % 20 == 0)
            log_warnx("request %s: writing the answer failed (try %u): %s; trying again",
                      j->entry_id, j->answer_tries, reply->str);
        answer_later(j);
        return;
    }
    if (j->answer_tries)
        log_info("request %s: answer written after %u failed tries", j->entry_id,
                 j->answer_tries);
    if (reply->type == RESP_INT && reply->integer == 0 && !j->repl_tries)
        log_info("request %s: already answered elsewhere; late answer dropped", j->entry_id);
    if (redis_min_replicas(c) > 0) {
        if (redis_wait(c, answer_replicated, j) == 0)
            j->answering = true;
        else
            answer_later(j); /* no memory for the WAIT: the whole answer again, later */
        return;
    }
    answer_done(j);
}

/* The done or failed event, once: the routers hold work for this slot until they read it. */
static void job_event(struct job *j)
{
    if (!j->evented)
        worker_event(j->w, j->final.ok ? "done" : "failed", j, NULL);
    j->evented = true;
}

static void answer_done(struct job *j)
{
    struct worker *w = j->w;

    job_event(j);
    job_remove(w, j);
    maybe_exit(w);
    worker_read_more(w);
}

void worker_answer(struct job *j)
{
    const struct resp_cmd *a = &j->answer;

    if (j->answering || !j->has_answer)
        return;
    if (j->answer_timer) { /* (re)connected: send it now */
        loop_timer_cancel(j->w->l, j->answer_timer);
        j->answer_timer = 0;
    }
    /* the event goes right behind the answer, on the same link, not a round trip after it: a
     * caller that reads the answer and asks again at once finds the routers knowing the slot
     * free, so its request is not sent elsewhere because this one seemed to run on */
    if (redis_cmdv(j->w->cmd, 0, answer_cb, j, a->argc, a->argv, a->len) == 0) {
        j->answering = true;
        job_event(j);
    } else if (redis_up(j->w->cmd)) /* out of memory: later; when down, cmd_state sends it */
        answer_later(j);
}

/* A new entry: skip what runs already, acknowledge what is answered, refuse what is bad. */
static void take_entry(struct worker *w, const struct resp_reply *e);

static void done_check_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct job *j = arg;

    (void)c;
    if (!reply || reply->type != RESP_INT) { /* unknown: run it, the answer script decides */
        job_start(j);
        return;
    }
    if (reply->integer == 1) {
        log_info("request %s: already answered; acknowledged without running", j->entry_id);
        j->final.ok = true;
        job_answer_error(j, "duplicate", false, "already answered"); /* script only acks */
        return;
    }
    job_start(j);
}

static void take_entry(struct worker *w, const struct resp_reply *e)
{
    const struct resp_reply *id = resp_at(e, 0), *fields = resp_at(e, 1);
    struct job *j;
    char err[200], done[CONTRACT_KEY_MAX];
    struct contract_str rid;

    if (!id || id->type != RESP_BULK || id->len >= sizeof(j->entry_id) || job_find(w, id->str))
        return;
    if (!fields || fields->type != RESP_ARRAY) { /* deleted while pending */
        redis_cmd(w->cmd, NULL, NULL, "XACK", w->stream, CONTRACT_GROUP_WORKERS, id->str,
                  (char *)NULL);
        return;
    }
    j = orion_calloc(1, sizeof(*j));
    if (!j || !(j->fields = resp_reply_clone(fields))) {
        orion_free(j);
        return; /* stays pending, read again after a restart */
    }
    j->w = w;
    j->final.prompt_cached = -1; /* Ollama tells it, or nobody */
    snprintf(j->entry_id, sizeof(j->entry_id), "%s", id->str);
    buf_init(&j->text, ORION_FIELD_MAX);
    buf_init(&j->thinking, ORION_FIELD_MAX);
    buf_init(&j->tool_calls, ORION_FIELD_MAX);
    w->jobs[w->njobs++] = j;
    if (contract_request_parse(j->fields, j->entry_id, &j->req, err, sizeof(err)) < 0) {
        rid = contract_request_id(&j->req);
        log_warnx("request %.*s: bad request: %s", (int)rid.n, rid.p, err);
        job_answer_error(j, "bad_request", false, err);
        return;
    }
    rid = contract_request_id(&j->req);
    if (!j->req.model.p || !j->req.model.n) { /* auto and roles are the router's to resolve */
        log_warnx("request %.*s: no model: a node runs only what the router resolved",
                  (int)rid.n, rid.p);
        job_answer_error(j, "bad_request", false,
                         "field 'model' is missing: send requests to P:requests, not to a node");
        return;
    }
    if (contract_done_key(&w->keys, rid.p, rid.n, done, sizeof(done)) < 0 ||
        redis_cmd(w->cmd, done_check_cb, j, "EXISTS", done, (char *)NULL) < 0)
        job_start(j);
}

/* The group reader's side: free slots, and each entry taken into one. */
static size_t read_room(void *arg)
{
    const struct worker *w = arg;

    size_t cap = (size_t)worker_capacity(w);

    if (w->stopping || !worker_serving(w)) /* a backend that is away takes nothing */
        return 0;
    return w->njobs >= cap ? 0 : cap - w->njobs;
}

static void read_take(void *arg, const struct resp_reply *entry) { take_entry(arg, entry); }

void worker_read_more(struct worker *w) { group_read(&w->g); }

static void cmd_state(struct redis *c, bool up, void *arg)
{
    struct worker *w = arg;

    worker_admin_link(w->admin, up);
    if (!up)
        return;
    if (!w->started) {
        w->started = true;
        if (w->hk.ready)
            w->hk.ready(w->hk.arg);
        log_info("%s %s: up, redis %s, ollama %s, parallel %s%ld", w->wc->remote ? "backend" : "worker",
                 w->node, redis_addr(c), w->wc->ollama_url, w->wc->remote ? "up to " : "",
                 w->wc->parallel);
    }
    /* answers that waited for Redis go first */
    for (size_t i = 0; i < w->njobs; i++)
        worker_answer(w->jobs[i]);
    group_link(&w->g, c, up);
}

static void cancel_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct worker *w = arg;

    (void)c;
    for (size_t i = 0; reply && reply->type == RESP_ARRAY && i < reply->n; i++) {
        const struct resp_reply *e = &reply->elem[i];
        struct job *j;
        if (e->type != RESP_BULK || i >= w->ncancel_ids) /* MGET: nil when not canceled */
            continue;
        j = job_find(w, w->cancel_ids[i]);
        if (j && job_running(j)) {
            log_info("request %s: canceled by its caller", j->entry_id);
            job_stop(j); /* closing the connection stops Ollama's generation */
            job_answer_error(j, "canceled", false, "the request was canceled by its caller");
        }
    }
}

/* Every second while requests run: has anyone asked for one of them to stop (P:cancel:id)?
 * One MGET over the cancel keys of the running requests. */
static long cancel_poll_cb(struct loop *l, void *arg)
{
    struct worker *w = arg;
    struct resp_cmd c;
    char key[CONTRACT_KEY_MAX];

    (void)l;
    if (w->stopping && !w->njobs) {
        w->cancel_timer = 0;
        return -1;
    }
    w->ncancel_ids = 0;
    resp_cmd_init(&c);
    resp_cmd_adds(&c, "MGET");
    for (size_t i = 0; i < w->njobs && w->ncancel_ids < WORKER_MAX_PARALLEL; i++) {
        struct contract_str id = contract_request_id(&w->jobs[i]->req);
        if (!job_running(w->jobs[i]) ||
            contract_cancel_key(&w->keys, id.p, id.n, key, sizeof(key)) < 0)
            continue;
        resp_cmd_adds(&c, key);
        snprintf(w->cancel_ids[w->ncancel_ids++], sizeof(w->cancel_ids[0]), "%s",
                 w->jobs[i]->entry_id);
    }
    if (w->ncancel_ids && resp_cmd_finish(&c) == 0)
        redis_cmdv(w->cmd, 0, cancel_cb, w, c.argc, c.argv, c.len);
    resp_cmd_release(&c);
    return 1000;
}

static long stop_timer_cb(struct loop *l, void *arg)
{
    struct worker *w = arg;

    (void)l;
    w->stop_timer = 0;
    if (!w->njobs)
        return -1;
    log_warnx("%s: shutdown timeout: %zu request(s) stay pending for re-delivery", w->node,
              w->njobs);
    while (w->njobs) /* not acknowledged: the next start (or a failover) runs them */
        job_remove(w, w->jobs[0]);
    maybe_exit(w);
    return -1;
}

void worker_stop(struct worker *w)
{
    if (w->stopping)
        return;
    log_info("%s: taking no new requests; %zu running get up to %ld s", w->node, w->njobs,
             w->wc->shutdown_timeout);
    w->stopping = true;
    worker_admin_stop(w->admin);
    group_stop(&w->g);
    redis_free(w->blk); /* a blocked read must not take entries we will not run */
    w->blk = NULL;
    w->stop_timer = loop_timer(w->l, w->wc->shutdown_timeout * 1000, stop_timer_cb, w);
    maybe_exit(w);
}

/* --labels a,b,c -> the health record's labels (published for placement rules). */
static int set_labels(struct worker *w, const char *csv)
{
    char copy[1024], *items[HEALTH_MAX_MODELS], *p;
    size_t n = 0;

    if (!csv || !*csv)
        return 0;
    if (strlen(csv) >= sizeof(copy)) {
        log_errorx("labels: longer than %zu bytes", sizeof(copy) - 1);
        return ORION_EXIT_USAGE;
    }
    memcpy(copy, csv, strlen(csv) + 1);
    for (p = copy; p && n < HEALTH_MAX_MODELS;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p)
            items[n++] = p;
        if (strlen(p) > ORION_LABEL_MAX) {
            log_errorx("labels: '%s' is longer than %d bytes", p, ORION_LABEL_MAX);
            return ORION_EXIT_USAGE;
        }
        p = comma ? comma + 1 : NULL;
    }
    if (health_set_list(&w->h.labels, &w->h.nlabels, (const char *const *)items, n) < 0)
        return ORION_EXIT_SYSTEM;
    return 0;
}

static int worker_setup(struct worker *w, const struct worker_conf *wc)
{
    health_init(&w->h);
    w->wc = wc;
    if (contract_keys_init(&w->keys, wc->c.prefix) < 0) {
        log_errorx("prefix: '%s' is empty or too long", wc->c.prefix);
        return ORION_EXIT_USAGE;
    }
    if (wc->node_id)
        snprintf(w->node, sizeof(w->node), "%s", wc->node_id);
    else if (gethostname(w->node, sizeof(w->node) - 1) < 0)
        w->node[0] = '\0';
    if (!w->node[0] || strlen(w->node) > ORION_NODE_ID_MAX || strpbrk(w->node, " \t\r\n")) {
        log_errorx("node-id: '%s' is empty, too long or has blanks", w->node);
        return ORION_EXIT_USAGE;
    }
    if (contract_node_stream(&w->keys, w->node, w->stream, sizeof(w->stream)) < 0)
        return ORION_EXIT_USAGE;
    snprintf(w->h.version, sizeof(w->h.version), "%s", ORION_VERSION);
    return set_labels(w, wc->labels);
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    {
        const unsigned long timers[] = {w->health_timer, w->cancel_timer, w->stop_timer,
                                        w->remove_timer};
        for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
            if (timers[i])
                loop_timer_cancel(w->l, timers[i]);
    }
    group_stop(&w->g);
    while (w->njobs)
        job_remove(w, w->jobs[0]);
    ollama_admin_cancel(w->vcall);
    worker_admin_free(w->admin);
    worker_probe_release(w);
    worker_ollama_release(w);
    worker_meta_release(w);
    health_release(&w->h);
    redis_free(w->cmd);
    redis_free(w->blk);
    orion_free(w);
}

struct worker *worker_new(struct loop *l, const struct worker_conf *wc,
                          const struct worker_hooks *hk, int *code)
{
    struct worker *w = orion_calloc(1, sizeof(*w));
    struct redis_opts o;

    if (!w) {
        *code = ORION_EXIT_SYSTEM;
        return NULL;
    }
    w->l = l;
    if (hk)
        w->hk = *hk;
    *code = worker_setup(w, wc);
    if (*code)
        goto out_free;
    daemon_redis_opts(&o, &wc->c, "redis");
    w->cmd = redis_new(l, &o, cmd_state, w);
    o.name = "redis (blocking reads)";
    w->blk = redis_new(l, &o, group_redis_state, &w->g);
    {
        const struct group_opts go = {w->stream, CONTRACT_GROUP_WORKERS, w->node, 2000, 7000,
                                      read_room, read_take, NULL, NULL, w};
        group_init(&w->g, l, w->cmd, w->blk, &go);
    }
    *code = ORION_EXIT_SYSTEM;
    if (!w->cmd || !w->blk)
        goto out_free;
    if (worker_ollama_init(w) < 0 || (wc->remote && worker_probe_init(w) < 0)) {
        /* a bad URL is a setting to fix (100); no memory is temporary (111: restarted) */
        if (errno == EINVAL) {
            *code = ORION_EXIT_USAGE;
            log_errorx("%s: ollama URL '%s': want http://HOST[:PORT]", w->node, wc->ollama_url);
        }
        goto out_free;
    }
    if (!(w->admin = worker_admin_new(w)))
        goto out_free;
    *code = 0;
    return w;
out_free:
    worker_free(w);
    return NULL;
}

int worker_start(struct worker *w)
{
    w->health_timer = loop_timer(w->l, 0, worker_health_cb, w);
    w->cancel_timer = loop_timer(w->l, 1000, cancel_poll_cb, w);
    if (!w->health_timer || !w->cancel_timer)
        return -1;
    redis_start(w->cmd);
    redis_start(w->blk);
    return 0;
}

/* --- the worker daemon ---------------------------------------------------------------- */

static void on_signal(struct loop *l, int signo, void *arg)
{
    struct worker *w = arg;

    if (w->stopping) {
        log_info("signal %d again: exiting now", signo);
        loop_stop(l);
        return;
    }
    log_info("signal %d", signo);
    notify_stopping();
    worker_stop(w);
}

static void daemon_ready(void *arg)
{
    (void)arg;
    notify_ready();
}

static void daemon_stopped(void *arg) { loop_stop(arg); }

int worker_run(const struct worker_conf *wc)
{
    struct loop *l;
    struct worker *w;
    struct worker_hooks hk = {daemon_ready, daemon_stopped, NULL};
    char node[ORION_NODE_ID_MAX + 1];
    int rc;

    json_init();
    if (daemon_check_redis(&wc->c) < 0)
        return ORION_EXIT_SYSTEM;
    l = loop_new();
    if (!l) {
        log_errorx("out of memory");
        return ORION_EXIT_SYSTEM;
    }
    hk.arg = l;
    w = worker_new(l, wc, &hk, &rc);
    if (w && (loop_signal(l, SIGTERM, on_signal, w) < 0 ||
              loop_signal(l, SIGINT, on_signal, w) < 0 || worker_start(w) < 0))
        rc = ORION_EXIT_SYSTEM;
    else if (w)
        rc = loop_run(l) < 0 ? ORION_EXIT_SYSTEM : 0;
    if (rc == ORION_EXIT_SYSTEM)
        log_errorx("out of memory");
    snprintf(node, sizeof(node), "%s", w ? w->node : "");
    worker_free(w);
    loop_free(l);
    if (!rc)
        log_info("worker %s: stopped", node);
    return rc;
}
