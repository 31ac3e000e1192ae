/* SPDX-License-Identifier: MIT */
/*
 * health: a node's health record, as the worker publishes it in P:health (one hash field per
 * node, the value is this JSON) and the router reads it. Conversion to and from JSON is pure;
 * health_collect() fills the machine's numbers from the metrics readers.
 *
 * JSON names and units are the contract of docs/PROTOCOL.md ("Health: P:health"):
 *   node_id       string, 1..ORION_NODE_ID_MAX bytes                      required
 *   last_seen     Unix seconds (an integer; 0 .. 1e11)                     required
 *   cpu_percent   0-100, one decimal; null or absent: unknown (-1)
 *   ram_percent   0-100, one decimal, used = MemTotal - MemAvailable; null or absent: -1
 *   ram_used_mb, ram_total_mb   MiB (integers >= 0); absent: 0
 *   temp_c        deg C with the sensor's precision (61.234); null or absent: no sensor
 *   models        names loaded now (/api/ps); absent or null: []
 *   available     bool; absent: true
 * Optional extras (absent: unknown, has_<x> false, the value keeps its default):
 *   installed (names, /api/tags), capacity (>= 0, default 1), inflight (>= 0, default 0),
 *   ollama_up (default true), draining (default false), labels (names, each at most
 *   ORION_LABEL_MAX bytes), version (string), ollama_version (string: Ollama's /api/version,
 *   absent while Ollama has not answered it), load1 (1-minute load average, 2 decimals),
 *   throttled (the Raspberry Pi firmware's get_throttled flags, written as a hex string
 *   "0x50005"; a JSON integer is read too), models_rev (a string of at most HEALTH_REV_MAX
 *   bytes that changes whenever the node's P:models record does: modelinfo.h).
 *
 * Reading is strict about what is there and lenient about what is not: a field of the wrong
 * type or out of range is an error naming the field, a missing optional field is unknown,
 * unknown fields are ignored. Caps (errors, never truncation, so that a long "installed" list
 * cannot silently hide a model): ORION_HEALTH_MAX_LIST entries per list, ORION_MODEL_MAX bytes
 * per name, ORION_VERSION_MAX bytes of either version, ORION_HEALTH_MAX_JSON bytes of input,
 * nesting deeper than ORION_JSON_MAX_DEPTH anywhere in the document, and anything but one JSON
 * object (trailing bytes other than white space included).
 */
#ifndef ORION_HEALTH_H
#define ORION_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orion/buf.h"
#include "orion/limits.h"
#include "orion/metrics.h"

#define HEALTH_MAX_MODELS ORION_HEALTH_MAX_LIST /* entries of models / installed / labels */
#define HEALTH_REV_MAX 32

struct health {
    char node_id[ORION_NODE_ID_MAX + 1];
    double cpu_percent, ram_percent; /* 0-100; < 0 unknown (JSON null) */
    long ram_used_mb, ram_total_mb;  /* MiB; 0 unknown */
    bool has_temp;                   /* false: no sensor (JSON null) */
    double temp_c;
    char **models; /* loaded now (/api/ps); heap, owned, nmodels entries */
    size_t nmodels;
    bool available;    /* the worker takes requests; default true */
    int64_t last_seen; /* Unix s */

    /* Optional extras: has_<x> says the value is known. health_init() marks the ones a worker
     * always knows (capacity, inflight, ollama_up, draining, labels, version) as known;
     * health_from_json() marks exactly the fields present in the JSON. */
    char **installed; /* on disk (/api/tags); a non-empty list is known even without the flag */
    size_t ninstalled;
    bool has_installed;
    char **labels; /* the worker's --labels */
    size_t nlabels;
    bool has_labels;
    long capacity; /* requests run at once; default 1 */
    bool has_capacity;
    long inflight; /* requests running now; default 0 */
    bool has_inflight;
    bool ollama_up, has_ollama_up; /* default true */
    bool draining, has_draining;   /* default false */
    char version[ORION_VERSION_MAX + 1]; /* the worker's */
    bool has_version;
    char ollama_version[ORION_VERSION_MAX + 1]; /* what its Ollama's /api/version says */
    bool has_ollama_version;
    double load1; /* 1-minute load average; -1 when unknown */
    bool has_load;
    unsigned long throttled; /* firmware flags, enum metrics_throttle in metrics.h */
    bool has_throttled;
    char models_rev[HEALTH_REV_MAX + 1]; /* "" unknown */
};

/* Zero, defaults, the worker-known extras marked known; cannot fail. */
void health_init(struct health *h);
/* Free the lists, then health_init(). Accepts a record that health_init() prepared. */
void health_release(struct health *h);
/* Replace a list with copies of items[0..count): 0, or -1 (ENOMEM, or EINVAL when count is
 * over ORION_HEALTH_MAX_LIST; the list is then empty). */
int health_set_list(char ***v, size_t *n, const char *const *items, size_t count);
/* Append compact JSON with the contract's names to out: 0, or -1 (ENOMEM/ENOBUFS; out may
 * then hold part of it). Extras are written only when known. */
int health_to_json(const struct health *h, struct buf *out);
/* Parse one record: 0, or -1 with a sentence in err (what is wrong, naming the field). h need
 * not be initialised; on error it is left initialised with nothing to free. */
int health_from_json(struct health *h, const char *json, size_t len, char *err, size_t errlen);

/* Fill cpu_percent, ram_*, temp, load1 and throttled from the /proc and /sys files under
 * root. *prev is the last CPU sample and is updated; when !*have_prev (the first call) the
 * CPU figure is the average since boot. Returns 0, or -1 when /proc/stat or /proc/meminfo
 * could not be read: those fields are then unknown (-1 / 0), the others are still filled. */
int health_collect(struct health *h, const char *root, struct cpu_sample *prev, bool *have_prev);

#endif
