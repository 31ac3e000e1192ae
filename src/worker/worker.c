/* SPDX-License-Identifier: MIT */
/*
 * The worker's Redis side: take entries from P:requests:{node} (own pending ones first, then
 * new ones, never more than --parallel at once), answer each exactly once through the
 * one-answer script, keep answers that could not be written until Redis is back, and on
 * SIGTERM stop taking work, let running requests finish, remove the health field and exit.
 */
#include "worker_int.h"

#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/notify.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void read_history(struct worker *w);

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
    struct contract_str id = contract_request_id(&j->req);
    char rid[260], td[24], ld[24];
    const char *argv[20];
    int n = 0;

    snprintf(rid, sizeof(rid), "%.*s", (int)id.n, id.p);
    argv[n++] = "XADD", argv[n++] = w->keys.events, argv[n++] = "MAXLEN", argv[n++] = "~";
    argv[n++] = "10000", argv[n++] = "*", argv[n++] = "type", argv[n++] = type;
    argv[n++] = "request_id", argv[n++] = rid, argv[n++] = "node_id", argv[n++] = w->node;
    argv[n++] = "model", argv[n++] = j->req.model.p ? j->req.model.p : "";
    argv[n++] = "info", argv[n++] = extra ? extra : "";
    if (j->final.ok && !strcmp(type, "done")) { /* Ollama's counters: routers learn */
        snprintf(td, sizeof(td), "%lld", j->final.total_duration);
        snprintf(ld, sizeof(ld), "%lld", j->final.load_duration);
        argv[n++] = "total_duration", argv[n++] = td, argv[n++] = "load_duration", argv[n++] = ld;
    } else if (!strcmp(type, "failed") && j->err_code[0]) { /* routers count outcomes */
        argv[n++] = "code", argv[n++] = j->err_code;
    }
    redis_cmdv(w->cmd, 0, NULL, NULL, n, argv, NULL);
}

static void maybe_exit(struct worker *w)
{
    if (w->stopping && !w->njobs && !w->publishing)
        worker_health_remove(w, NULL, NULL);
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

static void answer_done(struct job *j)
{
    struct worker *w = j->w;

    worker_event(w, j->final.ok ? "done" : "failed", j, NULL);
    job_remove(w, j);
    maybe_exit(w);
    worker_read_more(w);
}

void worker_answer(struct job *j)
{
    if (j->answering || !j->has_answer)
        return;
    if (j->answer_timer) { /* (re)connected: send it now */
        loop_timer_cancel(j->w->l, j->answer_timer);
        j->answer_timer = 0;
    }
    if (redis_cmdv(j->w->cmd, 0, answer_cb, j, j->answer.argc, j->answer.argv, j->answer.len) == 0)
        j->answering = true;
    else if (redis_up(j->w->cmd)) /* out of memory: later; when down, cmd_state sends it */
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
    if (contract_done_key(&w->keys, rid.p, rid.n, done, sizeof(done)) < 0 ||
        redis_cmd(w->cmd, done_check_cb, j, "EXISTS", done, (char *)NULL) < 0)
        job_start(j);
}

static const struct resp_reply *stream_entries(const struct resp_reply *reply)
{
    return resp_at(resp_at(reply, 0), 1);
}

static void group_cb(struct redis *c, struct resp_reply *reply, void *arg);

static void create_group(struct worker *w)
{
    redis_cmd(w->cmd, group_cb, w, "XGROUP", "CREATE", w->stream, CONTRACT_GROUP_WORKERS, "0",
              "MKSTREAM", (char *)NULL);
}

static long read_retry_cb(struct loop *l, void *arg)
{
    struct worker *w = arg;

    (void)l;
    w->read.timer = 0;
    worker_read_more(w);
    return -1;
}

static void new_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct worker *w = arg;
    const struct resp_reply *e = stream_entries(reply);

    (void)c;
    w->reading = false;
    if (reply && reply->type == RESP_ERROR) {
        if (resp_is_error(reply, "NOGROUP")) {
            w->group_ok = false;
            create_group(w);
        }
        retry_error(&w->read, w->l, "reading", w->stream, reply->str,
                    read_retry_cb, w);
        return;
    }
    if (reply)
        retry_ok(&w->read);
    for (size_t i = 0; e && i < e->n && w->njobs < (size_t)w->wc->parallel; i++)
        take_entry(w, &e->elem[i]);
    worker_read_more(w);
}

void worker_read_more(struct worker *w)
{
    char count[24];
    const char *argv[] = {"XREADGROUP", "GROUP", CONTRACT_GROUP_WORKERS, w->node, "COUNT", count,
                          "BLOCK", "2000", "STREAMS", w->stream, ">"};

    if (w->read.timer)
        return; /* backing off after an error reply */
    if (!w->history_done) {
        read_history(w);
        return;
    }
    if (w->stopping || w->reading || !redis_up(w->blk) || w->njobs >= (size_t)w->wc->parallel)
        return;
    snprintf(count, sizeof(count), "%zu", (size_t)w->wc->parallel - w->njobs);
    if (redis_cmdv(w->blk, 7000, new_cb, w, 11, argv, NULL) == 0)
        w->reading = true;
}

static void history_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct worker *w = arg;
    const struct resp_reply *e = stream_entries(reply);

    (void)c;
    w->reading = false;
    if (!reply)
        return;
    if (reply->type == RESP_ERROR) { /* not the end of the list: read it again */
        if (resp_is_error(reply, "NOGROUP")) {
            w->group_ok = false;
            create_group(w);
            return;
        }
        retry_error(&w->read, w->l, "reading the pending entries of", w->stream, reply->str,
                    read_retry_cb, w);
        return;
    }
    retry_ok(&w->read);
    if (!e || !e->n) {
        w->history_done = true;
        worker_read_more(w);
        return;
    }
    for (size_t i = 0; i < e->n; i++) {
        const struct resp_reply *id = resp_at(&e->elem[i], 0);
        if (w->njobs >= (size_t)w->wc->parallel)
            break;
        take_entry(w, &e->elem[i]);
        if (id && id->type == RESP_BULK && id->len < sizeof(w->hist_after))
            memcpy(w->hist_after, id->str, id->len + 1);
    }
    if (w->njobs < (size_t)w->wc->parallel)
        read_history(w);
}

/* Own pending entries (taken before a crash or a lost link) first. When every slot is busy
 * the rest waits until a slot frees: history_done stays false until the list is empty. */
static void read_history(struct worker *w)
{
    char count[24];
    const char *argv[] = {"XREADGROUP", "GROUP", CONTRACT_GROUP_WORKERS, w->node, "COUNT", count,
                          "STREAMS", w->stream, w->hist_after};

    if (w->stopping || w->reading || !w->group_ok || w->njobs >= (size_t)w->wc->parallel)
        return;
    snprintf(count, sizeof(count), "%zu", (size_t)w->wc->parallel - w->njobs);
    if (redis_cmdv(w->cmd, 0, history_cb, w, 9, argv, NULL) == 0)
        w->reading = true;
}

static long group_retry_cb(struct loop *l, void *arg)
{
    struct worker *w = arg;

    (void)l;
    w->group_timer = 0;
    create_group(w); /* when the link is down, cmd_state sends it once it is up */
    return -1;
}

static void group_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct worker *w = arg;

    (void)c;
    if (!reply)
        return; /* link lost: cmd_state sends it again */
    if (reply->type == RESP_ERROR && !resp_is_error(reply, "BUSYGROUP")) {
        /* e.g. -LOADING: without the group nothing is read, so try until it exists */
        if (!w->group_warned)
            log_warnx("XGROUP CREATE %s: %s; trying again every second", w->stream, reply->str);
        w->group_warned = true;
        if (!w->group_timer)
            w->group_timer = loop_timer(w->l, 1000, group_retry_cb, w);
        return;
    }
    if (w->group_warned)
        log_info("group %s on %s is there; reading", CONTRACT_GROUP_WORKERS, w->stream);
    w->group_warned = false;
    w->group_ok = true;
    w->history_done = false;
    snprintf(w->hist_after, sizeof(w->hist_after), "0");
    read_history(w);
}

static void cmd_state(struct redis *c, bool up, void *arg)
{
    struct worker *w = arg;

    if (!up)
        return;
    if (!w->started) {
        w->started = true;
        notify_ready();
        log_info("worker %s: up, redis %s, ollama %s, parallel %ld", w->node, redis_addr(c),
                 w->wc->ollama_url, w->wc->parallel);
    }
    /* answers that waited for Redis go first */
    for (size_t i = 0; i < w->njobs; i++)
        worker_answer(w->jobs[i]);
    (void)c;
    create_group(w);
}

static void blk_state(struct redis *c, bool up, void *arg)
{
    struct worker *w = arg;

    (void)c;
    if (!up)
        w->reading = false;
    else
        worker_read_more(w);
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
        if (j && j->call) {
            log_info("request %s: canceled by its caller", j->entry_id);
            ollama_cancel(j->call); /* closing the connection stops Ollama's generation */
            j->call = NULL;
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
    if (w->stopping && !w->njobs)
        return -1;
    w->ncancel_ids = 0;
    resp_cmd_init(&c);
    resp_cmd_adds(&c, "MGET");
    for (size_t i = 0; i < w->njobs && w->ncancel_ids < WORKER_MAX_PARALLEL; i++) {
        struct contract_str id = contract_request_id(&w->jobs[i]->req);
        if (!w->jobs[i]->call ||
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
    if (!w->njobs)
        return -1;
    log_warnx("shutdown timeout: %zu request(s) stay pending for re-delivery", w->njobs);
    while (w->njobs) /* not acknowledged: the next start (or a failover) runs them */
        job_remove(w, w->jobs[0]);
    maybe_exit(w);
    return -1;
}

static void on_signal(struct loop *l, int signo, void *arg)
{
    struct worker *w = arg;

    if (w->stopping) {
        log_info("signal %d again: exiting now", signo);
        loop_stop(l);
        return;
    }
    log_info("signal %d: taking no new requests; %zu running get up to %ld s", signo, w->njobs,
             w->wc->shutdown_timeout);
    w->stopping = true;
    notify_stopping();
    redis_free(w->blk); /* a blocked read must not take entries we will not run */
    w->blk = NULL;
    loop_timer(l, w->wc->shutdown_timeout * 1000, stop_timer_cb, w);
    maybe_exit(w);
}

static int check_redis(const struct worker_conf *wc)
{
    struct redis_opts o;
    char err[600], where[600];
    struct redis_sync *s;

    redis_opts_conf(&o, &wc->c, "redis");
    s = redis_sync_connect(&o, 3000, err, sizeof(err));
    if (!s && redis_err_loading(err)) { /* reachable, answering: the link waits for it */
        log_info("redis %s: %s; starting anyway", redis_conf_where(&wc->c, where, sizeof(where)),
                 err);
        return 0;
    }
    if (!s) {
        log_errorx("redis %s: %s", redis_conf_where(&wc->c, where, sizeof(where)), err);
        return -1;
    }
    redis_sync_free(s);
    return 0;
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
    memset(w, 0, sizeof(*w));
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
    snprintf(w->hist_after, sizeof(w->hist_after), "0");
    health_init(&w->h);
    snprintf(w->h.version, sizeof(w->h.version), "%s", ORION_VERSION);
    return set_labels(w, wc->labels);
}

int worker_run(const struct worker_conf *wc)
{
    struct worker w;
    struct redis_opts o;
    int rc = worker_setup(&w, wc);

    if (rc)
        return rc;
    redis_opts_conf(&o, &wc->c, "redis");
    json_init();
    if (check_redis(wc) < 0)
        return ORION_EXIT_SYSTEM;
    w.l = loop_new();
    w.cmd = w.l ? redis_new(w.l, &o, cmd_state, &w) : NULL;
    o.name = "redis (blocking reads)";
    w.blk = w.l ? redis_new(w.l, &o, blk_state, &w) : NULL;
    if (!w.cmd || !w.blk || worker_ollama_init(&w) < 0) {
        log_errorx("out of memory or bad --ollama-url '%s'", wc->ollama_url);
        return ORION_EXIT_USAGE;
    }
    loop_signal(w.l, SIGTERM, on_signal, &w);
    loop_signal(w.l, SIGINT, on_signal, &w);
    loop_timer(w.l, 0, worker_health_cb, &w);
    loop_timer(w.l, 1000, cancel_poll_cb, &w);
    redis_start(w.cmd);
    redis_start(w.blk);
    loop_run(w.l);
    while (w.njobs)
        job_remove(&w, w.jobs[0]);
    worker_ollama_release(&w);
    health_release(&w.h);
    redis_free(w.cmd);
    redis_free(w.blk);
    loop_free(w.l);
    log_info("worker %s: stopped", w.node);
    return 0;
}
