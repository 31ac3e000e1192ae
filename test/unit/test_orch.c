/* SPDX-License-Identifier: MIT */
/*
 * orch: every mode driven through its steps by a scripted answerer, by table: which steps are
 * issued together (the legs of a round in one batch), which models they ask for, when critique
 * stops early, when debate stops at agreement or max rounds, what a failed leg or step does
 * (retried once when retriable, left out when a leg, partial otherwise); the agreement measure
 * on known texts; the prompts carry the Current Position block and the earlier texts.
 */
#include "orion/orch.h"
#include "../t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ocase {
    const char *name;
    enum orch_mode mode;
    const char *list[4], *preset[4], *task;
    int max_rounds;         /* critique or debate; 0: default */
    double threshold;       /* critique; 0: default */
    const char *stages;     /* pipeline; NULL: default */
    double scores[4];       /* the critic's verdict by round; -1: no score */
    const char *fail;       /* steps that fail: "3" for good, "3?" once retriably, "3!" twice */
    int legs_agree;         /* 1: legs answer alike (agreement 1); 0: nothing in common */
    const char *trace;      /* batches " | ", steps "kind:model" joined by "," */
    const char *final;      /* the final step's kind, "-" none */
    bool partial;
    int rounds;
    const char *dirty;      /* steps answering with 2 contamination markers, as fail's spec */
};

static const struct ocase cases[] = {
    {"single: one step", ORCH_SINGLE, {0}, {0}, NULL, 0, 0, NULL, {0}, "", 0,
     "answer:gemma3:1b", "answer", false, 1},
    {"critique: early stop at the threshold", ORCH_CRITIQUE, {"a:1b", "b:1b"}, {0}, NULL, 0, 0,
     NULL, {0.9}, "", 0, "generate:a:1b | critic:b:1b", "generate", false, 1},
    {"critique: score exactly the threshold stops", ORCH_CRITIQUE, {"a:1b", "b:1b"}, {0}, NULL,
     0, 0, NULL, {0.8}, "", 0, "generate:a:1b | critic:b:1b", "generate", false, 1},
    {"critique: below, revise, then stop", ORCH_CRITIQUE, {"a:1b", "b:1b"}, {0}, NULL, 0, 0,
     NULL, {0.5, 0.85}, "", 0,
     "generate:a:1b | critic:b:1b | revise:a:1b | critic:b:1b", "revise", false, 2},
    {"critique: max rounds, last revision answers", ORCH_CRITIQUE, {"a:1b", "b:1b"}, {0}, NULL,
     0, 0, NULL, {0.1, 0.2}, "", 0,
     "generate:a:1b | critic:b:1b | revise:a:1b | critic:b:1b | revise:a:1b", "revise", false,
     2},
    {"critique: one round knob", ORCH_CRITIQUE, {"a:1b"}, {0}, NULL, 1, 0.95, NULL, {0.9}, "",
     0, "generate:a:1b | critic:a:1b | revise:a:1b", "revise", false, 1},
    {"critique: roles without a list", ORCH_CRITIQUE, {0}, {"x", "y"}, NULL, 0, 0, NULL, {0.9},
     "", 0, "generate:primary | critic:thinker", "generate", false, 1},
    {"critique: unreadable verdict retried", ORCH_CRITIQUE, {"a:1b", "b:1b"}, {0}, NULL, 0, 0,
     NULL, {-1, 0.9}, "", 0, "generate:a:1b | critic:b:1b | critic:b:1b", "generate", false, 1},
    {"critique: critic fails for good: partial generator text", ORCH_CRITIQUE, {"a:1b", "b:1b"},
     {0}, NULL, 0, 0, NULL, {0.9}, "1", 0, "generate:a:1b | critic:b:1b", "generate", true, 0},
    {"critique: retriable failure of the generator retries it", ORCH_CRITIQUE, {"a:1b", "b:1b"},
     {0}, NULL, 0, 0, NULL, {0.9}, "0?", 0, "generate:a:1b | generate:a:1b | critic:b:1b",
     "generate", false, 1},
    {"critique: generator fails twice: nothing usable", ORCH_CRITIQUE, {"a:1b", "b:1b"}, {0},
     NULL, 0, 0, NULL, {0}, "0!", 0, "generate:a:1b | generate:a:1b", "-", true, 0},
    {"debate: agreement ends after round 1", ORCH_DEBATE, {"a:1b", "b:1b"}, {0}, NULL, 0, 0,
     NULL, {0}, "", 1, "leg:a:1b,leg:b:1b | reconcile:primary", "reconcile", false, 1},
    {"debate: disagreement runs max rounds", ORCH_DEBATE, {"a:1b", "b:1b"}, {0}, NULL, 3, 0,
     NULL, {0}, "", 0,
     "leg:a:1b,leg:b:1b | leg:a:1b,leg:b:1b | leg:a:1b,leg:b:1b | reconcile:primary",
     "reconcile", false, 3},
    {"debate: preset's first two without a list", ORCH_DEBATE, {0}, {"p1", "p2", "p3"}, NULL, 1,
     0, NULL, {0}, "", 0, "leg:p1,leg:p2 | reconcile:primary", "reconcile", false, 1},
    {"debate: roles without a preset", ORCH_DEBATE, {0}, {0}, NULL, 1, 0, NULL, {0}, "", 0,
     "leg:primary,leg:thinker | reconcile:primary", "reconcile", false, 1},
    {"debate: a failed leg is left out, no more rounds", ORCH_DEBATE, {"a:1b", "b:1b"}, {0},
     NULL, 3, 0, NULL, {0}, "1", 0, "leg:a:1b,leg:b:1b | reconcile:primary", "reconcile", false,
     1},
    {"debate: both legs fail: nothing", ORCH_DEBATE, {"a:1b", "b:1b"}, {0}, NULL, 3, 0, NULL,
     {0}, "0,1", 0, "leg:a:1b,leg:b:1b", "-", true, 0},
    {"debate: reconciler fails: partial with the last leg", ORCH_DEBATE, {"a:1b", "b:1b"}, {0},
     NULL, 1, 0, NULL, {0}, "2", 0, "leg:a:1b,leg:b:1b | reconcile:primary", "leg", true, 1},
    {"ensemble: all in parallel then synthesis", ORCH_ENSEMBLE, {0}, {"p1", "p2", "p3"}, NULL, 0,
     0, NULL, {0}, "", 0, "leg:p1,leg:p2,leg:p3 | synthesize:primary", "synthesize", false, 1},
    {"ensemble: roles without a preset", ORCH_ENSEMBLE, {0}, {"only"}, NULL, 0, 0, NULL, {0}, "",
     1, "leg:primary,leg:thinker,leg:fast | synthesize:primary", "synthesize", false, 1},
    {"ensemble: a failed leg, the others synthesized", ORCH_ENSEMBLE, {"a", "b", "c"}, {0}, NULL,
     0, 0, NULL, {0}, "1", 1, "leg:a,leg:b,leg:c | synthesize:primary", "synthesize", false, 1},
    {"ensemble: a leg retried in its own batch", ORCH_ENSEMBLE, {"a", "b"}, {0}, NULL, 0, 0,
     NULL, {0}, "0?", 1, "leg:a,leg:b | leg:a | synthesize:primary", "synthesize", false, 1},
    {"pipeline: roles by stage, code task", ORCH_PIPELINE, {0}, {0}, "code", 0, 0, NULL, {0}, "",
     0, "stage:fast | stage:coder | stage:primary", "stage", false, 1},
    {"pipeline: roles by stage, other task", ORCH_PIPELINE, {0}, {0}, "plan", 0, 0, NULL, {0}, "",
     0, "stage:fast | stage:thinker | stage:primary", "stage", false, 1},
    {"pipeline: list order, last model repeated", ORCH_PIPELINE, {"d", "r"}, {0}, NULL, 0, 0,
     NULL, {0}, "", 0, "stage:d | stage:r | stage:r", "stage", false, 1},
    {"pipeline: own stages", ORCH_PIPELINE, {0}, {0}, NULL, 0, 0, "draft,coder,expand", {0}, "",
     0, "stage:fast | stage:coder | stage:primary", "stage", false, 1},
    {"pipeline: middle stage fails: partial draft", ORCH_PIPELINE, {"d", "r", "v"}, {0}, NULL, 0,
     0, NULL, {0}, "1", 0, "stage:d | stage:r", "stage", true, 1},
    {"contamination: a stage quarantined once, clean on fresh context", ORCH_PIPELINE,
     {"d", "r", "v"}, {0}, NULL, 0, 0, NULL, {0}, "", 0,
     "stage:d | stage:r | stage:r | stage:v", "stage", false, 1, "1?"},
    {"contamination: contaminated again: partial with the draft", ORCH_PIPELINE, {"d", "r", "v"},
     {0}, NULL, 0, 0, NULL, {0}, "", 0, "stage:d | stage:r | stage:r", "stage", true, 1, "1"},
    {"contamination: a debate leg quarantined alone in its batch", ORCH_DEBATE, {"a", "b"}, {0},
     NULL, 1, 0, NULL, {0}, "", 0, "leg:a,leg:b | leg:b | reconcile:primary", "reconcile", false,
     1, "1?"},
};

static const char *leg_text(int agree, int leg)
{
    static const char *const diff[] = {"alpha bravo charlie", "delta echo foxtrot",
                                       "golf hotel india", "juliet kilo lima"};
    return agree ? "The sky is blue because of Rayleigh scattering" : diff[leg % 4];
}

/* How step i fails on its tries-th issue: 0 no, 1 for good, 2 retriably. */
static int fails(const char *spec, size_t i, int tries)
{
    for (const char *p = spec ? spec : ""; *p;) {
        unsigned long n = strtoul(p, (char **)&p, 10);
        char mark = *p == '?' || *p == '!' ? *p++ : 0;
        if (*p == ',')
            p++;
        if (n != i)
            continue;
        if (!mark)
            return 1;
        return tries <= (mark == '?' ? 1 : 2) ? 2 : 0;
    }
    return 0;
}

static void run_case(const struct ocase *c)
{
    struct orch_knobs k;
    struct orch o;
    char trace[512] = "", err[128];
    size_t nl = 0, np = 0, ncrit = 0, idx[ORCH_MAX_STEPS];

    orch_knobs_default(&k);
    if (c->max_rounds)
        k.critique_max_rounds = k.debate_max_rounds = c->max_rounds;
    if (c->threshold)
        k.critique_threshold = c->threshold;
    if (c->stages)
        ok(orch_stages_parse(&k, c->stages) == 0, "%s: stages parse", c->name);
    while (nl < 4 && c->list[nl])
        nl++;
    while (np < 4 && c->preset[np])
        np++;
    if (orch_init(&o, c->mode, &k, c->list, nl, c->preset, np, "gemma3:1b", c->task, err,
                  sizeof(err)) < 0) {
        ok(0, "%s: init: %s", c->name, err);
        return;
    }
    for (int batch = 0; batch < 40 && !o.finished; batch++) {
        size_t n = orch_next(&o, idx, ORCH_MAX_STEPS);
        if (!n)
            break;
        if (batch)
            strcat(trace, " | ");
        for (size_t j = 0; j < n; j++) {
            const struct orch_step *s = &o.step[idx[j]];
            char one[ORION_MODEL_MAX + 32];
            snprintf(one, sizeof(one), "%s%s:%s", j ? "," : "", orch_kind_name(s->kind),
                     s->model);
            strncat(trace, one, sizeof(trace) - strlen(trace) - 1);
        }
        for (size_t j = 0; j < n; j++) {
            const struct orch_step *s = &o.step[idx[j]];
            int f = fails(c->fail, idx[j], s->tries);
            const char *t = s->kind == ORCH_K_LEG ? leg_text(c->legs_agree, s->leg)
                                                  : orch_kind_name(s->kind);
            if (fails(c->dirty, idx[j], s->tries))
                t = "Traceback (most recent call last): Error: boom";
            if (f)
                orch_failed(&o, idx[j], f == 2, "scripted failure");
            else
                orch_done(&o, idx[j], t, strlen(t),
                          s->kind == ORCH_K_CRITIC ? c->scores[ncrit++ % 4] : -1);
        }
    }
    is_str(trace, c->trace, "%s: steps", c->name);
    ok(o.finished, "%s: finished", c->name);
    is_str(o.final < 0 ? "-" : orch_kind_name(o.step[o.final].kind), c->final, "%s: answer",
           c->name);
    ok(o.partial == c->partial, "%s: partial %d", c->name, (int)c->partial);
    is_int(o.rounds, c->rounds, "%s: rounds", c->name);
    is_int(orch_running(&o), 0, "%s: nothing left running", c->name);
    if (o.final >= 0 && !o.partial)
        ok(orch_answers(&o, (size_t)o.final), "%s: the answer is from an answering step",
           c->name);
    for (size_t i = 0; i < o.nsteps; i++) {
        const struct orch_step *s = &o.step[i];
        bool want = s->kind != ORCH_K_CRITIC && s->kind != ORCH_K_LEG &&
                    (s->kind != ORCH_K_STAGE || (size_t)s->leg + 1 == o.k.nstages);
        if (orch_answers(&o, i) != want)
            ok(0, "%s: step %zu (%s) answers: %d", c->name, i + 1, orch_kind_name(s->kind),
               (int)want);
    }
    for (size_t i = 0; i < o.nsteps; i++) { /* a last step that answered cleanly is the answer */
        const struct orch_step *s = &o.step[i];
        if (orch_last(&o, i) && !orch_answers(&o, i))
            ok(0, "%s: step %zu (%s) is last but does not answer", c->name, i + 1,
               orch_kind_name(s->kind));
        if (orch_last(&o, i) && s->state == ORCH_S_OK && o.final != (int)i)
            ok(0, "%s: step %zu (%s) is last and answered, yet the answer is step %d", c->name,
               i + 1, orch_kind_name(s->kind), o.final + 1);
    }
    if (o.final >= 0 && !o.partial) { /* known last unless a critic had to judge it */
        bool judged = false;
        for (size_t i = (size_t)o.final + 1; i < o.nsteps; i++)
            judged |= o.step[i].kind == ORCH_K_CRITIC;
        ok(orch_last(&o, (size_t)o.final) == !judged, "%s: the answer's step %s known last",
           c->name, judged ? "was not" : "was");
    }
    orch_release(&o);
}

static void test_agreement(void)
{
    const char *t[3] = {"The quick brown fox jumps", "the QUICK brown fox sleeps", ""};
    size_t l[3];

    for (int i = 0; i < 3; i++)
        l[i] = strlen(t[i]);
    /* content words: {quick, brown, fox, jumps} and {quick, brown, fox, sleeps}: 3 of 5 */
    ok(orch_agreement(t, l, 2) > 0.599 && orch_agreement(t, l, 2) < 0.601, "3/5 shared");
    ok(orch_agreement(t, l, 1) == 1.0, "one text agrees with itself");
    ok(orch_agreement(t + 1, l + 1, 2) == 0.0, "words vs none: 0");
    {
        const char *e[2] = {"the and of it", "a to is"};
        size_t el[2] = {strlen(e[0]), strlen(e[1])};
        ok(orch_agreement(e, el, 2) == 1.0, "no content words on either side: 1");
    }
    {
        const char *r[2] = {"fox fox fox dog", "dog, fox!"};
        size_t rl[2] = {strlen(r[0]), strlen(r[1])};
        ok(orch_agreement(r, rl, 2) == 1.0, "repeats and punctuation do not count");
    }
    /* three texts: pairs 0.6, 0, 0 -> 0.2 */
    ok(orch_agreement(t, l, 3) > 0.199 && orch_agreement(t, l, 3) < 0.201, "mean over pairs");
}

static void test_contamination(void)
{
    struct orch_knobs k;
    struct orch o;
    char err[64];
    size_t idx[4];
    const char *list[] = {"a"};

    is_int(orch_contamination("The sky is blue.", 16), 0, "a clean text: no marker");
    is_int(orch_contamination("ERROR: x; error: y", 18), 1, "a marker counts once, any case");
    is_int(orch_contamination("terror: none, errors: none", 26), 0, "only whole words");
    is_int(orch_contamination("I apologize. As an AI, I cannot. NaN", 36), 4, "four markers");
    is_int(orch_contamination("banana", 6), 0, "nan inside a word is not one");
    orch_knobs_default(&k);
    k.nstages = 0;
    orch_stages_parse(&k, "a,b,c,d,e,f");
    orch_init(&o, ORCH_PIPELINE, &k, list, 1, NULL, 0, NULL, NULL, err, sizeof(err));
    for (size_t i = 0; i < 6 && !o.finished; i++) {
        orch_next(&o, idx, 4);
        orch_done(&o, idx[0], "I apologize, here it is.", 24, -1); /* one marker: logged */
    }
    ok(o.finished && o.partial && o.contaminated == ORCH_CONTAM_ABORT && o.final == 4,
       "one marker a step is logged until %d in the run end it with the last clean text",
       ORCH_CONTAM_ABORT);
    ok(strstr(o.error, "contaminated") != NULL, "the error says so: %s", o.error);
    orch_release(&o);
}

static void test_knobs(void)
{
    struct orch_knobs k;

    orch_knobs_default(&k);
    ok(k.critique_max_rounds == 2 && k.critique_threshold == 0.8 && k.debate_max_rounds == 3 &&
           k.ensemble_min_agreement == 0.7, "the seed's defaults");
    is_str(k.reconcile_model, "primary", "reconciler primary");
    ok(k.nstages == 3 && !strcmp(k.stages[1], "refine"), "draft,refine,validate");
    ok(orch_stages_parse(&k, "a,,b") < 0 && k.nstages == 3, "an empty stage is refused");
    ok(orch_stages_parse(&k, "a,b c") < 0, "a space is refused");
    ok(orch_stages_parse(&k, "1,2,3,4,5,6,7") < 0, "7 stages are too many");
    ok(orch_stages_parse(&k, "abcdefghijklmnop") < 0, "16 bytes are too long");
    ok(orch_stages_parse(&k, "abcdefghijklmno") == 0 && k.nstages == 1, "15 bytes fit");
}

static void test_prompts(void)
{
    struct orch_knobs k;
    struct orch o;
    struct buf b;
    char err[64];
    size_t idx[4];
    const char *list[] = {"a:1b", "b:1b"};
    const char *goal = "Why is the sky blue?";

    orch_knobs_default(&k);
    buf_init(&b, 1 << 16);
    orch_init(&o, ORCH_CRITIQUE, &k, list, 2, NULL, 0, NULL, NULL, err, sizeof(err));
    orch_next(&o, idx, 4);
    ok(orch_first(&o, 0), "the generator answers the caller's conversation");
    ok(orch_position(&o, 0, goal, strlen(goal), &b) == 0, "position block");
    ok(strstr(buf_data(&b), "## Current Position\nGoal: Why is the sky blue?\nStep 1 of 5: "
                            "generate (critique, round 0, model a:1b)") != NULL,
       "goal, step 1 of 5: %s", buf_data(&b));
    orch_done(&o, 0, "Rayleigh scattering.", 20, -1);
    orch_next(&o, idx, 4);
    buf_reset(&b);
    ok(!orch_first(&o, 1) && orch_instructions(&o, 1, goal, strlen(goal), &b) == 0,
       "the critic gets instructions");
    ok(strstr(buf_data(&b), "\"score\"") && strstr(buf_data(&b), "Answer:\nRayleigh scattering."),
       "the critic sees the schema's fields and the answer");
    orch_done(&o, 1, "{\"score\":0.3,\"issues\":[\"too short\"]}", 36, 0.3);
    orch_next(&o, idx, 4);
    buf_reset(&b);
    orch_position(&o, 2, goal, strlen(goal), &b);
    ok(strstr(buf_data(&b), "critic round 1 scored 0.30 (threshold 0.80)") != NULL,
       "the decisions carry the score");
    buf_reset(&b);
    orch_instructions(&o, 2, goal, strlen(goal), &b);
    ok(strstr(buf_data(&b), "Critique:\n{\"score\":0.3") != NULL, "the reviser sees the critique");
    orch_failed(&o, 2, true, "busy");
    orch_next(&o, idx, 4);
    buf_reset(&b);
    orch_position(&o, 2, goal, strlen(goal), &b);
    ok(strstr(buf_data(&b), "Errors: 0 open, 0 resolved") != NULL, "a retry is not an error yet");
    orch_release(&o);
    buf_release(&b);
}

/* The context budget: a held step, its compression, the compressed handoff, the limit. */
static void test_compress(void)
{
    struct orch_knobs k;
    struct orch o;
    struct buf b;
    char err[64];
    size_t idx[4], n;
    const char *list[] = {"a:1b", "small:1b"};
    const char *goal = "Summarize.", *draft = "DRAFT-TEXT with many words";

    orch_knobs_default(&k);
    buf_init(&b, 1 << 16);
    orch_init(&o, ORCH_PIPELINE, &k, list, 2, NULL, 0, NULL, NULL, err, sizeof(err));
    orch_next(&o, idx, 4);
    orch_done(&o, 0, draft, strlen(draft), -1);
    n = orch_next(&o, idx, 4);
    ok(n == 1 && idx[0] == 1 && orch_compress(&o, 1, "fast") == 0, "refine held for compression");
    n = orch_next(&o, idx, 4);
    ok(n == 1 && idx[0] == 2 && o.step[2].kind == ORCH_K_COMPRESS &&
           !strcmp(o.step[2].model, "fast") && o.step[1].state == ORCH_S_WAIT &&
           o.step[1].tries == 0,
       "only the compress step runs, on fast; refine waits, its try not counted");
    ok(!orch_answers(&o, 2) && !orch_first(&o, 2), "compress: neither answers nor first");
    orch_instructions(&o, 2, goal, strlen(goal), &b);
    ok(strstr(buf_data(&b), "Compress the handoff") && strstr(buf_data(&b), "Draft:\nDRAFT-TEXT"),
       "compress is asked to shorten refine's own instructions: %s", buf_data(&b));
    orch_done(&o, 2, "SHORT", 5, -1);
    n = orch_next(&o, idx, 4);
    ok(n == 1 && idx[0] == 1 && o.step[1].tries == 1, "refine runs once compressed");
    buf_reset(&b);
    orch_instructions(&o, 1, goal, strlen(goal), &b);
    ok(strstr(buf_data(&b), "Earlier work (compressed):\nSHORT") &&
           !strstr(buf_data(&b), "DRAFT-TEXT"),
       "refine sees the compressed text, not the draft: %s", buf_data(&b));
    ok(orch_compress(&o, 1, "fast") == 0, "a second compression");
    orch_next(&o, idx, 4);
    orch_done(&o, idx[0], "SHORTER", 7, -1);
    orch_next(&o, idx, 4);
    ok(orch_compress(&o, 1, "fast") == 0, "a third compression");
    orch_next(&o, idx, 4);
    orch_done(&o, idx[0], "SHORTEST", 8, -1);
    orch_next(&o, idx, 4);
    ok(orch_compress(&o, 1, "fast") < 0 && o.finished && o.budget_exceeded && o.final < 0,
       "past %d compressions the run ends: budget exceeded, no answer", ORCH_MAX_COMPRESS);
    ok(strstr(o.error, "after 3 compressions") != NULL && o.compressed == 3, "why: %s", o.error);
    orch_release(&o);

    orch_init(&o, ORCH_PIPELINE, &k, list, 2, NULL, 0, NULL, NULL, err, sizeof(err));
    orch_next(&o, idx, 4);
    orch_done(&o, 0, draft, strlen(draft), -1);
    orch_next(&o, idx, 4);
    orch_compress(&o, 1, "fast");
    orch_next(&o, idx, 4);
    orch_failed(&o, 2, false, "no fast model");
    ok(o.finished && o.partial && o.final == 0 && o.step[1].state == ORCH_S_FAIL &&
           !o.budget_exceeded,
       "a compression failing for good fails its step: partial with the draft (%s)", o.error);
    orch_release(&o);
    buf_release(&b);
}

/* A compression too long for every model, in pieces: each compresses its share, the target
 * sees them joined; a failed piece fails the target once. */
static void test_pieces(void)
{
    struct orch_knobs k;
    struct orch o;
    struct buf b;
    char err[64];
    size_t idx[8], n;
    const char *list[] = {"a:1b", "small:1b"};
    const char *goal = "Summarize.", *draft = "one two three four five six seven eight nine ten";

    orch_knobs_default(&k);
    buf_init(&b, 1 << 16);
    orch_init(&o, ORCH_PIPELINE, &k, list, 2, NULL, 0, NULL, NULL, err, sizeof(err));
    orch_next(&o, idx, 8);
    orch_done(&o, 0, draft, strlen(draft), -1);
    orch_next(&o, idx, 8);
    orch_compress(&o, 1, "fast");
    n = orch_next(&o, idx, 8);
    ok(orch_compress_split(&o, 2, 1) < 0 && orch_compress_split(&o, 2, ORCH_MAX_PIECES + 1) < 0,
       "split: k out of 2..%d refused", ORCH_MAX_PIECES);
    ok(n == 1 && orch_compress_split(&o, 2, 3) == 0 && o.nsteps == 5 && o.step[2].tries == 0,
       "split in 3: two more compress steps, the first's try not counted");
    ok(orch_compress_split(&o, 2, 2) < 0, "a piece is not split again");
    n = orch_next(&o, idx, 8);
    ok(n == 3 && idx[0] == 2 && idx[1] == 3 && idx[2] == 4 && o.step[1].held,
       "the 3 pieces run at once, the target held");
    for (size_t j = 0; j < 3; j++) {
        buf_reset(&b);
        orch_instructions(&o, idx[j], goal, strlen(goal), &b);
        ok(strstr(buf_data(&b), "Compress this part") != NULL, "piece %zu asks for its part", j);
    }
    {
        /* the pieces' parts, put together, are the whole handoff, cut at whitespace only */
        struct buf whole, joined;
        buf_init(&whole, 1 << 16);
        buf_init(&joined, 1 << 16);
        orch_instructions(&o, 1, goal, strlen(goal), &whole);
        for (size_t j = 0; j < 3; j++) {
            char head[32];
            const char *p;
            buf_reset(&b);
            orch_instructions(&o, idx[j], goal, strlen(goal), &b);
            snprintf(head, sizeof(head), "Part %zu of 3:\n", j + 1);
            p = strstr(buf_data(&b), head);
            if (p)
                buf_puts(&joined, p + strlen(head));
        }
        is_str(buf_data(&joined), buf_data(&whole), "the 3 parts make the whole handoff");
        buf_release(&whole);
        buf_release(&joined);
    }
    orch_done(&o, 3, "S2", 2, -1);
    orch_done(&o, 2, "S1", 2, -1);
    ok(o.step[1].held && o.step[1].handoff < 0, "two of three pieces: the target still waits");
    orch_done(&o, 4, "S3", 2, -1);
    n = orch_next(&o, idx, 8);
    ok(n == 1 && idx[0] == 1 && o.compressed == 1, "all pieces in: the target runs, one compression");
    buf_reset(&b);
    orch_instructions(&o, 1, goal, strlen(goal), &b);
    ok(strstr(buf_data(&b), "Earlier work (compressed):\nS1\n\nS2\n\nS3") != NULL &&
           !strstr(buf_data(&b), "seven"),
       "the target sees the pieces joined in order: %s", buf_data(&b));
    orch_release(&o);

    orch_init(&o, ORCH_DEBATE, &k, list, 2, NULL, 0, NULL, NULL, err, sizeof(err));
    o.k.debate_max_rounds = 1; /* the legs disagree: the reconciler next */
    orch_next(&o, idx, 8);
    orch_done(&o, 0, draft, strlen(draft), -1);
    orch_done(&o, 1, "alpha bravo", 11, -1);
    orch_next(&o, idx, 8); /* the reconciler, step 2 */
    orch_compress(&o, 2, "fast");
    orch_next(&o, idx, 8);
    orch_compress_split(&o, 3, 2);
    orch_next(&o, idx, 8);
    orch_failed(&o, 3, false, "too long");
    orch_failed(&o, 4, false, "too long");
    ok(o.finished && o.partial && o.step[2].state == ORCH_S_FAIL && o.nsteps == 5,
       "a failed piece fails the reconciler once: partial (%s)", o.error);
    orch_release(&o);
    buf_release(&b);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
    test_agreement();
    test_contamination();
    test_knobs();
    test_prompts();
    test_compress();
    test_pieces();
    return done_testing();
}
