/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's requests in flight, from their XADD to their answer, and the one
 * connection that reads every open callback stream (and P:events, for the node each request
 * was routed to) with XREAD BLOCK. A request that starts while that read is blocked is picked
 * up when it returns: its own "routed" event on P:events wakes it. The server's dispatch is in
 * gateway_http.c.
 */
#include "gateway_int.h"

#include "orion/daemon.h"
#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GW_BLOCK_MS "1000"
#define GW_READ_TIMEOUT_MS 6000

static void gw_read(struct gateway *g);

/* --- small helpers ------------------------------------------------------------------------ */

void gw_time(char out[40])
{
    long long ms = (long long)loop_wall_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char frac[8];
    size_t len;
    int k = 3;

    gmtime_r(&s, &tm);
    snprintf(frac, sizeof(frac), ".%03d", (int)(ms % 1000));
    while (k > 0 && frac[k] == '0') /* Go drops trailing zeros of the fraction */
        frac[k--] = '\0';
    if (k == 0)
        frac[0] = '\0';
    len = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    memcpy(out + len, frac, strlen(frac));
    len += strlen(frac);
    out[len++] = 'Z';
    out[len] = '\0';
}

int gw_respond(struct httpd_req *hr, int status, const char *ctype, const char *node,
               const char *body, size_t len)
{
    char ct[128], xn[ORION_NODE_ID_MAX + 32];
    const char *h[3] = {ct, NULL, NULL};

    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    if (node && *node) {
        snprintf(xn, sizeof(xn), "X-Orion-Node: %s", node);
        h[1] = xn;
    }
    return httpd_respond(hr, status, h, body, len);
}

/* Content-Type, X-Orion-Node (once known), X-Orion-Cold-Start. */
static void answer_headers(const struct gw_req *q, const char *ctype, char ct[128],
                           char xn[ORION_NODE_ID_MAX + 32], const char *h[4])
{
    size_t k = 0;

    snprintf(ct, 128, "Content-Type: %s", ctype);
    h[k++] = ct;
    if (*q->node) {
        snprintf(xn, ORION_NODE_ID_MAX + 32, "X-Orion-Node: %s", q->node);
        h[k++] = xn;
    }
    h[k++] = q->cold ? "X-Orion-Cold-Start: true" : "X-Orion-Cold-Start: false";
    h[k] = NULL;
}

int gw_answer(struct gw_req *q, const char *ctype, const char *body, size_t len)
{
    char ct[128], xn[ORION_NODE_ID_MAX + 32];
    const char *h[4];

    answer_headers(q, ctype, ct, xn, h);
    return httpd_respond(q->hr, 200, h, body, len);
}

int gw_start(struct gw_req *q, const char *ctype)
{
    char ct[128], xn[ORION_NODE_ID_MAX + 32];
    const char *h[4];

    if (q->started)
        return 0;
    q->started = true;
    answer_headers(q, ctype, ct, xn, h);
    return httpd_start_chunked(q->hr, 200, h);
}

void gw_note_load(struct gw_req *q, const struct entry_answer *a)
{
    if (entry_counter(a, ENTRY_LOAD_DURATION) >= GW_COLD_LOAD_NS)
        q->cold = true;
}

void gw_orion_obj(const struct gw_req *q, struct buf *b)
{
    buf_puts(b, ",\"orion\":{\"node\":");
    json_quote(b, q->node, strlen(q->node));
    if (q->attempt > 0)
        buf_printf(b, ",\"attempt\":%d", q->attempt);
    if (q->routed_ms && q->xadd_ms && q->routed_ms >= q->xadd_ms)
        buf_printf(b, ",\"queue_wait_ms\":%lld", q->routed_ms - q->xadd_ms);
    if (*q->role) {
        buf_puts(b, ",\"role\":");
        json_quote(b, q->role, strlen(q->role));
    }
    if (*q->task) {
        buf_puts(b, ",\"task_type\":");
        json_quote(b, q->task, strlen(q->task));
    }
    buf_printf(b, ",\"cold_start\":%s}", q->cold ? "true" : "false");
}

void gw_orch_obj(const struct entry_answer *a, struct buf *b)
{
    if (a->orchestration.n && contract_json_ok(a->orchestration.p, a->orchestration.n, '{')) {
        buf_puts(b, ",\"orchestration\":");
        buf_append(b, a->orchestration.p, a->orchestration.n);
    }
    if (a->metadata.n && contract_json_ok(a->metadata.p, a->metadata.n, '{')) {
        buf_puts(b, ",\"inference_metadata\":");
        buf_append(b, a->metadata.p, a->metadata.n);
    }
}

/* --- requests in flight ------------------------------------------------------------------- */

static void req_unlink_free(struct gw_req *q)
{
    struct gateway *g = q->g;

    if (q->prev)
        q->prev->next = q->next;
    else if (g->reqs == q)
        g->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    if (q->hr)
        httpd_on_close(q->hr, NULL, NULL);
    buf_release(&q->nodes);
    buf_release(&q->failed);
    if (q->ext_free)
        q->ext_free(q->ext);
    gw_vision_free(q);
    orion_free(q);
}

/* The answer is relayed (or nobody wants it): forget the callback. */
void gw_req_finish(struct gw_req *q)
{
    struct gateway *g = q->g;

    if (redis_up(g->cmd))
        redis_cmd(g->cmd, NULL, NULL, "DEL", q->cb, (char *)NULL);
    req_unlink_free(q);
}

void gw_req_abort(struct gw_req *q, const char *msg)
{
    gw_fail(q, 500, msg);
    gw_req_finish(q);
}

void gw_cancel_id(struct gateway *g, const char *id)
{
    char key[CONTRACT_KEY_MAX];
    struct entry_argv a;

    if (entry_cancel(&a, key, &g->keys, id, strlen(id)) == 0 && redis_up(g->cmd))
        redis_cmdv(g->cmd, 0, NULL, NULL, a.argc, a.argv, a.len);
    g->host.cancel(g->host.arg, id);
}

/* Nobody wants the answer any more (the client went away, or the request was refused): the
 * cancel mark for whoever runs it (and its parts: a vision batch's images, entries ID.0, ID.1,
 * ...), and the router drops it at once when it still waits there. */
static void cancel(struct gw_req *q)
{
    size_t parts = gw_vision_parts(q);
    char id[sizeof(q->id) + 24];

    gw_cancel_id(q->g, q->id);
    for (size_t i = 0; i < parts; i++) {
        snprintf(id, sizeof(id), "%s.%zu", q->id, i);
        gw_cancel_id(q->g, id);
    }
    if (q->ext_gone)
        q->ext_gone(q);
}

static void on_client_close(void *arg)
{
    struct gw_req *q = arg;

    q->hr = NULL;
    if (q->g->stopping)
        return; /* the router stops, the request goes on in Redis; gateway_free frees q */
    q->gone = true;
    log_info("request %s: the client went away; cancelling", q->id);
    cancel(q);
    if (q->submitted)
        gw_req_finish(q); /* else the XADD reply finishes it */
}

struct gw_req *gw_req_new(struct gateway *g, struct httpd_req *hr, enum gw_kind kind,
                          const char *model)
{
    struct gw_req *q = orion_calloc(1, sizeof(*q));

    if (!q)
        return NULL;
    q->g = g;
    q->hr = hr;
    q->kind = kind;
    q->n = ++g->seq;
    q->created = (long long)(loop_wall_ms() / 1000);
    /* the start time makes the id new after a restart: P:done:{id} lives 24 h, and a number
     * counted again from 1 would find the done key of an earlier run's request and be
     * acknowledged without an answer */
    snprintf(q->id, sizeof(q->id), "gw-%s-%lu-%lu", g->me, g->started, q->n);
    snprintf(q->cb, sizeof(q->cb), "%s:cb:gw:%s:%lu:%lu", g->keys.prefix, g->me, g->started,
             q->n);
    snprintf(q->last, sizeof(q->last), "0-0");
    snprintf(q->model, sizeof(q->model), "%s", model);
    buf_init(&q->nodes, 1u << 20);
    buf_init(&q->failed, 1u << 20);
    q->next = g->reqs;
    if (g->reqs)
        g->reqs->prev = q;
    g->reqs = q;
    httpd_on_close(hr, on_client_close, q);
    return q;
}

void gw_xadd_begin(struct gw_req *q, struct resp_cmd *c)
{
    resp_cmd_init(c);
    entry_request_begin(c, &q->g->keys);
    resp_cmd_adds(c, "request_id");
    resp_cmd_adds(c, q->id);
    resp_cmd_adds(c, "callback");
    resp_cmd_adds(c, q->cb);
    resp_cmd_adds(c, "stream");
    resp_cmd_adds(c, "true");
}

struct xadd_ctx {
    struct gateway *g;
    unsigned long n;
};

struct gw_req *gw_req_by_n(struct gateway *g, unsigned long n)
{
    for (struct gw_req *q = g->reqs; q; q = q->next)
        if (q->n == n)
            return q;
    return NULL;
}

/* Refused after its XADD (not replicated in time): 503, and cancelled so that it does not
 * run for nobody. */
static void refuse(struct gw_req *q, struct redis *c, const char *why)
{
    log_warnx("request %s: not on %ld replica(s) in time (%s); refused", q->id,
              redis_min_replicas(c), why);
    cancel(q);
    gw_fail(q, 503, "the request could not be replicated in time, so it was not accepted");
    gw_req_finish(q);
}

/* --redis-min-replicas: a request is accepted (its answer relayed) only once WAIT says the
 * replicas have its entry, so no answer is given to a request a failover could lose. */
static void xadd_replicated(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct xadd_ctx *x = arg;
    struct gw_req *q = gw_req_by_n(x->g, x->n);

    orion_free(x);
    if (!q)
        return;
    q->submitted = true;
    if (q->gone)
        gw_req_finish(q);
    else if (!redis_replicated(c, reply))
        refuse(q, c, !reply ? "redis went away" : reply->type == RESP_ERROR ? reply->str
                                                                            : "WAIT timed out");
    else
        gw_read(q->g);
}

static void await_replicas(struct gw_req *q, struct redis *c)
{
    struct xadd_ctx *x = orion_calloc(1, sizeof(*x));

    q->submitted = false; /* until xadd_replicated: its callback stream is not read yet */
    if (x)
        x->g = q->g, x->n = q->n;
    if (!x || redis_wait(c, xadd_replicated, x) < 0) {
        orion_free(x);
        q->submitted = true;
        refuse(q, c, redis_up(c) ? "out of memory" : "redis went away");
    }
}

static void xadd_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct xadd_ctx *x = arg;
    struct gw_req *q = gw_req_by_n(x->g, x->n);

    orion_free(x);
    if (!q)
        return;
    q->submitted = true;
    if (q->gone) {
        gw_req_finish(q);
        return;
    }
    if (reply && reply->type == RESP_ARRAY) { /* EXEC of gw_submit_n: every XADD's id */
        struct resp_reply *all = reply;
        reply = all->n ? &all->elem[0] : NULL;
        for (size_t i = 0; i < all->n; i++)
            if (all->elem[i].type != RESP_BULK) {
                reply = &all->elem[i]; /* the first that failed */
                break;
            }
    }
    if (!reply || reply->type != RESP_BULK) {
        log_warnx("request %s: XADD failed: %s", q->id,
                  reply && reply->type == RESP_ERROR ? reply->str : "redis is down");
        gw_fail_code(q, "unavailable", "the request queue (redis) is not available");
        gw_req_finish(q);
        return;
    }
    q->xadd_ms = strtoll(reply->str, NULL, 10);
    if (redis_min_replicas(c) > 0)
        await_replicas(q, c);
    else
        gw_read(q->g);
}

/* n == 1: the XADD alone; n > 1: MULTI, the XADDs, EXEC (one reply with every id). */
void gw_submit_n(struct gw_req *q, struct resp_cmd *c, size_t n)
{
    struct redis *cmd = q->g->cmd;
    struct xadd_ctx *x = orion_calloc(1, sizeof(*x));
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"}, *discard[] = {"DISCARD"};
    int rc = x && n ? 0 : -1;
    bool in_multi = false;

    if (x)
        x->g = q->g, x->n = q->n;
    for (size_t i = 0; i < n; i++)
        if (resp_cmd_finish(&c[i]) < 0)
            rc = -1;
    if (rc == 0 && n > 1)
        in_multi = (rc = redis_cmdv(cmd, 0, NULL, NULL, 1, multi, NULL)) == 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = redis_cmdv(cmd, 0, n > 1 ? NULL : xadd_cb, n > 1 ? NULL : x, c[i].argc,
                        c[i].argv, c[i].len);
    if (rc == 0 && n > 1)
        rc = redis_cmdv(cmd, 0, xadd_cb, x, 1, exec, NULL);
    if (rc != 0 && in_multi) /* never leave the connection inside a transaction */
        redis_cmdv(cmd, 0, NULL, NULL, 1, discard, NULL);
    for (size_t i = 0; i < n; i++)
        resp_cmd_release(&c[i]);
    if (rc == 0)
        return;
    orion_free(x);
    q->submitted = true;
    gw_fail(q, redis_up(cmd) ? 500 : 503,
            redis_up(cmd) ? "could not queue the request" : "redis is not available");
    req_unlink_free(q);
}

void gw_submit(struct gw_req *q, struct resp_cmd *c) { gw_submit_n(q, c, 1); }

/* --- the callback reader ------------------------------------------------------------------ */

static struct gw_req *req_by_cb(struct gateway *g, const char *key)
{
    for (struct gw_req *q = g->reqs; q; q = q->next)
        if (!strcmp(q->cb, key))
            return q;
    return NULL;
}

/* P:events: note where each of our requests was routed. */
static void on_events(struct gateway *g, const struct resp_reply *entries)
{
    for (size_t i = 0; entries && i < entries->n; i++) {
        const struct resp_reply *id = resp_at(&entries->elem[i], 0);
        struct entry_event e;
        struct gw_req *q;

        if (id && id->type == RESP_BULK && id->len < sizeof(g->events_last))
            memcpy(g->events_last, id->str, id->len + 1);
        entry_event_read(resp_at(&entries->elem[i], 1), &e);
        if (!entry_is(e.type, "routed") || e.request_id.n < 3 || memcmp(e.request_id.p, "gw-", 3))
            continue;
        for (q = g->reqs; q; q = q->next) {
            if (!entry_is(e.request_id, q->id))
                continue;
            snprintf(q->node, sizeof(q->node), "%.*s", (int)e.node.n, e.node.p);
            if (e.model.n && e.model.n <= ORION_MODEL_MAX) /* the answer names the model used */
                snprintf(q->model, sizeof(q->model), "%.*s", (int)e.model.n, e.model.p);
            if (e.role.n < sizeof(q->role))
                snprintf(q->role, sizeof(q->role), "%.*s", (int)e.role.n, e.role.p);
            q->attempt++;
            q->cold = entry_is(e.kind, "cold") || entry_is(e.kind, "spill");
            q->routed_ms = id ? strtoll(id->str, NULL, 10) : 0;
        }
    }
}

/* The histograms of /metrics, on Redis's clock (entry ids): queued -> routed, -> first
 * answer entry, -> final entry. */
static void observe(const struct gw_req *q, long long end_ms)
{
    struct gateway *g = q->g;

    if (!q->xadd_ms)
        return;
    if (q->routed_ms >= q->xadd_ms)
        gw_hist_observe(&g->h_wait, (double)(q->routed_ms - q->xadd_ms) / 1000.0);
    if (q->first_ms >= q->xadd_ms)
        gw_hist_observe(&g->h_first, (double)(q->first_ms - q->xadd_ms) / 1000.0);
    if (end_ms >= q->xadd_ms)
        gw_hist_observe(&g->h_total, (double)(end_ms - q->xadd_ms) / 1000.0);
}

static void on_callback(struct gw_req *q, const struct resp_reply *entries)
{
    for (size_t i = 0; entries && i < entries->n; i++) {
        const struct resp_reply *id = resp_at(&entries->elem[i], 0);
        const struct resp_reply *f = resp_at(&entries->elem[i], 1);
        struct entry_answer a;
        bool fin;

        if (id && id->type == RESP_BULK && id->len < sizeof(q->last))
            memcpy(q->last, id->str, id->len + 1);
        if (!f || f->type != RESP_ARRAY)
            continue;
        if (!q->first_ms && id && id->type == RESP_BULK)
            q->first_ms = strtoll(id->str, NULL, 10);
        entry_answer_read(f, &a);
        switch (q->kind) {
        case GW_OPENAI:
            fin = gw_openai_entry(q, &a);
            break;
        case GW_COMPLETION:
            fin = gw_completion_entry(q, &a);
            break;
        case GW_LOAD:
        case GW_UNLOAD:
            fin = gw_model_entry(q, &a);
            break;
        case GW_EMBED:
        case GW_EMBED_LEGACY:
        case GW_EMBED_OPENAI:
            fin = gw_embed_entry(q, &a);
            break;
        case GW_RESPONSES:
            fin = gw_responses_entry(q, &a);
            break;
        case GW_MESSAGES:
            fin = gw_messages_entry(q, &a);
            break;
        case GW_PULL:
        case GW_COPY:
        case GW_DELETE:
            fin = gw_admin_entry(q, &a);
            break;
        case GW_VISION:
        case GW_VISION_BATCH:
            fin = gw_vision_entry(q, &a);
            break;
        default:
            fin = gw_native_entry(q, &a);
        }
        if (fin) {
            observe(q, id && id->type == RESP_BULK ? strtoll(id->str, NULL, 10) : 0);
            gw_req_finish(q);
            return;
        }
    }
}

static void read_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct gateway *g = arg;

    (void)c;
    g->reading = false;
    if (!reply)
        return; /* link lost or timed out: the state callback starts over */
    if (reply->type == RESP_ERROR) {
        log_warnx("gateway: XREAD: %s", reply->str);
        return; /* retry_cb tries again within a second */
    }
    for (size_t i = 0; reply->type == RESP_ARRAY && i < reply->n; i++) {
        const struct resp_reply *key = resp_at(&reply->elem[i], 0);
        const struct resp_reply *e = resp_at(&reply->elem[i], 1);
        struct gw_req *q;
        if (!key || key->type != RESP_BULK)
            continue;
        if (!strcmp(key->str, g->keys.events))
            on_events(g, e);
        else if ((q = req_by_cb(g, key->str)))
            on_callback(q, e);
    }
    gw_read(g);
}

static void gw_read(struct gateway *g)
{
    size_t k = 1, i = 0, argc;
    const char **argv;
    struct gw_req *q;

    if (g->reading || !g->have_pos || !redis_up(g->rd))
        return;
    for (q = g->reqs; q; q = q->next)
        k += q->submitted;
    argc = 6 + 2 * k;
    argv = orion_malloc(argc * sizeof(*argv));
    if (!argv)
        return;
    argv[i++] = "XREAD", argv[i++] = "COUNT", argv[i++] = "100", argv[i++] = "BLOCK";
    argv[i++] = GW_BLOCK_MS, argv[i++] = "STREAMS", argv[i++] = g->keys.events;
    for (q = g->reqs; q; q = q->next)
        if (q->submitted)
            argv[i++] = q->cb;
    argv[i++] = g->events_last;
    for (q = g->reqs; q; q = q->next)
        if (q->submitted)
            argv[i++] = q->last;
    if (redis_cmdv(g->rd, GW_READ_TIMEOUT_MS, read_cb, g, (int)argc, argv, NULL) == 0)
        g->reading = true;
    orion_free(argv);
}

static void pos_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct gateway *g = arg;
    const struct resp_reply *id = resp_at(resp_at(reply, 0), 0);

    (void)c;
    if (!reply || reply->type == RESP_ERROR)
        return;
    if (id && id->type == RESP_BULK && id->len < sizeof(g->events_last))
        memcpy(g->events_last, id->str, id->len + 1);
    else
        snprintf(g->events_last, sizeof(g->events_last), "0-0");
    g->have_pos = true;
    gw_read(g);
}

static void rd_state(struct redis *c, bool up, void *arg)
{
    struct gateway *g = arg;

    g->reading = false;
    if (!up)
        return;
    if (!g->have_pos)
        redis_cmd(c, pos_cb, g, "XREVRANGE", g->keys.events, "+", "-", "COUNT", "1",
                  (char *)NULL);
    else
        gw_read(g);
}

static long retry_cb(struct loop *l, void *arg)
{
    struct gateway *g = arg;

    (void)l;
    gw_read(g); /* after an error reply, and as a safety net */
    return 1000;
}

struct gateway *gateway_new(struct loop *l, struct redis *cmd, const struct gateway_conf *conf,
                            const struct gateway_host *host, char *err, size_t errlen)
{
    const char *listen = conf->listen, *token = conf->token;
    struct httpd_opts ho = {0};
    struct redis_opts o;
    struct gateway *g = orion_calloc(1, sizeof(*g));
    char addr[256];
    int port;

    if (!g) {
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    g->l = l;
    g->cmd = cmd;
    g->started = (unsigned long)(loop_wall_ms() / 1000);
    g->host = *host;
    g->placement = conf->placement;
    snprintf(g->me, sizeof(g->me), "%s", conf->id);
    daemon_redis_opts(&o, conf->c, "redis (http front reads)");
    if (net_split(listen, addr, sizeof(addr), &port) < 0 || port < 0 ||
        contract_keys_init(&g->keys, conf->c->prefix) < 0) {
        snprintf(err, errlen, "--http-listen '%s': want ADDR:PORT or off", listen);
        orion_free(g);
        errno = EINVAL;
        return NULL;
    }
    g->token = token && *token ? orion_strdup(token) : NULL;
    g->rd = redis_new(l, &o, rd_state, g);
    ho.max_conns = conf->max_conns;
    g->h = g->rd && (!token || !*token || g->token)
               ? httpd_new(l, listen, &ho, gw_on_http, g, err, errlen)
               : NULL;
    if (!g->h) {
        if (!g->rd)
            snprintf(err, errlen, "out of memory");
        gateway_free(g);
        errno = EIO;
        return NULL;
    }
    g->retry = loop_timer(l, 1000, retry_cb, g);
    redis_start(g->rd);
    log_info("http front on %s (port %d)%s", listen, httpd_port(g->h),
             g->token ? ", bearer token required" : "");
    return g;
}

void gateway_free(struct gateway *g)
{
    if (!g)
        return;
    g->stopping = true;
    httpd_free(g->h); /* every request still in a handler lets go of its httpd_req */
    while (g->reqs) {
        g->reqs->hr = NULL;
        req_unlink_free(g->reqs);
    }
    if (g->retry)
        loop_timer_cancel(g->l, g->retry);
    redis_free(g->rd);
    orion_free(g->token);
    orion_free(g);
}
