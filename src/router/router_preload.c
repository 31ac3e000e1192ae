/* SPDX-License-Identifier: MIT */
/*
 * Presets and the models the router keeps loaded. The active preset (--config, POST
 * /v1/config) and the --preload list name models that must be loaded: after every refresh the
 * ones loaded on no eligible node are placed (preset_place: largest first into the roomiest
 * node that has them) and a load is asked of their node: an entry on P:requests with an empty
 * prompt, keep_alive -1, pinned to the node, priority 1, no callback. MODEL@NODE of --preload
 * is loaded on that node whenever it is eligible and lacks it. A load is asked again after
 * PRELOAD_RETRY_S, or at once when its node comes back (stale, then fresh again).
 *
 * A preset's names are matched to what is installed as roles are (roles.h, role_key_match:
 * "phi-4" is any phi4 tag), so the seed's presets name Ollama's models.
 */
#include "router_int.h"

#include "orion/entry.h"
#include "orion/log.h"
#include "orion/svcconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRELOAD_RETRY_S 120.0
#define PRELOAD_MAX (2 * PRESET_MAX_MODELS) /* models the preset and --preload name */
#define PRELOAD_TIMEOUT_MS "600000"

struct preload_pin {
    char model[ORION_MODEL_MAX + 1];
    char node[ORION_NODE_ID_MAX + 1]; /* "" : placed */
};

struct preload_ask {
    char model[ORION_MODEL_MAX + 1];
    char node[ORION_NODE_ID_MAX + 1];
    double at;
};

struct preload {
    bool presets_loaded;
    struct preload_pin pin[PRELOAD_MAX];
    size_t npin;
    struct preload_ask ask[PRELOAD_MAX * 2]; /* loads asked, newest kept */
    size_t nask;
    unsigned long seq;
    /* readiness, as of the last tick */
    size_t wanted, loaded;
    char names[GW_READY_MAX][ORION_MODEL_MAX + 1];
    size_t nnames;
    char reason[256];
};

static int parse_preload(struct preload *p, const char *list)
{
    const char *s = list;

    while (s && *s) {
        const char *end = strchr(s, ','), *at;
        size_t n = end ? (size_t)(end - s) : strlen(s);
        struct preload_pin *x;

        while (n && *s == ' ')
            s++, n--;
        at = memchr(s, '@', n);
        if (n) {
            size_t mn = at ? (size_t)(at - s) : n, nn = at ? n - mn - 1 : 0;
            if (p->npin == PRELOAD_MAX || !mn || mn > ORION_MODEL_MAX || (at && !nn) ||
                nn > ORION_NODE_ID_MAX) {
                log_errorx("preload: '%.*s': want MODEL or MODEL@NODE, at most %d of them",
                           (int)n, s, PRELOAD_MAX);
                return -1;
            }
            x = &p->pin[p->npin++];
            memcpy(x->model, s, mn);
            x->model[mn] = '\0';
            memcpy(x->node, at ? at + 1 : "", nn);
            x->node[nn] = '\0';
        }
        s = end ? end + 1 : NULL;
    }
    return 0;
}

/* The built-in presets, then --presets: at start when either is asked for, else at the first
 * POST /v1/config (a router that uses none allocates nothing for them). */
static int presets_load(struct router *r, char *err, size_t errlen)
{
    char e[256];

    if (!r->pre && !(r->pre = orion_calloc(1, sizeof(*r->pre)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (r->pre->presets_loaded)
        return 0;
    if (svc_presets_load_default(&r->presets, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "built-in presets: %s", e);
        preset_set_release(&r->presets);
        return -1;
    }
    if (r->rc->presets && svc_presets_load_file(&r->presets, r->rc->presets, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "presets: %s", e);
        preset_set_release(&r->presets);
        errno = EINVAL;
        return -1;
    }
    r->pre->presets_loaded = true;
    return 0;
}

int router_activate(struct router *r, const char *name, char *err, size_t errlen)
{
    const struct preset *p;

    if (presets_load(r, err, errlen) < 0)
        return -1;
    if (!(p = preset_find(&r->presets, name))) {
        snprintf(err, errlen, "no preset named '%s'", name);
        errno = ENOENT;
        return -1;
    }
    r->active = p;
    snprintf(r->mode, sizeof(r->mode), "%s",
             r->rc->orchestration_mode ? r->rc->orchestration_mode : p->mode);
    if (r->pre)
        memset(r->pre->ask, 0, sizeof(r->pre->ask)), r->pre->nask = 0;
    log_info("preset %s active: %zu model(s), mode %s", p->name, p->n, r->mode);
    return 0;
}

int router_set_config(void *arg, const char *name, char *err, size_t errlen)
{
    struct router *r = arg;
    int rc = router_activate(r, name, err, errlen);

    if (rc == 0)
        router_preload_tick(r, router_now(r));
    return rc;
}

int router_preload_init(struct router *r)
{
    const struct router_conf *rc = r->rc;
    char err[256];

    preset_set_init(&r->presets);
    snprintf(r->mode, sizeof(r->mode), "%s", rc->orchestration_mode ? rc->orchestration_mode
                                                                     : "single");
    if ((rc->preload && *rc->preload) && !(r->pre = orion_calloc(1, sizeof(*r->pre))))
        return ORION_EXIT_SYSTEM;
    if (rc->presets && presets_load(r, err, sizeof(err)) < 0) {
        log_errorx("%s", err);
        return errno == EINVAL ? ORION_EXIT_USAGE : ORION_EXIT_SYSTEM;
    }
    if (rc->config && *rc->config && router_activate(r, rc->config, err, sizeof(err)) < 0) {
        log_errorx("config: %s", err);
        return errno == ENOENT || errno == EINVAL ? ORION_EXIT_USAGE : ORION_EXIT_SYSTEM;
    }
    if (rc->preload && *rc->preload && parse_preload(r->pre, rc->preload) < 0)
        return ORION_EXIT_USAGE;
    return 0;
}

void router_preload_release(struct router *r)
{
    preset_set_release(&r->presets);
    r->active = NULL;
    orion_free(r->pre);
    r->pre = NULL;
}

/* --- what is installed and loaded where -------------------------------------------------------- */

static bool eligible(struct router *r, const struct rnode *n, double now, struct route_node *v)
{
    node_route_view(v, n->id, n->has_health ? &n->h : NULL, n->drained, n->observed,
                    n->xlen > 0 ? (unsigned long)n->xlen : 0);
    return route_eligible(v, NULL, &r->rs, &r->st, now, NULL, 0);
}

/* The installed name a preset's model names (exact, else the best role_key_match). */
static const char *installed_as(const struct router *r, const char *name)
{
    const char *best = NULL;
    int strength = 0;

    for (size_t i = 0; i < r->nnodes; i++) {
        const struct health *h = &r->nodes[i].h;
        for (size_t m = 0; r->nodes[i].has_health && m < h->ninstalled; m++) {
            int s = role_key_match(name, h->installed[m]);
            if (s > strength) {
                strength = s;
                best = h->installed[m];
            }
        }
    }
    return best;
}

static bool loaded_on(const struct rnode *n, const char *model)
{
    return n->has_health &&
           route_has_model((const char *const *)n->h.models, n->h.nmodels, model);
}

/* MiB a model needs: what it took when loaded, else its size on disk x 8/7, else the preset's. */
static unsigned long need_mb(const struct router *r, const char *model, long preset_mb)
{
    const struct ollama_model *m = router_model_meta(r, model);

    if (m && m->ram > 0)
        return (unsigned long)(m->ram >> 20);
    if (m && m->size > 0)
        return (unsigned long)((m->size / 7 * 8) >> 20);
    return preset_mb > 0 ? (unsigned long)preset_mb : 0;
}

/* --- asking for loads -------------------------------------------------------------------------- */

static struct preload_ask *asked(struct preload *p, const char *model, const char *node)
{
    for (size_t i = 0; i < p->nask; i++)
        if (!strcmp(p->ask[i].node, node) && route_model_eq(p->ask[i].model, model))
            return &p->ask[i];
    return NULL;
}

static void ask_load(struct router *r, const char *model, const char *node, double now)
{
    struct preload *p = r->pre;
    struct preload_ask *a = asked(p, model, node);
    struct resp_cmd c;
    char id[ORION_NODE_ID_MAX + 48];

    if (a && now - a->at < PRELOAD_RETRY_S)
        return;
    if (!a) {
        size_t slot = 0;
        if (p->nask < sizeof(p->ask) / sizeof(p->ask[0]))
            slot = p->nask++;
        else /* full: the oldest goes */
            for (size_t i = 1; i < p->nask; i++)
                if (p->ask[i].at < p->ask[slot].at)
                    slot = i;
        a = &p->ask[slot];
        snprintf(a->model, sizeof(a->model), "%s", model);
        snprintf(a->node, sizeof(a->node), "%s", node);
    }
    a->at = now;
    snprintf(id, sizeof(id), "preload-%s-%lu", r->me, ++p->seq);
    resp_cmd_init(&c);
    entry_request_begin(&c, &r->keys);
    resp_cmd_adds(&c, "request_id");
    resp_cmd_adds(&c, id);
    resp_cmd_adds(&c, "model");
    resp_cmd_adds(&c, model);
    resp_cmd_adds(&c, "prompt");
    resp_cmd_adds(&c, "");
    resp_cmd_adds(&c, "keep_alive");
    resp_cmd_adds(&c, "-1");
    resp_cmd_adds(&c, "node");
    resp_cmd_adds(&c, node);
    resp_cmd_adds(&c, "priority");
    resp_cmd_adds(&c, "1");
    resp_cmd_adds(&c, "timeout_ms");
    resp_cmd_adds(&c, PRELOAD_TIMEOUT_MS);
    if (resp_cmd_finish(&c) == 0 && redis_cmdv(r->cmd, 0, NULL, NULL, c.argc, c.argv, c.len) == 0)
        log_info("preload: %s on %s", model, node);
    resp_cmd_release(&c);
}

/* --- every refresh ----------------------------------------------------------------------------- */

static void note_ready(struct preload *p, const char *model, bool loaded)
{
    p->wanted++;
    if (!loaded)
        return;
    p->loaded++;
    if (p->nnames < GW_READY_MAX)
        snprintf(p->names[p->nnames++], sizeof(p->names[0]), "%s", model);
}

/* MODEL@NODE: on that node whenever it is eligible and lacks it. */
static void pinned(struct router *r, double now)
{
    struct preload *p = r->pre;
    struct route_node v;

    for (size_t i = 0; i < p->npin; i++) {
        struct rnode *n = p->pin[i].node[0] ? router_node(r, p->pin[i].node, false) : NULL;
        if (!p->pin[i].node[0])
            continue;
        note_ready(p, p->pin[i].model, n && loaded_on(n, p->pin[i].model));
        if (n && !loaded_on(n, p->pin[i].model) && eligible(r, n, now, &v))
            ask_load(r, p->pin[i].model, n->id, now);
        else if (!n && !p->reason[0])
            snprintf(p->reason, sizeof(p->reason), "node '%s' has not reported",
                     p->pin[i].node);
    }
}

/* The preset's models and --preload's unpinned ones, as installed names (or as given when
 * installed nowhere), each once. */
static size_t wanted(struct router *r, const char *names[PRELOAD_MAX], long mb[PRELOAD_MAX])
{
    size_t k = 0;

    for (size_t i = 0; r->active && i < r->active->n && k < PRELOAD_MAX; i++) {
        const char *m = installed_as(r, r->active->models[i]);
        names[k] = m ? m : r->active->models[i];
        mb[k++] = r->active->memory_mb[i];
    }
    for (size_t i = 0; i < r->pre->npin && k < PRELOAD_MAX; i++) {
        const char *m = r->pre->pin[i].node[0] ? NULL : installed_as(r, r->pre->pin[i].model);
        if (r->pre->pin[i].node[0])
            continue;
        names[k] = m ? m : r->pre->pin[i].model;
        mb[k++] = 0;
    }
    for (size_t i = 1; i < k; i++) /* once each */
        for (size_t j = 0; j < i; j++)
            if (route_model_eq(names[i], names[j])) {
                k--;
                names[i] = names[k];
                mb[i--] = mb[k];
                break;
            }
    return k;
}

static void placed(struct router *r, const char *names[], const long mb[], size_t k, double now)
{
    struct preload *p = r->pre;
    struct place_model pm[PRESET_MAX_MODELS];
    struct place_node *pn = orion_calloc(r->nnodes ? r->nnodes : 1, sizeof(*pn));
    struct route_node v;
    struct place_result res;
    size_t m = 0;

    if (!pn)
        return;
    for (size_t i = 0; i < r->nnodes; i++) {
        const struct rnode *n = &r->nodes[i];
        pn[i].id = n->id;
        pn[i].eligible = n->has_health && eligible(r, n, now, &v);
        pn[i].free_mb = n->h.ram_total_mb > 0 ? (long)(n->h.ram_total_mb * r->rs.max_ram / 100) -
                                                    n->h.ram_used_mb
                                              : -1;
        pn[i].installed = (const char *const *)n->h.installed;
        pn[i].ninstalled = n->h.ninstalled;
        pn[i].loaded = (const char *const *)n->h.models;
        pn[i].nloaded = n->h.nmodels;
    }
    for (size_t i = 0; i < k; i++) {
        bool up = false;
        for (size_t j = 0; j < r->nnodes && !up; j++)
            up = pn[j].eligible && loaded_on(&r->nodes[j], names[i]);
        note_ready(p, names[i], up);
        if (!up && m < PRESET_MAX_MODELS) {
            pm[m].name = names[i];
            pm[m++].need_mb = need_mb(r, names[i], mb[i]);
        }
    }
    preset_place(pm, m, pn, r->nnodes, &res);
    for (size_t i = 0; i < m; i++) {
        if (res.node[i] >= 0)
            ask_load(r, pm[i].name, r->nodes[res.node[i]].id, now);
        else if (!p->reason[0])
            snprintf(p->reason, sizeof(p->reason), "'%s': %s", pm[i].name, res.why[i]);
    }
    orion_free(pn);
}

void router_preload_tick(struct router *r, double now)
{
    struct preload *p = r->pre;
    const char *names[PRELOAD_MAX];
    long mb[PRELOAD_MAX];
    struct route_node v;
    size_t k;

    if (!p)
        return;
    for (size_t i = 0; i < r->nnodes; i++) { /* a node back: its loads may be asked again */
        struct rnode *n = &r->nodes[i];
        bool fresh = n->has_health && eligible(r, n, now, &v);
        if (fresh && !n->was_fresh)
            for (size_t a = 0; a < p->nask; a++)
                if (!strcmp(p->ask[a].node, n->id))
                    p->ask[a].at = 0;
        n->was_fresh = fresh;
    }
    p->wanted = p->loaded = p->nnames = 0;
    p->reason[0] = '\0';
    k = wanted(r, names, mb);
    if (k)
        placed(r, names, mb, k, now);
    pinned(r, now);
    if (!p->reason[0] && p->loaded < p->wanted)
        snprintf(p->reason, sizeof(p->reason), "models still loading");
}

bool router_preload_loading(const struct router *r, const char *model, double now)
{
    char key[ORION_MODEL_MAX + 1];

    if (route_model_norm(model, key, sizeof(key)) < 0)
        return false;
    for (size_t i = 0; i < r->nnodes; i++) {
        const struct route_node_state *ns = route_state_find(&r->st, r->nodes[i].id);
        if (loaded_on(&r->nodes[i], model))
            return false;
        for (size_t k = 0; ns && r->nodes[i].xlen > 0 && k < ns->nsent; k++)
            if (!ns->sent[k].seen && !ns->sent[k].unload && ns->sent[k].expires > now &&
                !strcmp(ns->sent[k].model, key))
                return true;
    }
    for (size_t i = 0; r->pre && i < r->pre->nask; i++)
        if (now - r->pre->ask[i].at < PRELOAD_RETRY_S && route_model_eq(r->pre->ask[i].model, model))
            return true;
    return false;
}

void router_preload_state(const struct router *r, struct gw_service *out)
{
    const struct preload *p = r->pre;

    if (!p)
        return;
    out->wanted = p->wanted;
    out->loaded = p->loaded;
    for (size_t i = 0; i < p->nnames && i < GW_READY_MAX; i++)
        out->loaded_models[out->nloaded_models++] = p->names[i];
    out->reason = p->reason;
}
