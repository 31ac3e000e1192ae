/* SPDX-License-Identifier: MIT */
/*
 * The HTTP front's operating endpoints: GET /metrics (Prometheus text format 0.0.4), GET /stats
 * (the same numbers as JSON; the status page /ui reads it), GET /backends (every node,
 * eligible or why not) and POST /nodes/undrain | /nodes/drain {"node":"ID"} (HDEL / HSET on
 * P:drain, as `orionctl undrain | drain` do; /backends/register and /backends/deregister with
 * a node and no URL still do it too, see gateway_backends.c).
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
static const char *const kinds[GW_NKINDS] = {"sticky", "queued", "spill", "cold"};

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

/* The counters, copied for one answer: NULL when there is no memory (answered 500). */
static struct gw_stats *stats_copy(struct gateway *g, struct httpd_req *hr)
{
    struct gw_stats *st = orion_malloc(sizeof(*st));

    if (st)
        g->host.stats(g->host.arg, st);
    else
        gw_respond(hr, 500, "text/plain", NULL, "out of memory\n", 14);
    return st;
}

static void node_gauges(struct buf *b, const struct node_view *v, size_t n)
{
    size_t i;

    head(b, "orion_node_temp_celsius", "gauge", "Node temperature (nodes with a sensor).");
    for (i = 0; i < n; i++)
        if (v[i].h && v[i].h->has_temp)
            node_gauge(b, "orion_node_temp_celsius", v[i].id, v[i].h->temp_c);
    head(b, "orion_node_ram_percent", "gauge", "Node RAM used, percent.");
    for (i = 0; i < n; i++)
        if (v[i].h && v[i].h->ram_percent >= 0)
            node_gauge(b, "orion_node_ram_percent", v[i].id, v[i].h->ram_percent);
    head(b, "orion_node_cpu_percent", "gauge", "Node CPU busy, percent.");
    for (i = 0; i < n; i++)
        if (v[i].h && v[i].h->cpu_percent >= 0)
            node_gauge(b, "orion_node_cpu_percent", v[i].id, v[i].h->cpu_percent);
    head(b, "orion_node_inflight", "gauge", "Requests routed to the node and not finished.");
    for (i = 0; i < n; i++)
        node_gauge(b, "orion_node_inflight", v[i].id, v[i].rn.inflight);
    head(b, "orion_node_running", "gauge", "Requests the node's worker runs now.");
    for (i = 0; i < n; i++)
        node_gauge(b, "orion_node_running", v[i].id, v[i].running);
    head(b, "orion_node_queued", "gauge", "Requests in the node's stream behind the running ones.");
    for (i = 0; i < n; i++)
        node_gauge(b, "orion_node_queued", v[i].id, v[i].queued);
    head(b, "orion_node_capacity", "gauge", "Requests the node runs at once.");
    for (i = 0; i < n; i++)
        node_gauge(b, "orion_node_capacity", v[i].id, v[i].rn.capacity);
    head(b, "orion_node_eligible", "gauge", "1 when the node may take new requests.");
    for (i = 0; i < n; i++)
        node_gauge(b, "orion_node_eligible", v[i].id, v[i].eligible ? 1 : 0);
}

void gw_metrics(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    struct gw_stats *st = stats_copy(g, hr);
    const struct node_view *v;
    double now;
    size_t i, n;
    struct buf b;

    (void)req;
    if (!st)
        return;
    n = g->host.nodes(g->host.arg, &v, &now);
    buf_init(&b, OPS_MAX);
    head(&b, "orion_requests_routed_total", "counter", "Requests routed to a node, by kind.");
    for (int k = 0; k < GW_NKINDS; k++)
        buf_printf(&b, "orion_requests_routed_total{kind=\"%s\"} %lu\n", kinds[k], st->kind[k]);
    head(&b, "orion_requests_routed_by_node_total", "counter", "Requests routed, by node.");
    for (i = 0; i < n; i++) {
        buf_puts(&b, "orion_requests_routed_by_node_total{node=\"");
        label(&b, v[i].id);
        buf_printf(&b, "\"} %lu\n", v[i].counts[0]);
    }
    head(&b, "orion_requests_total", "counter",
         "Answers the workers wrote since this router started, by model, node and outcome (ok "
         "or the error code).");
    for (i = 0; i < st->noutcomes; i++) {
        buf_puts(&b, "orion_requests_total{model=\"");
        label(&b, st->outcome[i].model);
        buf_puts(&b, "\",node=\"");
        label(&b, st->outcome[i].node);
        buf_puts(&b, "\",outcome=\"");
        label(&b, st->outcome[i].outcome);
        buf_printf(&b, "\"} %lu\n", st->outcome[i].n);
    }
    counter(&b, "orion_requests_uncounted_total",
            "Answers not in orion_requests_total: past its limit of model/node/outcome series.",
            st->outcomes_dropped);
    counter(&b, "orion_timeouts_total", "Requests answered no_available_nodes past their deadline.",
            st->timeouts);
    counter(&b, "orion_failovers_total", "Requests moved again after their node went silent.",
            st->failovers);
    counter(&b, "orion_deadletter_total", "Requests given up after too many attempts.",
            st->deadletter);
    counter(&b, "orion_bad_requests_total", "Request entries that did not parse.", st->bad);
    head(&b, "orion_queue_depth", "gauge", "Requests waiting in this router for a node.");
    buf_printf(&b, "orion_queue_depth %zu\n", st->queue_depth);
    node_gauges(&b, v, n);
    hist(&b, "orion_http_queue_wait_seconds", "HTTP front: from queued to routed.", &g->h_wait);
    hist(&b, "orion_http_first_token_seconds", "HTTP front: from queued to the first answer entry.",
         &g->h_first);
    hist(&b, "orion_http_request_seconds", "HTTP front: from queued to the final answer entry.",
         &g->h_total);
    gw_respond(hr, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, buf_data(&b),
               buf_size(&b));
    buf_release(&b);
    orion_free(st);
}

/* --- JSON --------------------------------------------------------------------------------- */

static void send_json(struct httpd_req *hr, int status, struct buf *b)
{
    gw_respond(hr, status, JSON_UTF8, NULL, buf_data(b), buf_size(b));
    buf_release(b);
}

static void stats_outcomes(struct buf *b, const struct gw_stats *st)
{
    for (size_t i = 0; i < st->noutcomes; i++) {
        buf_puts(b, i ? ",{\"model\":" : "{\"model\":");
        json_quote(b, st->outcome[i].model, strlen(st->outcome[i].model));
        buf_puts(b, ",\"node\":");
        json_quote(b, st->outcome[i].node, strlen(st->outcome[i].node));
        buf_puts(b, ",\"outcome\":");
        json_quote(b, st->outcome[i].outcome, strlen(st->outcome[i].outcome));
        buf_printf(b, ",\"count\":%lu}", st->outcome[i].n);
    }
}

static void stats_recent(struct buf *b, const struct gw_stats *st)
{
    for (size_t i = 0; i < st->nrecent; i++) {
        const struct gw_recent *x = &st->recent[i];

        buf_puts(b, i ? ",{\"request_id\":" : "{\"request_id\":");
        json_quote(b, x->request_id, strlen(x->request_id));
        buf_puts(b, ",\"model\":");
        json_quote(b, x->model, strlen(x->model));
        buf_puts(b, ",\"node\":");
        json_quote(b, x->node, strlen(x->node));
        buf_puts(b, ",\"outcome\":");
        json_quote(b, x->outcome, strlen(x->outcome));
        buf_printf(b, ",\"at\":%.3f,\"total_ms\":", x->at);
        if (x->total_ms >= 0)
            buf_printf(b, "%lld}", x->total_ms);
        else
            buf_puts(b, "null}");
    }
}

/* "latency_ms":{"n":N,"mean":X,"p50":X,"p95":X} or null, the same for "first_token_ms". */
static void window(struct buf *b, const char *name, const struct latwin_sum *w)
{
    if (!w->n) {
        buf_printf(b, ",\"%s\":null", name);
        return;
    }
    buf_printf(b, ",\"%s\":{\"n\":%zu,\"mean\":%.1f,\"p50\":%.1f,\"p95\":%.1f}", name, w->n,
               w->mean, w->p50, w->p95);
}

static void bstat_fields(struct buf *b, const struct gw_bstat *x, unsigned long inflight)
{
    buf_printf(b, ",\"inflight\":%lu,\"answered\":%lu,\"errors\":%lu", inflight, x->answered,
               x->errors);
    window(b, "latency_ms", &x->lat);
    window(b, "first_token_ms", &x->ttft);
}

/* "backend_stats": one object per node (workers' and URL backends alike), in the nodes'
 * order, its figures over all its models and then per model. A node's inflight is its
 * stream's (exact); a model's, as the router counted it, at most the node's. */
static void stats_backends(struct buf *b, const struct gw_stats *st, const struct node_view *v,
                           size_t n)
{
    static const struct gw_bstat none;

    for (size_t i = 0; i < n; i++) {
        const struct gw_bstat *tot = &none;
        unsigned long nin = v[i].rn.inflight;
        bool first = true;

        for (size_t k = 0; k < st->nbstat; k++)
            if (!st->bstat[k].model[0] && !strcmp(st->bstat[k].node, v[i].id))
                tot = &st->bstat[k];
        buf_puts(b, i ? ",{\"node\":" : "{\"node\":");
        json_quote(b, v[i].id, strlen(v[i].id));
        bstat_fields(b, tot, nin);
        buf_puts(b, ",\"models\":[");
        for (size_t k = 0; k < st->nbstat; k++) {
            const struct gw_bstat *x = &st->bstat[k];

            if (!x->model[0] || strcmp(x->node, v[i].id))
                continue;
            buf_puts(b, first ? "{\"model\":" : ",{\"model\":");
            first = false;
            json_quote(b, x->model, strlen(x->model));
            bstat_fields(b, x, x->inflight < nin ? x->inflight : nin);
            buf_putc(b, '}');
        }
        buf_puts(b, "]}");
    }
}

void gw_stats(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    struct gw_stats *st = stats_copy(g, hr);
    const struct node_view *v;
    double now;
    size_t n, eligible = 0;
    unsigned long open = 0;
    struct buf b;

    (void)req;
    if (!st)
        return;
    n = g->host.nodes(g->host.arg, &v, &now);
    buf_init(&b, OPS_MAX);
    buf_puts(&b, "{\"router\":");
    json_quote(&b, g->me, strlen(g->me));
    buf_printf(&b, ",\"redis\":%s,\"time\":%.3f", redis_up(g->cmd) ? "true" : "false", now);
    buf_printf(&b, ",\"counters\":{\"routed\":%lu", st->routed);
    for (int k = 0; k < GW_NKINDS; k++)
        buf_printf(&b, ",\"%s\":%lu", kinds[k], st->kind[k]);
    buf_printf(&b, ",\"timeouts\":%lu,\"failovers\":%lu,\"deadletter\":%lu,\"bad_requests\":%lu,"
                   "\"waiting_peak\":%lu}",
               st->timeouts, st->failovers, st->deadletter, st->bad, st->waiting_peak);
    for (const struct gw_req *q = g->reqs; q; q = q->next)
        open++;
    buf_printf(&b, ",\"queue_depth\":%zu,\"http\":{\"requests\":%lu,\"open\":%lu}",
               st->queue_depth, g->seq, open);
    buf_puts(&b, ",\"nodes\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&b, ',');
        node_view_json(&v[i], &b);
        eligible += v[i].eligible;
    }
    buf_printf(&b, "],\"eligible\":%zu,\"outcomes\":[", eligible);
    stats_outcomes(&b, st);
    buf_puts(&b, "],\"recent\":[");
    stats_recent(&b, st);
    buf_puts(&b, "],\"backend_stats\":[");
    stats_backends(&b, st, v, n);
    buf_printf(&b, "],\"backend_stats_dropped\":%lu}", st->bstat_dropped);
    send_json(hr, 200, &b);
    orion_free(st);
}

/* /backends: the node objects of /stats without the router's counters. */
void gw_backends(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now);
    struct buf b;

    (void)req;
    buf_init(&b, OPS_MAX);
    buf_puts(&b, "{\"backends\":[");
    for (size_t i = 0; i < n; i++) {
        struct node_view x = v[i];

        x.has_counts = false;
        if (i)
            buf_putc(&b, ',');
        node_view_json(&x, &b);
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

/* Does the router know this node (health, or a stream)? */
static bool known(struct gateway *g, const char *id)
{
    const struct node_view *v;
    double now;
    size_t n = g->host.nodes(g->host.arg, &v, &now);

    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].id, id))
            return true;
    return false;
}

static void drain_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct drain_ctx *d = arg;
    struct buf b;

    (void)c;
    if (reply && reply->type == RESP_INT)
        log_info("http front: node %s %s", d->node, d->drain ? "drained" : "back in rotation");
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
                   known(d->g, d->node) ? "true" : "false");
        send_json(d->hr, 200, &b);
    }
    orion_free(d);
}

void gw_drain(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
              bool drain)
{
    cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "node");

    gw_drain_node(g, hr, cJSON_IsString(n) ? n->valuestring : NULL, drain);
    cJSON_Delete(j);
}

void gw_drain_node(struct gateway *g, struct httpd_req *hr, const char *node, bool drain)
{
    struct drain_ctx *d;
    char ts[32];
    size_t len = node ? strlen(node) : 0;
    int rc;

    if (!len || len > ORION_NODE_ID_MAX) {
        json_error(hr, 400, "want {\"node\":\"ID\"}");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)node[i] <= ' ' || node[i] == 0x7f) {
            json_error(hr, 400, "a node id has no spaces or control characters");
            return;
        }
    }
    d = orion_calloc(1, sizeof(*d));
    if (!d) {
        json_error(hr, 500, "out of memory");
        return;
    }
    d->g = g;
    d->hr = hr;
    d->drain = drain;
    memcpy(d->node, node, len + 1);
    {
        const struct node_view *v;
        double now;
        g->host.nodes(g->host.arg, &v, &now);
        snprintf(ts, sizeof(ts), "%lld", (long long)now);
    }
    rc = drain ? redis_cmd(g->cmd, drain_cb, d, "HSET", g->keys.drain, d->node, ts, (char *)NULL)
               : redis_cmd(g->cmd, drain_cb, d, "HDEL", g->keys.drain, d->node, (char *)NULL);
    if (rc < 0) {
        orion_free(d);
        json_error(hr, 503, "redis is not available");
        return;
    }
    httpd_on_close(hr, drain_gone, d);
}
