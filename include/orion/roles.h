/* SPDX-License-Identifier: MIT */
/*
 * roles: which model a request gets when it names a role or lets its task type choose. A pure
 * module: no I/O, no clock; the router passes the candidate models in (what is installed on an
 * eligible node, where it is resident, how loaded, whether the request fits its context) and
 * gets one back. docs/PROTOCOL.md ("Roles and task types") states the tables for users.
 *
 * Roles: primary, fast, coder, thinker, longctx (one bit each). A model's roles come from, in
 * order (the first that has the model wins): the --model-roles table, the active preset's
 * roles, the default table by family (role_defaults). The seed's INFERENCE_MODEL_ROLES names
 * ("phi-4", "qwen2.5-7b") match Ollama's names ("phi4:14b", "qwen2.5:7b") by role_key_match.
 *
 * A request's model (role_spec_parse): a leading "inference:" or "local:" is dropped (an
 * llm-gateway's provider prefixes); then "" or "auto" (any case) is AUTO, a role name is
 * ROLE, anything else a MODEL name. So a model literally called "coder" cannot be asked for by
 * that bare name ("coder:latest" can).
 *
 * Chains (role_chain_task, role_chain_role): the roles tried in turn, ending with ROLE_ANY
 * (every model that can generate):
 *   task code, debug, refactor, review, test      coder, primary, any
 *        analyze, reason, plan, compare, debate   thinker, primary, any
 *        simple, quick, classify, extract         fast, primary, any
 *        document, summarize_long, rag            longctx, thinker, primary, any
 *        anything else, or none                   primary, any
 *   role coder / thinker / fast                   that role, primary, any
 *        longctx                                  longctx, thinker, primary, any
 *        primary                                  primary, any
 *
 * The pick (role_pick): the first chain step with a candidate that fits wins; a candidate
 * whose context cannot hold the request is passed over (and noted: when no step has one that
 * fits, the request is too big). Within the step, best first: resident on an eligible node
 * with a free slot, then resident (lower load first: used/cap of its best node, compared by
 * cross-multiplication), then a member of the active preset, then the rest; ties by name
 * (strcmp), so the answer does not depend on the order of the candidates.
 */
#ifndef ORION_ROLES_H
#define ORION_ROLES_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/limits.h"

enum role_bit {
    ROLE_PRIMARY = 1u << 0,
    ROLE_FAST = 1u << 1,
    ROLE_CODER = 1u << 2,
    ROLE_THINKER = 1u << 3,
    ROLE_LONGCTX = 1u << 4
};
#define ROLE_NROLES 5
#define ROLE_ANY 0u       /* a chain step every model that can generate satisfies */
#define ROLE_CHAIN_MAX 5

/* "primary" .. "longctx" for one bit; NULL otherwise. */
const char *role_name(unsigned bit);
/* The bit of a role name (exact, lower case), 0 when it is none. */
unsigned role_parse(const char *s, size_t n);

/* The default roles of a model by its family (the name before the tag: "qwen2.5-coder" of
 * "qwen2.5-coder:1.5b"), from the seed's model->role table carried over to Ollama's families;
 * a tag of at most 3b adds fast; embedding-only families have none; unknown ones are primary. */
unsigned role_defaults(const char *model);

/* How well a table key names a model: 3 the same model (route_model_eq), 2 the same once both
 * are lower-cased and kept to letters and digits (":latest" dropped: "llama-3.2-3b" is
 * "llama3.2:3b"), 1 the key names the model's family that way ("phi-4" is "phi4:14b"), 0 not. */
int role_key_match(const char *key, const char *model);

/* A table of model -> roles (--model-roles, a preset's roles). */
struct role_map_entry {
    char key[ORION_MODEL_MAX + 1];
    unsigned roles;
};
struct role_map {
    struct role_map_entry *e;
    size_t n, cap;
};
void role_map_init(struct role_map *m);
void role_map_release(struct role_map *m);
/* Add (or replace) key's roles: 0, or -1 with errno EINVAL (empty or too long) or ENOMEM. */
int role_map_set(struct role_map *m, const char *key, unsigned roles);
/* The roles of the entry that matches model best (role_key_match; the first of equals);
 * false when none matches. m may be NULL. */
bool role_map_lookup(const struct role_map *m, const char *model, unsigned *roles);
/* The roles of model through the tables in order (NULL entries skipped), else its defaults. */
unsigned role_resolve(const struct role_map *const *maps, size_t nmaps, const char *model);

enum role_spec_kind { ROLE_SPEC_MODEL, ROLE_SPEC_ROLE, ROLE_SPEC_AUTO };
struct role_spec {
    enum role_spec_kind kind;
    const char *model; /* the name after the prefixes (points into the input) */
    unsigned role;     /* ROLE: its bit */
};
/* Classify a request's model field (NULL: AUTO). */
void role_spec_parse(const char *model, struct role_spec *out);

/* The chain of a task type (NULL or unknown: the default chain) or of a role; returns its
 * length. role_task_known says whether the task type is one of the table's. */
size_t role_chain_task(const char *task_type, unsigned chain[ROLE_CHAIN_MAX]);
size_t role_chain_role(unsigned role, unsigned chain[ROLE_CHAIN_MAX]);
bool role_task_known(const char *task_type);

/* One model the request could go to. */
struct role_cand {
    const char *model;
    unsigned roles;
    bool completion;          /* can chat/generate (false: embedding-only: never picked) */
    bool resident, free_slot; /* resident on an eligible node; one such has a free slot */
    unsigned long used, cap;  /* its least loaded resident node (cap >= 1) */
    bool in_preset;           /* a model of the active preset */
    bool fits;                /* the request fits its context (true when unknown) */
    long budget;              /* its context budget in tokens (0: unknown) */
};

struct role_choice {
    int cand;     /* index into the candidates, -1 none */
    unsigned role; /* the chain step that gave it (ROLE_ANY included) */
    bool too_big; /* no candidate of the chain fits the request */
    long budget;  /* too_big: the largest budget among the chain's candidates */
};

/* Choose for the chain. Returns out->cand. */
int role_pick(const struct role_cand *c, size_t n, const unsigned *chain, size_t nchain,
              struct role_choice *out);

#endif
