/* SPDX-License-Identifier: MIT */
/*
 * placement: rules that say which models may run on which nodes (router flag --placement).
 * Parsing is pure (placement_parse works on memory); placement_load reads a file first.
 *
 * File format, one rule a line; '#' starts a comment (at the start of a line or of a word);
 * words are separated by blanks:
 *
 *   rule   = "model" MODEL-GLOB action *cond
 *          | "node"  NODE-GLOB "exclude" *cond
 *   action = "only" | "exclude"
 *   cond   = "node=" NODE-GLOB          the node id matches (fnmatch)
 *          | "labels=" LABEL *("," LABEL) the node has every one of these labels
 *          | "min_ram_mb=" NUMBER       the node reports ram_total_mb >= NUMBER
 *
 *   model GLOB only c...     models matching GLOB run only on nodes meeting every condition
 *                            (at least one condition is required)
 *   model GLOB exclude c...  models matching GLOB never run on nodes meeting every condition
 *                            (no condition: the model runs nowhere)
 *   node GLOB exclude c...   nodes matching GLOB (and every condition) run no model at all
 *
 * Every rule whose model glob matches applies; a node is allowed when no applicable rule
 * refuses it; the first refusing rule (in file order) is the one reported. A node that does
 * not report ram_total_mb (0) does not meet min_ram_mb. Each key at most once per rule.
 *
 * Model globs match the normalised model key of route_model_norm ("gemma3:latest"). Globs are
 * lower-cased and a leading "registry.ollama.ai/" and "library/" are dropped. A glob whose
 * last path component has no ':' also matches the key without ":latest", so "gemma3" means
 * gemma3:latest (not gemma3:27b) and "gemma3*" means every tag of gemma3 (and gemma3n...).
 * Node globs and labels compare as written (case-sensitive).
 *
 * Example:
 *   node robot exclude                          # the 4 GB robot node runs no LLM
 *   model *:27b* only min_ram_mb=15000          # big models need the 16 GB node
 *   model llava* only labels=vision
 *
 * Errors name the file and line: "placement.conf:3: unknown key 'foo'".
 * Limits: ORION_PLACEMENT_MAX_RULES rules, ORION_PLACEMENT_MAX_LABELS labels a rule,
 * ORION_LABEL_MAX bytes a label, ORION_PLACEMENT_MAX_FILE bytes a file.
 */
#ifndef ORION_PLACEMENT_H
#define ORION_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/limits.h"

enum placement_action { PLACEMENT_ONLY = 0, PLACEMENT_EXCLUDE };

struct placement_rule {
    unsigned line; /* in the file, from 1 */
    enum placement_action action;
    char model[ORION_MODEL_MAX + 1];  /* glob on the model key; "*" for node rules */
    char node[ORION_NODE_ID_MAX + 1]; /* glob on the node id; "" any node */
    char labels[ORION_PLACEMENT_MAX_LABELS][ORION_LABEL_MAX + 1];
    size_t nlabels;
    unsigned long min_ram_mb; /* 0: no condition */
};

struct placement {
    struct placement_rule rule[ORION_PLACEMENT_MAX_RULES];
    size_t n;
};

void placement_init(struct placement *p); /* no rules: everything allowed */

/* Parse len bytes of rules text; name is used in error messages. Replaces the rules in p.
 * Returns 0, or -1 with "name:line: reason" in err (p is then empty). */
int placement_parse(struct placement *p, const char *name, const char *text, size_t len,
                    char *err, size_t errlen);

/* Read the file at path and parse it. Returns 0, or -1 with the reason in err. */
int placement_load(struct placement *p, const char *path, char *err, size_t errlen);

/* May model_key (normalised, see route.h) run on this node? p may be NULL (no rules). On
 * false and when rule_index is not NULL, *rule_index is the refusing rule's index in p->rule. */
bool placement_allows(const struct placement *p, const char *node_id,
                      const char *const *labels, size_t nlabels, unsigned long ram_total_mb,
                      const char *model_key, size_t *rule_index);

#endif
