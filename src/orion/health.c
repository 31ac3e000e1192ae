/* SPDX-License-Identifier: MIT */
/*
 * The health record and its JSON. Writing is by hand (the record is flat and small, and the
 * worker writes one every few seconds); reading goes through cJSON after a light pre-pass
 * that refuses what must never become a tree (too deep, not an object, trailing bytes), and
 * then checks the type and range of every field it knows.
 */
#include "orion/health.h"
#include "orion/jsonw.h"

#include "cJSON.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void health_init(struct health *h)
{
    memset(h, 0, sizeof(*h));
    h->available = true;
    h->capacity = 1;
    h->ollama_up = true;
    h->load1 = -1;
    /* what a worker always knows about itself */
    h->has_capacity = h->has_inflight = h->has_ollama_up = h->has_draining = true;
    h->has_labels = h->has_version = true;
}

static void list_free(char **v, size_t n)
{
    if (!v)
        return;
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
    int saved = EINVAL;

    if (count > ORION_HEALTH_MAX_LIST)
        goto out_empty;
    if (count) {
        nv = orion_calloc(count, sizeof(*nv));
        if (!nv)
            goto out_nomem;
        for (size_t i = 0; i < count; i++) {
            nv[i] = orion_strdup(items[i]);
            if (!nv[i]) {
                list_free(nv, i);
                goto out_nomem;
            }
        }
    }
    list_free(*v, *n);
    *v = nv;
    *n = count;
    return 0;
out_nomem:
    saved = ENOMEM;
out_empty:
    list_free(*v, *n);
    *v = NULL;
    *n = 0;
    errno = saved;
    return -1;
}

/* --- writing ------------------------------------------------------------------------- */

/* A number with up to `digits` decimals, trailing zeros trimmed ("61.234", "40", "12.5"). */
static int put_num(struct buf *b, double v, int digits)
{
    char s[64];
    size_t n;

    if (!isfinite(v))
        return buf_puts(b, "null");
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

static int put_key(struct buf *b, const char *name)
{
    return buf_printf(b, ",\"%s\":", name);
}

static int put_list(struct buf *b, const char *name, char *const *v, size_t n)
{
    int rc = put_key(b, name) | buf_putc(b, '[');

    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i)
            rc = buf_putc(b, ',');
        if (rc == 0)
            rc = json_quote(b, v[i], strlen(v[i]));
    }
    return rc ? -1 : buf_putc(b, ']');
}

static const char *tf(bool v) { return v ? "true" : "false"; }

static int put_extras(const struct health *h, struct buf *out)
{
    int rc = 0;

    if (h->has_installed || h->ninstalled)
        rc |= put_list(out, "installed", h->installed, h->ninstalled);
    if (h->has_capacity)
        rc |= buf_printf(out, ",\"capacity\":%ld", h->capacity);
    if (h->has_inflight)
        rc |= buf_printf(out, ",\"inflight\":%ld", h->inflight);
    if (h->has_ollama_up)
        rc |= buf_printf(out, ",\"ollama_up\":%s", tf(h->ollama_up));
    if (h->has_draining)
        rc |= buf_printf(out, ",\"draining\":%s", tf(h->draining));
    if (h->has_labels || h->nlabels)
        rc |= put_list(out, "labels", h->labels, h->nlabels);
    if (h->has_version) {
        rc |= put_key(out, "version");
        rc |= json_quote(out, h->version, strlen(h->version));
    }
    if (h->has_load && h->load1 >= 0) {
        rc |= put_key(out, "load1");
        rc |= put_num(out, h->load1, 2);
    }
    if (h->has_throttled)
        rc |= buf_printf(out, ",\"throttled\":\"0x%lx\"", h->throttled);
    if (h->models_rev[0]) {
        rc |= put_key(out, "models_rev");
        rc |= json_quote(out, h->models_rev, strlen(h->models_rev));
    }
    return rc ? -1 : 0;
}

int health_to_json(const struct health *h, struct buf *out)
{
    int rc = buf_puts(out, "{\"node_id\":");

    rc |= json_quote(out, h->node_id, strnlen(h->node_id, sizeof(h->node_id)));
    rc |= put_key(out, "cpu_percent");
    rc |= h->cpu_percent >= 0 ? put_num(out, h->cpu_percent, 1) : buf_puts(out, "null");
    rc |= put_key(out, "ram_percent");
    rc |= h->ram_percent >= 0 ? put_num(out, h->ram_percent, 1) : buf_puts(out, "null");
    rc |= buf_printf(out, ",\"ram_used_mb\":%ld,\"ram_total_mb\":%ld", h->ram_used_mb,
                     h->ram_total_mb);
    rc |= put_key(out, "temp_c");
    rc |= h->has_temp ? put_num(out, h->temp_c, 3) : buf_puts(out, "null");
    rc |= put_list(out, "models", h->models, h->nmodels);
    rc |= buf_printf(out, ",\"available\":%s,\"last_seen\":%" PRId64, tf(h->available),
                     h->last_seen);
    rc |= put_extras(h, out);
    rc |= buf_putc(out, '}');
    return rc ? -1 : 0;
}

/* --- reading ------------------------------------------------------------------------- */


static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/*
 * Pre-pass over strings and brackets only: the length of the one object that text holds
 * (through its closing brace), or -1 with err set. cJSON would accept trailing bytes and
 * would build a tree as deep as the input before we could count.
 */
static long json_extent(const char *s, size_t len, char *err, size_t errlen)
{
    size_t i = 0;
    int depth = 0;
    bool in_str = false;

    while (i < len && is_ws(s[i]))
        i++;
    if (i == len)
        return orion_errf(err, errlen, "empty input"), -1;
    if (s[i] != '{')
        return orion_errf(err, errlen, "not a JSON object"), -1;
    for (; i < len; i++) {
        if (in_str) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_str = false;
        } else if (s[i] == '"') {
            in_str = true;
        } else if (s[i] == '{' || s[i] == '[') {
            if (++depth > ORION_JSON_MAX_DEPTH)
                return orion_errf(err, errlen, "nested deeper than %d levels", ORION_JSON_MAX_DEPTH), -1;
        } else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
            break;
        }
    }
    if (i >= len)
        return orion_errf(err, errlen, "not valid JSON: the object is not closed"), -1;
    for (size_t k = i + 1; k < len; k++)
        if (!is_ws(s[k]))
            return orion_errf(err, errlen, "not valid JSON: bytes after the object"), -1;
    return (long)i + 1;
}

struct rd {
    const cJSON *j;
    char *err;
    size_t errlen;
};

static int bad(struct rd *r, const char *field, const char *want)
{
    orion_errf(r->err, r->errlen, "field '%s' is not %s", field, want);
    return -1;
}

/* A number in [lo, hi]: 1, 0 when absent or null, -1 (err set) otherwise. */
static int get_num(struct rd *r, const char *field, double lo, double hi, double *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, field);

    if (!x || cJSON_IsNull(x))
        return 0;
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return bad(r, field, "a number");
    if (x->valuedouble < lo || x->valuedouble > hi)
        return bad(r, field, "a number in range");
    *out = x->valuedouble;
    return 1;
}

/* A whole number in [0, hi]; *known set when present. */
static int get_count(struct rd *r, const char *field, double hi, long *out, bool *known)
{
    double v = 0;
    int rc = get_num(r, field, 0, hi, &v);

    if (rc > 0 && v != floor(v))
        return bad(r, field, "a whole number");
    if (rc > 0)
        *out = (long)v;
    if (known)
        *known = rc > 0;
    return rc < 0 ? -1 : 0;
}

/* A percentage, clamped to 0-100 (rounding may pass 100 by a hair); null or absent: -1. */
static int get_percent(struct rd *r, const char *field, double *out)
{
    int rc = get_num(r, field, -1e6, 1e6, out);

    if (rc > 0)
        *out = *out < 0 ? 0 : *out > 100 ? 100 : *out;
    return rc < 0 ? -1 : 0;
}

static int get_bool(struct rd *r, const char *field, bool *out, bool *known)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, field);

    if (known)
        *known = x && !cJSON_IsNull(x);
    if (!x || cJSON_IsNull(x))
        return 0;
    if (!cJSON_IsBool(x))
        return bad(r, field, "true or false");
    *out = cJSON_IsTrue(x);
    return 0;
}

/* A string of at most max bytes into out (max + 1 bytes); 1, 0 when absent or null, -1. */
static int get_str(struct rd *r, const char *field, char *out, size_t max)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, field);
    size_t n;

    if (!x || cJSON_IsNull(x))
        return 0;
    if (!cJSON_IsString(x))
        return bad(r, field, "a string");
    n = strlen(x->valuestring);
    if (n > max) {
        orion_errf(r->err, r->errlen, "field '%s' is longer than %zu bytes", field, max);
        return -1;
    }
    memcpy(out, x->valuestring, n + 1);
    return 1;
}

static int get_list(struct rd *r, const char *field, size_t max, char ***v, size_t *n,
                    bool *known)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, field), *e;
    const char *items[ORION_HEALTH_MAX_LIST];
    size_t k = 0;

    if (known)
        *known = x && !cJSON_IsNull(x);
    if (!x || cJSON_IsNull(x))
        return 0;
    if (!cJSON_IsArray(x))
        return bad(r, field, "an array of strings");
    cJSON_ArrayForEach(e, x)
    {
        if (!cJSON_IsString(e))
            return bad(r, field, "an array of strings");
        if (strlen(e->valuestring) > max) {
            orion_errf(r->err, r->errlen, "field '%s' has a name longer than %zu bytes", field, max);
            return -1;
        }
        if (k == ORION_HEALTH_MAX_LIST) {
            orion_errf(r->err, r->errlen, "field '%s' has more than %d entries", field,
                ORION_HEALTH_MAX_LIST);
            return -1;
        }
        items[k++] = e->valuestring;
    }
    if (health_set_list(v, n, items, k) < 0) {
        orion_errf(r->err, r->errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int get_temp(struct rd *r, struct health *h)
{
    int rc = get_num(r, "temp_c", -273.15, 1000, &h->temp_c);

    h->has_temp = rc > 0;
    return rc < 0 ? -1 : 0;
}

/* "0x50005" as written, or a plain JSON integer. */
static int get_throttled(struct rd *r, struct health *h)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->j, "throttled");
    double v;
    int rc;

    if (x && cJSON_IsString(x)) {
        size_t n = strlen(x->valuestring);
        if (n < 3 || strncmp(x->valuestring, "0x", 2) ||
            metrics_parse_throttled(x->valuestring, n, &h->throttled) < 0)
            return bad(r, "throttled", "a hex string such as \"0x50005\"");
        h->has_throttled = true;
        return 0;
    }
    rc = get_num(r, "throttled", 0, 4294967295.0, &v);
    if (rc > 0 && v != floor(v))
        return bad(r, "throttled", "a hex string such as \"0x50005\"");
    if (rc > 0) {
        h->throttled = (unsigned long)v;
        h->has_throttled = true;
    }
    return rc < 0 ? -1 : 0;
}

static int read_required(struct rd *r, struct health *h)
{
    double ls = -1;
    int rc = get_str(r, "node_id", h->node_id, ORION_NODE_ID_MAX);

    if (rc == 0)
        orion_errf(r->err, r->errlen, "field 'node_id' is missing");
    else if (rc > 0 && !h->node_id[0])
        orion_errf(r->err, r->errlen, "field 'node_id' is empty");
    if (rc <= 0 || !h->node_id[0])
        return -1;
    rc = get_num(r, "last_seen", 0, 1e11, &ls);
    if (rc == 0)
        orion_errf(r->err, r->errlen, "field 'last_seen' is missing");
    if (rc <= 0)
        return -1;
    h->last_seen = (int64_t)ls;
    return 0;
}

static int read_fields(struct rd *r, struct health *h)
{
    int rc;

    if (read_required(r, h) < 0 || get_percent(r, "cpu_percent", &h->cpu_percent) < 0 ||
        get_percent(r, "ram_percent", &h->ram_percent) < 0 ||
        get_count(r, "ram_used_mb", 1e9, &h->ram_used_mb, NULL) < 0 ||
        get_count(r, "ram_total_mb", 1e9, &h->ram_total_mb, NULL) < 0 || get_temp(r, h) < 0 ||
        get_list(r, "models", ORION_MODEL_MAX, &h->models, &h->nmodels, NULL) < 0 ||
        get_bool(r, "available", &h->available, NULL) < 0)
        return -1;
    if (get_list(r, "installed", ORION_MODEL_MAX, &h->installed, &h->ninstalled,
                 &h->has_installed) < 0 ||
        get_list(r, "labels", ORION_LABEL_MAX, &h->labels, &h->nlabels, &h->has_labels) < 0 ||
        get_count(r, "capacity", 1e6, &h->capacity, &h->has_capacity) < 0 ||
        get_count(r, "inflight", 1e6, &h->inflight, &h->has_inflight) < 0 ||
        get_bool(r, "ollama_up", &h->ollama_up, &h->has_ollama_up) < 0 ||
        get_bool(r, "draining", &h->draining, &h->has_draining) < 0 ||
        get_throttled(r, h) < 0)
        return -1;
    if ((rc = get_str(r, "version", h->version, ORION_VERSION_MAX)) < 0)
        return -1;
    h->has_version = rc > 0;
    if (get_str(r, "models_rev", h->models_rev, HEALTH_REV_MAX) < 0)
        return -1;
    rc = get_num(r, "load1", 0, 1e6, &h->load1);
    h->has_load = rc > 0;
    return rc < 0 ? -1 : 0;
}

int health_from_json(struct health *h, const char *json, size_t len, char *err, size_t errlen)
{
    struct rd r = {NULL, err, errlen};
    cJSON *j;
    long n;
    int rc = -1;

    health_init(h);
    h->has_capacity = h->has_inflight = h->has_ollama_up = h->has_draining = false;
    h->has_labels = h->has_version = false;
    h->cpu_percent = h->ram_percent = -1;
    if (len > ORION_HEALTH_MAX_JSON) {
        orion_errf(err, errlen, "longer than %u bytes", ORION_HEALTH_MAX_JSON);
        goto out;
    }
    if ((n = json_extent(json, len, err, errlen)) < 0)
        goto out;
    j = cJSON_ParseWithLength(json, (size_t)n);
    if (!j) {
        orion_errf(err, errlen, "not valid JSON");
        goto out;
    }
    r.j = j;
    if (!cJSON_IsObject(j))
        orion_errf(err, errlen, "not a JSON object");
    else
        rc = read_fields(&r, h);
    cJSON_Delete(j);
out:
    if (rc < 0)
        health_release(h);
    return rc;
}

/* --- collecting ---------------------------------------------------------------------- */

int health_collect(struct health *h, const char *root, struct cpu_sample *prev, bool *have_prev)
{
    static const struct cpu_sample boot; /* all zero: the first figure is since boot */
    struct cpu_sample cur;
    struct mem_info m;
    struct loadavg la;
    int rc = 0;

    if (metrics_read_cpu(root, &cur) == 0) {
        h->cpu_percent = metrics_cpu_percent(*have_prev ? prev : &boot, &cur);
        *prev = cur;
        *have_prev = true;
    } else {
        h->cpu_percent = -1;
        rc = -1;
    }
    if (metrics_read_mem(root, &m) == 0) {
        h->ram_percent = metrics_ram_percent(&m);
        h->ram_used_mb = metrics_ram_used_mb(&m);
        h->ram_total_mb = metrics_ram_total_mb(&m);
    } else {
        h->ram_percent = -1;
        h->ram_used_mb = h->ram_total_mb = 0;
        rc = -1;
    }
    metrics_read_temp(root, &h->has_temp, &h->temp_c);
    h->has_load = metrics_read_loadavg(root, &la) == 0;
    h->load1 = h->has_load ? la.load1 : -1;
    metrics_read_throttled(root, &h->has_throttled, &h->throttled);
    return rc;
}
