/* SPDX-License-Identifier: MIT */
/*
 * A remote runner's view of its URL backend: GET /api/version every health interval (the
 * probe: a 200 answer, whatever its body, means the backend serves), and its capacity,
 * learned from how many requests it streams at once. Ollama's OLLAMA_NUM_PARALLEL is not
 * visible over its API: a request past it waits inside Ollama without a first token. So the
 * most jobs seen streaming together is what the backend runs at once, and the runner takes one
 * more than that (the one that would show a larger figure), never more than wc->parallel.
 */
#include "worker_int.h"

#include "orion/log.h"

#include <errno.h>
#include <string.h>

static void probe_head(void *arg, const struct http_head *h)
{
    ((struct worker *)arg)->probe_status = h->status;
}

static void probe_data(void *arg, const char *p, size_t n)
{
    (void)arg; /* the body is not read: the status says it all */
    (void)p;
    (void)n;
}

static void probe_end(struct worker *w, bool ok, const char *why)
{
    w->probe_req = NULL;
    if (ok != w->probe_ok || (!ok && !w->probed)) {
        if (ok) {
            log_info("backend %s (%s): answering; eligible", w->node, w->wc->ollama_url);
            /* requests left pending while it was away and not moved yet: take them back */
            if (redis_up(w->cmd))
                group_link(&w->g, w->cmd, true);
        } else
            log_warnx("backend %s (%s): probe failed (%s); not eligible until it answers",
                      w->node, w->wc->ollama_url, why);
    }
    w->probe_ok = ok;
    w->probed = true;
    worker_probe_done(w);
}

static void probe_done_cb(void *arg)
{
    struct worker *w = arg;

    probe_end(w, w->probe_status == 200, "GET /api/version: not 200");
}

static void probe_error(void *arg, enum httpc_err kind, const char *msg)
{
    (void)kind;
    probe_end(arg, false, msg);
}

int worker_probe_init(struct worker *w)
{
    struct httpc_opts o;
    long iv = w->wc->interval * 1000;

    memset(&o, 0, sizeof(o));
    o.connect_ms = w->wc->connect_timeout * 1000;
    /* a probe never outlives its interval: the next one would find it still in flight */
    o.header_ms = o.idle_ms = iv;
    if (o.connect_ms <= 0 || o.connect_ms > iv)
        o.connect_ms = iv < 3000 ? iv : 3000;
    w->probe = httpc_new(w->l, w->wc->ollama_url, &o);
    return w->probe ? 0 : -1;
}

void worker_probe_release(struct worker *w)
{
    httpc_free(w->probe); /* cancels a probe in flight, without callbacks */
    w->probe = NULL;
    w->probe_req = NULL;
}

void worker_probe_start(struct worker *w)
{
    static const struct httpc_cb cb = {probe_head, probe_data, probe_done_cb, probe_error};

    if (w->probe_req) /* the last one is still out: its end counts for this interval */
        return;
    w->probe_status = 0;
    w->probe_req = httpc_request(w->probe, "GET", "/api/version", NULL, NULL, 0, &cb, w);
    if (!w->probe_req)
        probe_end(w, false, strerror(errno));
}

void worker_note_streaming(struct job *j, bool on)
{
    struct worker *w = j->w;

    if (on == j->streaming)
        return;
    j->streaming = on;
    if (!on) {
        w->streaming--;
        return;
    }
    if (++w->streaming > w->peak) {
        w->peak = w->streaming;
        if (w->wc->remote && w->peak < (unsigned)w->wc->parallel) {
            log_info("backend %s: %u request(s) streamed at once; taking up to %ld", w->node,
                     w->peak, worker_capacity(w));
            worker_read_more(w); /* the slot just learned takes work now */
        }
    }
}

long worker_capacity(const struct worker *w)
{
    long c = (long)w->peak + 1;

    if (!w->wc->remote)
        return w->wc->parallel;
    return c < w->wc->parallel ? c : w->wc->parallel;
}

bool worker_serving(const struct worker *w) { return !w->wc->remote || w->probe_ok; }
