/* SPDX-License-Identifier: MIT */
/*
 * The answer statistics of /stats per node and per (node, model), from the done, failed and
 * started events the workers and URL backends write on P:events (both run the same runner):
 * answers, errors, requests in flight, and a recent window (latwin.h) of each one's latency
 * and time to first token.
 *
 * Latency is Ollama's total_duration of a done answer (its own measure of the request, load
 * included). Time to first token is the first_token_ms the runner measured (from asking
 * Ollama to its first token, on the node's clock); a done event without it (an answer with no
 * text, or an older worker) gives load_duration + prompt_eval_duration, which is what Ollama
 * spends before its first token, when both are there, and else no sample.
 *
 * In flight per (node, model) is started minus finished events seen since this router
 * started; events of requests started before it are missed, so it is set back to 0 whenever
 * the node's stream is empty (nothing routed there is unfinished), and the front shows it at
 * most the node's own in flight (its stream length, exact whichever router routed it).
 * At most ROUTER_BSTATS series are kept; later ones are counted in bstats_dropped.
 */
#include "router_int.h"

#include <string.h>

static struct bstat *find(struct router *r, struct contract_str node, struct contract_str model)
{
    struct bstat *b;

    if (!node.n || node.n > ORION_NODE_ID_MAX || model.n >= ORION_MODEL_MAX)
        return NULL;
    for (size_t i = 0; i < r->nbstats; i++) {
        b = &r->bstats[i];
        if (strlen(b->node) == node.n && !memcmp(b->node, node.p, node.n) &&
            strlen(b->model) == model.n && (!model.n || !memcmp(b->model, model.p, model.n)))
            return b;
    }
    if (r->nbstats == ROUTER_BSTATS) {
        r->bstats_dropped++;
        return NULL;
    }
    b = &r->bstats[r->nbstats++];
    memset(b, 0, sizeof(*b));
    memcpy(b->node, node.p, node.n);
    if (model.n)
        memcpy(b->model, model.p, model.n);
    latwin_init(&b->lat);
    latwin_init(&b->ttft);
    return b;
}

/* The sample of time to first token of a done event (ms), or -1. */
static double first_token(const struct entry_event *e)
{
    if (e->has_first_token && e->first_token_ms >= 0)
        return (double)e->first_token_ms;
    if (e->load_duration >= 0 && e->prompt_eval_duration >= 0)
        return (double)(e->load_duration + e->prompt_eval_duration) / 1e6;
    return -1;
}

static void note(struct bstat *b, const struct entry_event *e, int kind)
{
    if (!b)
        return;
    if (kind == 0) {
        b->inflight++;
        return;
    }
    if (b->inflight)
        b->inflight--;
    if (kind == 2) {
        b->errors++;
        return;
    }
    b->answered++;
    if (e->total_duration >= 0)
        latwin_add(&b->lat, (double)e->total_duration / 1e6);
    latwin_add(&b->ttft, first_token(e)); /* -1: not added */
}

void router_bstats_event(struct router *r, const struct entry_event *e)
{
    int kind = entry_is(e->type, "started") ? 0
             : entry_is(e->type, "done")    ? 1
             : entry_is(e->type, "failed")  ? 2
                                            : -1;
    struct contract_str none = {"", 0};

    if (kind < 0 || !e->node.p)
        return;
    note(find(r, e->node, none), e, kind);
    if (e->model.p && e->model.n)
        note(find(r, e->node, e->model), e, kind);
}

void router_bstats_settle(struct router *r)
{
    for (size_t i = 0; i < r->nbstats; i++) {
        const struct rnode *n = router_node(r, r->bstats[i].node, false);

        if (n && n->xlen <= 0)
            r->bstats[i].inflight = 0;
    }
}

void router_bstats_copy(const struct router *r, struct gw_stats *st)
{
    st->nbstat = 0;
    for (size_t i = 0; i < r->nbstats && st->nbstat < GW_MAX_BSTATS; i++) {
        const struct bstat *b = &r->bstats[i];
        struct gw_bstat *o = &st->bstat[st->nbstat++];

        o->node = b->node;
        o->model = b->model;
        o->inflight = b->inflight;
        o->answered = b->answered;
        o->errors = b->errors;
        latwin_sum(&b->lat, &o->lat);
        latwin_sum(&b->ttft, &o->ttft);
    }
    st->bstat_dropped = r->bstats_dropped;
}
