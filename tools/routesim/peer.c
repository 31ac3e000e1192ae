/* SPDX-License-Identifier: MIT */
/*
 * peer: who decides where a request runs.
 *   The router's policies (ours = sticky bound late; first-fit, least-conn, round-robin,
 *   random; the ablations) run the core from liborion.a exactly as the daemon does: every
 *   node's health record every 5 s (route_state_update_one), every answer as a done event at
 *   once (route_note_finished), route_dispatch on every arrival and answer and on the 1 s
 *   timer that also takes in the health records (the daemon's refresh); a node
 *   whose record is older than 15 s is stale, and what was sent to it is sent again (the
 *   daemon's failover). A request goes into the node's stream; the worker there runs one at
 *   a time (--parallel 1).
 *   nginx least_conn (the cluster-sim's configuration: proxy_read_timeout 300s, defaults
 *   otherwise: max_fails=1, fail_timeout=10s, proxy_next_upstream error timeout): straight to
 *   Ollama, to the node with the fewest open connections (ties in turn), blind to models and
 *   health. A connection to a dead node fails after 3 s (no ARP answer): the node is marked
 *   failed for 10 s and the request goes to the next one. A request in flight on a node that
 *   dies fails when the read times out (300 s); a POST already sent is not passed on: lost.
 *   The clairvoyant: holds requests like ours and, knowing every run time in advance (the
 *   node model's own prediction, cache and load included) and the sensor's truth, gives each
 *   waiting request, in order, the node where it would finish first, waiting for a busy one
 *   when that is sooner. It knows at once when a node dies.
 */
#include "world.h"
#include "orion/route_tune.h"

#include <stdlib.h>
#include <string.h>

#define STALE_AFTER 15
#define MAXOUT 256

const char *const peer_names[P_N] = {"ours",    "first-fit", "least-conn", "round-robin",
                                     "random",  "nginx",     "clairvoyant", "ours-early",
                                     "least-conn-late"};

/* --set: ours' settings that differ from the router's defaults, applied in the order given. */
#define MAXSET 32
static char set_name[MAXSET][32];
static double set_value[MAXSET];
static size_t nset;

int sim_set(const char *name, double value)
{
    struct route_settings scratch;

    route_settings_init(&scratch);
    if (nset == MAXSET || strlen(name) >= sizeof(set_name[0]) ||
        route_tune_set(&scratch, name, value) < 0)
        return -1;
    strcpy(set_name[nset], name);
    set_value[nset++] = value;
    return 0;
}

void sim_settings(struct route_settings *s)
{
    for (size_t k = 0; k < nset; k++)
        (void)route_tune_set(s, set_name[k], set_value[k]); /* checked by sim_set */
}

struct router {
    /* core peers */
    struct route_settings s;
    struct route_state st;
    struct route_node view[MAXNODES];
    const char *names[MAXNODES][MAX_RUNNERS];
    size_t nnames[MAXNODES];
    struct route_request *rq;  /* per request */
    int *held;                 /* request indices, in route_request_cmp order */
    size_t nheld;
    const struct route_request **hp;
    struct route_assign out[MAXOUT];
    int *where;                /* per request: the node it was sent to, -1 */
    unsigned nwhere[MAXNODES]; /* requests whose where is that node */
    /* nginx */
    int conns[MAXNODES];
    double down_until[MAXNODES];
    size_t rr;
    unsigned char *tried;      /* per request x node */
    /* clairvoyant */
    double busy_until[MAXNODES];
    int running[MAXNODES];
    double claim[MAXNODES];
    bool cl_hot[MAXNODES];
};

static bool core_peer(enum peer p) { return p != P_NGINX && p != P_CLAIRVOYANT; }

/* The router of the run in progress, kept from run to run (its fresh pages cost more than
 * clearing it): run_sim is not reentrant. */
static struct router *KEEP;

void router_init(struct world *w)
{
    struct router *R = KEEP ? KEEP : (KEEP = malloc(sizeof(*R)));
    size_t n = w->t->n;

    if (R)
        memset(R, 0, sizeof(*R));
    if (!R || !(R->rq = calloc(n, sizeof(*R->rq))) || !(R->held = calloc(n, sizeof(int))) ||
        !(R->hp = calloc(n, sizeof(*R->hp))) || !(R->where = calloc(n, sizeof(int))) ||
        !(R->tried = calloc(n * w->nn, 1)))
        abort();
    w->router = R;
    route_settings_init(&R->s);
    route_state_init(&R->st);
    R->s.stale_after = STALE_AFTER;
    if (w->peer == P_OURS)
        sim_settings(&R->s);
    switch (w->peer) {
    case P_FIRST_FIT: R->s.policy = ROUTE_POLICY_FIRST_FIT; break;
    case P_LEAST_CONN: R->s.policy = ROUTE_POLICY_LEAST_CONN; break;
    case P_ROUND_ROBIN: R->s.policy = ROUTE_POLICY_ROUND_ROBIN; break;
    case P_RANDOM: R->s.policy = ROUTE_POLICY_RANDOM; break;
    case P_OURS_EARLY: R->s.binding = ROUTE_BIND_EARLY; break;
    case P_LC_LATE:
        R->s.policy = ROUTE_POLICY_LEAST_CONN;
        R->s.binding = ROUTE_BIND_LATE;
        break;
    default: break;
    }
    for (size_t i = 0; i < n; i++) {
        R->where[i] = -1;
        R->rq[i].model = models[w->t->r[i].model].name;
        R->rq[i].priority = w->t->r[i].prio;
        R->rq[i].conv = &w->t->r[i].conv;
        R->rq[i].keep_alive_s = KEEP_ALIVE;
        R->rq[i].rnd = (unsigned long)rng_next(&w->rng);
    }
    for (size_t i = 0; i < w->nn; i++) {
        R->view[i].id = w->t->node[i].id; /* never seen: stale until its first record */
        R->view[i].ram_percent = -1;
        R->running[i] = -1;
    }
}

void router_free(struct world *w)
{
    struct router *R = w->router;

    if (!R)
        return;
    free(R->rq);
    free(R->held);
    free(R->hp);
    free(R->where);
    free(R->tried);
    w->router = NULL;
}

static void hold(struct world *w, int req)
{
    struct router *R = w->router;
    size_t i = R->nheld;

    R->rq[req].arrived = w->res[req].arrive;
    R->rq[req].id = (unsigned long long)req | (unsigned long long)w->job[req].attempts << 32;
    while (i > 0 && R->rq[req].arrived < R->rq[R->held[i - 1]].arrived) { /* arrival order */
        R->held[i] = R->held[i - 1];
        i--;
    }
    R->held[i] = req;
    R->nheld++;
}

static void count_send(struct world *w, size_t node, bool health_bad)
{
    if (node_bad(w, node))
        w->out->hot_sends++;
    if (health_bad)
        w->out->hot_sends_health++;
}

static void send_worker(struct world *w, int req, size_t node)
{
    struct node *n = &w->node[node];
    struct job *j = &w->job[req];

    j->attempts++;
    j->node = (int)node;
    j->sent = w->now;
    j->phase = J_WORKERQ;
    j->next = -1;
    if (n->wtail >= 0)
        w->job[n->wtail].next = req;
    else
        n->whead = req;
    n->wtail = req;
    node_worker(w, node);
}

/* The view's verdict when the router sent there: hot, full or stale by its own records. */
static bool view_bad(const struct router *R, size_t i, double now)
{
    const struct route_node *v = &R->view[i];

    return v->last_seen <= 0 || now - v->last_seen > R->s.stale_after ||
           (v->has_temp && v->temp_c > R->s.max_temp) || v->ram_percent > R->s.max_ram;
}

static void core_dispatch(struct world *w)
{
    struct router *R = w->router;
    size_t n, k;

    do {
        for (size_t i = 0; i < R->nheld; i++)
            R->hp[i] = &R->rq[R->held[i]];
        n = route_dispatch(R->view, w->nn, R->hp, R->nheld, &R->s, &R->st, w->now, R->out,
                           MAXOUT);
        for (size_t i = 0; i < n; i++) {
            int req = R->held[R->out[i].req];
            size_t node = (size_t)R->out[i].node;
            R->where[req] = (int)node;
            R->nwhere[node]++;
            count_send(w, node, view_bad(R, node, w->now));
            send_worker(w, req, node);
        }
        /* drop the assigned ones, keeping the order */
        for (size_t i = 0; i < n; i++)
            R->held[R->out[i].req] = -1;
        k = 0;
        for (size_t i = 0; i < R->nheld; i++)
            if (R->held[i] >= 0)
                R->held[k++] = R->held[i];
        R->nheld = k;
    } while (n == MAXOUT);
}

/* ---- nginx least_conn ---------------------------------------------------------------------- */
static void nginx_send(struct world *w, int req)
{
    struct router *R = w->router;
    unsigned char *tried = &R->tried[(size_t)req * w->nn];
    size_t best = w->nn, k;

    for (size_t c = 0; c < w->nn; c++) { /* from the round-robin position: ties in turn */
        k = (R->rr + c) % w->nn;
        if (tried[k] || R->down_until[k] > w->now)
            continue;
        if (best == w->nn || R->conns[k] < R->conns[best])
            best = k;
    }
    if (best == w->nn) { /* no live upstream: 502 */
        w->job[req].phase = J_LOST;
        on_done(w, req, w->nn);
        return;
    }
    R->rr = (best + 1) % w->nn;
    tried[best] = 1;
    w->job[req].attempts++;
    w->job[req].node = (int)best;
    w->job[req].sent = w->now;
    count_send(w, best, node_bad(w, best));
    if (!w->node[best].alive) {
        w->job[req].phase = J_WORKERQ; /* connecting */
        evq_push(&w->q, w->now + 3, EV_NGINX_FAIL, req, best);
        return;
    }
    R->conns[best]++;
    node_submit(w, best, req);
}

void router_nginx_fail(struct world *w, int req, size_t node)
{
    struct router *R = w->router;
    bool connected = w->job[req].phase == J_LOST;

    R->down_until[node] = w->now + 10;
    if (connected) { /* read timed out after the request was sent: not passed on */
        R->conns[node]--;
        on_done(w, req, w->nn);
        return;
    }
    nginx_send(w, req);
}

/* ---- the clairvoyant ----------------------------------------------------------------------- */
/* The sensor's truth with the router's hysteresis: out above 75 C until back at 72. */
static bool truth_ok(struct world *w, size_t i)
{
    struct router *R = w->router;
    double t = node_temp(w, i);

    if (!w->node[i].alive || node_ram_percent(w, i) > 90)
        return false;
    if (t > 75)
        R->cl_hot[i] = true;
    else if (t <= 72)
        R->cl_hot[i] = false;
    return !R->cl_hot[i];
}

static void clair_dispatch(struct world *w)
{
    struct router *R = w->router;
    size_t k = 0, free = 0;

    for (size_t i = 0; i < w->nn; i++) {
        R->claim[i] = 0;
        free += R->running[i] < 0 && truth_ok(w, i);
    }
    for (size_t h = 0; h < R->nheld; h++) {
        int req = R->held[h];
        double best = -1, bt = 0, load, t, start;
        size_t bn = w->nn;
        if (!free) {
            R->held[k++] = req;
            continue;
        }
        for (size_t i = 0; i < w->nn; i++) {
            if (!truth_ok(w, i))
                continue;
            t = node_predict(w, i, req, &load) + load;
            start = R->running[i] < 0 ? w->now : R->busy_until[i] + R->claim[i];
            if (start < w->now)
                start = w->now;
            if (best < 0 || start + t < best) {
                best = start + t;
                bn = i;
                bt = t;
            }
        }
        if (bn == w->nn || R->running[bn] >= 0) {
            if (bn < w->nn)
                R->claim[bn] += bt;
            R->held[k++] = req;
            continue;
        }
        R->running[bn] = req;
        R->busy_until[bn] = w->now + bt;
        free--;
        count_send(w, bn, false);
        send_worker(w, req, bn);
    }
    R->nheld = k;
}

/* ---- events -------------------------------------------------------------------------------- */
void router_arrive(struct world *w, int req)
{
    if (w->peer == P_NGINX) {
        nginx_send(w, req);
        return;
    }
    hold(w, req);
    if (w->peer == P_CLAIRVOYANT)
        clair_dispatch(w);
    else
        core_dispatch(w);
}

void router_done(struct world *w, int req, size_t node)
{
    struct router *R = w->router;
    const struct job *j = &w->job[req];
    struct route_answer a;

    if (w->peer == P_NGINX) {
        R->conns[node]--;
        return;
    }
    if (R->where[req] >= 0)
        R->nwhere[R->where[req]]--;
    R->where[req] = -1;
    if (w->peer == P_CLAIRVOYANT) {
        R->running[node] = -1;
        clair_dispatch(w);
        return;
    }
    route_answer_init(&a);
    a.total_ms = (w->now - j->submit) * 1000;
    a.load_ms = (j->ready - j->submit) * 1000;
    a.prompt_ms = (j->first - j->pstart) * 1000;
    a.eval_ms = (w->now - j->first) * 1000;
    a.prompt_count = j->prompt;
    a.eval_count = w->t->r[req].out_tokens;
    route_note_finished(&R->st, w->t->node[node].id, R->rq[req].id, R->rq[req].model, &a,
                        &R->s, w->now);
    core_dispatch(w);
}

void router_health(struct world *w, size_t node)
{
    struct router *R = w->router;

    if (!core_peer(w->peer))
        return;
    node_health(w, node, &R->view[node], R->names[node], &R->nnames[node]);
    route_state_update_one(&R->st, &R->view[node], &R->s, w->now);
    /* the daemon reads every record at its 1 s refresh and places then: router_tick */
}

/* A node the router sees as stale: what it sent there goes back to the waiting list. */
static void failover(struct world *w, size_t node)
{
    struct router *R = w->router;

    for (size_t r = 0; r < w->t->n; r++) {
        if (R->where[r] != (int)node)
            continue;
        route_note_finished(&R->st, w->t->node[node].id, R->rq[r].id, R->rq[r].model, NULL,
                            &R->s, w->now);
        R->where[r] = -1;
        R->nwhere[node]--;
        w->job[r].gen++;
        w->job[r].phase = J_NONE;
        hold(w, (int)r);
    }
    w->node[node].whead = w->node[node].wtail = -1;
    w->node[node].wbusy = 0;
}

void router_tick(struct world *w)
{
    struct router *R = w->router;

    if (w->peer == P_CLAIRVOYANT && R->nheld)
        clair_dispatch(w); /* a node may have cooled down */
    if (!core_peer(w->peer))
        return;
    for (size_t i = 0; i < w->nn; i++)
        if (R->nwhere[i] && R->view[i].last_seen > 0 &&
            w->now - R->view[i].last_seen > STALE_AFTER)
            failover(w, i);
    if (R->nheld)
        core_dispatch(w);
}

void on_lost_node(struct world *w, size_t node)
{
    struct router *R = w->router;

    if (w->peer == P_NGINX) {
        for (size_t r = 0; r < w->t->n; r++)
            if (w->job[r].node == (int)node && w->job[r].phase == J_LOST)
                evq_push(&w->q, w->now + 300, EV_NGINX_FAIL, (int)r, node);
        return;
    }
    if (w->peer == P_CLAIRVOYANT) {
        if (R->running[node] >= 0) {
            w->job[R->running[node]].phase = J_NONE;
            hold(w, R->running[node]);
        }
        R->running[node] = -1;
        w->node[node].whead = w->node[node].wtail = -1;
        w->node[node].wbusy = 0;
        clair_dispatch(w);
    }
}
