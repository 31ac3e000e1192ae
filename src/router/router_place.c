/* SPDX-License-Identifier: MIT */
/*
 * Which held requests leave now, and for which node: one route_dispatch (route_dispatch.h)
 * over the held requests that are not being moved, on every event that can change the answer
 * (router_int.h lists the callers), and the moves it decides. The flights it starts are
 * counted here, per node and in the core (route_note_dispatch inside route_dispatch), and
 * ended here, once each, whatever ends them (an event, a failed move, a silent node, or the
 * node's stream no longer holding them).
 *
 * Order. Bound late, the core wants the held requests oldest first and looks at
 * ROUTE_DISPATCH_SCAN of them: the oldest of those not moving are selected (in linear time,
 * however many wait) and offered; while free slots remain the next oldest follow. Bound early
 * (the comparison policies), every one is offered at once, by priority then arrival, as ORION
 * v1 did. A late pass costs nothing while no eligible node has a free slot: it ends before it
 * looks at the waiting list.
 */
#include "router_int.h"

#include "orion/log.h"

#include <stdlib.h>
#include <string.h>

/* Stream entry ids "ms-seq" as numbers: < 0 when a is older. */
static int id_cmp(const char *a, const char *b)
{
    char *ea, *eb;
    unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);

    if (x != y)
        return x < y ? -1 : 1;
    x = *ea == '-' ? strtoull(ea + 1, NULL, 10) : 0;
    y = *eb == '-' ? strtoull(eb + 1, NULL, 10) : 0;
    return x < y ? -1 : x > y;
}

static int cmp_arrival(const struct waiting *x, const struct waiting *y)
{
    if (x->rreq.arrived != y->rreq.arrived)
        return x->rreq.arrived < y->rreq.arrived ? -1 : 1;
    return id_cmp(x->entry_id, y->entry_id);
}

static int qcmp_arrival(const void *a, const void *b)
{
    return cmp_arrival(*(struct waiting *const *)a, *(struct waiting *const *)b);
}

static int qcmp_priority(const void *a, const void *b)
{
    const struct waiting *x = *(struct waiting *const *)a, *y = *(struct waiting *const *)b;
    int c = route_request_cmp(&x->rreq, &y->rreq);

    return c ? c : id_cmp(x->entry_id, y->entry_id);
}

static void swap(struct waiting **a, size_t i, size_t j)
{
    struct waiting *t = a[i];

    a[i] = a[j];
    a[j] = t;
}

/* The k oldest of a[0..n) to a[0..k), in arrival order (quickselect, then a sort of k). */
static void select_oldest(struct waiting **a, size_t n, size_t k)
{
    size_t lo = 0, hi = n, i, store, mid;

    while (k < n && hi - lo > 1) {
        mid = lo + (hi - lo) / 2; /* median of three as the pivot, moved to the end */
        if (cmp_arrival(a[mid], a[lo]) < 0)
            swap(a, mid, lo);
        if (cmp_arrival(a[hi - 1], a[lo]) < 0)
            swap(a, hi - 1, lo);
        if (cmp_arrival(a[mid], a[hi - 1]) < 0)
            swap(a, mid, hi - 1);
        for (store = lo, i = lo; i < hi - 1; i++)
            if (cmp_arrival(a[i], a[hi - 1]) < 0)
                swap(a, i, store++);
        swap(a, store, hi - 1);
        if (store == k || store + 1 == k)
            break;
        if (store > k)
            hi = store;
        else
            lo = store + 1;
    }
    qsort(a, k < n ? k : n, sizeof(*a), qcmp_arrival);
}

/* Free slots over the nodes eligible before any request's own rules. */
static unsigned long free_slots(const struct router *r, const struct route_node *v, size_t n,
                                double now)
{
    const struct route_node_state *ns;
    unsigned long f = 0, cap, used;

    for (size_t i = 0; i < n; i++) {
        if (!route_eligible(&v[i], NULL, &r->rs, &r->st, now, NULL, 0))
            continue;
        ns = route_state_find(&r->st, v[i].id);
        cap = v[i].capacity ? v[i].capacity : 1;
        used = (unsigned long)v[i].inflight + (ns ? ns->queued : 0);
        f += used < cap ? cap - used : 0;
    }
    return f;
}

/* The held requests not being moved whose model is decided and admitted (router_resolve)
 * into r->ord; how many, or -1 (no memory). One that resolve answered is dropped. */
static long gather(struct router *r, size_t n, double now)
{
    size_t k = 0, i = 0;
    int rc;

    if (r->capord < r->nw) {
        size_t ncap = r->nw * 2;
        struct waiting **o = orion_realloc(r->ord, ncap * sizeof(*o));
        if (!o)
            return -1;
        r->ord = o;
        r->capord = ncap;
    }
    while (i < r->nw) {
        struct waiting *w = r->w[i];
        if (w->moving || (rc = router_resolve(r, w, r->view, n, now)) > 0) {
            i++; /* moving, or not yet: no model decided, or its model at --max-per-model */
            continue;
        }
        if (rc < 0) { /* answered: too big, or a model installed nowhere */
            router_waiting_drop(r, i); /* the last one moved to i: look at i again */
            router_waiting_free(r, w);
            continue;
        }
        r->ord[k++] = w;
        i++;
    }
    return (long)k;
}

/* One route_dispatch over held[0..nheld) and the moves it decides. */
static void dispatch(struct router *r, size_t n, struct waiting **held, size_t nheld, double now)
{
    size_t room = ROUTER_MAX_MOVING - r->nmoving, m;
    struct waiting *w;
    struct rnode *nd;

    if (r->nmoving >= ROUTER_MAX_MOVING) {
        r->throttled = true; /* move_done resumes at half */
        return;
    }
    for (size_t i = 0; i < nheld; i++)
        r->hp[i] = &held[i]->rreq;
    m = route_dispatch(r->view, n, r->hp, nheld, &r->rs, &r->st, now, r->out,
                       nheld < room ? nheld : room);
    for (size_t j = 0; j < m; j++) {
        w = held[r->out[j].req];
        nd = r->view_map[r->out[j].node];
        if (router_send_move(r, w, nd, r->out[j].kind, now) < 0) /* the core counted it */
            route_note_finished(&r->st, nd->id, w->rreq.id, w->rreq.model, NULL, &r->rs, now);
    }
    if (r->nmoving >= ROUTER_MAX_MOVING)
        r->throttled = true;
}

void router_try_place(struct router *r)
{
    bool late = route_binds_late(&r->rs);
    double now;
    size_t n, chunk;
    long k;

    if (!redis_up(r->cmd) || !r->nw || !r->health_seen || r->placing || r->throttled)
        return; /* before the first refresh every node would look absent or idle */
    r->placing = true;
    now = router_now(r);
    n = router_route_nodes(r, r->view, r->view_map, ORION_ROUTE_MAX_NODES);
    if ((late && !free_slots(r, r->view, n, now)) || (k = gather(r, n, now)) <= 0)
        goto out;
    if (!late)
        qsort(r->ord, (size_t)k, sizeof(*r->ord), qcmp_priority);
    for (size_t off = 0; off < (size_t)k && !r->throttled; off += chunk) {
        chunk = (size_t)k - off < ROUTE_DISPATCH_SCAN ? (size_t)k - off : ROUTE_DISPATCH_SCAN;
        if (late)
            select_oldest(r->ord + off, (size_t)k - off, chunk);
        dispatch(r, n, r->ord + off, chunk, now);
        if (late && !free_slots(r, r->view, n, now))
            break;
    }
out:
    r->placing = false;
    group_read(&r->g);
}

/* A request's deadline passed while it waited: model_loading when its model is being loaded
 * (retry when the load is expected to be done), else no_available_nodes. */
static void deadline_passed(struct router *r, struct waiting *w, double now)
{
    const struct route_learned *l;
    char key[ORION_MODEL_MAX + 1];
    long retry;

    if (w->resolved && router_preload_loading(r, w->rreq.model, now)) {
        l = route_model_norm(w->rreq.model, key, sizeof(key)) < 0 ? NULL
                                                                   : route_learned_find(&r->st, key);
        retry = (long)(l && l->cold_ms > 0 ? l->cold_ms : r->rs.cold_load_ms);
        router_answer_error_ex(r, &w->req, w->src, w->group, "model_loading", true,
                               "the model is still loading: try again shortly", NULL,
                               retry < 1000 ? 1000 : retry);
        return;
    }
    router_answer_error_ex(r, &w->req, w->src, w->group, "no_available_nodes", true,
                           "no node could take the request before its deadline", NULL, 5000);
}

void router_expire(struct router *r)
{
    double now = router_now(r);
    size_t i = 0;

    if (!redis_up(r->cmd))
        return; /* the answer could not be written: the deadline is kept until it can */
    while (i < r->nw) {
        struct waiting *w = r->w[i];
        if (w->moving || now <= w->deadline) {
            i++;
            continue;
        }
        r->cnt.timeouts++;
        deadline_passed(r, w, now);
        router_waiting_drop(r, i); /* the last one moved to i: look at i again */
        router_waiting_free(r, w);
    }
}

void router_flight_begin(struct router *r, const struct waiting *w, struct rnode *n, double now)
{
    struct rflight f, old;
    bool had;

    f.id = w->rreq.id;
    f.node = (size_t)(n - r->nodes);
    f.seq = ++r->move_seq;
    f.sent = now;
    if (rflights_put(&r->fl, &f, &old, &had) < 0) {
        /* no memory to follow it: the core forgets it now, and the node's stream length counts
         * it among the others' work until it is done */
        route_note_finished(&r->st, n->id, f.id, w->rreq.model, NULL, &r->rs, now);
        return;
    }
    if (had) { /* the same request moved again (its first move was lost with the link) */
        struct rnode *o = &r->nodes[old.node];
        if (o->mine)
            o->mine--;
        if (o->xlen_pending && old.seq >= o->xlen_mark && o->begun_since)
            o->begun_since--;
        else if (o->xlen_pending && old.seq < o->xlen_mark)
            o->ended_since++;
        route_note_finished(&r->st, o->id, old.id, w->rreq.model, NULL, &r->rs, now);
    }
    n->mine++;
    if (n->xlen_pending)
        n->begun_since++;
}

bool router_flight_end(struct router *r, size_t node, unsigned long long id, const char *model,
                       const struct route_answer *a, double now)
{
    struct rflight *f = rflights_find(&r->fl, id), old;
    struct rnode *n;

    if (!f || f->node != node || node >= r->nnodes)
        return false;
    rflights_del(&r->fl, id, &old);
    n = &r->nodes[node];
    if (n->mine)
        n->mine--;
    if (n->xlen_pending && old.seq >= n->xlen_mark && n->begun_since)
        n->begun_since--;
    else if (n->xlen_pending && old.seq < n->xlen_mark)
        n->ended_since++;
    if (route_note_finished(&r->st, n->id, id, model, a, &r->rs, now) < 0)
        log_debug("node %s: an answer's figures not usable for learning", n->id);
    return true;
}
