/* SPDX-License-Identifier: MIT */
/*
 * jsonw: the little JSON writing the daemons do by hand (answers, health, events), so that
 * building a string does not take a cJSON tree, and the one place that sets how cJSON
 * allocates. Pure.
 */
#ifndef ORION_JSONW_H
#define ORION_JSONW_H

#include <stddef.h>

#include "orion/buf.h"

/* Append s (n bytes) as a JSON string with its quotes: ", \ and control characters escaped,
 * other bytes (UTF-8) as they are. 0, or -1 (ENOBUFS/ENOMEM). */
int json_quote(struct buf *b, const char *s, size_t n);

/* The deepest nesting of arrays and objects in s (strings skipped; 0 for a scalar), counted
 * without building a tree: a parser checks it before cJSON builds one as deep as its input.
 * Counting stops at max + 1. */
int json_depth(const char *s, size_t n, int max);

/* Make cJSON allocate through orion_malloc/orion_free (so that failures can be injected);
 * call before the first cJSON call. Idempotent. */
void json_init(void);

#endif
