/* SPDX-License-Identifier: MIT */
/*
 * ollama_span: the raw bytes of one member's value inside a JSON object (ollama.h,
 * ollama_json_member), for a text cJSON has already found valid: Ollama's tool calls and
 * other values pass through exactly as Ollama wrote them.
 */
#include "orion/ollama.h"

#include <string.h>

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p < e ? p + 1 : e;
}

static const char *skip_value(const char *p, const char *e)
{
    int depth = 0;

    do {
        if (p >= e)
            return e;
        if (*p == '"') {
            p = skip_string(p, e);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        else if (depth == 0 && (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            return p;
        p++;
    } while (depth > 0 || (p < e && !strchr(",}] \t\r\n", *p)));
    return p;
}

const char *ollama_json_member(const char *p, const char *e, const char *key, size_t *len)
{
    size_t kl = strlen(key);

    p = skip_ws(p, e);
    if (p >= e || *p != '{')
        return NULL;
    for (p = skip_ws(p + 1, e); p < e && *p == '"'; p = skip_ws(p, e)) {
        const char *k = p + 1, *kend = skip_string(p, e), *v;

        v = skip_ws(skip_ws(kend, e) + 1, e); /* past ':' */
        p = skip_value(v, e);
        if ((size_t)(kend - k) == kl + 1 && memcmp(k, key, kl) == 0) {
            *len = (size_t)(p - v);
            return v;
        }
        p = skip_ws(p, e);
        if (p < e && *p == ',')
            p++;
    }
    return NULL;
}
