/* SPDX-License-Identifier: MIT */
/*
 * schema: what the simulated model writes for a structured-output request (Ollama's `format`),
 * deterministically from a seed (the prompt's hash). Pure; test/unit/test_sim_core.c runs it.
 *
 * `format: "json"` gives {"answer":TEXT}. A schema gives one value that follows it, compact:
 *  - $ref to "#", "#/$defs/..", "#/definitions/.." or any JSON pointer into the schema;
 *    enum (one of the values), const, anyOf/oneOf (the first that is not null), allOf (the first);
 *  - type, or an array of types (the first that is not "null"); without a type: properties or
 *    required make an object, items or prefixItems an array, anything else a string;
 *  - object: every property of `properties` in its order, then each `required` name that
 *    `properties` lacks, as a string;
 *  - array: prefixItems, then items up to n = 1 + seed % 3 kept within minItems..maxItems
 *    (at most SCHEMA_MAX_ITEMS);
 *  - string: 2 to 5 words within minLength..maxLength; format date-time, date, time, email,
 *    uuid, uri, ipv4 give such strings (pattern is not followed);
 *  - integer, number: minimum/maximum (exclusive bounds move them in; defaults 0..100),
 *    k = seed % 101 picks lo + (hi - lo) * k / 100 (integers rounded down). A property named
 *    "score" takes steer->score instead, kept within its bounds, when steer->has_score;
 *  - boolean: seed & 1; null: null. Nesting past SCHEMA_MAX_DEPTH gives null.
 * The output stops at SCHEMA_MAX_OUT bytes, cut short as a model's answer at its limit is.
 */
#ifndef ORION_SIM_SCHEMA_H
#define ORION_SIM_SCHEMA_H

#include "cJSON.h"
#include "orion/buf.h"

#include <stdbool.h>
#include <stdint.h>

#define SCHEMA_MAX_DEPTH 16
#define SCHEMA_MAX_ITEMS 64
#define SCHEMA_MAX_OUT (64u * 1024)

struct schema_steer {
    bool has_score;
    double score;
};

/* Writes the value for format (the string "json", or a schema object) to out; text is the
 * answer JSON mode wraps. 0, or -1 when out is full or memory runs out. */
int schema_gen(const cJSON *format, uint32_t seed, const struct schema_steer *steer,
               const char *text, struct buf *out);

#endif
