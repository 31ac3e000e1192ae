/* SPDX-License-Identifier: MIT */
/*
 * ollama_meta: what Ollama says about its models, read from /api/tags (installed: size,
 * digest, details, capabilities), /api/ps (loaded: memory, context length in force) and
 * /api/show (model_info's context length, the Modelfile's num_ctx, capabilities). Pure
 * parsers: no I/O (the worker fetches the bodies with ollama_fetch, ollama.h).
 *
 * Each parser is strict about the shape it needs and lenient about the rest: a body that is
 * not one JSON object, a "models" that is not an array (null is an empty list), a model
 * without a string name, more than ORION_HEALTH_MAX_LIST models, a name over ORION_MODEL_MAX
 * bytes or nesting deeper than ORION_JSON_MAX_DEPTH is an error; a field of the wrong type is
 * left unknown; unknown fields are ignored. Strings that do not fit their field are cut at a
 * UTF-8 boundary-blind byte count (they are descriptive: digest, family, sizes).
 *
 * /api/show: the context length is model_info's "<arch>.context_length" (arch from
 * "general.architecture"; else the first key ending in ".context_length"); num_ctx is the
 * "num_ctx" line of "parameters" (the Modelfile's PARAMETER num_ctx), 0 when none.
 */
#ifndef ORION_OLLAMA_META_H
#define ORION_OLLAMA_META_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/limits.h"

enum ollama_cap {
    OLLAMA_CAP_COMPLETION = 1u << 0,
    OLLAMA_CAP_EMBEDDING = 1u << 1,
    OLLAMA_CAP_TOOLS = 1u << 2,
    OLLAMA_CAP_THINKING = 1u << 3,
    OLLAMA_CAP_INSERT = 1u << 4,
    OLLAMA_CAP_VISION = 1u << 5
};
#define OLLAMA_NCAPS 6

/* "completion" .. "vision" for one bit, NULL otherwise; the bit of a name, 0 unknown. */
const char *ollama_cap_name(unsigned bit);
unsigned ollama_cap_parse(const char *s);

struct ollama_model {
    char name[ORION_MODEL_MAX + 1];
    char digest[80];
    long long size;                 /* bytes on disk (/api/tags); 0 unknown */
    char family[32], params[24], quant[24];
    unsigned caps;                  /* OLLAMA_CAP_* */
    bool has_caps;                  /* caps is known (v0.30+ /api/tags, or /api/show) */
    long context_length;            /* the model's training context; 0 unknown */
    long num_ctx;                   /* the Modelfile's num_ctx; 0 none */
    bool shown;                     /* /api/show was read for this digest */
    bool loaded;                    /* in /api/ps */
    long long ram;                  /* /api/ps size, bytes */
    long loaded_ctx;                /* /api/ps context_length: the num_ctx in force */
};

/* {"models":[...]} of /api/tags or /api/ps into a new array (*out, *count; free with
 * orion_free). ps: the entries are marked loaded, with ram and loaded_ctx. 0, or -1 with a
 * sentence in err (errno EINVAL, or ENOMEM). */
int ollama_parse_tags(const char *json, size_t n, struct ollama_model **out, size_t *count,
                      char *err, size_t errlen);
int ollama_parse_ps(const char *json, size_t n, struct ollama_model **out, size_t *count,
                    char *err, size_t errlen);
/* /api/show's answer into m (context_length, num_ctx, caps, family, params, quant; shown set):
 * 0, or -1 with a sentence in err. */
int ollama_parse_show(const char *json, size_t n, struct ollama_model *m, char *err,
                      size_t errlen);

#endif
