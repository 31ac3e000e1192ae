/* SPDX-License-Identifier: MIT */
/*
 * pi: one Raspberry Pi 5 running Ollama, as far as routing can tell the difference
 * (docs/BENCHMARKS.md "routesim" has the figures and their sources):
 *   - Ollama's scheduler (reference/ollama-protocol.md §6): a request for a loaded model waits
 *     for one of its NPAR slots; otherwise it joins the pending queue, served one at a time in
 *     order: at MAX_RUNNERS models or without the RAM for one more, an idle model is unloaded
 *     first (shortest keep-alive, ties in a fixed order standing for the model path), or the
 *     queue waits until one is idle; then the model loads (one load at a time).
 *   - A load takes 1 s to start the runner plus the file read from storage, or from the page
 *     cache (2000 MB/s) when the file is still there: a model's file stays cached after it is
 *     unloaded while the memory not held by loaded models has room for it (least recently
 *     used files go first).
 *   - Slots and the KV cache (reference/conversation-affinity.md §1): a slot keeps the tokens
 *     of its last prompt and answer; a prompt evaluates only what follows the longest common
 *     prefix (at least one token). Up to v0.24 that is all; from v0.30 (host_cache) a slot's
 *     content is saved to the host-RAM prompt cache when another prompt takes the slot, and
 *     the best match there is copied back (0.1 s). A prompt longer than num_ctx loses its
 *     oldest messages after the first (the system prompt), so its prefix changes each turn.
 *   - The CPU: prompt evaluation and generation run at the model's rates times the node's
 *     speed, shared equally by the jobs running at once (llama.cpp's threads on 4 cores).
 *   - Heat: the SoC temperature follows dT/dt = (T_eq - T) / tau, T_eq = ambient + IDLE_K +
 *     heat_k x (speed while busy) + heat_k / 2 x outside work. From 80 C the firmware throttles
 *     the cores progressively (Raspberry Pi documentation, "Frequency management and thermal
 *     control"), to 2.2 GHz of 2.4 at 85 C (a Pi 500 under Ollama: 2.2-2.4 GHz at 80-85 C,
 *     ollama-protocol.md §8); at 85 C, the hard limit, it throttles as far as it takes to
 *     hold 85 C. A weak power supply under-volts under load: capped at 1.5 GHz while busy
 *     (an estimate).
 *   - Death: everything on the node is gone; it comes back empty (cold page cache).
 */
#include "world.h"
#include "orion/metrics.h"

#include <math.h>
#include <string.h>

#define CACHE_MBPS 2000 /* a model file read from the page cache (estimate) */
#define RUNNER_START 1.0
#define RESTORE_S 0.1   /* copying a saved prompt back from host RAM (estimate) */
#define HEAT_TICK 2.0
#define IDLE_K 15       /* C an idle Pi 5 runs above ambient (estimate) */
#define SOFT_FLOOR (2.2 / 2.4) /* throttled at 80-85 C: 2.2-2.4 GHz (ollama-protocol.md §8) */

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

unsigned prompt_tokens(const struct prompt *p) { return p->n ? p->cum[p->n - 1] : 0; }

unsigned prompt_common(const struct prompt *a, const struct prompt *b)
{
    unsigned i = 0;

    while (i < a->n && i < b->n && a->seg[i] == b->seg[i] && a->cum[i] == b->cum[i])
        i++;
    return i ? a->cum[i - 1] : 0;
}

/* What Ollama evaluates: past num_ctx the oldest messages after the first are dropped. */
static void prompt_fit(const struct prompt *in, struct prompt *out)
{
    unsigned drop = 1, base;

    *out = *in;
    while (prompt_tokens(out) > CTX_TOKENS && in->n > 2 && drop + 1 < in->n) {
        drop++;
        base = in->cum[drop - 1] - in->cum[0];
        out->n = in->n - drop + 1;
        out->seg[0] = in->seg[0];
        out->cum[0] = in->cum[0];
        for (unsigned k = 1; k < out->n; k++) {
            out->seg[k] = in->seg[k + drop - 1];
            out->cum[k] = in->cum[k + drop - 1] - base;
        }
    }
    if (prompt_tokens(out) > CTX_TOKENS) /* one message alone too long: cut it */
        out->cum[out->n - 1] = CTX_TOKENS;
}

static double ambient(const struct world *w)
{
    const struct trace *t = w->t;

    return t->ambient + (w->now >= t->hot_from && w->now < t->hot_to ? t->hot_add : 0);
}

static double outside_now(const struct world *w, const struct node *n)
{
    const struct nodecfg *c = n->cfg;

    return c->outside > 0 && w->now >= c->out_from && w->now < c->out_to ? c->outside : 0;
}

/* The cores' speed: from 80 C the firmware throttles them progressively, to 2.2 GHz of 2.4 at
 * 85 C; at 85 C it holds the temperature there, by as much throttling as that takes. */
static double hard_speed(const struct world *w, const struct node *n)
{
    double f = (85 - ambient(w) - IDLE_K - n->cfg->heat_k / 2 * outside_now(w, n)) /
               n->cfg->heat_k;

    return clampd(f, 0.25, SOFT_FLOOR);
}

static double freq_of(const struct world *w, const struct node *n)
{
    double f = n->temp >= 85   ? hard_speed(w, n)
               : n->temp >= 80 ? 1 - (1 - SOFT_FLOOR) * (n->temp - 80) / 5
                               : 1;

    if (n->cfg->weak_psu && n->nactive)
        f = f < 0.625 ? f : 0.625;
    return f;
}

/* Bring temperature, CPU work and the busy time up to now (nothing has changed since). */
static void touch(struct world *w, struct node *n)
{
    double dt = w->now - n->temp_at, teq, rate;

    if (dt > 0) {
        teq = ambient(w) + IDLE_K + n->cfg->heat_k * (n->nactive ? freq_of(w, n) : 0) +
              n->cfg->heat_k / 2 * outside_now(w, n);
        n->temp = teq + (n->temp - teq) * exp(-dt / n->cfg->tau);
        if (n->temp > 85)
            n->temp = 85; /* the firmware's hard limit */
        n->temp_at = w->now;
    }
    if (n->temp >= 80)
        n->throttled_occ |= THROTTLE_THROTTLED_OCCURRED | THROTTLE_SOFT_TEMP_OCCURRED |
                            THROTTLE_FREQ_CAPPED_OCCURRED;
    dt = w->now - n->cpu_at;
    if (dt > 0 && n->nactive) {
        rate = n->speed / (double)n->nactive;
        for (size_t k = 0; k < n->nactive; k++)
            w->job[n->active[k]].work -= dt * rate;
        n->busy_int += dt;
    }
    n->cpu_at = w->now;
}

static size_t node_index(const struct world *w, const struct node *n)
{
    return (size_t)(n - w->node);
}

/* The speed from now on, and the next phase end. */
static void reschedule(struct world *w, struct node *n)
{
    double least, rate;

    n->speed = freq_of(w, n) / (1 + outside_now(w, n));
    n->cpu_gen++;
    if (!n->nactive)
        return;
    least = w->job[n->active[0]].work;
    for (size_t k = 1; k < n->nactive; k++)
        if (w->job[n->active[k]].work < least)
            least = w->job[n->active[k]].work;
    rate = n->speed / (double)n->nactive;
    evq_set(&w->q, EVKEY_CPU(node_index(w, n)), w->now + (least > 0 ? least : 0) / rate, EV_CPU,
            (int)node_index(w, n), n->cpu_gen);
    if (!n->heat_tick) {
        n->heat_tick = true;
        evq_push(&w->q, w->now + HEAT_TICK, EV_HEAT, (int)node_index(w, n), 0);
    }
}

static struct runner *runner_of(struct node *n, int model)
{
    for (int r = 0; r < MAX_RUNNERS; r++)
        if (n->run[r].model == model)
            return &n->run[r];
    return NULL;
}

static void push(struct world *w, int *head, int *tail, int req)
{
    w->job[req].next = -1;
    if (*tail >= 0)
        w->job[*tail].next = req;
    else
        *head = req;
    *tail = req;
}

static int pop(struct world *w, int *head, int *tail)
{
    int r = *head;

    if (r >= 0) {
        *head = w->job[r].next;
        if (*head < 0)
            *tail = -1;
        w->job[r].next = -1;
    }
    return r;
}

/* Save a slot's prompt in the host cache: a free entry, else over the least recently used
 * one other than keep (the one about to be copied back). */
static void hc_save(struct runner *r, const struct prompt *p, double used, int keep)
{
    unsigned k = 0;

    if (r->nhc < HOSTC_MAX) {
        k = r->nhc++;
    } else {
        for (unsigned i = 0; i < r->nhc; i++)
            if ((int)i != keep && ((int)k == keep || r->hc_used[i] < r->hc_used[k]))
                k = i;
    }
    r->hc[k] = *p;
    r->hc_used[k] = used;
}

/* Give req a free slot of r (the one its prompt shares most with) and start evaluating. */
static void start(struct world *w, struct node *n, struct runner *r, int req)
{
    const struct treq *q = &w->t->r[req];
    struct job *j = &w->job[req];
    struct prompt fit;
    unsigned common = 0, c;
    int s = -1, h = -1;
    double extra = 0;

    prompt_fit(&q->pr, &fit);
    for (int k = 0; k < NPAR; k++)
        if (!r->slot_busy[k] && (s < 0 || prompt_common(&r->slot[k], &fit) > common)) {
            s = k;
            common = prompt_common(&r->slot[k], &fit);
        }
    if (n->cfg->host_cache) {
        for (unsigned k = 0; k < r->nhc; k++)
            if ((c = prompt_common(&r->hc[k], &fit)) > common) {
                common = c;
                h = (int)k;
            }
        if (r->slot[s].n &&
            (h >= 0 || 2 * prompt_common(&r->slot[s], &fit) < prompt_tokens(&r->slot[s])))
            hc_save(r, &r->slot[s], r->slot_used[s], h);
        if (h >= 0) {
            r->hc[h] = r->hc[--r->nhc];
            extra = RESTORE_S;
        }
    }
    j->prompt = prompt_tokens(&fit);
    j->uncached = j->prompt - (common < j->prompt ? common : j->prompt - 1);
    if (q->kind == RK_TURN && q->turn > 1) {
        if (j->uncached * 2 < j->prompt)
            w->out->hits++;
        else
            w->out->misses++;
    }
    r->slot[s] = fit;
    r->slot_busy[s] = true;
    r->slot_used[s] = w->now;
    r->busy++;
    r->expires = 0;
    j->phase = J_PREFILL;
    j->pstart = w->now;
    if (j->ready < 0)
        j->ready = w->now;
    j->work = extra + j->uncached / models[q->model].pp_tps;
    j->next = s; /* the slot it runs in, while running */
    touch(w, n);
    n->active[n->nactive++] = req;
    reschedule(w, n);
}

static void runner_take(struct world *w, struct node *n, struct runner *r, int req)
{
    int free = 0;

    for (int k = 0; k < NPAR; k++)
        free += !r->slot_busy[k];
    w->job[req].phase = J_RUNQ;
    if (r->ready && free && r->qhead < 0)
        start(w, n, r, req);
    else
        push(w, &r->qhead, &r->qtail, req);
}

static double mem_used(const struct node *n)
{
    double m = OS_MB;

    for (int r = 0; r < MAX_RUNNERS; r++)
        if (n->run[r].model >= 0)
            m += models[n->run[r].model].ram_mb;
    return m;
}

/* Page cache: the least recently used files go until the rest fits beside the models. */
static void trim_cache(struct node *n)
{
    double room = n->cfg->ram_mb - mem_used(n) - 200, sum = 0;
    int lru;

    for (int m = 0; m < NMODELS; m++)
        sum += n->cached[m] ? models[m].file_mb : 0;
    while (sum > room && sum > 0) {
        lru = -1;
        for (int m = 0; m < NMODELS; m++)
            if (n->cached[m] && (lru < 0 || n->cached_at[m] < n->cached_at[lru]))
                lru = m;
        n->cached[lru] = false;
        sum -= models[lru].file_mb;
    }
}

static void unload(struct world *w, struct node *n, struct runner *r)
{
    n->cached[r->model] = true;
    n->cached_at[r->model] = w->now;
    r->model = -1;
    r->ready = false;
    r->gen++;
    r->nhc = 0;
    memset(r->slot, 0, sizeof(r->slot));
    trim_cache(n);
}

/* A fixed order standing for Ollama's tie-break by model path. */
static unsigned path_order(int model) { return (unsigned)(model * 2654435761u) >> 7; }

static struct runner *victim(struct node *n)
{
    struct runner *v = NULL;

    for (int k = 0; k < MAX_RUNNERS; k++) {
        struct runner *r = &n->run[k];
        if (r->model < 0 || !r->ready || r->busy || r->qhead >= 0)
            continue;
        if (!v || path_order(r->model) < path_order(v->model))
            v = r;
    }
    return v;
}

/* Ollama's pending queue: one request at a time, in order. */
static void sched(struct world *w, struct node *n)
{
    int h, m, nr;
    struct runner *r, *v;
    double need;

    while (!n->loading && n->phead >= 0) {
        h = n->phead;
        m = w->t->r[h].model;
        if ((r = runner_of(n, m))) {
            pop(w, &n->phead, &n->ptail);
            runner_take(w, n, r, h);
            continue;
        }
        need = models[m].ram_mb;
        for (;;) {
            nr = 0;
            for (int k = 0; k < MAX_RUNNERS; k++)
                nr += n->run[k].model >= 0;
            if (nr < MAX_RUNNERS && n->cfg->ram_mb - mem_used(n) >= need)
                break;
            if (!(v = victim(n)))
                return; /* waits until a model is idle */
            unload(w, n, v);
        }
        r = runner_of(n, -1);
        r->model = m;
        r->ready = false;
        r->gen++;
        n->loading = true;
        evq_push(&w->q,
                 w->now + RUNNER_START +
                     models[m].file_mb / (n->cached[m] ? CACHE_MBPS : n->cfg->disk_mbps),
                 EV_LOADED, (int)node_index(w, n), r->gen * MAX_RUNNERS + (uint64_t)(r - n->run));
        n->cached[m] = false;
        trim_cache(n);
        on_cold_load(w, node_index(w, n), m);
        pop(w, &n->phead, &n->ptail);
        runner_take(w, n, r, h);
    }
}

void node_submit(struct world *w, size_t i, int req)
{
    struct node *n = &w->node[i];
    struct job *j = &w->job[req];
    struct runner *r = runner_of(n, w->t->r[req].model);

    j->node = (int)i;
    j->submit = w->now;
    j->ready = -1;
    if (r) {
        runner_take(w, n, r, req);
        return;
    }
    j->phase = J_PENDING;
    push(w, &n->phead, &n->ptail, req);
    sched(w, n);
}

void node_worker(struct world *w, size_t i)
{
    struct node *n = &w->node[i];
    int req;

    while (n->alive && n->wbusy < 1 && (req = pop(w, &n->whead, &n->wtail)) >= 0) {
        n->wbusy++;
        node_submit(w, i, req);
    }
}

static void idle_check(struct world *w, struct node *n, struct runner *r)
{
    if (r->busy || r->qhead >= 0 || !r->ready)
        return;
    r->expires = w->now + KEEP_ALIVE;
    evq_set(&w->q, EVKEY_EXPIRE(w->nn, node_index(w, n), (size_t)(r - n->run)), r->expires,
            EV_EXPIRE, (int)node_index(w, n), r->gen * MAX_RUNNERS + (uint64_t)(r - n->run));
}

/* A job ends: its slot keeps prompt + answer; the runner's next waiting request starts. */
static void finish(struct world *w, struct node *n, int req)
{
    const struct treq *q = &w->t->r[req];
    struct runner *r = runner_of(n, q->model);
    struct job *j = &w->job[req];
    int s = j->next, nxt;
    struct prompt *sl = &r->slot[s];

    if (sl->n < SEG_MAX && prompt_tokens(sl) + q->out_tokens <= CTX_TOKENS) {
        sl->seg[sl->n] = ((uint64_t)req << 8) | 0xa5; /* the answer: the next turn's message */
        sl->cum[sl->n] = prompt_tokens(sl) + q->out_tokens;
        sl->n++;
    } else {
        sl->n = 0; /* the context shifted: it matches nothing the client sends */
    }
    r->slot_busy[s] = false;
    r->slot_used[s] = w->now;
    r->busy--;
    j->phase = J_DONE;
    j->next = -1;
    while (r->qhead >= 0 && r->busy < NPAR && r->ready) {
        nxt = pop(w, &r->qhead, &r->qtail);
        start(w, n, r, nxt);
    }
    idle_check(w, n, r);
}

static void cpu_event(struct world *w, struct node *n, uint64_t gen)
{
    int done[MAX_ACTIVE], first[MAX_ACTIVE];
    size_t nd = 0, nf = 0, k = 0;
    struct job *j;

    if (gen != n->cpu_gen || !n->alive)
        return;
    touch(w, n);
    while (k < n->nactive) {
        j = &w->job[n->active[k]];
        if (j->work > 1e-9) {
            k++;
            continue;
        }
        if (j->phase == J_PREFILL) {
            j->phase = J_GEN;
            j->first = w->now;
            j->work = w->t->r[n->active[k]].out_tokens /
                      models[w->t->r[n->active[k]].model].gen_tps;
            first[nf++] = n->active[k];
            continue;
        }
        done[nd++] = n->active[k];
        n->active[k] = n->active[--n->nactive];
    }
    for (k = 0; k < nd; k++)
        finish(w, n, done[k]);
    sched(w, n);
    reschedule(w, n);
    for (k = 0; k < nf; k++)
        on_first(w, first[k]);
    for (k = 0; k < nd; k++) {
        if (w->peer != P_NGINX && n->wbusy > 0)
            n->wbusy--;
        on_done(w, done[k], node_index(w, n));
    }
    if (nd)
        node_worker(w, node_index(w, n));
}

static void take_everything(struct world *w, struct node *n)
{
    size_t i = node_index(w, n);

    for (size_t r = 0; r < w->t->n; r++) {
        struct job *j = &w->job[r];
        if (j->node == (int)i && j->phase != J_DONE && j->phase != J_NONE &&
            j->phase != J_LOST) {
            j->phase = J_LOST;
            j->gen++;
        }
    }
}

void node_init(struct world *w, size_t i)
{
    struct node *n = &w->node[i];
    const struct nodecfg *cfg = &w->t->node[i];

    memset(n, 0, sizeof(*n));
    n->cfg = cfg;
    n->alive = true;
    for (int r = 0; r < MAX_RUNNERS; r++) {
        n->run[r].model = -1;
        n->run[r].qhead = n->run[r].qtail = -1;
    }
    n->phead = n->ptail = n->whead = n->wtail = -1;
    n->temp = ambient(w) + IDLE_K;
    n->temp_at = n->cpu_at = n->busy_at = w->now;
    n->speed = 1;
}

void node_event(struct world *w, const struct event *e)
{
    struct node *n = &w->node[e->a];
    struct runner *r;

    switch (e->type) {
    case EV_CPU:
        cpu_event(w, n, e->b);
        break;
    case EV_LOADED:
        r = &n->run[e->b % MAX_RUNNERS];
        if (!n->alive || r->gen != e->b / MAX_RUNNERS)
            break;
        r->ready = true;
        n->loading = false;
        while (r->qhead >= 0 && r->busy < NPAR)
            start(w, n, r, pop(w, &r->qhead, &r->qtail));
        idle_check(w, n, r);
        sched(w, n);
        break;
    case EV_EXPIRE:
        r = &n->run[e->b % MAX_RUNNERS];
        if (n->alive && r->gen == e->b / MAX_RUNNERS && r->model >= 0 && !r->busy &&
            r->qhead < 0 && r->expires > 0 && r->expires <= w->now) {
            unload(w, n, r);
            sched(w, n);
        }
        break;
    case EV_HEAT:
        n->heat_tick = false;
        if (!n->alive)
            break;
        touch(w, n);
        if (n->nactive)
            reschedule(w, n);
        break;
    case EV_DIE:
        touch(w, n);
        take_everything(w, n);
        n->alive = false;
        n->nactive = 0;
        n->cpu_gen++;
        on_lost_node(w, (size_t)e->a);
        break;
    case EV_REVIVE:
        node_init(w, (size_t)e->a);
        break;
    default:
        break;
    }
}

/* MemTotal - MemAvailable: the model files are mapped (page cache, available), so what a
 * loaded model adds is its KV cache and buffers, ram_mb - file_mb. */
double node_ram_percent(const struct world *w, size_t i)
{
    const struct node *n = &w->node[i];
    double used = OS_MB;

    for (int r = 0; r < MAX_RUNNERS; r++)
        if (n->run[r].model >= 0)
            used += models[n->run[r].model].ram_mb - models[n->run[r].model].file_mb;
    return 100 * used / n->cfg->ram_mb;
}

double node_temp(struct world *w, size_t i)
{
    touch(w, &w->node[i]); /* the temperature is brought up to now lazily */
    return w->node[i].temp;
}

bool node_bad(struct world *w, size_t i)
{
    return !w->node[i].alive || node_temp(w, i) > 75 || node_ram_percent(w, i) > 90;
}

void node_health(struct world *w, size_t i, struct route_node *rn, const char **names,
                 size_t *nnames)
{
    struct node *n = &w->node[i];
    double dt, busy;
    unsigned long now_bits = 0;

    touch(w, n);
    dt = w->now - n->busy_at;
    busy = dt > 0 ? clampd(n->busy_int / dt, 0, 1) : (n->nactive ? 1 : 0);
    n->busy_int = 0;
    n->busy_at = w->now;
    *nnames = 0;
    for (int r = 0; r < MAX_RUNNERS; r++)
        if (n->run[r].model >= 0 && n->run[r].ready)
            names[(*nnames)++] = models[n->run[r].model].name;
    if (n->temp >= 80)
        now_bits |= THROTTLE_THROTTLED | THROTTLE_FREQ_CAPPED | THROTTLE_SOFT_TEMP;
    if (n->cfg->weak_psu && n->nactive) {
        now_bits |= THROTTLE_UNDERVOLT | THROTTLE_FREQ_CAPPED;
        n->throttled_occ |= THROTTLE_UNDERVOLT_OCCURRED | THROTTLE_FREQ_CAPPED_OCCURRED;
    }
    memset(rn, 0, sizeof(*rn));
    rn->id = n->cfg->id;
    rn->last_seen = w->now;
    rn->available = ROUTE_AVAIL_YES;
    rn->has_temp = true;
    rn->temp_c = floor(n->temp * 10 + 0.5) / 10;
    rn->ram_percent = floor(node_ram_percent(w, i) * 10 + 0.5) / 10;
    rn->ram_total_mb = (unsigned long)n->cfg->ram_mb;
    rn->models = names;
    rn->nmodels = *nnames;
    rn->capacity = 1;
    rn->has_throttled = true;
    rn->throttled = now_bits | n->throttled_occ;
    rn->cpu_percent = 100 * clampd(busy + (1 - busy) * outside_now(w, n), 0, 1);
    rn->host_cache = n->cfg->host_cache;
}

double node_predict(const struct world *w, size_t i, int req, double *load_s)
{
    const struct node *n = &w->node[i];
    const struct treq *q = &w->t->r[req];
    const struct model *m = &models[q->model];
    struct prompt fit;
    unsigned common = 0, p;
    double speed = freq_of(w, n) / (1 + outside_now(w, n));

    prompt_fit(&q->pr, &fit);
    *load_s = 0;
    for (int k = 0; k < MAX_RUNNERS; k++) {
        const struct runner *r = &n->run[k];
        if (r->model != q->model)
            continue;
        for (int s = 0; s < NPAR; s++)
            if (prompt_common(&r->slot[s], &fit) > common)
                common = prompt_common(&r->slot[s], &fit);
        for (unsigned h = 0; n->cfg->host_cache && h < r->nhc; h++)
            if (prompt_common(&r->hc[h], &fit) > common)
                common = prompt_common(&r->hc[h], &fit);
        if (!r->ready)
            *load_s = RUNNER_START; /* loading: at most this much left, an underestimate */
        goto found;
    }
    *load_s = RUNNER_START + m->file_mb / (n->cached[q->model] ? CACHE_MBPS : n->cfg->disk_mbps);
found:
    p = prompt_tokens(&fit);
    if (common >= p)
        common = p - 1;
    return (double)(p - common) / m->pp_tps / speed + q->out_tokens / m->gen_tps / speed;
}

double req_floor(const struct trace *t, size_t i)
{
    const struct treq *q = &t->r[i], *a;
    const struct model *m = &models[q->model];
    struct prompt fit, prev;
    unsigned common = 0, p;

    prompt_fit(&q->pr, &fit);
    if (q->kind != RK_SINGLE && fit.n > 1)
        common = fit.cum[0]; /* a system prompt or task template, shared with other chats */
    if (q->after >= 0 && (a = &t->r[q->after])->model == q->model) {
        prompt_fit(&a->pr, &prev); /* its slot after the answer, as finish() leaves it */
        if (prev.n < SEG_MAX && prompt_tokens(&prev) + a->out_tokens <= CTX_TOKENS) {
            prev.seg[prev.n] = ((uint64_t)q->after << 8) | 0xa5;
            prev.cum[prev.n] = prompt_tokens(&prev) + a->out_tokens;
            prev.n++;
            if (prompt_common(&prev, &fit) > common)
                common = prompt_common(&prev, &fit);
        }
    }
    p = prompt_tokens(&fit);
    if (common >= p)
        common = p - 1;
    return (double)(p - common) / m->pp_tps + q->out_tokens / m->gen_tps;
}
