/* SPDX-License-Identifier: MIT */
/*
 * modelinfo: what a node's Ollama has and what each model is, as its worker publishes it in
 * P:models (one hash field per node, the value is this JSON; docs/PROTOCOL.md "Models:
 * P:models"). Only a worker talks to its Ollama, so this is how the router learns sizes,
 * context lengths and capabilities. Conversion to and from JSON is pure.
 *
 * JSON:
 *   {"node_id":ID,"updated":UNIX_S,"models":[
 *     {"name":N,"digest":D,"size":BYTES,"family":F,"parameter_size":P,"quantization_level":Q,
 *      "capabilities":[...],"context_length":N,"num_ctx":N,"loaded":B,"ram":BYTES,
 *      "loaded_ctx":N}, ...]}
 * Every model field but name is optional: absent, null or of the wrong type is unknown (0,
 * "", capabilities unknown). Errors: not one JSON object, node_id missing or over
 * ORION_NODE_ID_MAX bytes, models not an array, a model without a name or one over
 * ORION_MODEL_MAX bytes, more than ORION_HEALTH_MAX_LIST models, input over
 * ORION_HEALTH_MAX_JSON bytes, nesting deeper than ORION_JSON_MAX_DEPTH.
 *
 * The worker writes the record when it changes and puts modelinfo_rev of its JSON in its
 * health record ("models_rev"), so that a reader fetches it only when it changed.
 */
#ifndef ORION_MODELINFO_H
#define ORION_MODELINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orion/buf.h"
#include "orion/limits.h"
#include "orion/ollama_meta.h"

struct modelinfo {
    char node_id[ORION_NODE_ID_MAX + 1];
    long long updated;
    struct ollama_model *m; /* heap, owned */
    size_t n;
};

void modelinfo_init(struct modelinfo *mi);
void modelinfo_release(struct modelinfo *mi);
/* Append the JSON to out: 0, or -1 (ENOMEM/ENOBUFS). */
int modelinfo_to_json(const struct modelinfo *mi, struct buf *out);
/* Parse a record into mi (released first): 0, or -1 with a sentence in err. */
int modelinfo_from_json(struct modelinfo *mi, const char *json, size_t n, char *err,
                        size_t errlen);
/* 64-bit FNV-1a of a record's JSON, as 16 hex digits into out[17]. */
void modelinfo_rev(const char *json, size_t n, char out[17]);
/* The entry of model (any spelling: route_model_eq), or NULL. */
const struct ollama_model *modelinfo_find(const struct modelinfo *mi, const char *model);

#endif
