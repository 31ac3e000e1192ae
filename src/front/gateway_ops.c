/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's operating endpoints: GET /metrics (Prometheus text format 0.0.4), GET /stats
 * (the same numbers as JSON; the status page /ui reads it), GET /backends (every node,
 * eligible or why not) and POST /backends/register | /backends/deregister {"node":"ID"}
 * (HDEL / HSET on P:drain, as `orionctl undrain | drain` do).
 */
#include "gateway_int.h"

#include "orion/jsonw.h"
#include "orion/log.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>

#define JSON_UTF8 "application/json; charset=utf-8"
#define OPS_MAX (16u * 1024 * 1024)

static const double bounds[GW_HIST_BUCKETS] = {0.1, 0.5, 1, 2, 5, 10, 30, 60};
static const char *const kinds[K_NKINDS] = {"sticky", "queued", "spill", "cold"};

void gw_hist_observe(struct gw_hist *h, double s)
{
    if (s < 0)
        s = 0;
    for (int i = 0; i < GW_HIST_BUCKETS; i++)
        if (s <= bounds[i])
            h->bucket[i]++; /* cumulative, as Prometheus wants them */
    h->count++;
    h->sum += s;
}

/* Every node with its routing view and eligibility; returns the count. */
struct ops_view {
    struct route_node nodes[ORION_ROUTE_MAX_NODES];
    struct rnode *map[ORION_ROUTE_MAX_NODES];
    bool ok[ORION_ROUTE_MAX_NODES];
    char why[ORION_ROUTE_MAX_NODES][160];
    size_t n;
};

static void view(struct router *r, struct ops_view *v)
{
    double now = router_now(r);

    v->n = router_route_nodes(r, v->nodes, v->map, ORION_ROUTE_MAX_NODES);
    for (size_t i = 0; i < v->n; i++) {
        v->why[i][0] = '\0';
        v->ok[i] = route_eligible(&v->nodes[i], NULL, &r->rs, &r->st, now, v->why[i],
                                  sizeof(v->why[i]));
    }
}

/* Of the entries in a node's stream (routed there, not finished), those its worker runs now
 * (its health's inflight, at most the entries) and those that wait behind them. */
static unsigned node_running(const struct rnode *nd)
{
    long run = nd->has_health && nd->h.has_inflight ? nd->h.inflight : 0;

    if (run > nd->xlen)
        run = nd->xlen;
    return run > 0 ? (unsigned)run : 0;
}

static unsigned node_queued(const struct rnode *nd)
{
    return nd->xlen > 0 ? (unsigned)nd->xlen - node_running(nd) : 0;
}

/* --- /metrics ----------------------------------------------------------------------------- */

/* A label value: \ " and newline escaped (the text format's rules). */
static void label(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(b, "\\\\");
        else if (*s == '"')
            buf_puts(b, "\\\"");
        else if (*s == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *s);
    }
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct buf *b, const char *name, const char *help, unsigned long v)
{
    head(b, name, "counter", help);
    buf_printf(b, "%s %lu\n", name, v);
}

static void node_gauge(struct buf *b, const char *name, const char *id, double v)
{
    buf_printf(b, "%s{node=\"", name);
    label(b, id);
    buf_printf(b, "\"} %.10g\n", v);
}

static void hist(struct buf *b, const char *name, const char *help, const struct gw_hist *h)
{
    head(b, name, "histogram", help);
    for (int i = 0; i < GW_HIST_BUCKETS; i++)
        buf_printf(b, "%s_bucket{le=\"%g\"} %lu\n", name, bounds[i], h->bucket[i]);
    buf_printf(b, "%s_bucket{le=\"+Inf\"} %lu\n%s_sum %.6f\n%s_count %lu\n", name, h->count,
               name, h->sum, name, h->count);
}

void gw_metrics(struct gateway *g, struct httpd_req *hr)
{
    struct router *r = g->r;
    static struct ops_view v;
    struct buf b;
    size_t i;

    view(r, &v);
    buf_init(&b, OPS_MAX);
    head(&b, "orion_requests_routed_total", "counter", "Requests routed to a node, by kind.");
    for (int k = 0; k < K_NKINDS; k++)
        buf_printf(&b, "orion_requests_routed_total{kind=\"%s\"} %lu\n", kinds[k],
                   r->cnt.kind[k]);
    head(&b, "orion_requests_routed_by_node_total", "counter", "Requests routed, by node.");
    for (i = 0; i < r->nnodes; i++) {
        buf_puts(&b, "orion_requests_routed_by_node_total{node=\"");
        label(&b, r->nodes[i].id);
        buf_printf(&b, "\"} %lu\n", r->nodes[i].cnt.routed);
    }
    head(&b, "orion_requests_total", "counter",
         "Answers the workers wrote since this router started, by model, node and outcome (ok "
         "or the error code).");
    for (i = 0; i < r->noutcomes; i++) {
        buf_puts(&b, "orion_requests_total{model=\"");
        label(&b, OUTCOME_LABEL(r, r->outcomes[i].model));
        buf_puts(&b, "\",node=\"");
        label(&b, OUTCOME_LABEL(r, r->outcomes[i].node));
        buf_puts(&b, "\",outcome=\"");
        label(&b, OUTCOME_LABEL(r, r->outcomes[i].code));
        buf_printf(&b, "\"} %lu\n", r->outcomes[i].n);
    }
    counter(&b, "orion_requests_uncounted_total",
            "Answers not in orion_requests_total: past its limit of model/node/outcome series.",
            r->outcomes_dropped);
    counter(&b, "orion_timeouts_total", "Requests answered no_available_nodes past their deadline.",
            r->cnt.timeouts);
    counter(&b, "orion_failovers_total", "Requests moved again after their node went silent.",
            r->cnt.failovers);
    counter(&b, "orion_deadletter_total", "Requests given up after too many attempts.",
            r->cnt.deadletter);
    counter(&b, "orion_bad_requests_total", "Request entries that did not parse.", r->cnt.bad);
    head(&b, "orion_queue_depth", "gauge", "Requests waiting in this router for a node.");
    buf_printf(&b, "orion_queue_depth %zu\n", r->nw);

    head(&b, "orion_node_temp_celsius", "gauge", "Node temperature (nodes with a sensor).");
    for (i = 0; i < v.n; i++)
        if (v.map[i]->has_health && v.map[i]->h.has_temp)
            node_gauge(&b, "orion_node_temp_celsius", v.map[i]->id, v.map[i]->h.temp_c);
    head(&b, "orion_node_ram_percent", "gauge", "Node RAM used, percent.");
    for (i = 0; i < v.n; i++)
        if (v.map[i]->has_health && v.map[i]->h.ram_percent >= 0)
            node_gauge(&b, "orion_node_ram_percent", v.map[i]->id, v.map[i]->h.ram_percent);
    head(&b, "orion_node_cpu_percent", "gauge", "Node CPU busy, percent.");
    for (i = 0; i < v.n; i++)
        if (v.map[i]->has_health && v.map[i]->h.cpu_percent >= 0)
            node_gauge(&b, "orion_node_cpu_percent", v.map[i]->id, v.map[i]->h.cpu_percent);
    head(&b, "orion_node_inflight", "gauge", "Requests routed to the node and not finished.");
    for (i = 0; i < v.n; i++)
        node_gauge(&b, "orion_node_inflight", v.map[i]->id, v.nodes[i].inflight);
    head(&b, "orion_node_running", "gauge", "Requests the node's worker runs now.");
    for (i = 0; i < v.n; i++)
        node_gauge(&b, "orion_node_running", v.map[i]->id, node_running(v.map[i]));
    head(&b, "orion_node_queued", "gauge", "Requests in the node's stream behind the running ones.");
    for (i = 0; i < v.n; i++)
        node_gauge(&b, "orion_node_queued", v.map[i]->id, node_queued(v.map[i]));
    head(&b, "orion_node_capacity", "gauge", "Requests the node runs at once.");
    for (i = 0; i < v.n; i++)
        node_gauge(&b, "orion_node_capacity", v.map[i]->id, v.nodes[i].capacity);
    head(&b, "orion_node_eligible", "gauge", "1 when the node may take new requests.");
    for (i = 0; i < v.n; i++)
        node_gauge(&b, "orion_node_eligible", v.map[i]->id, v.ok[i] ? 1 : 0);

    hist(&b, "orion_http_queue_wait_seconds", "HTTP front: from queued to routed.", &g->h_wait);
    hist(&b, "orion_http_first_token_seconds", "HTTP front: from queued to the first answer entry.",
         &g->h_first);
    hist(&b, "orion_http_request_seconds", "HTTP front: from queued to the final answer entry.",
         &g->h_total);
    gw_respond(hr, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, buf_data(&b),
               buf_size(&b));
    buf_release(&b);
}

/* --- JSON --------------------------------------------------------------------------------- */

static void send_json(struct httpd_req *hr, int status, struct buf *b)
{
    gw_respond(hr, status, JSON_UTF8, NULL, buf_data(b), buf_size(b));
    buf_release(b);
}

static void num_or_null(struct buf *b, const char *name, bool known, double v)
{
    if (known)
        buf_printf(b, ",\"%s\":%.1f", name, v);
    else
        buf_printf(b, ",\"%s\":null", name);
}

/* "loading": the models this router sent to the node that its health has not shown loaded
 * since, while work routed there is unfinished (a cold load under way, as far as we know). */
static void loading_json(struct buf *b, const struct router *r, const struct rnode *nd)
{
    const struct route_node_state *ns = route_state_find(&r->st, nd->id);
    double now = router_now(r);
    bool first = true;

    buf_puts(b, ",\"loading\":[");
    for (size_t k = 0; ns && nd->xlen > 0 && k < ns->nsent; k++) {
        if (ns->sent[k].seen || ns->sent[k].expires <= now)
            continue;
        if (!first)
            buf_putc(b, ',');
        json_quote(b, ns->sent[k].model, strlen(ns->sent[k].model));
        first = false;
    }
    buf_putc(b, ']');
}

static void node_json(struct buf *b, const struct router *r, const struct ops_view *v, size_t i,
                      bool full)
{
    const struct rnode *nd = v->map[i];
    const struct health *h = &nd->h;

    buf_puts(b, "{\"node\":");
    json_quote(b, nd->id, strlen(nd->id));
    buf_printf(b, ",\"eligible\":%s,\"reason\":", v->ok[i] ? "true" : "false");
    json_quote(b, v->ok[i] ? "" : v->why[i], v->ok[i] ? 0 : strlen(v->why[i]));
    buf_printf(b, ",\"drained\":%s,\"draining\":%s", nd->drained ? "true" : "false",
               v->nodes[i].draining ? "true" : "false");
    num_or_null(b, "temp_c", nd->has_health && h->has_temp, h->temp_c);
    num_or_null(b, "ram_percent", nd->has_health && h->ram_percent >= 0, h->ram_percent);
    num_or_null(b, "cpu_percent", nd->has_health && h->cpu_percent >= 0, h->cpu_percent);
    buf_printf(b, ",\"inflight\":%u,\"capacity\":%u", v->nodes[i].inflight,
               v->nodes[i].capacity);
    if (full) {
        buf_printf(b, ",\"routed\":%lu,\"sticky\":%lu,\"queued\":%lu,\"spill\":%lu,\"cold\":%lu",
                   nd->cnt.routed, nd->cnt.kind[K_STICKY], nd->cnt.kind[K_QUEUED],
                   nd->cnt.kind[K_SPILL], nd->cnt.kind[K_COLD]);
        buf_printf(b, ",\"last_seen\":%lld", nd->has_health ? (long long)h->last_seen : 0LL);
        buf_printf(b, ",\"running\":%u,\"queued\":%u", node_running(nd), node_queued(nd));
        loading_json(b, r, nd);
    }
    buf_puts(b, ",\"models\":[");
    for (size_t m = 0; nd->has_health && m < h->nmodels; m++) {
        if (m)
            buf_putc(b, ',');
        json_quote(b, h->models[m], strlen(h->models[m]));
    }
    buf_puts(b, "]}");
}

void gw_stats(struct gateway *g, struct httpd_req *hr)
{
    struct router *r = g->r;
    static struct ops_view v;
    struct buf b;
    size_t eligible = 0;
    unsigned long open = 0;

    view(r, &v);
    buf_init(&b, OPS_MAX);
    buf_puts(&b, "{\"router\":");
    json_quote(&b, r->me, strlen(r->me));
    buf_printf(&b, ",\"redis\":%s,\"time\":%.3f", redis_up(r->cmd) ? "true" : "false",
               router_now(r));
    buf_printf(&b, ",\"counters\":{\"routed\":%lu", r->cnt.routed);
    for (int k = 0; k < K_NKINDS; k++)
        buf_printf(&b, ",\"%s\":%lu", kinds[k], r->cnt.kind[k]);
    buf_printf(&b, ",\"timeouts\":%lu,\"failovers\":%lu,\"deadletter\":%lu,\"bad_requests\":%lu,"
                   "\"waiting_peak\":%lu}",
               r->cnt.timeouts, r->cnt.failovers, r->cnt.deadletter, r->cnt.bad,
               r->cnt.waiting_peak);
    for (const struct gw_req *q = g->reqs; q; q = q->next)
        open++;
    buf_printf(&b, ",\"queue_depth\":%zu,\"http\":{\"requests\":%lu,\"open\":%lu}", r->nw,
               g->seq, open);
    buf_puts(&b, ",\"nodes\":[");
    for (size_t i = 0; i < v.n; i++) {
        if (i)
            buf_putc(&b, ',');
        node_json(&b, r, &v, i, true);
        eligible += v.ok[i];
    }
    buf_printf(&b, "],\"eligible\":%zu,\"outcomes\":[", eligible);
    for (size_t i = 0; i < r->noutcomes; i++) {
        const struct outcome *o = &r->outcomes[i];
        const char *m = OUTCOME_LABEL(r, o->model), *nd = OUTCOME_LABEL(r, o->node),
                   *code = OUTCOME_LABEL(r, o->code);

        buf_puts(&b, i ? ",{\"model\":" : "{\"model\":");
        json_quote(&b, m, strlen(m));
        buf_puts(&b, ",\"node\":");
        json_quote(&b, nd, strlen(nd));
        buf_puts(&b, ",\"outcome\":");
        json_quote(&b, code, strlen(code));
        buf_printf(&b, ",\"count\":%lu}", o->n);
    }
    buf_puts(&b, "],\"recent\":[");
    for (size_t i = 0; i < r->nrecent; i++) { /* newest first */
        const struct recent *x =
            &r->recent[(r->recent_next + ROUTER_RECENT - 1 - i) % ROUTER_RECENT];

        buf_puts(&b, i ? ",{\"request_id\":" : "{\"request_id\":");
        json_quote(&b, x->request_id, strlen(x->request_id));
        buf_puts(&b, ",\"model\":");
        json_quote(&b, x->model, strlen(x->model));
        buf_puts(&b, ",\"node\":");
        json_quote(&b, x->node, strlen(x->node));
        buf_puts(&b, ",\"outcome\":");
        json_quote(&b, x->outcome, strlen(x->outcome));
        buf_printf(&b, ",\"at\":%.3f,\"total_ms\":", x->at);
        if (x->total_ms >= 0)
            buf_printf(&b, "%lld}", x->total_ms);
        else
            buf_puts(&b, "null}");
    }
    buf_puts(&b, "]}");
    send_json(hr, 200, &b);
}

void gw_backends(struct gateway *g, struct httpd_req *hr)
{
    static struct ops_view v;
    struct buf b;

    view(g->r, &v);
    buf_init(&b, OPS_MAX);
    buf_puts(&b, "{\"backends\":[");
    for (size_t i = 0; i < v.n; i++) {
        if (i)
            buf_putc(&b, ',');
        node_json(&b, g->r, &v, i, false);
    }
    buf_puts(&b, "]}");
    send_json(hr, 200, &b);
}

/* --- register / deregister ---------------------------------------------------------------- */

struct drain_ctx {
    struct gateway *g;
    struct httpd_req *hr; /* NULL once the client is gone */
    bool drain;
    char node[ORION_NODE_ID_MAX + 1];
};

static void drain_gone(void *arg)
{
    struct drain_ctx *d = arg;

    d->hr = NULL;
}

static void json_error(struct httpd_req *hr, int status, const char *msg)
{
    struct buf b;

    buf_init(&b, 4096);
    buf_puts(&b, "{\"error\":");
    json_quote(&b, msg, strlen(msg));
    buf_putc(&b, '}');
    send_json(hr, status, &b);
}

static void drain_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct drain_ctx *d = arg;
    struct rnode *nd;
    struct buf b;

    (void)c;
    if (reply && reply->type == RESP_INT) {
        log_info("http front: node %s %s", d->node, d->drain ? "drained" : "back in rotation");
        if ((nd = router_node(d->g->r, d->node, false)))
            nd->drained = d->drain; /* the next refresh reads P:drain again */
    }
    if (!d->hr) {
        orion_free(d);
        return;
    }
    httpd_on_close(d->hr, NULL, NULL);
    if (!reply || reply->type != RESP_INT) {
        json_error(d->hr, 503, "redis is not available");
    } else {
        buf_init(&b, 4096);
        buf_puts(&b, "{\"node\":");
        json_quote(&b, d->node, strlen(d->node));
        buf_printf(&b, ",\"drained\":%s,\"known\":%s}", d->drain ? "true" : "false",
                   router_node(d->g->r, d->node, false) ? "true" : "false");
        send_json(d->hr, 200, &b);
    }
    orion_free(d);
}

void gw_drain(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
              bool drain)
{
    struct router *r = g->r;
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "node");
    struct drain_ctx *d;
    char ts[32];
    size_t len = cJSON_IsString(n) ? strlen(n->valuestring) : 0;
    int rc;

    if (!len || len > ORION_NODE_ID_MAX) {
        cJSON_Delete(j);
        json_error(hr, 400, "want {\"node\":\"ID\"}");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)n->valuestring[i] <= ' ' || n->valuestring[i] == 0x7f) {
            cJSON_Delete(j);
            json_error(hr, 400, "a node id has no spaces or control characters");
            return;
        }
    }
    d = orion_calloc(1, sizeof(*d));
    if (!d) {
        cJSON_Delete(j);
        json_error(hr, 500, "out of memory");
        return;
    }
    d->g = g;
    d->hr = hr;
    d->drain = drain;
    memcpy(d->node, n->valuestring, len + 1);
    cJSON_Delete(j);
    snprintf(ts, sizeof(ts), "%lld", (long long)router_now(r));
    rc = drain ? redis_cmd(r->cmd, drain_cb, d, "HSET", r->keys.drain, d->node, ts, (char *)NULL)
               : redis_cmd(r->cmd, drain_cb, d, "HDEL", r->keys.drain, d->node, (char *)NULL);
    if (rc < 0) {
        orion_free(d);
        json_error(hr, 503, "redis is not available");
        return;
    }
    httpd_on_close(hr, drain_gone, d);
}
