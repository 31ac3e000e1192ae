/* SPDX-License-Identifier: MIT */
/*
 * The worker's model metadata: each health interval's /api/tags and /api/ps answers (whole,
 * not only the names the health record needs), /api/show asked once per model and digest
 * (at most WORKER_SHOWS at once), merged into the node's P:models record, which is written
 * only when its text changed; the health record then carries the record's revision
 * (models_rev), so that a router reads P:models only when there is something new.
 */
#include "worker_int.h"

#include "orion/jsonw.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define WORKER_SHOWS 2 /* the size of meta.asks */

void worker_meta_release(struct worker *w)
{
    for (int i = 0; i < WORKER_SHOWS; i++)
        orion_free(w->meta.asks[i]);
    orion_free(w->meta.tags);
    orion_free(w->meta.ps);
    orion_free(w->meta.shown);
    memset(&w->meta, 0, sizeof(w->meta));
}

/* Replace list (tags or ps) with the parsed body: -1 when the body does not parse. */
int worker_meta_take(struct worker *w, bool ps, int status, const char *body, size_t n)
{
    struct ollama_model *m = NULL;
    size_t count = 0;
    char err[200];
    int rc = status == 200 ? (ps ? ollama_parse_ps : ollama_parse_tags)(body, n, &m, &count,
                                                                          err, sizeof(err))
                           : -1;

    if (rc < 0) {
        if (status == 200 && !w->meta.warned) {
            log_warnx("ollama %s: /api/%s: %s", w->wc->ollama_url, ps ? "ps" : "tags", err);
            w->meta.warned = true;
        }
        return -1;
    }
    if (ps) {
        orion_free(w->meta.ps);
        w->meta.ps = m;
        w->meta.nps = count;
    } else {
        orion_free(w->meta.tags);
        w->meta.tags = m;
        w->meta.ntags = count;
    }
    return 0;
}

static struct ollama_model *shown(struct worker *w, const char *name)
{
    for (size_t i = 0; i < w->meta.nshown; i++)
        if (!strcmp(w->meta.shown[i].name, name))
            return &w->meta.shown[i];
    return NULL;
}

/* The merged record of one installed model: tags, then what /api/show said, then /api/ps. */
static void merge_one(struct worker *w, struct ollama_model *out, const struct ollama_model *t)
{
    const struct ollama_model *s = shown(w, t->name);

    *out = *t;
    if (s && !strcmp(s->digest, t->digest)) {
        out->context_length = s->context_length;
        out->num_ctx = s->num_ctx;
        out->shown = true;
        if (s->has_caps) {
            out->caps = s->caps;
            out->has_caps = true;
        }
    }
    for (size_t i = 0; i < w->meta.nps; i++)
        if (!strcmp(w->meta.ps[i].name, t->name)) {
            out->loaded = true;
            out->ram = w->meta.ps[i].ram;
            out->loaded_ctx = w->meta.ps[i].loaded_ctx;
        }
}

struct show_ctx {
    struct worker *w;
    struct ollama_model m; /* name and digest asked about */
};

static void show_cb(void *arg, int status, const char *body, size_t n)
{
    struct show_ctx *x = arg;
    struct worker *w = x->w;
    struct ollama_model *s;
    char err[200];

    w->meta.showing--;
    for (int i = 0; i < WORKER_SHOWS; i++)
        if (w->meta.asks[i] == x)
            w->meta.asks[i] = NULL;
    if (status == 200 && ollama_parse_show(body, n, &x->m, err, sizeof(err)) == 0) {
        s = shown(w, x->m.name);
        if (!s && w->meta.nshown < HEALTH_MAX_MODELS) {
            struct ollama_model *ns = orion_realloc(w->meta.shown,
                                                    (w->meta.nshown + 1) * sizeof(*ns));
            if (ns) {
                w->meta.shown = ns;
                s = &ns[w->meta.nshown++];
            }
        }
        if (s)
            *s = x->m;
        worker_meta_publish(w);
    } else {
        log_debug("ollama /api/show '%s': status %d", x->m.name, status);
    }
    orion_free(x);
}

/* Ask /api/show about the models not yet shown at their digest, WORKER_SHOWS at a time, once
 * the last ones have answered (a model that failed is asked again at the next interval). */
static void ask_shows(struct worker *w)
{
    if (w->meta.showing)
        return;
    for (size_t i = 0; i < w->meta.ntags && w->meta.showing < WORKER_SHOWS; i++) {
        const struct ollama_model *t = &w->meta.tags[i], *s = shown(w, t->name);
        struct show_ctx *x;
        struct buf body;

        if (s && !strcmp(s->digest, t->digest))
            continue;
        x = orion_calloc(1, sizeof(*x));
        if (!x)
            return;
        x->w = w;
        x->m = *t;
        buf_init(&body, ORION_MODEL_MAX * 2 + 32);
        buf_puts(&body, "{\"model\":");
        json_quote(&body, t->name, strlen(t->name));
        buf_putc(&body, '}');
        if (ollama_fetch(w->ollama, "POST", "/api/show", buf_data(&body), buf_size(&body),
                         show_cb, x) == 0)
            w->meta.asks[w->meta.showing++] = x;
        else
            orion_free(x);
        buf_release(&body);
    }
}

/* Build the record; HSET it when what it says changed (its revision is that of the text with
 * "updated" 0), stamped with the time of the change; keep the revision for the health record. */
void worker_meta_publish(struct worker *w)
{
    struct modelinfo mi;
    struct buf json;
    char rev[17];

    modelinfo_init(&mi);
    snprintf(mi.node_id, sizeof(mi.node_id), "%s", w->node);
    mi.m = w->meta.ntags ? orion_calloc(w->meta.ntags, sizeof(*mi.m)) : NULL;
    if (w->meta.ntags && !mi.m)
        return;
    for (size_t i = 0; i < w->meta.ntags; i++)
        merge_one(w, &mi.m[mi.n++], &w->meta.tags[i]);
    buf_init(&json, ORION_HEALTH_MAX_JSON);
    if (modelinfo_to_json(&mi, &json) == 0) {
        modelinfo_rev(buf_data(&json), buf_size(&json), rev);
        mi.updated = (long long)time(NULL);
        buf_reset(&json);
        if (strcmp(rev, w->h.models_rev) && redis_up(w->cmd) &&
            modelinfo_to_json(&mi, &json) == 0 &&
            redis_cmd(w->cmd, NULL, NULL, "HSET", w->keys.models, w->node, buf_data(&json),
                      (char *)NULL) == 0)
            memcpy(w->h.models_rev, rev, sizeof(rev));
    }
    buf_release(&json);
    orion_free(mi.m);
}

void worker_meta_probed(struct worker *w)
{
    ask_shows(w);
    worker_meta_publish(w);
}
