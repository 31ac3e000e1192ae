/* SPDX-License-Identifier: MIT */
/* The P:models record: a node's models and what each is, to and from JSON (modelinfo.h). */
#include "orion/modelinfo.h"
#include "orion/admit.h"
#include "orion/jsonw.h"
#include "orion/route.h"

#include "cJSON.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void modelinfo_init(struct modelinfo *mi) { memset(mi, 0, sizeof(*mi)); }

void modelinfo_release(struct modelinfo *mi)
{
    orion_free(mi->m);
    modelinfo_init(mi);
}

static int put_str(struct buf *b, const char *name, const char *v)
{
    return buf_printf(b, ",\"%s\":", name) | json_quote(b, v, strlen(v));
}

static int put_model(struct buf *b, const struct ollama_model *m)
{
    int rc = buf_puts(b, "{\"name\":") | json_quote(b, m->name, strlen(m->name));

    rc |= put_str(b, "digest", m->digest);
    rc |= buf_printf(b, ",\"size\":%lld", m->size);
    rc |= put_str(b, "family", m->family) | put_str(b, "parameter_size", m->params) |
          put_str(b, "quantization_level", m->quant);
    if (m->has_caps) {
        bool first = true;
        rc |= buf_puts(b, ",\"capabilities\":[");
        for (int i = 0; i < OLLAMA_NCAPS; i++) {
            if (!(m->caps & (1u << i)))
                continue;
            rc |= buf_printf(b, "%s\"%s\"", first ? "" : ",", ollama_cap_name(1u << i));
            first = false;
        }
        rc |= buf_putc(b, ']');
    }
    rc |= buf_printf(b, ",\"context_length\":%ld,\"num_ctx\":%ld,\"loaded\":%s,\"ram\":%lld,"
                        "\"loaded_ctx\":%ld}",
                     m->context_length, m->num_ctx, m->loaded ? "true" : "false", m->ram,
                     m->loaded_ctx);
    return rc;
}

int modelinfo_to_json(const struct modelinfo *mi, struct buf *out)
{
    int rc = buf_puts(out, "{\"node_id\":") | json_quote(out, mi->node_id, strlen(mi->node_id));

    rc |= buf_printf(out, ",\"updated\":%lld,\"models\":[", mi->updated);
    for (size_t i = 0; i < mi->n; i++)
        rc |= (i ? buf_putc(out, ',') : 0) | put_model(out, &mi->m[i]);
    rc |= buf_puts(out, "]}");
    return rc < 0 ? -1 : 0;
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

static void read_model(struct ollama_model *m, const cJSON *e)
{
    const cJSON *c, *caps = cJSON_GetObjectItemCaseSensitive(e, "capabilities");

#define F(name) cJSON_GetObjectItemCaseSensitive(e, name)
    copy_str(m->digest, sizeof(m->digest), F("digest"));
    copy_str(m->family, sizeof(m->family), F("family"));
    copy_str(m->params, sizeof(m->params), F("parameter_size"));
    copy_str(m->quant, sizeof(m->quant), F("quantization_level"));
    m->size = num(F("size"));
    m->context_length = (long)num(F("context_length"));
    m->num_ctx = (long)num(F("num_ctx"));
    m->loaded = cJSON_IsTrue(F("loaded"));
    m->ram = num(F("ram"));
    m->loaded_ctx = (long)num(F("loaded_ctx"));
#undef F
    if (cJSON_IsArray(caps)) {
        m->has_caps = true;
        cJSON_ArrayForEach(c, caps) if (cJSON_IsString(c)) m->caps |=
            ollama_cap_parse(c->valuestring);
    }
}

static int fail(struct modelinfo *mi, cJSON *j, char *err, size_t errlen, const char *msg)
{
    orion_errf(err, errlen, "%s", msg);
    cJSON_Delete(j);
    modelinfo_release(mi);
    errno = EINVAL;
    return -1;
}

int modelinfo_from_json(struct modelinfo *mi, const char *json, size_t n, char *err,
                        size_t errlen)
{
    cJSON *j = NULL;
    const cJSON *id, *models, *e;
    size_t max, k = 0;

    modelinfo_release(mi);
    if (n > ORION_HEALTH_MAX_JSON)
        return fail(mi, j, err, errlen, "the record is too long");
    if (json_depth(json, n, ORION_JSON_MAX_DEPTH) > ORION_JSON_MAX_DEPTH)
        return fail(mi, j, err, errlen, "the record is nested too deep");
    j = cJSON_ParseWithLength(json, n);
    if (!cJSON_IsObject(j))
        return fail(mi, j, err, errlen, "not a JSON object");
    id = cJSON_GetObjectItemCaseSensitive(j, "node_id");
    if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > ORION_NODE_ID_MAX)
        return fail(mi, j, err, errlen, "field 'node_id' is missing or not a node id");
    memcpy(mi->node_id, id->valuestring, strlen(id->valuestring) + 1);
    mi->updated = num(cJSON_GetObjectItemCaseSensitive(j, "updated"));
    models = cJSON_GetObjectItemCaseSensitive(j, "models");
    if (!cJSON_IsArray(models))
        return fail(mi, j, err, errlen, "field 'models' is not an array");
    max = (size_t)cJSON_GetArraySize(models);
    if (max > ORION_HEALTH_MAX_LIST)
        return fail(mi, j, err, errlen, "too many models");
    if (max && !(mi->m = orion_calloc(max, sizeof(*mi->m))))
        return fail(mi, j, err, errlen, "out of memory");
    cJSON_ArrayForEach(e, models) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");

        if (!cJSON_IsString(name) || !*name->valuestring ||
            strlen(name->valuestring) > ORION_MODEL_MAX)
            return fail(mi, j, err, errlen, "a model has no name, or one too long");
        memcpy(mi->m[k].name, name->valuestring, strlen(name->valuestring) + 1);
        read_model(&mi->m[k++], e);
        mi->n = k;
    }
    cJSON_Delete(j);
    return 0;
}

void modelinfo_rev(const char *json, size_t n, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)admit_hash(json, n));
}

const struct ollama_model *modelinfo_find(const struct modelinfo *mi, const char *model)
{
    for (size_t i = 0; mi && i < mi->n; i++)
        if (route_model_eq(mi->m[i].name, model))
            return &mi->m[i];
    return NULL;
}
