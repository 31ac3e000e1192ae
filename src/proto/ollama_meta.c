/* SPDX-License-Identifier: MIT */
/*
 * ollama_meta: /api/tags, /api/ps and /api/show read into struct ollama_model (the shapes are
 * Ollama's: server/routes.go ListHandler, PsHandler, ShowHandler; api/types.go).
 */
#include "orion/ollama_meta.h"
#include "orion/buf.h"
#include "orion/jsonw.h"

#include "cJSON.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const caps[OLLAMA_NCAPS] = {"completion", "embedding", "tools",
                                              "thinking",   "insert",    "vision"};

const char *ollama_cap_name(unsigned bit)
{
    for (int i = 0; i < OLLAMA_NCAPS; i++)
        if (bit == 1u << i)
            return caps[i];
    return NULL;
}

unsigned ollama_cap_parse(const char *s)
{
    for (int i = 0; s && i < OLLAMA_NCAPS; i++)
        if (!strcmp(caps[i], s))
            return 1u << i;
    return 0;
}

/* the body as one object, depth-checked: NULL with err set */
static cJSON *parse_object(const char *json, size_t n, char *err, size_t errlen)
{
    cJSON *j;

    if (json_depth(json, n, ORION_JSON_MAX_DEPTH) > ORION_JSON_MAX_DEPTH) {
        orion_errf(err, errlen, "nested deeper than %d levels", ORION_JSON_MAX_DEPTH);
        errno = EINVAL;
        return NULL;
    }
    j = cJSON_ParseWithLength(json, n);
    if (!cJSON_IsObject(j)) {
        orion_errf(err, errlen, j ? "not a JSON object" : "not valid JSON");
        cJSON_Delete(j);
        errno = EINVAL;
        return NULL;
    }
    return j;
}

static void copy_str(char *dst, size_t cap, const cJSON *v)
{
    if (cJSON_IsString(v))
        snprintf(dst, cap, "%s", v->valuestring);
}

static long long num(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15
               ? (long long)v->valuedouble
               : 0;
}

static void take_caps(struct ollama_model *m, const cJSON *arr)
{
    const cJSON *c;

    if (!cJSON_IsArray(arr))
        return;
    m->caps = 0;
    m->has_caps = true;
    cJSON_ArrayForEach(c, arr) if (cJSON_IsString(c)) m->caps |= ollama_cap_parse(c->valuestring);
}

static void take_details(struct ollama_model *m, const cJSON *d)
{
    copy_str(m->family, sizeof(m->family), cJSON_GetObjectItemCaseSensitive(d, "family"));
    copy_str(m->params, sizeof(m->params), cJSON_GetObjectItemCaseSensitive(d, "parameter_size"));
    copy_str(m->quant, sizeof(m->quant),
             cJSON_GetObjectItemCaseSensitive(d, "quantization_level"));
}

static int parse_list(const char *json, size_t n, bool ps, struct ollama_model **out,
                      size_t *count, char *err, size_t errlen)
{
    cJSON *j = parse_object(json, n, err, errlen);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(j, "models"), *e;
    struct ollama_model *m = NULL;
    size_t k = 0, max;

    *out = NULL;
    *count = 0;
    if (!j)
        return -1;
    if (models && !cJSON_IsArray(models) && !cJSON_IsNull(models)) {
        orion_errf(err, errlen, "field 'models' is not an array");
        goto out_bad;
    }
    max = (size_t)cJSON_GetArraySize(models);
    if (max > ORION_HEALTH_MAX_LIST) {
        orion_errf(err, errlen, "more than %d models", ORION_HEALTH_MAX_LIST);
        goto out_bad;
    }
    if (max && !(m = orion_calloc(max, sizeof(*m)))) {
        orion_errf(err, errlen, "out of memory");
        cJSON_Delete(j);
        return -1;
    }
    cJSON_ArrayForEach(e, models) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        struct ollama_model *x = &m[k];

        if (!cJSON_IsString(name) || !*name->valuestring ||
            strlen(name->valuestring) > ORION_MODEL_MAX) {
            orion_errf(err, errlen, "model %zu has no name, or one over %d bytes", k,
                       ORION_MODEL_MAX);
            goto out_bad;
        }
        memcpy(x->name, name->valuestring, strlen(name->valuestring) + 1);
        copy_str(x->digest, sizeof(x->digest), cJSON_GetObjectItemCaseSensitive(e, "digest"));
        take_details(x, cJSON_GetObjectItemCaseSensitive(e, "details"));
        take_caps(x, cJSON_GetObjectItemCaseSensitive(e, "capabilities"));
        if (ps) {
            x->loaded = true;
            x->ram = num(cJSON_GetObjectItemCaseSensitive(e, "size"));
            x->loaded_ctx = (long)num(cJSON_GetObjectItemCaseSensitive(e, "context_length"));
        } else {
            x->size = num(cJSON_GetObjectItemCaseSensitive(e, "size"));
        }
        k++;
    }
    cJSON_Delete(j);
    *out = m;
    *count = k;
    return 0;
out_bad:
    orion_free(m);
    cJSON_Delete(j);
    errno = EINVAL;
    return -1;
}

int ollama_parse_tags(const char *json, size_t n, struct ollama_model **out, size_t *count,
                      char *err, size_t errlen)
{
    return parse_list(json, n, false, out, count, err, errlen);
}

int ollama_parse_ps(const char *json, size_t n, struct ollama_model **out, size_t *count,
                    char *err, size_t errlen)
{
    return parse_list(json, n, true, out, count, err, errlen);
}

/* model_info's <arch>.context_length, else the first *.context_length */
static long context_length(const cJSON *info)
{
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(info, "general.architecture"), *e;
    char key[96];

    if (cJSON_IsString(arch) && strlen(arch->valuestring) < 64) {
        snprintf(key, sizeof(key), "%s.context_length", arch->valuestring);
        e = cJSON_GetObjectItemCaseSensitive(info, key);
        if (cJSON_IsNumber(e))
            return (long)num(e);
    }
    cJSON_ArrayForEach(e, info) {
        size_t kl = e->string ? strlen(e->string) : 0;
        if (kl > 15 && !strcmp(e->string + kl - 15, ".context_length") && cJSON_IsNumber(e))
            return (long)num(e);
    }
    return 0;
}

/* "num_ctx                        8192" in the parameters text */
static long param_num_ctx(const cJSON *params)
{
    const char *p;

    if (!cJSON_IsString(params))
        return 0;
    for (p = params->valuestring; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncmp(p, "num_ctx", 7) && (p[7] == ' ' || p[7] == '\t')) {
            long v = strtol(p + 7, NULL, 10);
            return v > 0 && v < (1L << 30) ? v : 0;
        }
    }
    return 0;
}

int ollama_parse_show(const char *json, size_t n, struct ollama_model *m, char *err,
                      size_t errlen)
{
    cJSON *j = parse_object(json, n, err, errlen);

    if (!j)
        return -1;
    m->context_length = context_length(cJSON_GetObjectItemCaseSensitive(j, "model_info"));
    m->num_ctx = param_num_ctx(cJSON_GetObjectItemCaseSensitive(j, "parameters"));
    take_details(m, cJSON_GetObjectItemCaseSensitive(j, "details"));
    take_caps(m, cJSON_GetObjectItemCaseSensitive(j, "capabilities"));
    m->shown = true;
    cJSON_Delete(j);
    return 0;
}
