/* SPDX-License-Identifier: MIT */
/*
 * The router's side of the service contract (docs/PROTOCOL.md): before a held request is
 * placed, its model is decided (a model name as given, or one chosen for a role or for
 * `auto` by its task type, weighing residency and load: roles.h), its prompt is checked
 * against that model's context (tokest.h), and a model at its --max-per-model bound keeps it
 * waiting; a new request finding the waiting list full is answered queue_full. The models'
 * metadata comes from the workers' P:models records, read when a node's models_rev changes;
 * the token estimate learns from the done events.
 */
#include "router_int.h"

#include "orion/entry.h"
#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/promptest.h"
#include "orion/svcconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVC_MAX_CANDS 64       /* models a role is chosen among */
#define FLIGHT_MAX_AGE 7200.0  /* s a request counts as running without an answer seen */

int router_service_init(struct router *r)
{
    const struct router_conf *rc = r->rc;
    char err[256];

    role_map_init(&r->user_roles);
    tokest_init(&r->est);
    admit_init(&r->flights);
    if (rc->model_roles && *rc->model_roles &&
        svc_roles_load(&r->user_roles, rc->model_roles, err, sizeof(err)) < 0) {
        log_errorx("model-roles: %s", err);
        return ORION_EXIT_USAGE;
    }
    if (rc->queue_strategy && !strcmp(rc->queue_strategy, "fifo"))
        r->fifo = true;
    else if (rc->queue_strategy && strcmp(rc->queue_strategy, "priority")) {
        log_errorx("queue-strategy: want fifo or priority, not '%s'", rc->queue_strategy);
        return ORION_EXIT_USAGE;
    }
    if (rc->orchestration_mode && !preset_mode_ok(rc->orchestration_mode)) {
        log_errorx("orchestration-mode: want single, critique, debate, ensemble or pipeline, "
                   "not '%s'", rc->orchestration_mode);
        return ORION_EXIT_USAGE;
    }
    return router_preload_init(r);
}

void router_service_release(struct router *r)
{
    router_preload_release(r);
    role_map_release(&r->user_roles);
    admit_release(&r->flights);
}

/* --- model metadata --------------------------------------------------------------------------- */

const struct ollama_model *router_model_meta(const struct router *r, const char *model)
{
    const struct ollama_model *best = NULL, *m;

    for (size_t i = 0; model && i < r->nnodes; i++) {
        if (!r->nodes[i].has_health || !(m = modelinfo_find(&r->nodes[i].mi, model)))
            continue;
        if (!best || (m->loaded && !best->loaded))
            best = m;
    }
    return best;
}

long router_budget(const struct router *r, const char *model, long num_ctx)
{
    const struct ollama_model *m = router_model_meta(r, model);
    long in_force;

    if (!m || !m->context_length)
        return 0; /* unknown: no guard */
    in_force = num_ctx                    ? num_ctx
               : m->loaded_ctx            ? m->loaded_ctx
               : m->num_ctx               ? m->num_ctx
               : r->rc->default_num_ctx > 0 ? r->rc->default_num_ctx
                                          : 4096;
    return tokest_budget(m->context_length, in_force);
}

struct meta_ctx {
    struct router *r;
    char id[ORION_NODE_ID_MAX + 1];
    char rev[HEALTH_REV_MAX + 1];
};

static void meta_cb(struct redis *c, struct resp_reply *reply, void *arg)
{
    struct meta_ctx *x = arg;
    struct rnode *n = router_node(x->r, x->id, false);
    char err[200];

    (void)c;
    if (n) {
        n->mi_fetching = false;
        if (reply && reply->type == RESP_BULK) {
            struct modelinfo mi;
            modelinfo_init(&mi);
            if (modelinfo_from_json(&mi, reply->str, reply->len, err, sizeof(err)) == 0) {
                modelinfo_release(&n->mi);
                n->mi = mi;
                n->mi_bad = false;
            } else if (!n->mi_bad) {
                log_warnx("models of node '%s' skipped: %s", n->id, err);
                n->mi_bad = true;
            }
            memcpy(n->mi_rev, x->rev, sizeof(n->mi_rev));
        } else if (reply && reply->type == RESP_NIL) {
            memcpy(n->mi_rev, x->rev, sizeof(n->mi_rev));
        }
    }
    orion_free(x);
}

void router_models_check(struct router *r, struct rnode *n)
{
    struct meta_ctx *x;

    if (!n->has_health || n->mi_fetching || !n->h.models_rev[0] ||
        !strcmp(n->h.models_rev, n->mi_rev) || !(x = orion_calloc(1, sizeof(*x))))
        return;
    x->r = r;
    snprintf(x->id, sizeof(x->id), "%s", n->id);
    memcpy(x->rev, n->h.models_rev, sizeof(x->rev));
    if (redis_cmd(r->cmd, meta_cb, x, "HGET", r->keys.models, n->id, (char *)NULL) == 0)
        n->mi_fetching = true;
    else
        orion_free(x);
}

/* --- learning from the events ---------------------------------------------------------------- */

void router_service_event(struct router *r, const struct entry_event *e)
{
    char key[ORION_MODEL_MAX + 1], model[ORION_MODEL_MAX + 1];

    admit_flight_done(&r->flights, e->request_id.p, e->request_id.n);
    if (!entry_is(e->type, "done") || e->prompt_est <= 0 || e->prompt_eval_count <= 0 ||
        !e->model.n || e->model.n > ORION_MODEL_MAX)
        return;
    memcpy(model, e->model.p, e->model.n);
    model[e->model.n] = '\0';
    if (route_model_norm(model, key, sizeof(key)) < 0)
        return;
    tokest_learn(&r->est, key, (double)e->prompt_est, (long)e->prompt_eval_count,
                 router_budget(r, model, 0), router_now(r));
}

/* --- admission -------------------------------------------------------------------------------- */

/* Slots of the eligible nodes (one node's view at a time: router_hold may run while the
 * router's view scratch is in use). */
static unsigned long capacity(struct router *r, double now)
{
    unsigned long cap = 0;

    for (size_t i = 0; i < r->nnodes; i++) {
        const struct rnode *n = &r->nodes[i];
        struct route_node v;

        node_route_view(&v, n->id, n->has_health ? &n->h : NULL, n->drained, n->observed,
                        n->xlen > 0 ? (unsigned long)n->xlen : 0);
        if (route_eligible(&v, NULL, &r->rs, &r->st, now, NULL, 0))
            cap += v.capacity ? v.capacity : 1;
    }
    return cap;
}

bool router_admit(struct router *r, const struct waiting *w)
{
    char details[96];
    long retry;

    if (!admit_full(r->nw, r->rc->max_waiting))
        return true;
    retry = admit_retry_after_ms(r->nw, capacity(r, router_now(r)),
                                 r->st.service_ms > 0 ? r->st.service_ms : r->rs.service_ms);
    snprintf(details, sizeof(details), "{\"waiting\":%zu,\"max_waiting\":%ld}", r->nw,
             r->rc->max_waiting);
    router_answer_error_ex(r, &w->req, w->src, w->group, "queue_full", true,
                           "the waiting list is full: try again later", details, retry);
    return false;
}

/* --- deciding the model ----------------------------------------------------------------------- */

struct guard {
    double prior;
    long num_ctx, num_predict;
};

/* Does the request fit model? need and budget for the answer's details. */
static bool fits(struct router *r, const struct guard *g, const char *model, long *need,
                 long *budget)
{
    char key[ORION_MODEL_MAX + 1];
    long est;

    if (route_model_norm(model, key, sizeof(key)) < 0)
        return true;
    est = tokest_estimate(&r->est, key, g->prior);
    *budget = router_budget(r, model, g->num_ctx);
    return tokest_fits(est, g->num_predict, *budget, need);
}

static void too_big(struct router *r, struct waiting *w, const struct guard *g, const char *model,
                    long need, long budget)
{
    char details[ORION_MODEL_MAX + 160], msg[ORION_MODEL_MAX + 160];
    struct buf b;

    buf_init(&b, sizeof(details));
    buf_printf(&b, "{\"current_tokens\":%ld,\"budget\":%ld,\"model\":", need, budget);
    json_quote(&b, model, strlen(model));
    buf_printf(&b, ",\"max_tokens\":%ld,\"estimated\":true}", g->num_predict);
    snprintf(details, sizeof(details), "%s", buf_data(&b));
    buf_release(&b);
    snprintf(msg, sizeof(msg), "the request needs about %ld tokens but the context of '%s' holds "
             "%ld: shorten the prompt or max_tokens, or ask for a model with a longer context",
             need, model, budget);
    router_answer_error_ex(r, &w->req, w->src, w->group, "context_budget_exceeded", false, msg,
                           details, 0);
}

/* Every model installed or loaded on an eligible node, once each, as role candidates. */
static size_t candidates(struct router *r, const struct route_node *nodes, size_t n, double now,
                         const struct guard *g, struct role_cand *c, size_t max)
{
    const struct role_map *maps[2] = {&r->user_roles, r->active ? &r->active->roles : NULL};
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        const char *const *lists[2] = {nodes[i].installed, nodes[i].models};
        size_t lens[2] = {nodes[i].ninstalled, nodes[i].nmodels};

        if (!route_eligible(&nodes[i], NULL, &r->rs, &r->st, now, NULL, 0))
            continue;
        for (int l = 0; l < 2; l++) {
            for (size_t m = 0; m < lens[l] && k < max; m++) {
                const struct ollama_model *meta;
                long need;
                size_t s = 0;

                while (s < k && !route_model_eq(c[s].model, lists[l][m]))
                    s++;
                if (s < k)
                    continue;
                memset(&c[k], 0, sizeof(c[k]));
                c[k].model = lists[l][m];
                c[k].roles = role_resolve(maps, 2, c[k].model);
                meta = router_model_meta(r, c[k].model);
                c[k].completion = meta && meta->has_caps ? (meta->caps & OLLAMA_CAP_COMPLETION) != 0
                                                         : role_defaults(c[k].model) != 0;
                c[k].fits = fits(r, g, c[k].model, &need, &c[k].budget);
                for (size_t p = 0; r->active && p < r->active->n; p++)
                    c[k].in_preset |= role_key_match(r->active->models[p], c[k].model) >= 2;
                k++;
            }
        }
    }
    for (size_t i = 0; i < k; i++) { /* residency and load over the eligible nodes */
        char key[ORION_MODEL_MAX + 1];
        if (route_model_norm(c[i].model, key, sizeof(key)) < 0)
            continue;
        for (size_t j = 0; j < n; j++) {
            const struct route_node_state *ns = route_state_find(&r->st, nodes[j].id);
            unsigned long used, cap = nodes[j].capacity ? nodes[j].capacity : 1;

            if (!route_resident(&nodes[j], key, &r->st, now) ||
                !route_eligible(&nodes[j], NULL, &r->rs, &r->st, now, NULL, 0))
                continue;
            used = nodes[j].inflight + (ns ? ns->queued : 0);
            if (!c[i].resident || used * c[i].cap < c[i].used * cap) {
                c[i].used = used;
                c[i].cap = cap;
            }
            c[i].resident = true;
            c[i].free_slot |= used < cap;
        }
    }
    return k;
}

/* A name installed nowhere that names an installed model the seed's way ("llama-3.2-3b"). */
static const char *alias(const struct route_node *nodes, size_t n, const char *name)
{
    const char *best = NULL;

    for (size_t i = 0; i < n; i++) {
        if (route_has_model(nodes[i].installed, nodes[i].ninstalled, name) ||
            route_has_model(nodes[i].models, nodes[i].nmodels, name))
            return NULL;
        for (size_t m = 0; m < nodes[i].ninstalled; m++)
            if (!best && role_key_match(name, nodes[i].installed[m]) >= 2)
                best = nodes[i].installed[m];
    }
    return best;
}

/* Surely installed nowhere: some node has health, each lists what it has, none has it. */
static bool unknown_model(const struct router *r, const char *name)
{
    size_t with = 0;

    for (size_t i = 0; i < r->nnodes; i++) {
        const struct health *h = &r->nodes[i].h;
        if (!r->nodes[i].has_health)
            continue;
        if (!h->ninstalled)
            return false;
        if (route_has_model((const char *const *)h->installed, h->ninstalled, name) ||
            route_has_model((const char *const *)h->models, h->nmodels, name))
            return false;
        with++;
    }
    return with > 0;
}

static int choose(struct router *r, struct waiting *w, const struct role_spec *sp,
                  const struct guard *g, const struct route_node *nodes, size_t n, double now)
{
    struct role_cand c[SVC_MAX_CANDS];
    struct role_choice ch;
    unsigned chain[ROLE_CHAIN_MAX];
    size_t nc, nchain;

    nchain = sp->kind == ROLE_SPEC_ROLE ? role_chain_role(sp->role, chain)
                                        : role_chain_task(w->req.task_type.p, chain);
    nc = candidates(r, nodes, n, now, g, c, SVC_MAX_CANDS);
    if (role_pick(c, nc, chain, nchain, &ch) >= 0) {
        if (!(w->model_res = orion_strdup(c[ch.cand].model)))
            return 1;
        w->role = ch.role == ROLE_ANY ? "any" : role_name(ch.role);
        return 0;
    }
    if (ch.too_big) {
        long need;
        tokest_fits(tokest_estimate(&r->est, NULL, g->prior), g->num_predict, ch.budget, &need);
        too_big(r, w, g, sp->kind == ROLE_SPEC_ROLE ? sp->model : "auto", need, ch.budget);
        return -1;
    }
    return 1; /* nothing that can generate on an eligible node yet */
}

int router_resolve(struct router *r, struct waiting *w, const struct route_node *nodes,
                   size_t n, double now)
{
    struct role_spec sp;
    struct guard g;
    char key[ORION_MODEL_MAX + 1], msg[ORION_MODEL_MAX + 64];
    long need = 0, budget = 0;
    int rc;

    if (!w->resolved) {
        struct tokest_text t;
        const char *a;

        role_spec_parse(w->req.model.p, &sp);
        promptest_features(&w->req, &t);
        g.prior = tokest_prior(&t);
        promptest_options(&w->req, &g.num_ctx, &g.num_predict);
        if (sp.kind != ROLE_SPEC_MODEL) {
            if ((rc = choose(r, w, &sp, &g, nodes, n, now)) != 0)
                return rc;
        } else {
            if ((a = alias(nodes, n, sp.model)) || sp.model != w->req.model.p)
                if (!(w->model_res = orion_strdup(a ? a : sp.model)))
                    return 1;
            if (!w->model_res && unknown_model(r, sp.model)) {
                snprintf(msg, sizeof(msg), "model '%s' not found", sp.model);
                router_answer_error_ex(r, &w->req, w->src, w->group, "model_not_found", false,
                                       msg, NULL, 0);
                return -1;
            }
            if (!fits(r, &g, w->model_res ? w->model_res : sp.model, &need, &budget)) {
                too_big(r, w, &g, w->model_res ? w->model_res : sp.model, need, budget);
                return -1;
            }
        }
        w->resolved = true;
        w->rreq.model = w->model_res ? w->model_res : sp.model;
    }
    if (r->rc->max_per_model > 0 && route_model_norm(w->rreq.model, key, sizeof(key)) >= 0 &&
        admit_flight_count(&r->flights, key) >= (size_t)r->rc->max_per_model)
        return 1;
    return 0;
}

void router_service(void *arg, struct gw_service *out)
{
    struct router *r = arg;

    memset(out, 0, sizeof(*out));
    out->config = r->active ? r->active->name : NULL;
    out->mode = r->mode;
    out->maps[0] = &r->user_roles;
    out->maps[1] = r->active ? &r->active->roles : NULL;
    out->max_waiting = r->rc->max_waiting;
    router_preload_state(r, out);
}

/* Flights that outlived any answer are dropped (a lost event must not hold a model's slot). */
void router_flights_refresh(struct router *r, double now)
{
    admit_flight_expire(&r->flights, now - FLIGHT_MAX_AGE);
    for (size_t i = 0; i < r->nnodes; i++)
        if (r->nodes[i].xlen == 0)
            admit_flight_node_idle(&r->flights, r->nodes[i].id);
}
