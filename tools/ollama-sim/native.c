/* SPDX-License-Identifier: MIT */
/*
 * native: /api/chat and /api/generate requests decoded and checked in Ollama's order
 * (server/routes.go GenerateHandler, ChatHandler): JSON decoding incl. keep_alive, think and
 * base64 images first; then the model; then what the handler refuses before scheduling
 * (raw with template/system/context, thinking); then the capabilities scheduleRunner checks
 * (completion, tools, insert). Errors the runner gives once the model is loaded (format,
 * images, context) wait in r->err_status for gen_start.
 */
#include "native.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's time.ParseDuration, to nanoseconds; 0 or -1 with Go's message in err */
int go_parse_duration(const char *s, long long *ns, char *err, size_t errlen)
{
    static const struct {
        const char *u;
        double mul;
    } units[] = {{"ns", 1},  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
                 {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    const char *p = s;
    double total = 0;
    int neg = 0;

    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (strcmp(p, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*p)
        goto invalid;
    while (*p) {
        char *end;
        double v;
        size_t ul = 0, i;

        if (!(*p >= '0' && *p <= '9') && *p != '.')
            goto invalid;
        v = strtod(p, &end);
        if (end == p)
            goto invalid;
        p = end;
        while (p[ul] && !(p[ul] >= '0' && p[ul] <= '9') && p[ul] != '.')
            ul++;
        if (ul == 0) {
            snprintf(err, errlen, "time: missing unit in duration \"%s\"", s);
            return -1;
        }
        for (i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].u) == ul && memcmp(units[i].u, p, ul) == 0)
                break;
        if (i == sizeof units / sizeof units[0]) {
            snprintf(err, errlen, "time: unknown unit \"%.*s\" in duration \"%s\"", (int)ul, p, s);
            return -1;
        }
        total += v * units[i].mul;
        p += ul;
    }
    *ns = (long long)(neg ? -total : total);
    return 0;
invalid:
    snprintf(err, errlen, "time: invalid duration \"%s\"", s);
    return -1;
}

static const char *go_type(const cJSON *v)
{
    if (cJSON_IsBool(v))
        return "bool";
    if (cJSON_IsArray(v))
        return "[]interface {}";
    return "map[string]interface {}";
}

long native_long(const cJSON *v, long def)
{
    double d;

    if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble)
        return def;
    d = v->valuedouble;
    return d < -1099511627776.0 ? -1099511627776L : d > 1099511627776.0 ? 1099511627776L : (long)d;
}

int native_keep_alive(const cJSON *v, struct sim_req *r, char *err, size_t errlen)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    r->has_ka = true;
    if (cJSON_IsNumber(v)) {
        r->ka_ns = v->valuedouble < 0     ? -1
                   : v->valuedouble > 9e9 ? SIM_FOREVER_NS
                                          : (long long)(v->valuedouble * 1e9);
        return 0;
    }
    if (!cJSON_IsString(v)) {
        snprintf(err, errlen, "Unsupported type: '%s'", go_type(v));
        return -1;
    }
    if (go_parse_duration(v->valuestring, &r->ka_ns, err, errlen) < 0)
        return -1;
    if (r->ka_ns < 0)
        r->ka_ns = -1;
    return 0;
}

static int think(const cJSON *v, bool *on, char *err, size_t errlen)
{
    static const char *const ok[] = {"high", "medium", "low", "max"};
    size_t i;

    *on = false;
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
        return 0;
    if (cJSON_IsTrue(v)) {
        *on = true;
        return 0;
    }
    if (cJSON_IsString(v))
        for (i = 0; i < 4; i++)
            if (strcmp(v->valuestring, ok[i]) == 0) {
                *on = true;
                return 0;
            }
    snprintf(err, errlen,
             "invalid think value: \"%s\" (must be \"high\", \"medium\", \"low\", \"max\", true, "
             "or false)",
             cJSON_IsString(v) ? v->valuestring : "?");
    return -1;
}

/* Go decoder's words for a body that is not a JSON object */
void go_json_error(const char *p, size_t n, char *err, size_t errlen)
{
    size_t i = 0;

    while (i < n && strchr(" \t\r\n", p[i]))
        i++;
    if (i < n && !strchr("{[\"-0123456789tfn", p[i]))
        snprintf(err, errlen, "invalid character '%c' looking for beginning of value", p[i]);
    else if (i < n && p[i] != '{')
        snprintf(err, errlen, "json: cannot unmarshal non-object into Go value");
    else
        snprintf(err, errlen, "unexpected EOF");
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* encoding/base64 StdEncoding.Decode's CorruptInputError offsets (decodeQuantum): a bad
 * byte, a quantum cut short without padding, padding too early or missing, bytes after it */
int go_b64_check(const char *s)
{
    size_t len = strlen(s), si = 0;

    for (;;) {
        int j;

        for (j = 0; j < 4; j++) {
            char c;

            if (si == len) {
                if (j == 0)
                    return -1;
                return (int)(si - (size_t)j);
            }
            c = s[si++];
            if (b64_val(c) >= 0)
                continue;
            if (c == '\n' || c == '\r') {
                j--;
                continue;
            }
            if (c != '=' || j < 2)
                return (int)(si - 1);
            if (j == 2) {
                while (si < len && (s[si] == '\n' || s[si] == '\r'))
                    si++;
                if (si == len)
                    return (int)len;
                if (s[si] != '=')
                    return (int)(si - 1);
                si++;
            }
            while (si < len && (s[si] == '\n' || s[si] == '\r'))
                si++;
            return si < len ? (int)si : -1;
        }
    }
}

static int images_ok(const cJSON *imgs, char *err, size_t errlen)
{
    const cJSON *i;
    int off;

    cJSON_ArrayForEach(i, imgs)
    {
        if ((off = cJSON_IsString(i) ? go_b64_check(i->valuestring) : 0) >= 0) {
            snprintf(err, errlen, "illegal base64 data at input byte %d", off);
            return -1;
        }
    }
    return 0;
}

/* what Go's decoder checks: keep_alive, think, the images' base64 */
static int common(struct sim_req *r, const cJSON *j, char *err, size_t errlen, bool *thinking)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "stream");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "options");
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(o, "num_predict");
    const cJSON *nk = cJSON_GetObjectItemCaseSensitive(o, "num_keep");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "truncate");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shift"), *m;

    if (native_keep_alive(cJSON_GetObjectItemCaseSensitive(j, "keep_alive"), r, err, errlen) < 0 ||
        think(cJSON_GetObjectItemCaseSensitive(j, "think"), thinking, err, errlen) < 0 ||
        images_ok(cJSON_GetObjectItemCaseSensitive(j, "images"), err, errlen) < 0)
        return -1;
    if (r->kind == K_CHAT)
        cJSON_ArrayForEach(
            m, cJSON_GetObjectItemCaseSensitive(
                   j, "messages")) if (images_ok(cJSON_GetObjectItemCaseSensitive(m, "images"), err,
                                                 errlen) < 0) return -1;
    r->stream = r->kind == K_OPENAI ? cJSON_IsTrue(st) : !cJSON_IsFalse(st);
    r->raw = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "raw"));
    r->num_predict = native_long(np, -1);
    r->num_keep = native_long(nk, 4);
    r->truncate = !cJSON_IsFalse(tr);
    r->shift = !cJSON_IsFalse(sh);
    return 0;
}

static bool nonempty(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    return (cJSON_IsString(v) && *v->valuestring) || cJSON_GetArraySize(v) > 0;
}

/* the handler's own refusals and scheduleRunner's capability check, in Ollama's order */
static int checks(struct sim_req *r, const cJSON *j, bool thinking, char *err, size_t errlen)
{
    const struct sim_model *m = r->m;
    char full[ORION_MODEL_MAX + 64];

    sim_full_name(m->name, full, sizeof full);
    if (r->kind == K_GENERATE && r->raw &&
        (nonempty(j, "template") || nonempty(j, "system") || nonempty(j, "context")))
        return snprintf(err, errlen, "raw mode does not support template, system, or context"), 400;
    if (thinking && !(m->caps & CAP_THINKING))
        return snprintf(err, errlen, "\"%s\" does not support thinking", r->model), 400;
    if (!(m->caps & CAP_COMPLETION))
        return snprintf(err, errlen, "\"%s\" does not support %s", r->model,
                        r->kind == K_GENERATE ? "generate" : "chat"),
               400;
    if (r->kind != K_GENERATE && nonempty(j, "tools") && !(m->caps & CAP_TOOLS))
        return snprintf(err, errlen, "%s does not support tools", full), 400;
    if (r->kind == K_GENERATE && nonempty(j, "suffix") && !(m->caps & CAP_INSERT))
        return snprintf(err, errlen, "%s does not support insert", full), 400;
    return 0;
}

int native_decode(struct sim *s, struct sim_req *r, const char *body, size_t n, char *err,
                  size_t errlen)
{
    cJSON *j;
    const cJSON *model;
    bool thinking;
    int status = 400;

    if (n == 0) {
        snprintf(err, errlen, "missing request body");
        return 400;
    }
    j = cJSON_ParseWithLength(body, n);
    if (!cJSON_IsObject(j)) {
        go_json_error(body, n, err, errlen);
        goto out;
    }
    model = cJSON_GetObjectItemCaseSensitive(j, "model");
    if (common(r, j, err, errlen, &thinking) < 0)
        goto out;
    r->model = orion_strdup(cJSON_IsString(model) ? model->valuestring : "");
    if (!r->model) {
        snprintf(err, errlen, "out of memory");
        status = 500;
        goto out;
    }
    status = 404;
    if (!*r->model && r->kind == K_CHAT) {
        snprintf(err, errlen, "model is required");
        status = 400;
    } else if (!(r->m = sim_find_model(s, r->model)))
        snprintf(err, errlen, "model '%s' not found", r->model);
    else if (!(status = checks(r, j, thinking, err, errlen)))
        status = prompt_build(r, j, err, errlen);
out:
    cJSON_Delete(j);
    return status;
}
