/* SPDX-License-Identifier: MIT */
/*
 * health: a node's health record, as the worker publishes it in P:health and the router
 * reads it (docs/PROTOCOL.md). Conversion to and from JSON; pure.
 *
 * Reading: node_id (string) and last_seen (number) are required; every other field is
 * optional and takes the default below when absent; a field of the wrong type is an error
 * naming the field; unknown fields are ignored. Lists keep their first HEALTH_MAX_MODELS
 * entries; an entry longer than ORION_MODEL_MAX bytes, a node_id longer than
 * ORION_NODE_ID_MAX and nesting deeper than ORION_JSON_MAX_DEPTH are errors.
 */
#ifndef ORION_HEALTH_H
#define ORION_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/buf.h"
#include "orion/limits.h"

#define HEALTH_MAX_MODELS 32 /* entries kept of models / installed / labels */

struct health {
    char node_id[ORION_NODE_ID_MAX + 1];
    double cpu_percent, ram_percent; /* 0-100 */
    long ram_used_mb, ram_total_mb;  /* MiB; 0 unknown */
    bool has_temp;                   /* false: JSON null, no sensor */
    double temp_c;
    char **models; /* loaded now (/api/ps); heap, owned */
    size_t nmodels;
    char **installed; /* on disk (/api/tags) */
    size_t ninstalled;
    char **labels; /* the worker's --labels */
    size_t nlabels;
    bool available;      /* default true */
    long long last_seen; /* Unix s */
    long capacity;       /* default 1 */
    long inflight;       /* default 0 */
    bool ollama_up;      /* default true */
    bool draining;       /* default false */
    char version[32];
    double load1; /* -1 unknown */
    bool has_throttled;
    unsigned long throttled; /* Raspberry Pi firmware flags (get_throttled) */
};

void health_init(struct health *h);    /* zero + defaults; cannot fail */
void health_release(struct health *h); /* frees the lists, then health_init */
/* Replace a list with copies of items: 0, or -1 (ENOMEM; the list is then empty). */
int health_set_list(char ***v, size_t *n, const char *const *items, size_t count);
/* Compact JSON with the contract's names: 0, or -1 (ENOMEM/ENOBUFS). */
int health_to_json(const struct health *h, struct buf *out);
/* 0, or -1 with a sentence in err; on error h is left initialised (nothing to free). */
int health_from_json(struct health *h, const char *json, size_t len, char *err, size_t errlen);

#endif
