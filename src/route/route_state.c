/* SPDX-License-Identifier: MIT */
/*
 * route_state: the router's own per-node record that route_pick reads: an index by node id,
 * the models it sent where (residency until keep_alive ends, dropped once the node's health
 * showed the model and then lost it), the learned model capacity of each node, and the run
 * and cold-load times learned per model from the workers' answers. Formulas in route.h.
 */
#include "orion/route.h"
#include "route_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t dstlen, const char *src)
{
    if (dstlen)
        snprintf(dst, dstlen, "%s", src ? src : "");
}

void route_state_init(struct route_state *st) { memset(st, 0, sizeof(*st)); }

/* The state index: route_pick looks every node up twice per request, so with hundreds of
 * nodes a scan per lookup would make each route quadratic in the node count. */
static size_t id_hash(const char *id)
{
    unsigned long h = 2166136261u;

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return (size_t)(h ^ (h >> 13)) & (ROUTE_STATE_SLOTS - 1);
}

static void index_add(struct route_state *st, size_t i)
{
    size_t h = id_hash(st->node[i].id);

    while (st->slot[h])
        h = (h + 1) & (ROUTE_STATE_SLOTS - 1);
    st->slot[h] = (unsigned short)(i + 1);
}

static void index_rebuild(struct route_state *st)
{
    memset(st->slot, 0, sizeof(st->slot));
    for (size_t i = 0; i < st->n; i++)
        index_add(st, i);
    st->nindexed = st->n;
}

struct route_node_state *route_state_find(const struct route_state *st, const char *id)
{
    size_t h;

    if (!st || !id)
        return NULL;
    if (st->nindexed <= st->n) {
        for (h = id_hash(id); st->slot[h]; h = (h + 1) & (ROUTE_STATE_SLOTS - 1)) {
            size_t i = st->slot[h] - 1u;
            if (i < st->nindexed && strcmp(st->node[i].id, id) == 0)
                return (struct route_node_state *)&st->node[i];
        }
    }
    for (size_t i = st->nindexed <= st->n ? st->nindexed : 0; i < st->n; i++)
        if (strcmp(st->node[i].id, id) == 0)
            return (struct route_node_state *)&st->node[i];
    return NULL;
}

static struct route_node_state *state_get(struct route_state *st, const char *id)
{
    struct route_node_state *ns = route_state_find(st, id);

    if (ns)
        return ns;
    if (!id || strlen(id) > ORION_NODE_ID_MAX || st->n >= ORION_ROUTE_MAX_NODES) {
        errno = ENOBUFS;
        return NULL;
    }
    ns = &st->node[st->n++];
    memset(ns, 0, sizeof(*ns));
    copy_str(ns->id, sizeof(ns->id), id);
    if (st->nindexed == st->n - 1) {
        index_add(st, st->n - 1);
        st->nindexed = st->n;
    }
    return ns;
}

static bool listed(const struct route_node *nodes, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (nodes[i].id && strcmp(nodes[i].id, id) == 0)
            return true;
    return false;
}

static unsigned long key_hash(const char *k) /* FNV-1a, 32 bits */
{
    unsigned long h = 2166136261UL;

    for (; *k; k++)
        h = ((h ^ (unsigned char)*k) * 16777619UL) & 0xffffffffUL;
    return h;
}

static bool has_hash(const unsigned long *hs, size_t n, unsigned long h)
{
    for (size_t i = 0; i < n; i++)
        if (hs[i] == h)
            return true;
    return false;
}

#define NAMES_MEMO 16 /* a node's model names whose keys one update keeps */

/* The keys of a node's model names, each normalised once per update (its three readers
 * would otherwise do it again for every name and record). */
struct names {
    const struct route_node *nd;
    signed char state[NAMES_MEMO]; /* 0 not yet, 1 key[i] holds it, -1 not a model name */
    char key[NAMES_MEMO][ORION_MODEL_MAX + 1];
    char scratch[ORION_MODEL_MAX + 1];
};

/* The key of the node's i-th model name, or NULL when it is not a model name. */
static const char *name_key(struct names *m, size_t i)
{
    char *k = i < NAMES_MEMO ? m->key[i] : m->scratch;
    bool ok;

    if (i < NAMES_MEMO && m->state[i])
        return m->state[i] > 0 ? k : NULL;
    ok = m->nd->models[i] && route_model_norm(m->nd->models[i], k, ORION_MODEL_MAX + 1) >= 0;
    if (i < NAMES_MEMO)
        m->state[i] = ok ? 1 : -1;
    return ok ? k : NULL;
}

/* route_has_model(nd->models, nd->nmodels, key), from the memo. */
static bool names_have(struct names *m, const char *key)
{
    const char *k;

    for (size_t i = 0; i < m->nd->nmodels; i++)
        if ((k = name_key(m, i)) && strcmp(k, key) == 0)
            return true;
    return false;
}

/* model_cap: a model gone while another came (or while the node was busy: Ollama makes room
 * for a load) means the node was full at the count it had before. An empty list is Ollama
 * down or everything expired, not an eviction. */
static void learn_cap(struct route_node_state *ns, const struct route_node *nd, struct names *m)
{
    unsigned long now_h[ROUTE_MAX_SEEN], h;
    const char *k;
    size_t n = 0, total = 0, i, keep = 0;
    bool gained = false, lost = false;

    for (i = 0; i < nd->nmodels; i++) {
        if (!(k = name_key(m, i)))
            continue;
        total++;
        h = key_hash(k);
        if (n < ROUTE_MAX_SEEN && !has_hash(now_h, n, h))
            now_h[n++] = h;
    }
    keep = ns->nseen < ROUTE_MAX_SEEN ? ns->nseen : ROUTE_MAX_SEEN;
    if (ns->seen_valid && total) {
        for (i = 0; i < n; i++)
            gained = gained || !has_hash(ns->seen, keep, now_h[i]);
        for (i = 0; i < keep; i++)
            lost = lost || !has_hash(now_h, n, ns->seen[i]);
        if (lost && (gained || nd->inflight > 0 || ns->queued > 0))
            ns->model_cap = (unsigned)ns->nseen;
    }
    if (ns->model_cap && total > ns->model_cap)
        ns->model_cap = (unsigned)total;
    memcpy(ns->seen, now_h, n * sizeof(now_h[0]));
    ns->nseen = total;
    ns->seen_valid = true;
}

/* A conversation record stands only while its model is resident there (loaded, or a live
 * residency record): an unloaded runner takes every slot and the host cache with it. */
static void conv_prune(struct route_node_state *ns, const struct route_node *nd, struct names *m)
{
    unsigned long res[ROUTE_MAX_SEEN + ORION_ROUTE_MAX_SENT];
    const char *k;
    size_t n = 0, i = 0;
    bool keep;

    if (!ns->conv.n)
        return;
    for (size_t j = 0; j < nd->nmodels && n < ROUTE_MAX_SEEN; j++)
        if ((k = name_key(m, j)) && !route_unloaded(ns, k, -HUGE_VAL)) /* marks are live */
            res[n++] = route_conv_model(k);
    for (size_t j = 0; j < ns->nsent; j++)
        if (!ns->sent[j].unload)
            res[n++] = route_conv_model(ns->sent[j].model);
    while (i < ns->conv.n) {
        keep = false;
        for (size_t j = 0; j < n && !keep; j++)
            keep = res[j] == ns->conv.rec[i].model;
        if (keep)
            i++;
        else
            route_conv_drop_model(&ns->conv, ns->conv.rec[i].model);
    }
}

/* Hysteresis marks: set above the threshold, cleared only a margin below it. */
static void state_mark(struct route_node_state *ns, const struct route_node *nd,
                       const struct route_settings *s, double now)
{
    struct names m; /* ~4 KB */
    size_t i, k = 0;

    m.nd = nd;
    memset(m.state, 0, sizeof(m.state));
    if (!nd->has_temp)
        ns->hot = false;
    else if (nd->temp_c > s->max_temp)
        ns->hot = true;
    else if (nd->temp_c <= s->max_temp - s->temp_margin)
        ns->hot = false;
    if (nd->ram_percent < 0)
        ns->full = false;
    else if (nd->ram_percent > s->max_ram)
        ns->full = true;
    else if (nd->ram_percent <= s->max_ram - s->ram_margin)
        ns->full = false;
    for (i = 0; i < ns->nsent; i++) {
        bool loaded = names_have(&m, ns->sent[i].model);
        if (ns->sent[i].expires <= now || (ns->sent[i].seen && !loaded))
            continue; /* run out, or loaded and gone since: evicted or unloaded */
        if (ns->sent[i].unload && !loaded)
            continue; /* an unload mark: the list shows it done */
        ns->sent[k] = ns->sent[i];
        ns->sent[k++].seen = ns->sent[i].seen || loaded;
    }
    ns->nsent = k;
    learn_cap(ns, nd, &m);
    conv_prune(ns, nd, &m);
    route_cond_update(&ns->cond, nd, ns->queued == 0);
}

int route_state_update(struct route_state *st, const struct route_node *nodes, size_t n,
                       const struct route_settings *s, double now)
{
    struct route_node_state *ns;
    size_t i = 0;
    int rc = 0;

    while (i < st->n) { /* forget nodes that left the health hash */
        if (listed(nodes, n, st->node[i].id)) {
            i++;
            continue;
        }
        memmove(&st->node[i], &st->node[i + 1], (st->n - i - 1) * sizeof(st->node[0]));
        st->n--;
    }
    index_rebuild(st); /* positions moved; also takes in entries added by hand */
    for (i = 0; i < n; i++) {
        if (!nodes[i].id)
            continue;
        ns = state_get(st, nodes[i].id);
        if (!ns) {
            rc = -1;
            continue;
        }
        state_mark(ns, &nodes[i], s, now);
    }
    if (rc < 0)
        errno = ENOBUFS;
    return rc;
}

int route_state_update_one(struct route_state *st, const struct route_node *node,
                           const struct route_settings *s, double now)
{
    struct route_node_state *ns = node->id ? state_get(st, node->id) : NULL;

    if (!ns) {
        errno = ENOBUFS;
        return -1;
    }
    state_mark(ns, node, s, now);
    return 0;
}

int route_note_sent(struct route_state *st, const char *node_id, const char *model,
                    double keep_alive_s, double now)
{
    char key[ORION_MODEL_MAX + 1];
    struct route_node_state *ns;
    bool unload = keep_alive_s == 0;
    double expires = keep_alive_s < 0 ? HUGE_VAL
                                      : now + (unload ? ROUTE_UNLOAD_HOLD_S : keep_alive_s);
    size_t i, slot;

    if (route_model_norm(model, key, sizeof(key)) < 0) {
        errno = EINVAL;
        return -1;
    }
    ns = state_get(st, node_id);
    if (!ns)
        return -1;
    ns->queued++;
    copy_str(st->rr_last, sizeof(st->rr_last), node_id);
    for (i = 0; i < ns->nsent; i++)
        if (strcmp(ns->sent[i].model, key) == 0) {
            if (unload || ns->sent[i].unload || expires > ns->sent[i].expires)
                ns->sent[i].expires = expires;
            ns->sent[i].seen = ns->sent[i].seen && !unload && !ns->sent[i].unload;
            ns->sent[i].unload = unload; /* the last request's keep_alive decides */
            return 0;
        }
    if (ns->nsent < ORION_ROUTE_MAX_SENT) {
        slot = ns->nsent++;
    } else { /* full: replace the record that runs out first */
        for (slot = 0, i = 1; i < ns->nsent; i++)
            if (ns->sent[i].expires < ns->sent[slot].expires)
                slot = i;
    }
    copy_str(ns->sent[slot].model, sizeof(ns->sent[slot].model), key);
    ns->sent[slot].expires = expires;
    ns->sent[slot].seen = false;
    ns->sent[slot].unload = unload;
    return 0;
}

void route_note_done(struct route_state *st, const char *node_id)
{
    struct route_node_state *ns = route_state_find(st, node_id);

    if (ns && ns->queued)
        ns->queued--;
}

int route_note_dispatch(struct route_state *st, const struct route_node *node,
                        const struct route_request *req, unsigned long long id, double expect_ms,
                        unsigned long cached, double keep_alive_s, const struct route_settings *s,
                        double now)
{
    char key[ORION_MODEL_MAX + 1];
    const struct route_learned *l;
    struct route_node_state *ns;
    struct route_flight *f;
    unsigned long model;

    if (route_note_sent(st, node->id, req->model, keep_alive_s, now) < 0)
        return -1;
    ns = route_state_find(st, node->id);
    route_model_norm(req->model, key, sizeof(key));
    model = route_conv_model(key);
    if (ns->nflight < ROUTE_MAX_FLIGHT) {
        f = &ns->flight[ns->nflight++];
        f->id = id;
        f->model = model;
        f->sent = now;
        f->expect_ms = expect_ms;
        f->cached = cached;
        f->started = false;
    }
    l = route_learned_find(st, key);
    route_conv_note_sent(&ns->conv, model, req->conv,
                         l && l->answer_tokens > 0 ? (unsigned long)l->answer_tokens : 0,
                         s->conv_slots, node->host_cache, now);
    route_cond_busy(&ns->cond, now);
    route_conv_count(&st->conv, req->conv);
    return 0;
}

static struct route_flight *flight_find(struct route_node_state *ns, unsigned long long id)
{
    for (size_t i = 0; ns && i < ns->nflight; i++)
        if (ns->flight[i].id == id)
            return &ns->flight[i];
    return NULL;
}

void route_note_started(struct route_state *st, const char *node_id, unsigned long long id)
{
    struct route_flight *f = flight_find(route_state_find(st, node_id), id);

    if (f)
        f->started = true;
}

int route_note_finished(struct route_state *st, const char *node_id, unsigned long long id,
                        const char *model, const struct route_answer *a,
                        const struct route_settings *s, double now)
{
    struct route_node_state *ns = route_state_find(st, node_id);
    struct route_flight *f = flight_find(ns, id);
    unsigned long cached = f ? f->cached : 0;

    if (f)
        *f = ns->flight[--ns->nflight];
    if (ns) {
        route_note_done(st, node_id);
        route_cond_busy(&ns->cond, now);
    }
    if (!a)
        return 0;
    return route_learn(st, ns, model, a, cached, s, now);
}
