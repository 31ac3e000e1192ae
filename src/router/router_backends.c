/* SPDX-License-Identifier: MIT */
/*
 * URL backends: Ollama servers the router runs as nodes itself, with no worker beside them.
 * Each is a node runner of src/worker/ (worker.h) on the router's loop, under the backend's
 * name as node id: it publishes the node's health (probed over Ollama's API), takes the
 * requests routed to P:requests:{name} and answers them, exactly as a worker does. So the
 * routing core sees one kind of node, and workers' nodes and URL backends mix under every
 * policy.
 *
 * The list is P:backends (name -> URL), so that a restarted router, or a standby, knows it:
 * POST /backends/register adds to it (the HTTP front writes it), /backends/deregister takes
 * out of it, and --backends is written into it at every start. Every second the router reads
 * it: a new name gets a runner, a name gone (or its URL changed) is stopped: it takes nothing
 * more, its running requests finish, and the router moves what waited in its stream once its
 * health says it is draining. A --backends runner is stopped by the list only after its own
 * entry was written.
 *
 * One router runs a backend at a time: a runner starts only once this router holds the
 * backend's lease (backend.h), renewed every second for --stale-after s. A standby router
 * reads the same list, finds the lease held, and takes the backend over when the lease of a
 * router that stopped runs out; its runner then takes the requests the other left pending
 * (the consumer is the backend's name, not the router's).
 *
 * When the router stops, the runners are freed at once: running requests stay pending in
 * their streams and the next start, which runs the same names, takes them again.
 */
#include "router_int.h"

#include "../worker/worker.h"

#include "orion/backend.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>

struct backend {
    struct router *r;
    struct backend_spec spec;
    struct worker_conf wc; /* points into spec: the runner keeps it by pointer */
    struct worker *w;
    bool from_flag;  /* in --backends */
    bool stopping;   /* out of P:backends: finishing its running requests */
    bool seen;       /* named by the last read of P:backends */
    bool started;    /* this router holds its lease and runs it */
    bool warned;     /* "run by another router" said */
    unsigned leasing; /* lease EVALs in flight (it is freed only at 0) */
    unsigned long free_timer;
};

struct backends {
    struct backend *v[ORION_BACKENDS_MAX];
    size_t n;
    bool flags_written; /* --backends is in P:backends */
    bool reading;       /* an HGETALL P:backends is in flight */
    unsigned long timer;
};

static void backend_free(struct backend *b)
{
    if (!b)
        return;
    if (b->free_timer)
        loop_timer_cancel(b->r->l, b->free_timer);
    worker_free(b->w);
    orion_free(b);
}

static long free_cb(struct loop *l, void *arg)
{
    struct backend *b = arg;
    struct backends *be = b->r->be;

    (void)l;
    if (b->leasing)
        return 100; /* a lease reply still names it */
    b->free_timer = 0;
    for (size_t i = 0; i < be->n; i++)
        if (be->v[i] == b) {
            be->v[i] = be->v[--be->n];
            break;
        }
    log_info("backend %s: removed", b->spec.name);
    backend_free(b);
    return -1;
}

/* The runner's stop is complete: free it outside its own callback. */
static void backend_stopped(void *arg)
{
    struct backend *b = arg;

    if (!b->free_timer)
        b->free_timer = loop_timer(b->r->l, 0, free_cb, b);
}

/* A runner for spec with the router's settings; NULL with *code (logged). */
static struct backend *backend_new(struct router *r, const struct backend_spec *spec, int *code)
{
    const struct router_conf *rc = r->rc;
    struct backend *b = orion_calloc(1, sizeof(*b));
    struct worker_hooks hk = {NULL, backend_stopped, NULL};

    if (!b) {
        *code = ORION_EXIT_SYSTEM;
        return NULL;
    }
    hk.arg = b;
    b->r = r;
    b->spec = *spec;
    b->wc.c = rc->c;
    b->wc.node_id = b->spec.name;
    b->wc.ollama_url = b->spec.url;
    b->wc.sysfs_root = "/";
    b->wc.keep_alive = "10m"; /* the worker's default --keep-alive */
    b->wc.interval = rc->backend_interval;
    b->wc.parallel = rc->backend_parallel;
    b->wc.shutdown_timeout = 30;
    b->wc.ollama_timeout = rc->read_timeout;
    b->wc.connect_timeout = rc->connect_timeout;
    b->wc.remote = true;
    b->w = worker_new(r->l, &b->wc, &hk, code);
    if (!b->w) {
        orion_free(b);
        return NULL;
    }
    return b;
}

int router_backends_init(struct router *r)
{
    struct backend_spec specs[ORION_BACKENDS_MAX];
    char err[512];
    long n;
    int code = 0;

    r->be = orion_calloc(1, sizeof(*r->be));
    if (!r->be)
        return ORION_EXIT_SYSTEM;
    if (!r->rc->backends)
        return 0;
    n = backend_list_parse(r->rc->backends, specs, ORION_BACKENDS_MAX, err, sizeof(err));
    if (n < 0) {
        log_errorx("backends: %s", err);
        return ORION_EXIT_USAGE;
    }
    for (long i = 0; i < n; i++) {
        struct backend *b = backend_new(r, &specs[i], &code);
        if (!b)
            return code;
        b->from_flag = true;
        r->be->v[r->be->n++] = b;
        log_info("backend %s: %s, from --backends", b->spec.name, b->spec.url);
    }
    return 0;
}

static struct backend *find(struct backends *be, const char *name)
{
    for (size_t i = 0; i < be->n; i++)
        if (!strcmp(be->v[i]->spec.name, name))
            return be->v[i];
    return NULL;
}

/* One entry of P:backends: run it if new (a bad one is logged once a start and skipped). */
static void sync_one(struct router *r, const struct resp_reply *k, const struct resp_reply *v)
{
    struct backend_spec spec;
    struct backend *b;
    char in[ORION_NODE_ID_MAX + ORION_BACKEND_URL_MAX + 2], err[200];
    int code;

    if (k->type != RESP_BULK || v->type != RESP_BULK || k->len > ORION_NODE_ID_MAX ||
        v->len > ORION_BACKEND_URL_MAX || memchr(k->str, '=', k->len))
        return;
    snprintf(in, sizeof(in), "%s=%s", k->str, v->str);
    if (backend_spec_parse(in, strlen(in), &spec, err, sizeof(err)) < 0) {
        log_debug("P:backends: '%s' skipped: %s", in, err);
        return;
    }
    b = find(r->be, spec.name);
    if (b) {
        b->seen = b->seen || !strcmp(b->spec.url, spec.url); /* a new URL: stop, then anew */
        return;
    }
    if (r->be->n == ORION_BACKENDS_MAX) {
        log_warnx("backend %s: not run: this router runs %d already", spec.name,
                  ORION_BACKENDS_MAX);
        return;
    }
    b = backend_new(r, &spec, &code);
    if (!b)
        return;
    b->seen = true;
    r->be->v[r->be->n++] = b;
    log_info("backend %s: %s in P:backends", b->spec.name, b->spec.url);
}

static void lease_all(struct router *r);

static void list_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;
    struct backends *be = r->be;

    (void)c;
    be->reading = false;
    if (!reply || reply->type != RESP_ARRAY)
        return; /* Redis away or refusing: nothing changes */
    for (size_t i = 0; i < be->n; i++)
        be->v[i]->seen = false;
    for (size_t i = 0; i + 1 < reply->n; i += 2)
        sync_one(r, &reply->elem[i], &reply->elem[i + 1]);
    for (size_t i = 0; i < be->n; i++) {
        struct backend *b = be->v[i];
        if (b->seen || b->stopping || (b->from_flag && !be->flags_written))
            continue;
        log_info("backend %s: deregistered; its running requests finish, waiting ones move",
                 b->spec.name);
        b->stopping = true;
        if (b->started)
            worker_stop(b->w);
        else
            backend_stopped(b); /* never run here: nothing to finish */
    }
    lease_all(r);
}

static void lease_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct backend *b = arg;
    bool held = reply && reply->type == RESP_INT && reply->integer == 1;

    (void)c;
    b->leasing--;
    if (b->stopping || !reply || reply->type == RESP_ERROR) {
        if (reply && reply->type == RESP_ERROR && !b->warned) {
            log_warnx("backend %s: its lease: %s", b->spec.name, reply->str);
            b->warned = true;
        }
        return; /* Redis away or refusing: a running backend goes on */
    }
    if (held && !b->started) {
        if (worker_start(b->w) < 0)
            return;
        b->started = true;
        log_info("backend %s: %s run by this router; probed every %ld s", b->spec.name,
                 b->spec.url, b->r->rc->backend_interval);
    } else if (!held && b->started) {
        log_warnx("backend %s: another router took its lease; stopping here", b->spec.name);
        b->stopping = true;
        worker_stop(b->w);
    } else if (!held && !b->warned) {
        log_info("backend %s: run by another router; taken over if that one stops",
                 b->spec.name);
        b->warned = true;
    }
}

/* Renew or take the lease of every backend not stopping (see backend.h). */
static void lease_all(struct router *r)
{
    char key[CONTRACT_KEY_MAX], secs[24];

    snprintf(secs, sizeof(secs), "%ld", r->rc->stale_after);
    for (size_t i = 0; i < r->be->n; i++) {
        struct backend *b = r->be->v[i];
        if (b->stopping || backend_lease_key(&r->keys, b->spec.name, key, sizeof(key)) < 0)
            continue;
        if (redis_cmd(r->cmd, lease_cb, b, "EVAL", backend_lease_lua, "1", key, r->me, secs,
                      (char *)NULL) == 0)
            b->leasing++;
    }
}

static void flags_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct router *r = arg;

    (void)c;
    if (reply && reply->type == RESP_INT)
        r->be->flags_written = true;
    else if (reply)
        log_warnx("writing --backends into P:backends: %s",
                  reply->type == RESP_ERROR ? reply->str : "an unexpected reply");
}

/* Every second: --backends into P:backends (until done), then read the list. */
static long sync_cb(struct loop *l, void *arg)
{
    struct router *r = arg;
    struct backends *be = r->be;
    struct resp_cmd c;

    (void)l;
    if (!redis_up(r->cmd) || be->reading)
        return 1000;
    if (!be->flags_written) {
        resp_cmd_init(&c);
        resp_cmd_adds(&c, "HSET");
        resp_cmd_adds(&c, r->keys.backends);
        for (size_t i = 0; i < be->n; i++)
            if (be->v[i]->from_flag) {
                resp_cmd_adds(&c, be->v[i]->spec.name);
                resp_cmd_adds(&c, be->v[i]->spec.url);
            }
        if (c.argc == 2)
            be->flags_written = true;
        else if (resp_cmd_finish(&c) == 0)
            redis_cmdv(r->cmd, 0, flags_cb, r, c.argc, c.argv, c.len);
        resp_cmd_release(&c);
    }
    if (redis_cmd(r->cmd, list_cb, r, "HGETALL", r->keys.backends, (char *)NULL) == 0)
        be->reading = true;
    return 1000;
}

int router_backends_start(struct router *r)
{
    r->be->timer = loop_timer(r->l, 0, sync_cb, r);
    return r->be->timer ? 0 : -1;
}

void router_backends_free(struct router *r)
{
    if (!r->be)
        return;
    if (r->be->timer)
        loop_timer_cancel(r->l, r->be->timer);
    for (size_t i = 0; i < r->be->n; i++)
        backend_free(r->be->v[i]);
    orion_free(r->be);
    r->be = NULL;
}
