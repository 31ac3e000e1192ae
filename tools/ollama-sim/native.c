/* SPDX-License-Identifier: MIT */
/*
 * native: /api/chat and /api/generate requests decoded and checked in Ollama's order (JSON
 * decoding incl. keep_alive and think first, then the model), and /api/tags, /api/show.
 */
#include "native.h"

#include "cJSON.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t fnv_add(uint32_t h, const char *s)
{
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* Go's time.ParseDuration, to nanoseconds; 0 or -1 with Go's message in err */
int go_parse_duration(const char *s, long long *ns, char *err, size_t errlen)
{
    static const struct { const char *u; double mul; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
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

static int keep_alive(const cJSON *v, struct sim_req *r, char *err, size_t errlen)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    r->has_ka = true;
    if (cJSON_IsNumber(v)) {
        r->ka_ns = v->valuedouble < 0 ? -1 : (long long)(v->valuedouble * 1e9);
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
    snprintf(err, errlen, "invalid think value: \"%s\" (must be \"high\", \"medium\", \"low\", \"max\", true, or false)",
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

static void prompt_facts(struct sim_req *r, const cJSON *j)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages"), *m;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "prompt");
    uint32_t h = fnv_add(2166136261u, r->model);
    size_t bytes = 0;

    if (r->kind == K_GENERATE) {
        r->load_only = !cJSON_IsString(p) || !*p->valuestring;
        if (cJSON_IsString(p))
            h = fnv_add(h, p->valuestring), bytes = strlen(p->valuestring);
    } else {
        r->load_only = r->kind == K_CHAT && cJSON_GetArraySize(msgs) == 0;
        cJSON_ArrayForEach(m, msgs)
        {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");

            if (cJSON_IsString(c))
                h = fnv_add(h, c->valuestring), bytes += strlen(c->valuestring);
        }
    }
    r->hash = h;
    r->prompt_tokens = (long)(bytes / 4) + (r->raw ? 1 : 10);
}

static int common(struct sim_req *r, const cJSON *j, char *err, size_t errlen, bool *thinking)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "stream");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "options");
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(o, "num_predict");

    if (keep_alive(cJSON_GetObjectItemCaseSensitive(j, "keep_alive"), r, err, errlen) < 0 ||
        think(cJSON_GetObjectItemCaseSensitive(j, "think"), thinking, err, errlen) < 0)
        return -1;
    r->stream = r->kind == K_OPENAI ? cJSON_IsTrue(st) : !cJSON_IsFalse(st);
    r->raw = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "raw"));
    r->num_predict = cJSON_IsNumber(np) ? (long)np->valuedouble : -1;
    return 0;
}

/* 0: r filled; else the HTTP status of the error, text in err */
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
    else if (thinking) {
        snprintf(err, errlen, "\"%s\" does not support thinking", r->model);
        status = 400;
    } else {
        prompt_facts(r, j);
        status = 0;
    }
out:
    cJSON_Delete(j);
    return status;
}

static void details(struct buf *b, const struct sim_model *m)
{
    buf_printf(b, "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"%s\","
                  "\"families\":[\"%s\"],\"parameter_size\":\"%s\",\"quantization_level\":\"%s\"}",
               m->family, m->family, m->psize, m->quant);
}

void native_tags(struct sim *s, struct buf *b)
{
    bool done[SIM_MAX_MODELS] = {false};
    int i, n;

    buf_puts(b, "{\"models\":[");
    for (n = 0; n < s->nmodels; n++) { /* most recently modified first */
        int k = -1;
        char mod[64];
        const struct sim_model *m;

        for (i = 0; i < s->nmodels; i++)
            if (!done[i] && (k < 0 || s->models[i].modified_ms > s->models[k].modified_ms))
                k = i;
        done[k] = true;
        m = &s->models[k];
        go_time_local(mod, m->modified_ms);
        buf_puts(b, n ? ",{\"name\":" : "{\"name\":");
        go_quote(b, m->name, strlen(m->name));
        buf_puts(b, ",\"model\":");
        go_quote(b, m->name, strlen(m->name));
        buf_printf(b, ",\"modified_at\":\"%s\",\"size\":%lld,\"digest\":\"%s\",", mod, m->disk_size,
                   m->digest);
        details(b, m);
        buf_printf(b, ",\"capabilities\":[%s]}", m->caps);
    }
    buf_puts(b, "]}");
}

/* 0 with the body in b, or the error status with err */
int native_show(struct sim *s, const char *body, size_t n, struct buf *b, char *err, size_t errlen)
{
    cJSON *j = cJSON_ParseWithLength(body, n);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "model");
    const struct sim_model *m;
    char mod[64];
    int status = 0;

    if (!cJSON_IsString(name))
        name = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (!n || !cJSON_IsObject(j))
        status = 400, n ? go_json_error(body, n, err, errlen)
                        : (void)snprintf(err, errlen, "missing request body");
    else if (!cJSON_IsString(name) || !*name->valuestring)
        status = 400, snprintf(err, errlen, "model is required");
    else if (!(m = sim_find_model(s, name->valuestring)))
        status = 404, snprintf(err, errlen, "model '%s' not found", name->valuestring);
    else {
        go_time_local(mod, m->modified_ms);
        buf_puts(b, "{\"modelfile\":\"# Modelfile generated by ollama-sim\\nFROM ");
        buf_puts(b, m->name);
        buf_puts(b, "\\n\",\"parameters\":\"\",\"template\":\"{{ .Prompt }}\",");
        details(b, m);
        buf_printf(b, ",\"model_info\":{\"general.architecture\":\"%s\",\"%s.context_length\":"
                      "131072},\"capabilities\":[%s],\"modified_at\":\"%s\"}",
                   m->family, m->family, m->caps, mod);
    }
    cJSON_Delete(j);
    return status;
}
