/* SPDX-License-Identifier: MIT */
/* JSON string quoting for hand-built JSON, and cJSON's allocation hooks. */
#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdbool.h>

static void *json_malloc(size_t n) { return orion_malloc(n); }
static void json_free(void *p) { orion_free(p); }

void json_init(void)
{
    static int done;
    cJSON_Hooks h = {json_malloc, json_free};

    if (!done)
        cJSON_InitHooks(&h);
    done = 1;
}

int json_depth(const char *s, size_t n, int max)
{
    int depth = 0, deepest = 0;
    bool in_str = false;

    for (size_t i = 0; i < n && deepest <= max; i++) {
        if (in_str) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_str = false;
        } else if (s[i] == '"') {
            in_str = true;
        } else if (s[i] == '{' || s[i] == '[') {
            if (++depth > deepest)
                deepest = depth;
        } else if ((s[i] == '}' || s[i] == ']') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

int json_quote(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    if (buf_putc(b, '"') < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (buf_append(b, s + run, i - run) < 0)
            return -1;
        run = i + 1;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (buf_append(b, esc, elen) < 0)
            return -1;
    }
    if (buf_append(b, s + run, n - run) < 0)
        return -1;
    return buf_putc(b, '"');
}
