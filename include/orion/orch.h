/* SPDX-License-Identifier: MIT */
/*
 * orch: multi-model orchestration (critique, debate, ensemble, pipeline) as a pure state
 * machine. No I/O, no clock: the router (src/router/router_orch.c) issues each step as an
 * ordinary request entry and reports its answer back; this module says which steps to issue
 * next, what each step is asked, and when the whole is finished. docs/PROTOCOL.md
 * ("Orchestration") states the modes for users.
 *
 * The models (orch_init): an explicit list (the request's `models`) wins:
 *   critique  generator list[0], critic list[1] (list[0] when the list has one)
 *   debate    participants list[0], list[1] (list[0] twice when it has one), reconciler list[0]
 *   ensemble  every model of the list
 *   pipeline  stage i runs list[i] (the last model for stages past the list's end)
 * Without a list, roles (resolved by the router like any request's model):
 *   critique  generator "primary", critic "thinker"
 *   debate    the preset's first two models, else "primary" and "thinker"; reconciler the
 *             DEBATE_RECONCILE_MODEL knob
 *   ensemble  every model of the preset (at least 2), else "primary", "thinker", "fast";
 *             synthesizer the ENSEMBLE_SYNTHESIS_MODEL knob
 *   pipeline  by stage name: draft "fast", refine "coder" when the task type's chain starts
 *             with coder (code, debug, refactor, review, test) else "thinker", validate
 *             "primary"; a stage named after a role runs that role, any other "primary"
 *   single    list[0], else the request's own model (one step)
 *
 * The steps, in order (a step is added only once what it needs is done, so every step
 * orch_next returns can run at once; the legs of one round run in parallel):
 *   critique  GENERATE; then rounds r = 1..max_rounds: CRITIC r (a JSON verdict, its score
 *             passed to orch_done); score >= threshold ends it with the text just judged
 *             (an early stop); else REVISE r, and after REVISE max_rounds it ends with that.
 *   debate    round 1: one LEG per participant; once every leg of round r is in, their
 *             agreement is measured; agreement >= min_agreement or r = max_rounds: RECONCILE
 *             (its text is the answer); else round r + 1, each participant seeing the others'.
 *   ensemble  one LEG per model; agreement measured once all are in; SYNTH answers.
 *   pipeline  one STAGE after another, each refining the previous one's text.
 * Failures (orch_failed): a retriable failure re-issues the same step, at most
 * ORCH_MAX_TRIES issues in all. A parallel leg that fails for good is left out and its round
 * goes on with the legs that answered (none: the run fails). Any other step that fails for good
 * ends the run partial: the answer is the last usable text (the latest done step's, critics
 * excluded), or none. A critic whose verdict has no score (score < 0) failed retriably.
 * A handoff too long for its step's model is compressed first (orch_compress), up to
 * ORCH_MAX_COMPRESS times, in pieces when the compression fits no model (orch_compress_split); COMPRESS steps are neither answers nor usable texts.
 * Contamination (orch_contamination, checked on every answer but a critic's verdict and a
 * compression): one
 * marker is logged (counted in contaminated); two or more quarantine the step: it is issued
 * again with fresh context (the caller's own conversation, as a first step gets, without the
 * earlier steps' texts), once; a quarantined step contaminated again, or ORCH_CONTAM_ABORT
 * markers over the run, ends the run partial with the last clean text.
 */
#ifndef ORION_ORCH_H
#define ORION_ORCH_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/buf.h"
#include "orion/limits.h"

#define ORCH_MAX_STEPS 32
#define ORCH_MAX_MODELS 8
#define ORCH_MAX_STAGES 6
#define ORCH_MAX_ROUNDS 10 /* the bound of both max_rounds knobs */
#define ORCH_MAX_TRIES 2   /* issues of one step: the first and one retry */
#define ORCH_STAGE_MAX 15  /* bytes of a stage name */
#define ORCH_GOAL_SHOWN 400 /* bytes of the goal repeated in the Current Position block */
#define ORCH_CONTAM_ABORT 6 /* contamination markers over a run that end it */
#define ORCH_MAX_COMPRESS 3 /* compressions of one step's handoff before the run gives up */
#define ORCH_MAX_PIECES 4   /* pieces a handoff too long for every model is compressed in */

enum orch_mode { ORCH_SINGLE, ORCH_CRITIQUE, ORCH_DEBATE, ORCH_ENSEMBLE, ORCH_PIPELINE };
enum orch_kind {
    ORCH_K_ANSWER,   /* single */
    ORCH_K_GENERATE, /* critique's first answer */
    ORCH_K_CRITIC,
    ORCH_K_REVISE,
    ORCH_K_LEG,      /* a debate or ensemble participant */
    ORCH_K_RECONCILE,
    ORCH_K_SYNTH,
    ORCH_K_STAGE,    /* a pipeline stage */
    ORCH_K_COMPRESS  /* the fast model compressing a held step's handoff (orch_compress) */
};
enum orch_state { ORCH_S_WAIT, ORCH_S_RUN, ORCH_S_OK, ORCH_S_FAIL };

/* "single" .. "pipeline" -> the mode: 0, or -1 when s is none of them. */
int orch_mode_parse(const char *s, size_t n, enum orch_mode *out);
const char *orch_mode_name(enum orch_mode m);
const char *orch_kind_name(enum orch_kind k); /* "answer", "generate", "critic", ... */

struct orch_knobs {
    int critique_max_rounds;       /* 1..ORCH_MAX_ROUNDS, default 2 */
    double critique_threshold;     /* 0..1, default 0.8 */
    int debate_max_rounds;         /* 1..ORCH_MAX_ROUNDS, default 3 */
    double ensemble_min_agreement; /* 0..1, default 0.7 (debate's early stop too) */
    char reconcile_model[ORION_MODEL_MAX + 1]; /* default "primary" */
    char synthesis_model[ORION_MODEL_MAX + 1]; /* default "primary" */
    char stages[ORCH_MAX_STAGES][ORCH_STAGE_MAX + 1]; /* default draft, refine, validate */
    size_t nstages;
};
void orch_knobs_default(struct orch_knobs *k);
/* Parse "draft,refine,validate" (1..ORCH_MAX_STAGES names of letters, digits, '_' or '-',
 * each at most ORCH_STAGE_MAX bytes) into k: 0, or -1 leaving k as it was. */
int orch_stages_parse(struct orch_knobs *k, const char *s);

struct orch_step {
    enum orch_kind kind;
    int round;    /* critique and debate: 1.. (GENERATE 0); else 1 */
    int leg;      /* LEG: the participant's index; STAGE: the stage's index; else 0 */
    char model[ORION_MODEL_MAX + 1]; /* what is asked for: a model name or a role */
    enum orch_state state;
    int tries;    /* times issued */
    char *text;   /* OK: its answer (owned) */
    double score; /* CRITIC OK: the verdict's score; else -1 */
    int markers;  /* contamination markers in its last answer */
    bool fresh;   /* quarantined: asked again with fresh context */
    bool held;    /* waiting for its handoff's compression (orch_next skips it) */
    int compressions; /* times its handoff was compressed */
    int handoff;  /* the COMPRESS step whose text stands for the earlier texts; -1 none */
    int target;   /* COMPRESS: the step it compresses for */
    int piece, pieces; /* COMPRESS: it compresses piece `piece` of `pieces` (0/0: whole) */
};

struct orch {
    enum orch_mode mode;
    struct orch_knobs k;
    char task[65]; /* the request's task type ("" none) */
    char models[ORCH_MAX_MODELS][ORION_MODEL_MAX + 1];
    size_t nmodels; /* the participants (debate, ensemble) or stage models (pipeline) */
    char critic[ORION_MODEL_MAX + 1];
    struct orch_step step[ORCH_MAX_STEPS];
    size_t nsteps;
    size_t total;       /* steps of the longest run this one can take (step i of total) */
    bool finished, partial;
    int final;          /* the step whose text is the answer; -1 none */
    int rounds;         /* critique: verdicts taken; debate: rounds run; else 1 */
    double agreement;   /* debate, ensemble: the last measured; -1 not measured */
    double confidence;  /* critique: the last verdict's score; -1 none */
    char error[160];    /* partial or failed: why */
    int contaminated;   /* contamination markers seen over the run */
    int quarantined;    /* steps asked again with fresh context */
    bool budget_exceeded; /* ended: a handoff did not fit after ORCH_MAX_COMPRESS compressions */
    int compressed;     /* COMPRESS steps done */
};

/*
 * Plan a run. list: the request's explicit models (nlist 0: none); preset: the active
 * preset's models (npreset 0: none); own: the request's model (single without a list; NULL:
 * "auto"); task: its task type (NULL: none). Names longer than ORION_MODEL_MAX or past
 * ORCH_MAX_MODELS are cut off the lists. 0, or -1 when the mode cannot run (err says why:
 * no models at all).
 */
int orch_init(struct orch *o, enum orch_mode mode, const struct orch_knobs *k,
              const char *const *list, size_t nlist, const char *const *preset, size_t npreset,
              const char *own, const char *task, char *err, size_t errlen);
void orch_release(struct orch *o); /* frees the texts; accepts a zeroed struct */

/* The steps to issue now (state WAIT): their indexes into out[0..max), each marked RUN with
 * tries + 1. Returns how many. */
size_t orch_next(struct orch *o, size_t *out, size_t max);
/* Step i answered text[0..n). score: CRITIC's verdict score (< 0: none readable), else
 * ignored. Plans what follows. 0, or -1 (ENOMEM: the step stays RUN; call again). Steps not
 * RUN are ignored (a late duplicate answer). */
int orch_done(struct orch *o, size_t i, const char *text, size_t n, double score);
/* Step i failed; why: a sentence kept for the answer. */
void orch_failed(struct orch *o, size_t i, bool retriable, const char *why);
/*
 * The context budget (the seed's "compress before calling, not after failure"): step i, just
 * returned by orch_next and not sent, would not fit its model's context. Unless it was
 * compressed ORCH_MAX_COMPRESS times already, it is held (back to WAIT, its try not counted)
 * and a COMPRESS step asking model (the "fast" role) to compress its handoff is added: once
 * that answers, step i's instructions carry the compressed text in place of the earlier
 * steps' texts, and orch_next returns step i again. A COMPRESS step that fails for good fails
 * step i for good. Past ORCH_MAX_COMPRESS the run ends with no answer and budget_exceeded set
 * (CONTEXT_BUDGET_EXCEEDED). Returns 0 (held), or -1 (the run ended).
 */
int orch_compress(struct orch *o, size_t i, const char *model);
/*
 * A compression too long for every model (orch_compress_split): step i, a whole COMPRESS step
 * just returned by orch_next and not sent, becomes the first of k pieces (2..ORCH_MAX_PIECES)
 * and k - 1 more COMPRESS steps for the same target and compression are added, each asked to
 * compress its share of the handoff (cut into k about equal parts, at whitespace); back to WAIT,
 * its try not counted. They run at once; once every piece answered, the target's handoff is
 * their texts joined in order. A piece that fails for good fails the target, as a whole
 * compression does. 0, or -1: not such a step, or k out of range (nothing changed), or no room
 * for the steps (the run ends partial).
 */
int orch_compress_split(struct orch *o, size_t i, int k);
/* Steps still RUN (the router waits for them before it answers a finished run's legs). */
size_t orch_running(const struct orch *o);
/* Completed steps (state OK). */
size_t orch_completed(const struct orch *o);

/*
 * What step i is asked. The position block (the seed's "Current Position" trajectory) is the
 * system message of every step: the goal (its first ORCH_GOAL_SHOWN bytes), step i+1 of
 * total, the mode and round, the decisions so far (scores, agreement), constraints and the
 * open and resolved errors. orch_first says whether step i answers the caller's own
 * conversation (GENERATE, ANSWER, round-1 LEG, the first STAGE): then the caller's messages are
 * sent as they are after the block; otherwise orch_instructions is the one user message,
 * carrying the goal and the earlier texts it works on (a step with a handoff: that compressed
 * text instead; a COMPRESS step: its target's instructions to compress). Both append to out:
 * 0, or -1 (ENOBUFS/ENOMEM).
 */
int orch_position(const struct orch *o, size_t i, const char *goal, size_t n, struct buf *out);
bool orch_first(const struct orch *o, size_t i);
int orch_instructions(const struct orch *o, size_t i, const char *goal, size_t n,
                      struct buf *out);
/* Whether step i's text is the run's answer when the run completes: ANSWER, GENERATE, REVISE,
 * RECONCILE, SYNTH and the last pipeline STAGE; never a CRITIC or a LEG. The caller's format
 * and tools go to these steps only (src/router/router_orch_step.c says why). */
bool orch_answers(const struct orch *o, size_t i);
/* Whether step i, once it answers (a clean answer: not quarantined, orch_done), ends the run
 * with its text as the answer, known before it runs: ANSWER, RECONCILE, SYNTH, the last
 * pipeline STAGE and critique's REVISE of the last round. Not a GENERATE or an earlier REVISE:
 * those are the answer only if the critic after them says so. A streamed run relays this
 * step's tokens to its caller as they come (src/router/router_orch.c). Implies orch_answers. */
bool orch_last(const struct orch *o, size_t i);

/* Error-contamination markers in a text: how many of a fixed list of phrases (a stack trace's
 * "Traceback (most recent call last)", "Error:", "Exception:", "Segmentation fault",
 * "undefined is not", "NaN", a model's "I apologize", "I'm sorry, but", "As an AI",
 * "I cannot") it holds, each counted once, ASCII case ignored. */
int orch_contamination(const char *text, size_t n);

/*
 * Agreement of n texts in [0, 1]: the mean over pairs of the Jaccard overlap of their content
 * words (runs of ASCII letters and digits, lower-cased, at least 3 long, not one of a short
 * list of English function words; the first ORCH_AGREE_WORDS distinct ones of each text).
 * Two texts with no content words agree 1; one with and one without 0. n < 2: 1.
 */
#define ORCH_AGREE_WORDS 512
double orch_agreement(const char *const *texts, const size_t *lens, size_t n);

#endif
