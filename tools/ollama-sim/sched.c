/* SPDX-License-Identifier: MIT */
/*
 * sched: Ollama's scheduler, as of v0.11.5+. A request for a loaded model goes straight to
 * the model and waits there for one of num_parallel slots (no limit). A request that needs a
 * load joins the pending queue (max_queue, else 503); one loader takes them in order, one
 * load at a time. With max_loaded models resident it evicts the idle one with the shortest
 * keep-alive, or marks the shortest busy one and waits for it. An idle model unloads when its
 * keep-alive runs out (0: at once; negative: never). load_duration counts from the request.
 * A request whose num_ctx differs from the loaded runner's makes it reload (server/sched.go
 * needsReload): the model is unloaded once idle and loaded again. A running generation holds
 * one of the model's prompt-cache slots (cache.h); an unload drops them all.
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

static int loaded_count(const struct sim *s)
{
    int i, n = 0;

    for (i = 0; i < s->nmodels; i++)
        n += s->models[i].state != M_UNLOADED;
    return n;
}

int sim_busy(const struct sim *s)
{
    int i, n = s->loading != NULL;

    for (i = 0; i < s->nmodels; i++)
        n += s->models[i].active;
    return n;
}

int sim_share(const struct sim *s)
{
    int i, n = 0;

    if (!s->shared_cpu)
        return 1;
    for (i = 0; i < s->nmodels; i++)
        n += s->models[i].active;
    return n > 1 ? n : 1;
}

long long sim_ram_used(const struct sim *s)
{
    long long n = 0;
    int i;

    for (i = 0; i < s->nmodels; i++)
        if (s->models[i].state != M_UNLOADED)
            n += s->models[i].ram_size;
    return n;
}

static void kick(struct sim *s);

void sched_unload_now(struct sim_model *m)
{
    kv_clear(&m->kv);
    m->state = M_UNLOADED;
    m->evict = false;
    m->expires_ms = 0;
}

static long expire(struct loop *l, void *arg)
{
    struct sim_model *m = arg;

    (void)l;
    m->expire_tmr = 0;
    if (m->active == 0 && !m->wait) {
        sched_unload_now(m);
        kick(m->s);
    }
    return -1;
}

static int64_t wall_plus(long long ns)
{
    return loop_wall_ms() + (ns < 0 ? SIM_FOREVER_NS : ns) / 1000000;
}

/* the last request finished: start the keep-alive clock */
static void go_idle(struct sim_model *m)
{
    struct sim *s = m->s;

    if (m->evict || m->keep_alive_ns == 0) {
        sched_unload_now(m);
        kick(s);
        return;
    }
    m->expires_ms = wall_plus(m->keep_alive_ns);
    if (m->keep_alive_ns > 0) {
        long long ms = m->keep_alive_ns / 1000000;

        m->expire_tmr = loop_timer(s->l, ms > 0x7fffffffL ? 0x7fffffffL : (long)ms, expire, m);
    }
}

static void run_or_wait(struct sim_model *m, struct sim_req *r)
{
    if (m->active < m->parallel) {
        m->active++;
        r->where = 3;
        r->slot = -1;
        if (r->kind < K_EMBED)
            r->slot = kv_acquire(&m->kv, r->ptok.v, r->ptok.n, &r->cached);
        gen_start(r);
        return;
    }
    r->where = 2;
    r->next = NULL;
    if (m->wait_tail)
        m->wait_tail->next = r;
    else
        m->wait = r;
    m->wait_tail = r;
}

/* the model is loaded: hand it to r */
static void attach(struct sim_req *r)
{
    struct sim_model *m = r->m;

    r->loaded_ns = now_ns();
    if (m->expire_tmr)
        loop_timer_cancel(m->s->l, m->expire_tmr);
    m->expire_tmr = 0;
    if (r->has_ka)
        m->keep_alive_ns = r->ka_ns;
    m->expires_ms = wall_plus(m->keep_alive_ns);
    if (r->load_only) {
        gen_loaded(r); /* answers and frees r */
        if (m->active == 0 && !m->wait)
            go_idle(m);
        return;
    }
    run_or_wait(m, r);
}

void sched_finish(struct sim_req *r)
{
    struct sim_model *m = r->m;
    struct sim_req *n = m->wait;
    struct tokv ans;

    tokv_init(&ans);
    if (r->slot >= 0 && gen_answer_tokens(r, &ans) < 0)
        ans.n = 0;
    kv_release(&m->kv, r->slot, ans.v, ans.n);
    tokv_release(&ans);
    r->slot = -1;
    r->where = -1;
    m->active--;
    if (n) {
        m->wait = n->next;
        if (!m->wait)
            m->wait_tail = NULL;
        run_or_wait(m, n);
    } else if (m->active == 0)
        go_idle(m);
}

/* victim for eviction: loaded models by keep-alive (forever last), then name; an idle one first */
static struct sim_model *victim(struct sim *s)
{
    struct sim_model *best = NULL, *best_idle = NULL;
    int i;

    for (i = 0; i < s->nmodels; i++) {
        struct sim_model *m = &s->models[i];
        unsigned long long ka = (unsigned long long)m->keep_alive_ns, bk;

        if (m->state != M_LOADED)
            continue;
        if (m->evict)
            return NULL; /* already waiting for one */
        if (!best || ka < (bk = (unsigned long long)best->keep_alive_ns) ||
            (ka == bk && strcmp(m->name, best->name) < 0))
            best = m;
        if (m->active == 0 && !m->wait &&
            (!best_idle || ka < (unsigned long long)best_idle->keep_alive_ns ||
             (ka == (unsigned long long)best_idle->keep_alive_ns &&
              strcmp(m->name, best_idle->name) < 0)))
            best_idle = m;
    }
    return best_idle ? best_idle : best;
}

static long load_done(struct loop *l, void *arg)
{
    struct sim *s = arg;
    struct sim_model *m = s->loading;
    struct sim_req *r = s->loading_req;

    (void)l;
    s->load_tmr = 0;
    m->state = M_LOADED;
    s->loading = NULL;
    s->loading_req = NULL;
    if (r)
        attach(r);
    else if (m->active == 0 && !m->wait)
        go_idle(m);
    kick(s);
    return -1;
}

static struct sim_req *pop_pending(struct sim *s)
{
    struct sim_req *r = s->pending;

    s->pending = r->next;
    if (!s->pending)
        s->pending_tail = NULL;
    s->npending--;
    r->next = NULL;
    return r;
}

static void kick(struct sim *s)
{
    while (!s->loading && s->pending) {
        struct sim_model *m = s->pending->m, *v;

        if (m->state == M_LOADED && m->evict)
            return; /* reloaded once the victim is gone */
        if (m->state == M_LOADED && m->loaded_ctx != s->pending->num_ctx) {
            m->evict = true; /* a reload with the new context */
            if (m->active == 0 && !m->wait) {
                if (m->expire_tmr)
                    loop_timer_cancel(s->l, m->expire_tmr);
                m->expire_tmr = 0;
                sched_unload_now(m);
            }
            continue;
        }
        if (m->state == M_LOADED) {
            attach(pop_pending(s));
            continue;
        }
        if (loaded_count(s) >= s->max_loaded) {
            if (!(v = victim(s)))
                return;
            v->evict = true;
            if (v->active == 0 && !v->wait) {
                if (v->expire_tmr)
                    loop_timer_cancel(s->l, v->expire_tmr);
                v->expire_tmr = 0;
                sched_unload_now(v);
            }
            continue;
        }
        s->loading_req = pop_pending(s);
        s->loading_req->where = 1;
        s->loading = m;
        m->state = M_LOADING;
        m->loaded_ctx = s->loading_req->num_ctx;
        /* embedding models run one request at a time (server/sched.go) */
        m->parallel = m->caps & CAP_COMPLETION ? (int)s->num_parallel : 1;
        kv_clear(&m->kv);
        kv_init(&m->kv, s->kv_mode, m->parallel,
                s->cache_ram_mib * 1048576LL / (m->kv_bytes > 0 ? m->kv_bytes : 32768));
        if (s->loading_req->has_ka)
            m->keep_alive_ns = s->loading_req->ka_ns;
        else
            m->keep_alive_ns = s->default_ka_ns;
        s->load_tmr = loop_timer(s->l, m->load_ms, load_done, s);
    }
}

void sched_submit(struct sim_req *r)
{
    struct sim *s = r->s;

    if (r->m->state == M_LOADED && !r->m->evict && r->m->loaded_ctx == r->num_ctx) {
        attach(r);
        return;
    }
    if (s->npending >= s->max_queue) {
        reply_error(r->hr, 503,
                    "server busy, please try again.  maximum pending requests exceeded");
        gen_free(r);
        return;
    }
    r->where = 0;
    r->next = NULL;
    if (s->pending_tail)
        s->pending_tail->next = r;
    else
        s->pending = r;
    s->pending_tail = r;
    s->npending++;
    kick(s);
}

static void unlink_from(struct sim_req **head, struct sim_req **tail, struct sim_req *r)
{
    struct sim_req *p = NULL, *q;

    for (q = *head; q && q != r; q = q->next)
        p = q;
    if (!q)
        return;
    if (p)
        p->next = r->next;
    else
        *head = r->next;
    if (*tail == r)
        *tail = p;
}

void sched_abandon(struct sim_req *r)
{
    struct sim *s = r->s;

    if (r->where == 0) {
        unlink_from(&s->pending, &s->pending_tail, r);
        s->npending--;
    } else if (r->where == 1)
        s->loading_req = NULL;
    else if (r->where == 2)
        unlink_from(&r->m->wait, &r->m->wait_tail, r);
    else if (r->where == 3) {
        if (r->tmr)
            loop_timer_cancel(s->l, r->tmr);
        r->tmr = 0;
        sched_finish(r);
    }
    r->where = -1;
}
