/* SPDX-License-Identifier: MIT */
/* One node's status from its health record, judged and written as JSON the same everywhere. */
#include "orion/node.h"
#include "orion/jsonw.h"
#include "orion/ollama.h"

#include <string.h>

double node_seen(double seen, double last_seen_before, double last_seen, double now, bool first)
{
    if (first)
        return last_seen < now ? last_seen : now;
    return last_seen != last_seen_before ? now : seen;
}

void node_view_init(struct node_view *v, const char *id, const struct health *h, bool drained,
                    double seen, unsigned long queued)
{
    memset(v, 0, sizeof(*v));
    v->id = id;
    v->h = h;
    v->drained = drained;
    node_route_view(&v->rn, id, h, drained, seen, queued);
    v->running = h && h->has_inflight && h->inflight > 0 ? (unsigned)h->inflight : 0;
    if (v->running > v->rn.inflight)
        v->running = v->rn.inflight;
    v->queued = v->rn.inflight - v->running;
}

void node_route_view(struct route_node *o, const char *id, const struct health *h, bool drained,
                     double seen, unsigned long queued)
{
    memset(o, 0, sizeof(*o));
    o->id = id;
    o->last_seen = h ? seen : 0;
    o->available = !h ? ROUTE_AVAIL_UNKNOWN : h->available ? ROUTE_AVAIL_YES : ROUTE_AVAIL_NO;
    o->ram_percent = -1;
    o->cpu_percent = -1;
    o->capacity = 1;
    o->inflight = (unsigned)queued;
    o->draining = drained;
    if (!h)
        return;
    o->has_temp = h->has_temp;
    o->temp_c = h->temp_c;
    o->ram_percent = h->ram_percent;
    o->ram_total_mb = h->ram_total_mb > 0 ? (unsigned long)h->ram_total_mb : 0;
    o->models = (const char *const *)h->models;
    o->nmodels = h->nmodels;
    o->installed = (const char *const *)h->installed;
    o->ninstalled = h->ninstalled;
    o->capacity = h->capacity > 0 ? (unsigned)h->capacity : 1;
    o->draining = h->draining || drained;
    o->labels = (const char *const *)h->labels;
    o->nlabels = h->nlabels;
    o->cpu_percent = h->cpu_percent;
    o->has_throttled = h->has_throttled;
    o->throttled = h->throttled;
    o->host_cache = h->has_ollama_version && ollama_version_cmp(h->ollama_version, 0, 30) >= 0;
}

void node_view_judge(struct node_view *v, const struct route_settings *rs,
                     const struct route_state *st, double now)
{
    v->why[0] = '\0';
    v->eligible = route_eligible(&v->rn, NULL, rs, st, now, v->why, sizeof(v->why));
    if (v->eligible)
        v->why[0] = '\0';
}

static void num_or_null(struct buf *b, const char *name, bool known, double x)
{
    if (known)
        buf_printf(b, ",\"%s\":%.1f", name, x);
    else
        buf_printf(b, ",\"%s\":null", name);
}

int node_view_json(const struct node_view *v, struct buf *b)
{
    const struct health *h = v->h;

    buf_puts(b, "{\"node\":");
    json_quote(b, v->id, strlen(v->id));
    buf_printf(b, ",\"eligible\":%s,\"reason\":", v->eligible ? "true" : "false");
    json_quote(b, v->why, strlen(v->why));
    buf_printf(b, ",\"drained\":%s,\"draining\":%s", v->drained ? "true" : "false",
               v->rn.draining ? "true" : "false");
    num_or_null(b, "temp_c", h && h->has_temp, h ? h->temp_c : 0);
    num_or_null(b, "ram_percent", h && h->ram_percent >= 0, h ? h->ram_percent : 0);
    num_or_null(b, "cpu_percent", h && h->cpu_percent >= 0, h ? h->cpu_percent : 0);
    buf_printf(b, ",\"inflight\":%u,\"capacity\":%u", v->rn.inflight, v->rn.capacity);
    if (v->has_counts) {
        buf_printf(b, ",\"routed\":%lu,\"sticky\":%lu,\"queued_resident\":%lu,\"spill\":%lu,\"cold\":%lu"
                      ",\"last_seen\":%lld,\"running\":%u,\"queued\":%u,\"loading\":[",
                   v->counts[0], v->counts[1], v->counts[2], v->counts[3], v->counts[4],
                   h ? (long long)h->last_seen : 0LL, v->running, v->queued);
        for (size_t k = 0; k < v->nloading; k++) {
            if (k)
                buf_putc(b, ',');
            json_quote(b, v->loading[k], strlen(v->loading[k]));
        }
        buf_putc(b, ']');
    }
    buf_puts(b, ",\"models\":[");
    for (size_t m = 0; h && m < h->nmodels; m++) {
        if (m)
            buf_putc(b, ',');
        json_quote(b, h->models[m], strlen(h->models[m]));
    }
    return buf_puts(b, "]}");
}
