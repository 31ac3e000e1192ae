/* SPDX-License-Identifier: MIT */
/*
 * orch: the orchestration modes as a state machine over steps (orch.h has the contract and
 * the order of steps). A step is only ever added once everything it reads is done, so the
 * steps in state WAIT are exactly those that may be issued now.
 */
#include "orion/orch.h"
#include "orion/roles.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const mode_names[] = {"single", "critique", "debate", "ensemble", "pipeline"};
static const char *const kind_names[] = {"answer",    "generate",   "critic", "revise", "leg",
                                         "reconcile", "synthesize", "stage",  "compress"};

int orch_mode_parse(const char *s, size_t n, enum orch_mode *out)
{
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
        if (strlen(mode_names[i]) == n && !memcmp(mode_names[i], s, n)) {
            *out = (enum orch_mode)i;
            return 0;
        }
    }
    return -1;
}

const char *orch_mode_name(enum orch_mode m) { return mode_names[m]; }
const char *orch_kind_name(enum orch_kind k) { return kind_names[k]; }

void orch_knobs_default(struct orch_knobs *k)
{
    memset(k, 0, sizeof(*k));
    k->critique_max_rounds = 2;
    k->critique_threshold = 0.8;
    k->debate_max_rounds = 3;
    k->ensemble_min_agreement = 0.7;
    snprintf(k->reconcile_model, sizeof(k->reconcile_model), "primary");
    snprintf(k->synthesis_model, sizeof(k->synthesis_model), "primary");
    orch_stages_parse(k, "draft,refine,validate");
}

int orch_stages_parse(struct orch_knobs *k, const char *s)
{
    char st[ORCH_MAX_STAGES][ORCH_STAGE_MAX + 1];
    size_t n = 0;

    for (const char *p = s;; p++) {
        size_t len = strcspn(p, ",");
        if (!len || len > ORCH_STAGE_MAX || n == ORCH_MAX_STAGES ||
            strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") < len)
            return -1;
        memcpy(st[n], p, len);
        st[n++][len] = '\0';
        p += len;
        if (!*p)
            break;
    }
    memcpy(k->stages, st, sizeof(st));
    k->nstages = n;
    return 0;
}

static void set_name(char *dst, const char *src)
{
    snprintf(dst, ORION_MODEL_MAX + 1, "%s", src);
}

/* Copy up to ORCH_MAX_MODELS usable names of list into o->models. */
static void take_list(struct orch *o, const char *const *list, size_t n)
{
    o->nmodels = 0;
    for (size_t i = 0; i < n && o->nmodels < ORCH_MAX_MODELS; i++)
        if (list[i] && *list[i] && strlen(list[i]) <= ORION_MODEL_MAX)
            set_name(o->models[o->nmodels++], list[i]);
}

/* The role of a pipeline stage without an explicit list (orch.h). */
static const char *stage_role(const struct orch *o, const char *stage)
{
    unsigned chain[ROLE_CHAIN_MAX];

    if (!strcmp(stage, "draft"))
        return "fast";
    if (!strcmp(stage, "refine")) {
        role_chain_task(o->task[0] ? o->task : NULL, chain);
        return chain[0] == ROLE_CODER ? "coder" : "thinker";
    }
    if (!strcmp(stage, "validate"))
        return "primary";
    return role_parse(stage, strlen(stage)) ? stage : "primary";
}

static void plan_models(struct orch *o, const char *const *list, size_t nlist,
                        const char *const *preset, size_t npreset, const char *own)
{
    static const char *const ens_roles[] = {"primary", "thinker", "fast"};
    static const char *const deb_roles[] = {"primary", "thinker"};

    take_list(o, list, nlist);
    if (o->nmodels) {
        set_name(o->critic, o->models[o->nmodels > 1 ? 1 : 0]);
        if (o->mode == ORCH_DEBATE && o->nmodels == 1)
            set_name(o->models[o->nmodels++], o->models[0]);
        if (o->mode == ORCH_DEBATE)
            o->nmodels = 2;
        return;
    }
    set_name(o->critic, "thinker");
    switch (o->mode) {
    case ORCH_SINGLE:
        set_name(o->models[o->nmodels++], own ? own : "auto");
        break;
    case ORCH_CRITIQUE:
        set_name(o->models[o->nmodels++], "primary");
        break;
    case ORCH_DEBATE:
        take_list(o, npreset >= 2 ? preset : deb_roles, 2);
        break;
    case ORCH_ENSEMBLE:
        take_list(o, npreset >= 2 ? preset : ens_roles, npreset >= 2 ? npreset : 3);
        break;
    case ORCH_PIPELINE:
        for (size_t s = 0; s < o->k.nstages; s++)
            set_name(o->models[o->nmodels++], stage_role(o, o->k.stages[s]));
        break;
    }
}

static const char *stage_model(const struct orch *o, size_t s)
{
    return o->models[s < o->nmodels ? s : o->nmodels - 1];
}

/* Add a WAIT step: its index, or -1 when the run has no room left. */
static int add_step(struct orch *o, enum orch_kind kind, int round, int leg, const char *model)
{
    struct orch_step *s;

    if (o->nsteps == ORCH_MAX_STEPS)
        return -1;
    s = &o->step[o->nsteps];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->round = round;
    s->leg = leg;
    s->score = -1;
    s->handoff = -1;
    set_name(s->model, model);
    return (int)o->nsteps++;
}

static void finish(struct orch *o, int final, bool partial, const char *why)
{
    o->finished = true;
    o->final = final;
    o->partial = partial;
    if (why)
        snprintf(o->error, sizeof(o->error), "%s", why);
}

/* The latest done step with a usable text (a critic's verdict and a compressed handoff are not
 * one), or -1. */
static int last_text(const struct orch *o)
{
    for (size_t i = o->nsteps; i-- > 0;)
        if (o->step[i].state == ORCH_S_OK && o->step[i].kind != ORCH_K_CRITIC &&
            o->step[i].kind != ORCH_K_COMPRESS)
            return (int)i;
    return -1;
}

static void add_or_fail(struct orch *o, enum orch_kind kind, int round, int leg,
                        const char *model)
{
    if (add_step(o, kind, round, leg, model) < 0)
        finish(o, last_text(o), true, "the run has more steps than it may take");
}

int orch_init(struct orch *o, enum orch_mode mode, const struct orch_knobs *k,
              const char *const *list, size_t nlist, const char *const *preset, size_t npreset,
              const char *own, const char *task, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->mode = mode;
    o->k = *k;
    o->final = -1;
    o->agreement = -1;
    o->confidence = -1;
    o->rounds = mode == ORCH_CRITIQUE || mode == ORCH_DEBATE ? 0 : 1;
    snprintf(o->task, sizeof(o->task), "%s", task ? task : "");
    if (mode == ORCH_PIPELINE && !o->k.nstages) {
        snprintf(err, errlen, "the pipeline has no stages");
        return -1;
    }
    plan_models(o, list, nlist, preset, npreset, own);
    switch (mode) {
    case ORCH_SINGLE:
        o->total = 1;
        add_step(o, ORCH_K_ANSWER, 1, 0, o->models[0]);
        break;
    case ORCH_CRITIQUE:
        o->total = 1 + 2 * (size_t)o->k.critique_max_rounds;
        add_step(o, ORCH_K_GENERATE, 0, 0, o->models[0]);
        break;
    case ORCH_DEBATE:
    case ORCH_ENSEMBLE:
        o->total = o->nmodels * (size_t)(mode == ORCH_DEBATE ? o->k.debate_max_rounds : 1) + 1;
        for (size_t i = 0; i < o->nmodels; i++)
            add_step(o, ORCH_K_LEG, 1, (int)i, o->models[i]);
        break;
    case ORCH_PIPELINE:
        o->total = o->k.nstages;
        add_step(o, ORCH_K_STAGE, 1, 0, stage_model(o, 0));
        break;
    }
    return 0;
}

void orch_release(struct orch *o)
{
    for (size_t i = 0; i < o->nsteps && i < ORCH_MAX_STEPS; i++) {
        orion_free(o->step[i].text);
        o->step[i].text = NULL;
    }
}

size_t orch_next(struct orch *o, size_t *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < o->nsteps && n < max && !o->finished; i++) {
        if (o->step[i].state != ORCH_S_WAIT || o->step[i].held)
            continue;
        o->step[i].state = ORCH_S_RUN;
        o->step[i].tries++;
        out[n++] = i;
    }
    return n;
}

size_t orch_running(const struct orch *o)
{
    size_t n = 0;

    for (size_t i = 0; i < o->nsteps; i++)
        n += o->step[i].state == ORCH_S_RUN;
    return n;
}

size_t orch_completed(const struct orch *o)
{
    size_t n = 0;

    for (size_t i = 0; i < o->nsteps; i++)
        n += o->step[i].state == ORCH_S_OK;
    return n;
}

/* The legs of round r that answered: their indexes into out (at most ORCH_MAX_MODELS);
 * *pending: some leg of the round is still waiting or running. */
static size_t round_legs(const struct orch *o, int r, size_t *out, bool *pending)
{
    size_t n = 0;

    *pending = false;
    for (size_t i = 0; i < o->nsteps; i++) {
        const struct orch_step *s = &o->step[i];
        if (s->kind != ORCH_K_LEG || s->round != r)
            continue;
        if (s->state == ORCH_S_WAIT || s->state == ORCH_S_RUN)
            *pending = true;
        else if (s->state == ORCH_S_OK && n < ORCH_MAX_MODELS)
            out[n++] = i;
    }
    return n;
}

/* A leg of round r is settled: when the whole round is, measure and plan the next. */
static void round_settled(struct orch *o, int r)
{
    size_t legs[ORCH_MAX_MODELS], n;
    const char *texts[ORCH_MAX_MODELS];
    size_t lens[ORCH_MAX_MODELS];
    bool pending;

    n = round_legs(o, r, legs, &pending);
    if (pending)
        return;
    if (!n) {
        finish(o, last_text(o), true, "every leg of the round failed");
        return;
    }
    if (o->mode == ORCH_DEBATE)
        o->rounds = r;
    if (n >= 2) {
        for (size_t j = 0; j < n; j++) {
            texts[j] = o->step[legs[j]].text;
            lens[j] = strlen(texts[j]);
        }
        o->agreement = orch_agreement(texts, lens, n);
    }
    if (o->mode == ORCH_ENSEMBLE) {
        add_or_fail(o, ORCH_K_SYNTH, 1, 0, o->k.synthesis_model);
    } else if (n >= 2 && o->agreement < o->k.ensemble_min_agreement &&
               r < o->k.debate_max_rounds) {
        for (size_t j = 0; j < n && !o->finished; j++)
            add_or_fail(o, ORCH_K_LEG, r + 1, o->step[legs[j]].leg, o->step[legs[j]].model);
    } else {
        add_or_fail(o, ORCH_K_RECONCILE, 1, 0, o->k.reconcile_model);
    }
}

/* The answer critique's verdict i judged: the latest done GENERATE or REVISE before it. */
static int judged(const struct orch *o, size_t i)
{
    while (i-- > 0)
        if (o->step[i].state == ORCH_S_OK &&
            (o->step[i].kind == ORCH_K_GENERATE || o->step[i].kind == ORCH_K_REVISE))
            return (int)i;
    return -1;
}

/* Every piece of c's compression answered (a whole compression: c itself). */
static bool pieces_done(const struct orch *o, const struct orch_step *c)
{
    for (size_t j = 0; j < o->nsteps && c->pieces > 1; j++) {
        const struct orch_step *s = &o->step[j];
        if (s->kind == ORCH_K_COMPRESS && s->target == c->target && s->round == c->round &&
            s->state != ORCH_S_OK)
            return false;
    }
    return true;
}

static void plan_after(struct orch *o, size_t i)
{
    const struct orch_step *s = &o->step[i];

    switch (s->kind) {
    case ORCH_K_GENERATE:
    case ORCH_K_REVISE:
        if (s->kind == ORCH_K_REVISE && s->round >= o->k.critique_max_rounds)
            finish(o, (int)i, false, NULL);
        else
            add_or_fail(o, ORCH_K_CRITIC, s->round + 1, 0, o->critic);
        break;
    case ORCH_K_CRITIC:
        o->rounds = s->round;
        o->confidence = s->score;
        if (s->score >= o->k.critique_threshold)
            finish(o, judged(o, i), false, NULL);
        else
            add_or_fail(o, ORCH_K_REVISE, s->round, 0, o->models[0]);
        break;
    case ORCH_K_LEG:
        round_settled(o, s->round);
        break;
    case ORCH_K_STAGE:
        if ((size_t)s->leg + 1 < o->k.nstages)
            add_or_fail(o, ORCH_K_STAGE, 1, s->leg + 1, stage_model(o, (size_t)s->leg + 1));
        else
            finish(o, (int)i, false, NULL);
        break;
    case ORCH_K_ANSWER:
    case ORCH_K_RECONCILE:
    case ORCH_K_SYNTH:
        finish(o, (int)i, false, NULL);
        break;
    case ORCH_K_COMPRESS:
        if (!pieces_done(o, s))
            break;
        o->compressed++;
        o->step[s->target].handoff = (int)i; /* pieces: any of them (orch_text.c joins them) */
        o->step[s->target].held = false;
        break;
    }
}

int orch_compress(struct orch *o, size_t i, const char *model)
{
    struct orch_step *s = &o->step[i];
    char why[sizeof(o->error)];
    int c;

    if (i >= o->nsteps || s->state != ORCH_S_RUN || o->finished)
        return -1;
    if (s->compressions >= ORCH_MAX_COMPRESS) {
        s->state = ORCH_S_FAIL;
        o->budget_exceeded = true;
        snprintf(why, sizeof(why), "step %zu (%s, %.40s): its input exceeds the model's context "
                 "after %d compressions", i + 1, kind_names[s->kind], s->model, s->compressions);
        finish(o, -1, true, why);
        return -1;
    }
    if ((c = add_step(o, ORCH_K_COMPRESS, s->compressions + 1, 0, model)) < 0) {
        s->state = ORCH_S_FAIL;
        finish(o, last_text(o), true, "the run has more steps than it may take");
        return -1;
    }
    o->step[c].target = (int)i;
    o->total++;
    s->state = ORCH_S_WAIT;
    s->held = true;
    s->tries--;
    s->compressions++;
    return 0;
}

int orch_compress_split(struct orch *o, size_t i, int k)
{
    struct orch_step *s = &o->step[i];

    if (i >= o->nsteps || s->kind != ORCH_K_COMPRESS || s->state != ORCH_S_RUN ||
        s->pieces > 1 || o->finished || k < 2 || k > ORCH_MAX_PIECES)
        return -1;
    if (o->nsteps + (size_t)k - 1 > ORCH_MAX_STEPS) {
        s->state = ORCH_S_FAIL;
        o->step[s->target].state = ORCH_S_FAIL;
        finish(o, last_text(o), true, "the run has more steps than it may take");
        return -1;
    }
    s->state = ORCH_S_WAIT;
    s->tries--;
    s->piece = 0;
    s->pieces = k;
    for (int p = 1; p < k; p++) {
        int c = add_step(o, ORCH_K_COMPRESS, s->round, 0, s->model);
        o->step[c].target = s->target;
        o->step[c].piece = p;
        o->step[c].pieces = k;
        o->total++;
    }
    return 0;
}

/* The contamination rule (orch.h): true when the answer is not taken (the step is asked again
 * with fresh context, or the run ends). */
static bool contaminated(struct orch *o, size_t i, const char *text, size_t n)
{
    struct orch_step *s = &o->step[i];
    char why[sizeof(o->error)];

    s->markers = orch_contamination(text, n);
    o->contaminated += s->markers;
    if (s->markers < 2 && o->contaminated < ORCH_CONTAM_ABORT)
        return false;
    if (s->markers >= 2 && !s->fresh && o->contaminated < ORCH_CONTAM_ABORT) {
        s->fresh = true; /* quarantined: its earlier steps' texts stay out of its prompt */
        s->state = ORCH_S_WAIT;
        o->quarantined++;
        return true;
    }
    s->state = ORCH_S_FAIL;
    snprintf(why, sizeof(why), "step %zu (%s, %.40s) contaminated: %d marker(s), %d in the run",
             i + 1, kind_names[s->kind], s->model, s->markers, o->contaminated);
    finish(o, last_text(o), true, why);
    return true;
}

int orch_done(struct orch *o, size_t i, const char *text, size_t n, double score)
{
    struct orch_step *s;

    if (i >= o->nsteps || o->step[i].state != ORCH_S_RUN || o->finished)
        return 0;
    s = &o->step[i];
    if (s->kind == ORCH_K_CRITIC && score < 0) {
        orch_failed(o, i, true, "the critic's verdict has no score");
        return 0;
    }
    if (s->kind != ORCH_K_CRITIC && s->kind != ORCH_K_COMPRESS && contaminated(o, i, text, n))
        return 0;
    if (!(s->text = orion_strndup(text, n)))
        return -1;
    s->state = ORCH_S_OK;
    s->score = s->kind == ORCH_K_CRITIC ? (score > 1 ? 1 : score) : -1;
    plan_after(o, i);
    return 0;
}

void orch_failed(struct orch *o, size_t i, bool retriable, const char *why)
{
    struct orch_step *s;
    char msg[sizeof(o->error)];

    if (i >= o->nsteps || o->step[i].state != ORCH_S_RUN || o->finished)
        return;
    s = &o->step[i];
    if (retriable && s->tries < ORCH_MAX_TRIES) {
        s->state = ORCH_S_WAIT;
        return;
    }
    s->state = ORCH_S_FAIL;
    snprintf(msg, sizeof(msg), "step %zu (%s, %.40s) failed: %.60s", i + 1, kind_names[s->kind],
             s->model, why ? why : "no reason given");
    if (s->kind == ORCH_K_COMPRESS) { /* its target cannot run without it */
        if (!o->step[s->target].held)
            return; /* another piece failed it already */
        o->step[s->target].held = false;
        o->step[s->target].state = ORCH_S_RUN;
        orch_failed(o, (size_t)s->target, false, "its handoff could not be compressed");
        return;
    }
    if (s->kind == ORCH_K_LEG) {
        snprintf(o->error, sizeof(o->error), "%s", msg);
        round_settled(o, s->round);
        return;
    }
    finish(o, last_text(o), true, msg);
}
