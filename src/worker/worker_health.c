/* SPDX-License-Identifier: MIT */
/*
 * The worker's health report: every --health-interval seconds read /proc and /sys under
 * --sysfs-root, ask Ollama what is loaded (/api/ps), installed (/api/tags) and its version
 * (/api/version), and HSET the record (after P:models, worker_meta.c, when that changed). An
 * Ollama that does not answer gives models [] and ollama_up false, and the worker stays
 * available so that it recovers by itself. A failed Redis write is simply retried at
 * the next interval: the newest record is the only one that matters.
 *
 * A remote runner (a URL backend) reads no /proc: CPU and RAM are unknown (-1) and there is no
 * temperature; its GET /api/version probe runs beside /api/ps and /api/tags, and the record
 * says available and ollama_up only while that probe answers.
 */
#include "worker_int.h"

#include "cJSON.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void publish(struct worker *w)
{
    struct buf json;
    bool was_up = w->h.ollama_up;

    w->publishing = false;
    w->h.available = !w->stopping && worker_serving(w);
    w->h.draining = w->stopping;
    w->h.capacity = worker_capacity(w);
    w->h.inflight = (long)w->njobs;
    w->h.last_seen = (long long)time(NULL);
    w->h.ollama_up = w->wc->remote ? w->probe_ok : w->ps_ok;
    if (was_up != w->h.ollama_up || !w->health_logged) {
        if (!w->h.ollama_up)
            log_warnx("ollama %s: not answering; health reports ollama_up false",
                      w->wc->ollama_url);
        else if (w->health_logged)
            log_info("ollama %s: answering again", w->wc->ollama_url);
        w->health_logged = true;
    }
    buf_init(&json, 1 << 20);
    if (health_to_json(&w->h, &json) == 0 && redis_up(w->cmd))
        redis_cmd(w->cmd, NULL, NULL, "HSET", w->keys.health, w->node, buf_data(&json),
                  (char *)NULL);
    buf_release(&json);
    if (w->stopping && !w->njobs)
        worker_health_remove(w, NULL, NULL);
}

void worker_probe_done(struct worker *w)
{
    if (--w->pending_probes == 0) {
        worker_meta_probed(w);
        publish(w);
        worker_read_more(w); /* a remote runner takes work again once its probe answers */
    }
}

/* The names of a list (tags or ps) into a health list. */
static int set_list(char ***v, size_t *n, const struct ollama_model *m, size_t count)
{
    const char *items[HEALTH_MAX_MODELS];
    size_t k = 0;

    for (size_t i = 0; i < count && k < HEALTH_MAX_MODELS; i++)
        items[k++] = m[i].name;
    return health_set_list(v, n, items, k);
}

static void ps_cb(void *arg, int status, const char *body, size_t n)
{
    struct worker *w = arg;

    w->ps_ok = worker_meta_take(w, true, status, body, n) == 0;
    if (!w->ps_ok) {
        w->meta.nps = 0;
        health_set_list(&w->h.models, &w->h.nmodels, NULL, 0);
    } else if (set_list(&w->h.models, &w->h.nmodels, w->meta.ps, w->meta.nps) < 0) {
        health_set_list(&w->h.models, &w->h.nmodels, NULL, 0);
    }
    worker_probe_done(w);
}

static void tags_cb(void *arg, int status, const char *body, size_t n)
{
    struct worker *w = arg;

    /* installed is kept from the last good answer: a model stays on disk when Ollama hiccups */
    if (worker_meta_take(w, false, status, body, n) == 0)
        set_list(&w->h.installed, &w->h.ninstalled, w->meta.tags, w->meta.ntags);
    worker_probe_done(w);
}

static void version_cb(void *arg, const char *version)
{
    struct worker *w = arg;

    w->vcall = NULL;
    /* kept from the last good answer, as installed is */
    if (version) {
        snprintf(w->h.ollama_version, sizeof(w->h.ollama_version), "%s", version);
        w->h.has_ollama_version = true;
    }
    worker_probe_done(w);
}

long worker_health_cb(struct loop *l, void *arg)
{
    struct worker *w = arg;

    (void)l;
    if (w->removing) { /* stopped: the field is gone and stays gone */
        w->health_timer = 0;
        return -1;
    }
    if (w->publishing)
        return w->wc->interval * 1000;
    snprintf(w->h.node_id, sizeof(w->h.node_id), "%s", w->node);
    if (w->wc->remote) { /* nothing of the machine is visible over Ollama's API */
        w->h.cpu_percent = w->h.ram_percent = w->h.load1 = -1;
        w->h.ram_used_mb = w->h.ram_total_mb = 0;
        w->h.has_temp = false;
    } else if (health_collect(&w->h, w->wc->sysfs_root, &w->prev_cpu, &w->have_prev_cpu) < 0 &&
               !w->metrics_warned) {
        log_warnx("reading /proc under '%s' failed: health shows what could be read",
                  w->wc->sysfs_root);
        w->metrics_warned = true;
    }
    w->publishing = true;
    w->pending_probes = w->wc->remote ? 4 : 3; /* ps, tags, version (+ the backend's probe) */
    if (w->wc->remote)
        worker_probe_start(w);
    if (ollama_fetch(w->ollama, "GET", "/api/ps", NULL, 0, ps_cb, w) < 0)
        ps_cb(w, -1, "", 0);
    if (ollama_fetch(w->ollama, "GET", "/api/tags", NULL, 0, tags_cb, w) < 0)
        tags_cb(w, -1, "", 0);
    if (!(w->vcall = ollama_version(w->ollama, version_cb, w)))
        version_cb(w, NULL);
    return w->wc->interval * 1000;
}

static void removed_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct worker *w = arg;

    (void)c;
    (void)reply;
    log_info("worker %s: health field removed", w->node);
    if (w->remove_timer)
        loop_timer_cancel(w->l, w->remove_timer);
    w->remove_timer = 0;
    worker_stopped(w);
}

static long remove_timeout_cb(struct loop *l, void *arg)
{
    struct worker *w = arg;

    (void)l;
    w->remove_timer = 0;
    worker_stopped(w); /* Redis is away: the router will see the field go stale instead */
    return -1;
}

/* Shutdown: HDEL our field, then the stop is complete (or after 2 s without Redis). */
void worker_health_remove(struct worker *w, redis_reply_fn *cb, void *arg)
{
    (void)cb;
    (void)arg;
    if (w->removing)
        return;
    w->removing = true;
    redis_cmd(w->cmd, NULL, NULL, "HDEL", w->keys.models, w->node, (char *)NULL);
    if (redis_cmd(w->cmd, removed_cb, w, "HDEL", w->keys.health, w->node, (char *)NULL) < 0)
        worker_stopped(w);
    else
        w->remove_timer = loop_timer(w->l, 2000, remove_timeout_cb, w);
}
