/* SPDX-License-Identifier: MIT */
/*
 * orch_text: what each orchestration step is asked (the Current Position block and the step's
 * instructions) and the agreement measure of debate and ensemble (orch.h states both).
 */
#include "orion/orch.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* --- agreement -------------------------------------------------------------------------------- */

static const char *const stopwords[] = {
    "the",   "and",   "for",   "are",   "but",   "not",   "you",    "all",    "any",   "can",
    "had",   "her",   "was",   "one",   "our",   "out",   "has",    "his",    "how",   "its",
    "may",   "who",   "did",   "she",   "him",   "this",  "that",   "with",   "from",  "they",
    "will",  "would", "there", "their", "what",  "about", "which",  "when",   "were",  "been",
    "have",  "into",  "than",  "then",  "them",  "these", "some",   "such",   "also",  "only",
    "very",  "just",  "your",  "more",  "most",  "other", "each",   "being",  "because",
    "does",  "could", "should", "those", "where", "while", "here"};

static bool stopword(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof(stopwords) / sizeof(stopwords[0]); i++)
        if (strlen(stopwords[i]) == n && !memcmp(stopwords[i], w, n))
            return true;
    return false;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }
static bool alnum(int c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* The sorted distinct FNV-1a hashes of s's content words, at most ORCH_AGREE_WORDS. */
static size_t content_words(const char *s, size_t n, uint64_t *out)
{
    size_t k = 0, i = 0;
    char w[64];

    while (i < n && k < ORCH_AGREE_WORDS) {
        size_t len = 0, lo = 0, hi = k;
        uint64_t h = 14695981039346656037ull;

        while (i < n && !alnum(lower((unsigned char)s[i])))
            i++;
        for (; i < n && alnum(lower((unsigned char)s[i])); i++) {
            int c = lower((unsigned char)s[i]);
            if (len < sizeof(w))
                w[len] = (char)c;
            len++;
            h = (h ^ (uint64_t)c) * 1099511628211ull;
        }
        if (len < 3 || (len <= sizeof(w) && stopword(w, len)))
            continue;
        while (lo < hi) { /* insert in order, once */
            size_t mid = (lo + hi) / 2;
            if (out[mid] < h)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < k && out[lo] == h)
            continue;
        memmove(out + lo + 1, out + lo, (k - lo) * sizeof(*out));
        out[lo] = h;
        k++;
    }
    return k;
}

static double jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    size_t i = 0, j = 0, both = 0;

    if (!na && !nb)
        return 1.0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            both++;
            i++;
            j++;
        } else if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return (double)both / (double)(na + nb - both);
}

double orch_agreement(const char *const *texts, const size_t *lens, size_t n)
{
    uint64_t a[ORCH_AGREE_WORDS], b[ORCH_AGREE_WORDS];
    double sum = 0;
    size_t pairs = 0;

    if (n < 2)
        return 1.0;
    for (size_t i = 0; i < n; i++) {
        size_t na = content_words(texts[i], lens[i], a);
        for (size_t j = i + 1; j < n; j++) {
            size_t nb = content_words(texts[j], lens[j], b);
            sum += jaccard(a, na, b, nb);
            pairs++;
        }
    }
    return sum / (double)pairs;
}

/* --- contamination ---------------------------------------------------------------------------- */

static const char *const markers[] = {"traceback (most recent call last)", "error:",
                                      "exception:", "segmentation fault", "undefined is not",
                                      "nan", "i apologize", "i'm sorry, but", "as an ai",
                                      "i cannot"};

/* Does s[0..n) hold the lower-case word-bounded phrase m, ASCII case ignored? */
static bool holds(const char *s, size_t n, const char *m)
{
    size_t k = strlen(m);

    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k && lower((unsigned char)s[i + j]) == (unsigned char)m[j])
            j++;
        if (j == k && (i == 0 || !alnum(lower((unsigned char)s[i - 1]))) &&
            (i + k == n || !alnum(m[k - 1]) || !alnum(lower((unsigned char)s[i + k]))))
            return true;
    }
    return false;
}

int orch_contamination(const char *text, size_t n)
{
    int found = 0;

    for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
        found += holds(text, n, markers[i]);
    return found;
}

/* --- the steps' texts ------------------------------------------------------------------------- */

bool orch_first(const struct orch *o, size_t i)
{
    const struct orch_step *s = &o->step[i];

    return s->fresh || s->kind == ORCH_K_ANSWER || s->kind == ORCH_K_GENERATE ||
           (s->kind == ORCH_K_LEG && s->round == 1) || (s->kind == ORCH_K_STAGE && !s->leg);
}

bool orch_answers(const struct orch *o, size_t i)
{
    const struct orch_step *s = &o->step[i];

    switch (s->kind) {
    case ORCH_K_CRITIC:
    case ORCH_K_LEG:
    case ORCH_K_COMPRESS:
        return false;
    case ORCH_K_STAGE:
        return (size_t)s->leg + 1 >= o->k.nstages;
    default:
        return true;
    }
}

bool orch_last(const struct orch *o, size_t i)
{
    const struct orch_step *s = &o->step[i];

    switch (s->kind) {
    case ORCH_K_ANSWER:
    case ORCH_K_RECONCILE:
    case ORCH_K_SYNTH:
        return true;
    case ORCH_K_STAGE:
        return (size_t)s->leg + 1 >= o->k.nstages;
    case ORCH_K_REVISE:
        return s->round >= o->k.critique_max_rounds;
    default:
        return false;
    }
}

static int decisions(const struct orch *o, size_t upto, struct buf *out)
{
    int rc = buf_puts(out, "Decisions:");
    bool any = false;

    for (size_t i = 0; i < upto; i++) {
        const struct orch_step *s = &o->step[i];
        if (s->state != ORCH_S_OK)
            continue;
        if (s->kind == ORCH_K_CRITIC)
            rc |= buf_printf(out, " critic round %d scored %.2f (threshold %.2f);", s->round,
                             s->score, o->k.critique_threshold);
        else if (s->kind == ORCH_K_STAGE)
            rc |= buf_printf(out, " stage %s done;", o->k.stages[s->leg]);
        any = true;
    }
    if (o->agreement >= 0)
        rc |= buf_printf(out, " agreement %.2f (wanted %.2f);", o->agreement,
                         o->k.ensemble_min_agreement);
    if (!any)
        rc |= buf_puts(out, " none yet");
    return rc | buf_putc(out, '\n');
}

int orch_position(const struct orch *o, size_t i, const char *goal, size_t n, struct buf *out)
{
    const struct orch_step *s = &o->step[i];
    size_t open = 0, resolved = 0;
    int rc;

    for (size_t j = 0; j < o->nsteps; j++) {
        open += o->step[j].state == ORCH_S_FAIL;
        resolved += o->step[j].state == ORCH_S_OK && o->step[j].tries > 1;
    }
    rc = buf_puts(out, "## Current Position\nGoal: ");
    rc |= buf_append(out, goal, n < ORCH_GOAL_SHOWN ? n : ORCH_GOAL_SHOWN);
    rc |= buf_puts(out, n > ORCH_GOAL_SHOWN ? " [...]\n" : "\n");
    rc |= buf_printf(out, "Step %zu of %zu: %s", i + 1, o->total > i ? o->total : i + 1,
                     orch_kind_name(s->kind));
    if (s->kind == ORCH_K_STAGE)
        rc |= buf_printf(out, " %s", o->k.stages[s->leg]);
    rc |= buf_printf(out, " (%s, round %d, model %s)\n", orch_mode_name(o->mode), s->round,
                     s->model);
    rc |= decisions(o, i, out);
    rc |= buf_puts(out, "Constraints: answer the goal itself; keep what earlier steps got "
                        "right; do not describe this process\n");
    rc |= buf_printf(out, "Errors: %zu open, %zu resolved\n", open, resolved);
    return rc ? -1 : 0;
}

static int section(struct buf *out, const char *title, const char *text)
{
    return buf_printf(out, "\n\n%s:\n", title) | buf_puts(out, text ? text : "");
}

/* The latest done step before i of one of the kinds (a bit mask of 1 << kind), or NULL. */
static const struct orch_step *latest(const struct orch *o, size_t i, unsigned kinds)
{
    while (i-- > 0)
        if (o->step[i].state == ORCH_S_OK && (kinds & (1u << o->step[i].kind)))
            return &o->step[i];
    return NULL;
}

/* The legs of the round before step i's round (RECONCILE and SYNTH: the last round). */
static int legs_of(const struct orch *o, size_t i, int round, int skip_leg, struct buf *out)
{
    int rc = 0, k = 0;

    for (size_t j = 0; j < i; j++) {
        const struct orch_step *s = &o->step[j];
        char title[ORION_MODEL_MAX + 32];
        if (s->kind != ORCH_K_LEG || s->state != ORCH_S_OK || s->round != round ||
            s->leg == skip_leg)
            continue;
        snprintf(title, sizeof(title), "Answer %d (%s)", ++k, s->model);
        rc |= section(out, title, s->text);
    }
    return rc;
}

static int last_round(const struct orch *o, size_t i)
{
    int r = 0;

    for (size_t j = 0; j < i; j++)
        if (o->step[j].kind == ORCH_K_LEG && o->step[j].state == ORCH_S_OK &&
            o->step[j].round > r)
            r = o->step[j].round;
    return r;
}

static int stage_text(const struct orch *o, size_t i, struct buf *out)
{
    const char *name = o->k.stages[o->step[i].leg];
    const struct orch_step *prev = latest(o, i, 1u << ORCH_K_STAGE);

    if (!strcmp(name, "refine"))
        return buf_puts(out, "Refine the draft below: correct it, complete it and improve it. "
                             "Give only the improved text.") |
               section(out, "Draft", prev ? prev->text : "");
    if (!strcmp(name, "validate"))
        return buf_puts(out, "Validate the text below against the task: fix any error and give "
                             "only the final answer.") |
               section(out, "Text", prev ? prev->text : "");
    return buf_printf(out, "Stage %s: improve the previous stage's text for the task. Give only "
                           "the improved text.", name) |
           section(out, "Previous stage", prev ? prev->text : "");
}

/* The compressed handoff c stands for: its text, or its compression's pieces joined in order. */
static int handoff_text(const struct orch *o, const struct orch_step *c, struct buf *out)
{
    int rc = 0;

    if (c->pieces <= 1)
        return buf_puts(out, c->text ? c->text : "");
    for (int p = 0; p < c->pieces; p++)
        for (size_t j = 0; j < o->nsteps; j++) {
            const struct orch_step *s = &o->step[j];
            if (s->kind == ORCH_K_COMPRESS && s->target == c->target && s->round == c->round &&
                s->piece == p)
                rc |= buf_puts(out, p ? "\n\n" : "") | buf_puts(out, s->text ? s->text : "");
        }
    return rc;
}

/* Where piece p of k of text[0..n) starts: p/k of the way, moved on past the word it falls in
 * (so that consecutive pieces meet at whitespace and no word is cut). */
static size_t piece_at(const char *text, size_t n, int p, int k)
{
    size_t at = p <= 0 ? 0 : p >= k ? n : n / (size_t)k * (size_t)p;

    if (at == 0 || at == n)
        return at;
    while (at < n && !isspace((unsigned char)text[at]))
        at++;
    return at;
}

static int compress_text(const struct orch *o, size_t i, const char *goal, size_t n,
                         struct buf *out)
{
    const struct orch_step *s = &o->step[i];
    struct buf whole;
    size_t a, z;
    int rc;

    if (s->pieces <= 1)
        return buf_puts(out, "Compress the handoff below to at most half its length for the "
                             "next step. Keep the task, every decision, constraint and open "
                             "error, and each answer's key points and conclusions; drop "
                             "repetition and wording. Give only the compressed text.\n\n"
                             "Handoff:\n") |
                       orch_instructions(o, (size_t)s->target, goal, n, out)
                   ? -1
                   : 0;
    buf_init(&whole, out->max);
    rc = orch_instructions(o, (size_t)s->target, goal, n, &whole);
    a = piece_at(buf_data(&whole), buf_size(&whole), s->piece, s->pieces);
    z = piece_at(buf_data(&whole), buf_size(&whole), s->piece + 1, s->pieces);
    rc |= buf_printf(out, "Compress this part (%d of %d) of a handoff to at most half its "
                          "length for the next step. Keep the task, every decision, constraint "
                          "and open error, and each answer's key points and conclusions; drop "
                          "repetition and wording. Give only the compressed text.\n\n"
                          "Part %d of %d:\n", s->piece + 1, s->pieces, s->piece + 1, s->pieces);
    rc |= buf_append(out, buf_data(&whole) + a, z - a);
    buf_release(&whole);
    return rc ? -1 : 0;
}

int orch_instructions(const struct orch *o, size_t i, const char *goal, size_t n,
                      struct buf *out)
{
    const struct orch_step *s = &o->step[i], *own;
    const unsigned answers = 1u << ORCH_K_GENERATE | 1u << ORCH_K_REVISE;
    int rc;

    if (s->kind == ORCH_K_COMPRESS) /* the target's own instructions, to be made shorter */
        return compress_text(o, i, goal, n, out);
    rc = buf_puts(out, "Task:\n") | buf_append(out, goal, n) | buf_puts(out, "\n\n");
    if (s->handoff >= 0) /* the earlier texts, compressed to fit this step's context */
        return rc | buf_printf(out, "Do your step (%s, named in the Current Position) on the "
                                    "earlier steps' work below, compressed to fit.",
                               orch_kind_name(s->kind)) |
                       buf_puts(out, "\n\nEarlier work (compressed):\n") |
                       handoff_text(o, &o->step[s->handoff], out)
                   ? -1
                   : 0;
    switch (s->kind) {
    case ORCH_K_CRITIC:
        rc |= buf_puts(out, "You are the critic. Judge the answer below to the task. Reply with "
                            "a JSON object: {\"score\": a number from 0 to 1 (1: nothing to "
                            "improve), \"issues\": [the problems, each a short sentence]}.");
        rc |= section(out, "Answer", latest(o, i, answers) ? latest(o, i, answers)->text : "");
        break;
    case ORCH_K_REVISE:
        rc |= buf_puts(out, "Revise your answer to the task, fixing the issues the critic found. "
                            "Give only the revised answer.");
        rc |= section(out, "Your answer", latest(o, i, answers) ? latest(o, i, answers)->text : "");
        own = latest(o, i, 1u << ORCH_K_CRITIC);
        rc |= section(out, "Critique", own ? own->text : "");
        break;
    case ORCH_K_LEG:
        own = NULL;
        for (size_t j = 0; j < i; j++)
            if (o->step[j].kind == ORCH_K_LEG && o->step[j].state == ORCH_S_OK &&
                o->step[j].leg == s->leg && o->step[j].round == s->round - 1)
                own = &o->step[j];
        rc |= buf_puts(out, "Consider the other participants' answers, keep what is right in "
                            "yours, correct what is wrong, and give your improved answer.");
        rc |= section(out, "Your previous answer", own ? own->text : "");
        rc |= legs_of(o, i, s->round - 1, s->leg, out);
        break;
    case ORCH_K_RECONCILE:
        rc |= buf_puts(out, "You reconcile a debate. Give one answer to the task that keeps what "
                            "the participants agree on and settles where they differ.");
        rc |= legs_of(o, i, last_round(o, i), -1, out);
        break;
    case ORCH_K_SYNTH:
        rc |= buf_printf(out, "Synthesize one answer to the task from these independent answers "
                              "(their agreement: %.2f). Prefer what most of them support.",
                         o->agreement < 0 ? 1.0 : o->agreement);
        rc |= legs_of(o, i, 1, -1, out);
        break;
    case ORCH_K_STAGE:
        rc |= stage_text(o, i, out);
        break;
    case ORCH_K_ANSWER:
    case ORCH_K_GENERATE:
    case ORCH_K_COMPRESS:
        rc |= buf_puts(out, "Answer the task.");
        break;
    }
    return rc ? -1 : 0;
}
