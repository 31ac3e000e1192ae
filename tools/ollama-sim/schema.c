/* SPDX-License-Identifier: MIT */
/*
 * schema: a deterministic value for a JSON schema (rules in schema.h). Real models under
 * llama.cpp's grammar may leave optional properties out; writing all of them keeps the
 * output a function of the schema and the seed alone.
 */
#include "schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen {
    const cJSON *root;
    const struct schema_steer *st;
    struct buf *out;
    size_t start; /* where this output began in out */
    int depth;
};

static const char *const words[] = {
    "clear", "answer",  "needs", "more",  "detail", "about", "the",   "main", "point", "and",
    "its",   "example", "is",    "short", "code",   "runs",  "fast",  "on",   "small", "boards",
    "check", "edge",    "cases", "first", "then",   "test",  "again", "with", "care",  "data",
};
#define NWORDS (sizeof words / sizeof words[0])

static uint32_t mixh(uint32_t h, uint32_t k)
{
    h ^= (k + 1u) * 2654435761u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return h;
}

static int put_str(struct buf *b, const char *s)
{
    int rc = buf_putc(b, '"');

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            rc |= buf_putc(b, '\\') | buf_putc(b, (char)c);
        else if (c < 0x20)
            rc |= buf_printf(b, "\\u%04x", c);
        else
            rc |= buf_putc(b, (char)c);
    }
    return rc | buf_putc(b, '"');
}

static int put_json(struct buf *b, const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    int rc;

    if (!s)
        return -1;
    rc = buf_puts(b, s);
    cJSON_free(s);
    return rc;
}

/* a JSON pointer ("#/a/b/0") into the root; ~1 is '/', ~0 is '~' */
static const cJSON *pointer(const cJSON *root, const char *ref)
{
    const cJSON *cur = root;
    const char *p = ref + 1;

    while (cur && *p == '/') {
        char key[256];
        size_t k = 0;

        for (p++; *p && *p != '/' && k + 1 < sizeof key; p++) {
            if (p[0] == '~' && (p[1] == '0' || p[1] == '1'))
                key[k++] = *++p == '1' ? '/' : '~';
            else
                key[k++] = *p;
        }
        key[k] = '\0';
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(key));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, key);
    }
    return *p ? NULL : cur;
}

static const cJSON *resolve(const struct gen *g, const cJSON *s)
{
    int i;

    for (i = 0; i < 8 && cJSON_IsObject(s); i++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(s, "$ref");

        if (!cJSON_IsString(ref) || ref->valuestring[0] != '#')
            break;
        s = pointer(g->root, ref->valuestring);
    }
    return s;
}

static const char *type_of(const cJSON *s)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type"), *e;

    if (cJSON_IsString(t))
        return t->valuestring;
    if (cJSON_IsArray(t)) {
        cJSON_ArrayForEach(e, t) if (cJSON_IsString(e) &&
                                     strcmp(e->valuestring, "null") != 0) return e->valuestring;
        return cJSON_GetArraySize(t) ? "null" : "string";
    }
    if (cJSON_GetObjectItemCaseSensitive(s, "properties") ||
        cJSON_GetObjectItemCaseSensitive(s, "required"))
        return "object";
    if (cJSON_GetObjectItemCaseSensitive(s, "items") ||
        cJSON_GetObjectItemCaseSensitive(s, "prefixItems"))
        return "array";
    return "string";
}

/* a number of the schema, kept within +-1e15 (a bound of 1e999 reads as infinity) */
static bool num(const cJSON *s, const char *key, double *v)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, key);

    if (!cJSON_IsNumber(n) || n->valuedouble != n->valuedouble)
        return false;
    *v = n->valuedouble < -1e15 ? -1e15 : n->valuedouble > 1e15 ? 1e15 : n->valuedouble;
    return true;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int value(struct gen *g, const cJSON *s, uint32_t h, const char *name);

static int gen_words(struct buf *b, uint32_t h, int n, long min_len, long max_len)
{
    char s[512];
    size_t len = 0;
    int i;

    s[0] = '\0';
    for (i = 0; len + 16 < sizeof s && (i < n || (long)len < min_len); i++) {
        const char *w = words[mixh(h, (uint32_t)i) % NWORDS];

        len += (size_t)snprintf(s + len, sizeof s - len, "%s%s", i ? " " : "", w);
    }
    if (max_len >= 0 && (long)len > max_len)
        s[max_len] = '\0';
    return put_str(b, s);
}

static int gen_string(struct gen *g, const cJSON *s, uint32_t h)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(s, "format");
    double mn = 0, mx = -1;
    const char *fmt = cJSON_IsString(f) ? f->valuestring : "";

    num(s, "minLength", &mn);
    num(s, "maxLength", &mx);
    mn = clamp(mn, 0, 400);
    mx = mx < 0 ? -1 : clamp(mx, 0, 400);
    if (strcmp(fmt, "date-time") == 0)
        return buf_printf(g->out, "\"2025-%02u-%02uT%02u:%02u:00Z\"", 1 + h % 12, 1 + h / 12 % 28,
                          h / 7 % 24, h / 3 % 60);
    if (strcmp(fmt, "date") == 0)
        return buf_printf(g->out, "\"2025-%02u-%02u\"", 1 + h % 12, 1 + h / 12 % 28);
    if (strcmp(fmt, "time") == 0)
        return buf_printf(g->out, "\"%02u:%02u:00\"", h / 7 % 24, h / 3 % 60);
    if (strcmp(fmt, "email") == 0)
        return buf_printf(g->out, "\"%s@example.com\"", words[h % NWORDS]);
    if (strcmp(fmt, "uuid") == 0)
        return buf_printf(g->out, "\"%08x-%04x-4%03x-8%03x-%08x%04x\"", mixh(h, 1),
                          mixh(h, 2) & 0xffff, mixh(h, 3) & 0xfff, mixh(h, 4) & 0xfff, mixh(h, 5),
                          mixh(h, 6) & 0xffff);
    if (strcmp(fmt, "uri") == 0)
        return buf_printf(g->out, "\"https://example.com/%s\"", words[h % NWORDS]);
    if (strcmp(fmt, "ipv4") == 0)
        return buf_printf(g->out, "\"192.168.%u.%u\"", h % 256, 1 + h / 256 % 254);
    return gen_words(g->out, h, 2 + (int)(h % 4), (long)mn, mx >= 0 ? (long)mx : -1);
}

static int gen_number(struct gen *g, const cJSON *s, uint32_t h, const char *name, bool integer)
{
    double lo = 0, hi = 100, v, x;
    bool has_lo = num(s, "minimum", &lo), has_hi = num(s, "maximum", &hi);
    char t[64];

    if (num(s, "exclusiveMinimum", &x))
        has_lo = true, lo = integer ? floor(x) + 1 : x + (has_hi ? (hi - x) / 100 : 0.01);
    if (num(s, "exclusiveMaximum", &x))
        has_hi = true, hi = integer ? ceil(x) - 1 : x - (has_lo ? (x - lo) / 100 : 0.01);
    if (has_lo && !has_hi)
        hi = lo + 100;
    else if (has_hi && !has_lo)
        lo = hi - 100;
    if (integer)
        lo = ceil(lo), hi = floor(hi);
    if (hi < lo)
        hi = lo;
    v = lo + (hi - lo) * (double)(h % 101u) / 100.0;
    if (name && strcmp(name, "score") == 0 && g->st && g->st->has_score)
        v = g->st->score < lo ? lo : g->st->score > hi ? hi : g->st->score;
    if (integer)
        return buf_printf(g->out, "%.0f", floor(v) + 0.0); /* never "-0" */
    snprintf(t, sizeof t, "%.15g", v);
    if (strtod(t, NULL) < lo || strtod(t, NULL) > hi)
        snprintf(t, sizeof t, "%.17g", v);
    return buf_puts(g->out, t);
}

static int gen_array(struct gen *g, const cJSON *s, uint32_t h)
{
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(s, "prefixItems");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items"), *e;
    double mn = 0, mx = SCHEMA_MAX_ITEMS;
    int n = 1 + (int)(h % 3u), i = 0, rc = buf_putc(g->out, '[');

    num(s, "minItems", &mn);
    num(s, "maxItems", &mx);
    mn = clamp(mn, 0, SCHEMA_MAX_ITEMS);
    mx = clamp(mx, 0, SCHEMA_MAX_ITEMS);
    if (n < mn)
        n = (int)mn;
    if (n > mx)
        n = (int)mx;
    if (n > SCHEMA_MAX_ITEMS)
        n = SCHEMA_MAX_ITEMS;
    cJSON_ArrayForEach(e, pre)
    {
        if (i >= n && i >= mn)
            break;
        rc |= (i ? buf_putc(g->out, ',') : 0) | value(g, e, mixh(h, (uint32_t)i), NULL);
        i++;
    }
    for (; i < n && !cJSON_IsFalse(items); i++)
        rc |= (i ? buf_putc(g->out, ',') : 0) | value(g, items, mixh(h, (uint32_t)i), NULL);
    return rc | buf_putc(g->out, ']');
}

static int gen_object(struct gen *g, const cJSON *s, uint32_t h)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required"), *p;
    int i = 0, rc = buf_putc(g->out, '{');

    cJSON_ArrayForEach(p, props)
    {
        if (!p->string)
            continue;
        rc |= (i ? buf_putc(g->out, ',') : 0) | put_str(g->out, p->string) | buf_putc(g->out, ':');
        rc |= value(g, p, mixh(h, (uint32_t)i), p->string);
        i++;
    }
    cJSON_ArrayForEach(p, req)
    {
        if (!cJSON_IsString(p) || cJSON_GetObjectItemCaseSensitive(props, p->valuestring))
            continue;
        rc |= (i ? buf_putc(g->out, ',') : 0) | put_str(g->out, p->valuestring) |
              buf_putc(g->out, ':');
        rc |= gen_words(g->out, mixh(h, (uint32_t)i), 2, 0, -1);
        i++;
    }
    return rc | buf_putc(g->out, '}');
}

static const cJSON *first_alternative(const cJSON *alts)
{
    const cJSON *a;

    cJSON_ArrayForEach(a, alts)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");

        if (!cJSON_IsString(t) || strcmp(t->valuestring, "null") != 0)
            return a;
    }
    return cJSON_GetArrayItem(alts, 0);
}

static int value(struct gen *g, const cJSON *s, uint32_t h, const char *name)
{
    const cJSON *e, *alts;
    const char *t;
    int rc;

    if (buf_size(g->out) - g->start >= SCHEMA_MAX_OUT)
        return 0; /* every value writes a byte at least: this bounds the work too */
    if (g->depth >= SCHEMA_MAX_DEPTH || !(s = resolve(g, s)))
        return buf_puts(g->out, "null");
    if (!cJSON_IsObject(s))
        return gen_words(g->out, h, 2, 0, -1);
    if (cJSON_GetArraySize(e = cJSON_GetObjectItemCaseSensitive(s, "enum")) > 0)
        return put_json(g->out, cJSON_GetArrayItem(e, (int)(h % (uint32_t)cJSON_GetArraySize(e))));
    if ((e = cJSON_GetObjectItemCaseSensitive(s, "const")))
        return put_json(g->out, e);
    if (cJSON_GetArraySize(alts = cJSON_GetObjectItemCaseSensitive(s, "anyOf")) > 0 ||
        cJSON_GetArraySize(alts = cJSON_GetObjectItemCaseSensitive(s, "oneOf")) > 0 ||
        cJSON_GetArraySize(alts = cJSON_GetObjectItemCaseSensitive(s, "allOf")) > 0) {
        g->depth++;
        rc = value(g, first_alternative(alts), h, name);
        g->depth--;
        return rc;
    }
    t = type_of(s);
    g->depth++;
    if (strcmp(t, "object") == 0)
        rc = gen_object(g, s, h);
    else if (strcmp(t, "array") == 0)
        rc = gen_array(g, s, h);
    else if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0)
        rc = gen_number(g, s, h, name, t[0] == 'i');
    else if (strcmp(t, "boolean") == 0)
        rc = buf_puts(g->out, h & 1u ? "true" : "false");
    else if (strcmp(t, "null") == 0)
        rc = buf_puts(g->out, "null");
    else
        rc = gen_string(g, s, h);
    g->depth--;
    return rc;
}

int schema_gen(const cJSON *format, uint32_t seed, const struct schema_steer *steer,
               const char *text, struct buf *out)
{
    struct gen g;

    if (cJSON_IsString(format))
        return buf_puts(out, "{\"answer\":") | put_str(out, text ? text : "") | buf_putc(out, '}');
    g.root = format;
    g.st = steer;
    g.out = out;
    g.start = buf_size(out);
    g.depth = 0;
    if (value(&g, format, seed, NULL) < 0)
        return -1;
    if (buf_size(out) - g.start > SCHEMA_MAX_OUT)
        out->len = out->off + g.start + SCHEMA_MAX_OUT, out->p[out->len] = '\0';
    return 0;
}
