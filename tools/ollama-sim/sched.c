/* SPDX-License-Identifier: MIT */
/*
 * sched: Ollama's scheduler, as of v0.11.5+. A request for a loaded model goes straight to
 * the model and waits there for one of num_parallel slots (no limit). A request that needs a
 * load joins the pending queue (max_queue, else 503); one loader takes them in order, one
 * load at a time. With max_loaded models resident it evicts the idle one with the shortest
 * keep-alive, or marks the shortest busy one and waits for it. An idle model unloads when its
 * keep-alive runs out (0: at once; negative: never). load_duration counts from the request.
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

struct meta {
    const char *name, *digest, *family, *psize, *quant, *caps;
    long long disk, ram;
    long long modified_ms;
};

/* library metadata of the reference (section 5.2); ram = /api/ps size at context 4096 */
static const struct meta known[] = {
    {"llama3.2:3b", "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72", "llama",
     "3.2B", "Q4_K_M", "\"completion\",\"tools\"", 2019393189LL, 3341983744LL, 1754900000000LL},
    {"llama3.2:1b", "baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878", "llama",
     "1.2B", "Q8_0", "\"completion\",\"tools\"", 1321098329LL, 1514584145LL, 1754123499913LL},
    {"gemma3:1b", "8648f39daa8fbf5b18c7b4e6a8fb4990c692751d49917417b8842ca5758e7ffc", "gemma3",
     "999.89M", "Q4_K_M", "\"completion\"", 815319791LL, 1393800000LL, 1755457484857LL},
    {"qwen2.5:0.5b", "a8b0c51577010a279d933d14c2a8ab4b268079d44c5c8830c0a93900f1827c67", "qwen2",
     "494.03M", "Q4_K_M", "\"completion\",\"tools\"", 397821319LL, 859832320LL, 1755015070408LL},
};

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int sim_add_model(struct sim *s, const char *name, long load_ms)
{
    struct sim_model *m;
    size_t i;
    uint32_t h = fnv(name);

    if (s->nmodels >= SIM_MAX_MODELS || strlen(name) >= sizeof m->name || !*name)
        return -1;
    m = &s->models[s->nmodels++];
    memset(m, 0, sizeof *m);
    m->s = s;
    snprintf(m->name, sizeof m->name, "%s", name);
    m->load_ms = load_ms;
    m->keep_alive_ns = s->default_ka_ns;
    for (i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].name, name) == 0)
            break;
    if (i < sizeof known / sizeof known[0]) {
        const struct meta *k = &known[i];

        snprintf(m->digest, sizeof m->digest, "%s", k->digest);
        snprintf(m->family, sizeof m->family, "%s", k->family);
        snprintf(m->psize, sizeof m->psize, "%s", k->psize);
        snprintf(m->quant, sizeof m->quant, "%s", k->quant);
        snprintf(m->caps, sizeof m->caps, "%s", k->caps);
        m->disk_size = k->disk, m->ram_size = k->ram, m->modified_ms = k->modified_ms;
        return 0;
    }
    for (i = 0; i < 64; i += 8) /* a made-up model: everything derived from its name */
        snprintf(m->digest + i, 9, "%08x", (unsigned)(h * (2654435761u + (unsigned)i)));
    snprintf(m->family, sizeof m->family, "llama");
    snprintf(m->psize, sizeof m->psize, "1.0B");
    snprintf(m->quant, sizeof m->quant, "Q4_K_M");
    snprintf(m->caps, sizeof m->caps, "\"completion\"");
    m->disk_size = 500000000LL + (long long)(h % 1000000000u);
    m->ram_size = m->disk_size + m->disk_size / 7;
    m->modified_ms = 1754000000000LL + (long long)(h % 1000000u) * 1000;
    return 0;
}

struct sim_model *sim_find_model(struct sim *s, const char *name)
{
    char full[ORION_MODEL_MAX + 8];
    int i;

    snprintf(full, sizeof full, "%s:latest", name);
    for (i = 0; i < s->nmodels; i++)
        if (strcmp(s->models[i].name, name) == 0 ||
            (!strchr(name, ':') && strcmp(s->models[i].name, full) == 0))
            return &s->models[i];
    return NULL;
}

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
    if (m->active < m->s->num_parallel) {
        m->active++;
        r->where = 3;
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
             (ka == (unsigned long long)best_idle->keep_alive_ns && strcmp(m->name, best_idle->name) < 0)))
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

    if (r->m->state == M_LOADED && !r->m->evict) {
        attach(r);
        return;
    }
    if (s->npending >= s->max_queue) {
        reply_error(r->hr, 503, "server busy, please try again.  maximum pending requests exceeded");
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

static void ps_entry(struct buf *b, const struct sim_model *m)
{
    char exp[64];

    go_time_local(exp, m->expires_ms);
    buf_puts(b, "{\"name\":");
    go_quote(b, m->name, strlen(m->name));
    buf_puts(b, ",\"model\":");
    go_quote(b, m->name, strlen(m->name));
    buf_printf(b, ",\"size\":%lld,\"digest\":\"%s\",\"details\":{\"parent_model\":\"\",\"format\":"
                  "\"gguf\",\"family\":\"%s\",\"families\":[\"%s\"],\"parameter_size\":\"%s\","
                  "\"quantization_level\":\"%s\"},\"expires_at\":\"%s\",\"size_vram\":0,"
                  "\"context_length\":4096}",
               m->ram_size, m->digest, m->family, m->family, m->psize, m->quant, exp);
}

void sim_ps_json(struct sim *s, struct buf *out)
{
    bool done[SIM_MAX_MODELS] = {false};
    int i, k, n = 0;

    buf_puts(out, "{\"models\":[");
    for (;;) { /* by expires_at, latest first */
        int best = -1;

        for (i = 0; i < s->nmodels; i++)
            if (!done[i] && s->models[i].state == M_LOADED &&
                (best < 0 || s->models[i].expires_ms > s->models[best].expires_ms))
                best = i;
        if (best < 0)
            break;
        done[best] = true;
        k = best;
        if (n++)
            buf_putc(out, ',');
        ps_entry(out, &s->models[k]);
    }
    buf_puts(out, "]}");
}
