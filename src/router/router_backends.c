/* SPDX-License-Identifier: MIT */
/*
 * URL backends: Ollama servers the router runs as nodes itself, with no worker beside them.
 * Each is a node runner of src/worker/ (worker.h) on the router's loop, under the backend's
 * name as node id: it publishes the node's health (probed over Ollama's API), takes the
 * requests routed to P:requests:{name} and answers them, exactly as a worker does. So the
 * routing core sees one kind of node, and workers' nodes and URL backends mix under every
 * policy.
 *
 * The list comes from --backends (kept for the router's life). When the router stops, the
 * runners are freed at once: running requests stay pending in their streams and the next
 * start, which runs the same names, takes them again.
 */
#include "router_int.h"

#include "../worker/worker.h"

#include "orion/backend.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>

struct backend {
    struct backend_spec spec;
    struct worker_conf wc; /* points into spec: the runner keeps it by pointer */
    struct worker *w;
};

struct backends {
    struct backend *v[ORION_BACKENDS_MAX];
    size_t n;
};

static void backend_free(struct backend *b)
{
    if (!b)
        return;
    worker_free(b->w);
    orion_free(b);
}

/* A runner for spec with the router's settings; NULL with *code (logged). */
static struct backend *backend_new(struct router *r, const struct backend_spec *spec, int *code)
{
    const struct router_conf *rc = r->rc;
    struct backend *b = orion_calloc(1, sizeof(*b));

    if (!b) {
        *code = ORION_EXIT_SYSTEM;
        return NULL;
    }
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
    b->w = worker_new(r->l, &b->wc, NULL, code);
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
        r->be->v[r->be->n++] = b;
        log_info("backend %s: %s, probed every %ld s", b->spec.name, b->spec.url,
                 r->rc->backend_interval);
    }
    return 0;
}

int router_backends_start(struct router *r)
{
    for (size_t i = 0; r->be && i < r->be->n; i++)
        if (worker_start(r->be->v[i]->w) < 0)
            return -1;
    return 0;
}

void router_backends_free(struct router *r)
{
    if (!r->be)
        return;
    for (size_t i = 0; i < r->be->n; i++)
        backend_free(r->be->v[i]);
    orion_free(r->be);
    r->be = NULL;
}
