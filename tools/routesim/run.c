/* SPDX-License-Identifier: MIT */
/*
 * run: one simulation: a trace, its cluster and one peer, from the first arrival until every
 * request is answered or lost. Nodes publish their health every 5 s (each at its own phase);
 * the router's timer runs every second. A request that follows another (a chat's next turn,
 * a client's background task) arrives its delay after that one's answer, or error.
 */
#include "world.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define HEALTH_EVERY 5.0

struct deps {
    int *first, *next; /* children of each request, as lists */
};

static struct deps D; /* of the run in progress (run_sim is not reentrant) */
static size_t remaining;
static double measure_from;

void on_first(struct world *w, int req) { w->res[req].first = w->now; }

void on_cold_load(struct world *w, size_t node, int model)
{
    (void)node;
    (void)model;
    if (w->now >= measure_from)
        w->out->cold_loads++;
}

static void finished(struct world *w, int req)
{
    w->out->answers++;
    for (int c = D.first[req]; c >= 0; c = D.next[c])
        evq_push(&w->q, w->now + w->t->r[c].delay, EV_ARRIVE, c, 0);
    remaining--;
}

void on_done(struct world *w, int req, size_t node)
{
    if (node >= w->nn) { /* an error reached the client */
        w->res[req].lost = true;
        w->res[req].done = w->now;
        finished(w, req);
        return;
    }
    w->res[req].done = w->now;
    router_done(w, req, node);
    finished(w, req);
}

static int setup(struct world *w, const struct trace *t, enum peer p, uint64_t seed,
                 struct runout *out)
{
    size_t n = t->n;

    /* the nodes past nn are never read; node_init clears each of the nn */
    memset(w, 0, offsetof(struct world, node));
    memset((char *)w + offsetof(struct world, nn), 0, sizeof(*w) - offsetof(struct world, nn));
    memset(out, 0, sizeof(*out));
    w->t = t;
    w->peer = p;
    w->nn = t->nnodes;
    w->out = out;
    evq_init(&w->q);
    rng_seed(&w->rng, seed * 31 + 7);
    w->job = calloc(n, sizeof(*w->job));
    out->r = w->res = calloc(n, sizeof(*w->res));
    D.first = malloc(n * sizeof(int));
    D.next = malloc(n * sizeof(int));
    if (!w->job || !w->res || !D.first || !D.next) {
        errno = ENOMEM;
        return -1;
    }
    out->n = n;
    measure_from = -1;
    for (size_t i = 0; i < n; i++) {
        D.first[i] = D.next[i] = -1;
        w->job[i].node = -1;
        w->job[i].next = -1;
        w->res[i].arrive = w->res[i].first = w->res[i].done = -1;
    }
    for (size_t i = n; i-- > 0;) { /* children in trace order */
        const struct treq *r = &t->r[i];
        if (r->after >= 0) {
            D.next[i] = D.first[r->after];
            D.first[r->after] = (int)i;
        } else {
            evq_pre(&w->q, r->arrive, EV_ARRIVE, (int)i, 0);
            if (r->measured && (measure_from < 0 || r->arrive < measure_from))
                measure_from = r->arrive;
        }
    }
    evq_pre_done(&w->q);
    if (evq_keys(&w->q, EVKEYS(w->nn)) < 0) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < w->nn; i++) {
        node_init(w, i);
        evq_push(&w->q, rng_unit(&w->rng) * HEALTH_EVERY, EV_HEALTH, (int)i, 0);
        if (t->node[i].die_at > 0)
            evq_push(&w->q, t->node[i].die_at, EV_DIE, (int)i, 0);
        if (t->node[i].back_at > 0)
            evq_push(&w->q, t->node[i].back_at, EV_REVIVE, (int)i, 0);
    }
    evq_push(&w->q, 1, EV_TICK, 0, 0);
    remaining = n;
    router_init(w);
    return 0;
}

int run_sim(const struct trace *t, enum peer p, uint64_t seed, struct runout *out)
{
    static struct world *w; /* 1.6 MB, kept from run to run (run_sim is not reentrant) */
    struct event e;
    int rc = 0;

    if (!w && !(w = malloc(sizeof(*w)))) {
        errno = ENOMEM;
        return -1;
    }
    if (setup(w, t, p, seed, out) < 0) {
        rc = -1;
        goto out;
    }
    while (remaining && evq_pop(&w->q, &e)) {
        if (e.t > t->end + 4 * 3600)
            break; /* what is not answered 4 h after the last arrival counts as lost */
        w->now = e.t;
        out->events++;
        switch (e.type) {
        case EV_ARRIVE:
            if (w->res[e.a].arrive < 0)
                w->res[e.a].arrive = w->now;
            router_arrive(w, e.a);
            break;
        case EV_HEALTH:
            if (!w->node[e.a].alive)
                break;
            router_health(w, (size_t)e.a);
            evq_push(&w->q, w->now + HEALTH_EVERY, EV_HEALTH, e.a, 0);
            break;
        case EV_TICK:
            router_tick(w);
            evq_push(&w->q, w->now + 1, EV_TICK, 0, 0);
            break;
        case EV_NGINX_FAIL:
            router_nginx_fail(w, e.a, (size_t)e.b);
            break;
        case EV_REVIVE:
            node_event(w, &e);
            evq_push(&w->q, w->now + rng_unit(&w->rng) * HEALTH_EVERY, EV_HEALTH, e.a, 0);
            break;
        default:
            node_event(w, &e);
            break;
        }
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->r[i].measured && (w->res[i].lost || w->res[i].done < 0))
            out->lost++;
out:
    router_free(w);
    evq_free(&w->q);
    free(w->job);
    w->job = NULL;
    free(D.first);
    free(D.next);
    D.first = D.next = NULL;
    return rc;
}

void runout_free(struct runout *o)
{
    free(o->r);
    o->r = NULL;
}
