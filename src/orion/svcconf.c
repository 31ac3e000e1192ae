/* SPDX-License-Identifier: MIT */
/* Roles tables and presets files (formats in svcconf.h) into roles.h's and preset.h's tables. */
#include "orion/svcconf.h"
#include "orion/buf.h"
#include "orion/jsonw.h"

#include "cJSON.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The built-in presets: contrib/presets.json, one string per line (made by tools/embed.sh). */
extern const char *const svc_presets_default_lines[];

static cJSON *parse_object(const char *json, size_t n, const char *what, char *err,
                           size_t errlen)
{
    cJSON *j;

    if (json_depth(json, n, ORION_JSON_MAX_DEPTH) > ORION_JSON_MAX_DEPTH) {
        orion_errf(err, errlen, "%s: nested too deep", what);
        return NULL;
    }
    j = cJSON_ParseWithLength(json, n);
    if (!cJSON_IsObject(j)) {
        orion_errf(err, errlen, "%s: not a JSON object", what);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* An array of role names or one name: the bits, or -1 with err set. */
static long roles_of(const cJSON *v, const char *model, char *err, size_t errlen)
{
    const cJSON *e;
    unsigned bits = 0;

    if (cJSON_IsString(v)) {
        bits = role_parse(v->valuestring, strlen(v->valuestring));
        if (!bits)
            goto out_bad;
        return bits;
    }
    if (!cJSON_IsArray(v))
        goto out_bad;
    cJSON_ArrayForEach(e, v) {
        unsigned b = cJSON_IsString(e) ? role_parse(e->valuestring, strlen(e->valuestring)) : 0;
        if (!b)
            goto out_bad;
        bits |= b;
    }
    return bits;
out_bad:
    orion_errf(err, errlen, "roles of '%s': want primary, fast, coder, thinker or longctx", model);
    return -1;
}

static int roles_from(struct role_map *m, const cJSON *obj, char *err, size_t errlen)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, obj) {
        long bits = roles_of(e, e->string, err, errlen);

        if (bits < 0)
            return -1;
        if (role_map_set(m, e->string, (unsigned)bits) < 0) {
            orion_errf(err, errlen, "roles: '%s' is not a model name", e->string);
            return -1;
        }
    }
    return 0;
}

int svc_roles_parse(struct role_map *m, const char *json, size_t n, char *err, size_t errlen)
{
    cJSON *j = parse_object(json, n, "roles", err, errlen);
    int rc;

    if (!j)
        return -1;
    rc = roles_from(m, j, err, errlen);
    cJSON_Delete(j);
    return rc;
}

static int read_file(const char *path, struct buf *b, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char chunk[4096];
    size_t n;
    int rc = 0;

    if (!f) {
        orion_errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(b, chunk, n) < 0) {
            orion_errf(err, errlen, "%s: longer than %u bytes", path, SVC_FILE_MAX);
            rc = -1;
        }
    if (rc == 0 && ferror(f)) {
        orion_errf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    return rc;
}

int svc_roles_load(struct role_map *m, const char *arg, char *err, size_t errlen)
{
    const char *p = arg;
    struct buf b;
    int rc;

    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p == '{')
        return svc_roles_parse(m, p, strlen(p), err, errlen);
    buf_init(&b, SVC_FILE_MAX);
    rc = read_file(arg, &b, err, errlen);
    if (rc == 0)
        rc = svc_roles_parse(m, buf_data(&b), buf_size(&b), err, errlen);
    buf_release(&b);
    return rc;
}

/* --- presets -------------------------------------------------------------------------------- */

static long catalogue_mb(const cJSON *cat, const cJSON *mine, const char *model)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(mine, model);

    if (!cJSON_IsNumber(v))
        v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cat, model),
                                             "memory_mb");
    return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e9 ? (long)v->valuedouble
                                                                           : 0;
}

static int one_preset(struct preset_set *s, const cJSON *cat, const cJSON *def, char *err,
                      size_t errlen)
{
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(def, "models"), *m;
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(def, "mode");
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(def, "note");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(def, "memory_mb");
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(def, "roles");
    struct preset *p;

    if (!cJSON_IsObject(def) || !cJSON_IsArray(models) || !cJSON_GetArraySize(models)) {
        orion_errf(err, errlen, "preset '%s': want an object with a list of models", def->string);
        return -1;
    }
    if (mode && (!cJSON_IsString(mode) || !preset_mode_ok(mode->valuestring))) {
        orion_errf(err, errlen,
                   "preset '%s': mode: want single, critique, debate, ensemble or pipeline",
                   def->string);
        return -1;
    }
    if (!(p = preset_set_add(s, def->string))) {
        orion_errf(err, errlen, "preset '%s': %s", def->string,
                   errno == EINVAL ? "a name of at most 32 letters, digits, '-', '_', '.'"
                                   : "out of memory");
        return -1;
    }
    if (mode)
        snprintf(p->mode, sizeof(p->mode), "%s", mode->valuestring);
    if (cJSON_IsString(note) && !(p->note = orion_strdup(note->valuestring)))
        return -1;
    cJSON_ArrayForEach(m, models) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(roles, cJSON_IsString(m) ? m->valuestring : "");
        long bits;

        if (!cJSON_IsString(m) ||
            preset_add_model(p, m->valuestring, catalogue_mb(cat, mem, m->valuestring)) < 0) {
            orion_errf(err, errlen, "preset '%s': models: at most %d model names", p->name,
                       PRESET_MAX_MODELS);
            return -1;
        }
        if (!r)
            r = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cat, m->valuestring), "roles");
        if (!r)
            continue;
        if ((bits = roles_of(r, m->valuestring, err, errlen)) < 0 ||
            role_map_set(&p->roles, m->valuestring, (unsigned)bits) < 0)
            return -1;
    }
    return 0;
}

int svc_presets_parse(struct preset_set *s, const char *json, size_t n, char *err,
                      size_t errlen)
{
    cJSON *j = parse_object(json, n, "presets", err, errlen);
    const cJSON *presets, *cat, *e;
    int rc = 0;

    if (!j)
        return -1;
    presets = cJSON_GetObjectItemCaseSensitive(j, "presets");
    cat = cJSON_GetObjectItemCaseSensitive(j, "models");
    if (!cJSON_IsObject(presets) || (cat && !cJSON_IsObject(cat))) {
        orion_errf(err, errlen, "presets: want {\"presets\":{...}} and an optional "
                                "\"models\" object");
        rc = -1;
    }
    for (e = rc == 0 ? presets->child : NULL; e && rc == 0; e = e->next)
        rc = one_preset(s, cat, e, err, errlen);
    cJSON_Delete(j);
    return rc;
}

int svc_presets_load_file(struct preset_set *s, const char *path, char *err, size_t errlen)
{
    struct buf b;
    int rc;

    buf_init(&b, SVC_FILE_MAX);
    rc = read_file(path, &b, err, errlen);
    if (rc == 0)
        rc = svc_presets_parse(s, buf_data(&b), buf_size(&b), err, errlen);
    buf_release(&b);
    return rc;
}

static void add_line(void *arg, const char *line)
{
    struct buf *b = arg;

    buf_puts(b, line);
    buf_putc(b, '\n');
}

void svc_presets_default_text(void (*line)(void *arg, const char *s), void *arg)
{
    for (const char *const *l = svc_presets_default_lines; *l; l++)
        line(arg, *l);
}

int svc_presets_load_default(struct preset_set *s, char *err, size_t errlen)
{
    struct buf b;
    int rc;

    buf_init(&b, SVC_FILE_MAX);
    svc_presets_default_text(add_line, &b);
    rc = svc_presets_parse(s, buf_data(&b), buf_size(&b), err, errlen);
    buf_release(&b);
    return rc;
}
