/* SPDX-License-Identifier: MIT */
/*
 * The health record and its JSON. Writing is by hand (the record is flat and small, and the
 * worker writes one every few seconds); reading goes through cJSON and checks every type.
 */
#include "orion/health.h"
#include "orion/jsonw.h"

#include "cJSON.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void health_init(struct health *h)
{
    memset(h, 0, sizeof(*h));
    h->available = true;
    h->capacity = 1;
    h->ollama_up = true;
    h->load1 = -1;
}

static void list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        orion_free(v[i]);
    orion_free(v);
}

void health_release(struct health *h)
{
    list_free(h->models, h->nmodels);
    list_free(h->installed, h->ninstalled);
    list_free(h->labels, h->nlabels);
    health_init(h);
}

int health_set_list(char ***v, size_t *n, const char *const *items, size_t count)
{
    char **nv = NULL;

    if (count) {
        nv = orion_calloc(count, sizeof(*nv));
        if (!nv)
            goto fail;
        for (size_t i = 0; i < count; i++) {
            nv[i] = orion_strdup(items[i]);
            if (!nv[i]) {
                list_free(nv, i);
                goto fail;
            }
        }
    }
    list_free(*v, *n);
    *v = nv;
    *n = count;
    return 0;
fail:
    list_free(*v, *n);
    *v = NULL;
    *n = 0;
    return -1;
}

/* A number with up to `digits` decimals, trailing zeros trimmed ("61.234", "40", "12.5"). */
static int put_num(struct buf *b, double v, int digits)
{
    char s[64];
    size_t n;

    if (!isfinite(v))
        v = 0;
    if (fabs(v) >= 1e15) /* fixed notation would not fit; such values are nonsense anyway */
        return buf_printf(b, "%.6g", v);
    n = (size_t)snprintf(s, sizeof(s), "%.*f", digits, v);
    if (memchr(s, '.', n)) {
        while (n > 1 && s[n - 1] == '0')
            n--;
        if (s[n - 1] == '.')
            n--;
    }
    if (n == 2 && !memcmp(s, "-0", 2)) {
        s[0] = '0';
        n = 1;
    }
    return buf_append(b, s, n);
}

static int put_list(struct buf *b, const char *name, char *const *v, size_t n)
{
    int rc = buf_printf(b, ",\"%s\":[", name);

    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i)
            rc = buf_putc(b, ',');
        if (rc == 0)
            rc = json_quote(b, v[i], strlen(v[i]));
    }
    return rc ? rc : buf_putc(b, ']');
}

static const char *tf(bool v) { return v ? "true" : "false"; }

int health_to_json(const struct health *h, struct buf *out)
{
    int rc = buf_puts(out, "{\"node_id\":");

    rc |= json_quote(out, h->node_id, strlen(h->node_id));
    rc |= buf_puts(out, ",\"cpu_percent\":");
    rc |= put_num(out, h->cpu_percent, 1);
    rc |= buf_puts(out, ",\"ram_percent\":");
    rc |= put_num(out, h->ram_percent, 1);
    rc |= buf_printf(out, ",\"ram_used_mb\":%ld,\"ram_total_mb\":%ld,\"temp_c\":", h->ram_used_mb,
                     h->ram_total_mb);
    rc |= h->has_temp ? put_num(out, h->temp_c, 3) : buf_puts(out, "null");
    rc |= put_list(out, "models", h->models, h->nmodels);
    rc |= buf_printf(out, ",\"available\":%s,\"last_seen\":%lld", tf(h->available), h->last_seen);
    rc |= put_list(out, "installed", h->installed, h->ninstalled);
    rc |= buf_printf(out, ",\"capacity\":%ld,\"inflight\":%ld,\"ollama_up\":%s,\"draining\":%s",
                     h->capacity, h->inflight, tf(h->ollama_up), tf(h->draining));
    rc |= put_list(out, "labels", h->labels, h->nlabels);
    rc |= buf_puts(out, ",\"version\":");
    rc |= json_quote(out, h->version, strlen(h->version));
    if (h->load1 >= 0) {
        rc |= buf_puts(out, ",\"load1\":");
        rc |= put_num(out, h->load1, 2);
    }
    if (h->has_throttled)
        rc |= buf_printf(out, ",\"throttled\":\"0x%lx\"", h->throttled);
    rc |= buf_putc(out, '}');
    return rc ? -1 : 0;
}

static int depth(const cJSON *j, int d)
{
    int m = d;

    if (d > ORION_JSON_MAX_DEPTH)
        return d;
    for (const cJSON *c = j->child; c; c = c->next) {
        int cd = depth(c, d + 1);
        if (cd > m)
            m = cd;
    }
    return m;
}

struct rd {
    const cJSON *j;
    char *err;
    size_t errlen;
};

static int bad(struct rd *r, const char *field, const char *want)
{
    snprintf(r->err, r->errlen, "field '%s' is not %s", field, want);
    return -1;
}

static int get_num(struct rd *r, const char *field, double *out, bool required)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, field);

    if (!x)
        return required ? (snprintf(r->err, r->errlen, "field '%s' is missing", field), -1) : 0;
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return bad(r, field, "a number");
    *out = x->valuedouble;
    return 0;
}

static int get_long(struct rd *r, const char *field, long *out)
{
    double v = (double)*out;

    if (get_num(r, field, &v, false) < 0)
        return -1;
    if (v < -2e9 || v > 2e12)
        return bad(r, field, "a number in range");
    *out = (long)v;
    return 0;
}

static int get_bool(struct rd *r, const char *field, bool *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, field);

    if (!x)
        return 0;
    if (!cJSON_IsBool(x))
        return bad(r, field, "true or false");
    *out = cJSON_IsTrue(x);
    return 0;
}

static int get_str(struct rd *r, const char *field, char *out, size_t cap, bool required)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, field);

    if (!x)
        return required ? (snprintf(r->err, r->errlen, "field '%s' is missing", field), -1) : 0;
    if (!cJSON_IsString(x))
        return bad(r, field, "a string");
    if (strlen(x->valuestring) >= cap)
        return bad(r, field, "of a sensible length");
    memcpy(out, x->valuestring, strlen(x->valuestring) + 1);
    return 0;
}

static int get_list(struct rd *r, const char *field, char ***v, size_t *n)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, field), *e;
    const char *items[HEALTH_MAX_MODELS];
    size_t k = 0;

    if (!x || cJSON_IsNull(x))
        return 0;
    if (!cJSON_IsArray(x))
        return bad(r, field, "an array of strings");
    cJSON_ArrayForEach(e, x)
    {
        if (!cJSON_IsString(e))
            return bad(r, field, "an array of strings");
        if (strlen(e->valuestring) > ORION_MODEL_MAX)
            return bad(r, field, "an array of names of a sensible length");
        if (k < HEALTH_MAX_MODELS)
            items[k++] = e->valuestring;
    }
    if (health_set_list(v, n, items, k) < 0) {
        snprintf(r->err, r->errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int get_temp(struct rd *r, struct health *h)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, "temp_c");

    if (!x || cJSON_IsNull(x))
        return 0;
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return bad(r, "temp_c", "a number or null");
    h->has_temp = true;
    h->temp_c = x->valuedouble;
    return 0;
}

static int get_throttled(struct rd *r, struct health *h)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, "throttled");
    unsigned long v = 0;
    const char *p;

    if (!x)
        return 0;
    if (!cJSON_IsString(x) || strncmp(x->valuestring, "0x", 2) || !x->valuestring[2])
        return bad(r, "throttled", "a hex string such as \"0x50005\"");
    for (p = x->valuestring + 2; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0 || v > 0xfffffffUL)
            return bad(r, "throttled", "a hex string such as \"0x50005\"");
        v = v * 16 + (unsigned long)d;
    }
    h->has_throttled = true;
    h->throttled = v;
    return 0;
}

static int read_fields(struct rd *r, struct health *h)
{
    double ls = 0;

    if (get_str(r, "node_id", h->node_id, sizeof(h->node_id), true) < 0 ||
        get_num(r, "last_seen", &ls, true) < 0)
        return -1;
    if (ls < 0 || ls > 1e11)
        return bad(r, "last_seen", "Unix seconds");
    h->last_seen = (long long)ls;
    if (get_num(r, "cpu_percent", &h->cpu_percent, false) < 0 ||
        get_num(r, "ram_percent", &h->ram_percent, false) < 0 ||
        get_long(r, "ram_used_mb", &h->ram_used_mb) < 0 ||
        get_long(r, "ram_total_mb", &h->ram_total_mb) < 0 || get_temp(r, h) < 0 ||
        get_list(r, "models", &h->models, &h->nmodels) < 0 ||
        get_list(r, "installed", &h->installed, &h->ninstalled) < 0 ||
        get_list(r, "labels", &h->labels, &h->nlabels) < 0 ||
        get_bool(r, "available", &h->available) < 0 || get_long(r, "capacity", &h->capacity) < 0 ||
        get_long(r, "inflight", &h->inflight) < 0 || get_bool(r, "ollama_up", &h->ollama_up) < 0 ||
        get_bool(r, "draining", &h->draining) < 0 ||
        get_str(r, "version", h->version, sizeof(h->version), false) < 0 ||
        get_num(r, "load1", &h->load1, false) < 0 || get_throttled(r, h) < 0)
        return -1;
    return 0;
}

int health_from_json(struct health *h, const char *json, size_t len, char *err, size_t errlen)
{
    cJSON *j = cJSON_ParseWithLength(json, len);
    struct rd r = {j, err, errlen};
    int rc = -1;

    health_init(h);
    if (!j || !cJSON_IsObject(j))
        snprintf(err, errlen, j ? "not a JSON object" : "not valid JSON");
    else if (depth(j, 0) > ORION_JSON_MAX_DEPTH)
        snprintf(err, errlen, "nested deeper than %d levels", ORION_JSON_MAX_DEPTH);
    else
        rc = read_fields(&r, h);
    cJSON_Delete(j);
    if (rc < 0)
        health_release(h);
    return rc;
}
