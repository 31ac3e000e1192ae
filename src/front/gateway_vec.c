/* SPDX-License-Identifier: MIT */
/*
 * The pure half of the front's embeddings: how a batch is cut into pieces (entries), and the
 * vectors of an answer walked one by one or written as OpenAI's base64. No I/O.
 */
#include "gateway_int.h"

#include "orion/limits.h"

#include <stdlib.h>
#include <string.h>

size_t gw_embed_plan(const size_t *len, size_t n, size_t max_count, size_t max_bytes,
                     size_t *first)
{
    size_t pieces = 0, count = 0, bytes = 2; /* "[]" */

    for (size_t i = 0; i < n; i++) {
        size_t add = len[i] + (count ? 1 : 0); /* the comma */
        if (!count || count == max_count || bytes + add > max_bytes) {
            first[pieces++] = i;
            count = 0;
            bytes = 2;
            add = len[i];
        }
        count++;
        bytes += add;
    }
    return pieces;
}

size_t gw_embed_nodes(const char *const *resident, size_t nres, const char *const *other,
                      size_t noth, size_t pieces, const char **out)
{
    size_t k = nres + noth;

    for (size_t i = 0; i < pieces; i++) {
        size_t at = k < 2 ? 0 : i % k;
        out[i] = k < 2 ? NULL : at < nres ? resident[at] : other[at - nres];
    }
    return k < 2 ? 0 : k;
}

/* JSON white space */
static bool ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_put(struct buf *b, const unsigned char *in, size_t n)
{
    char out[4];
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[0] = b64[(v >> 18) & 63];
        out[1] = b64[(v >> 12) & 63];
        out[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[3] = i + 2 < n ? b64[v & 63] : '=';
        rc = buf_append(b, out, 4);
    }
    return rc;
}

int gw_vec_base64(const char *v, size_t n, struct buf *out)
{
    struct buf raw;
    char num[64];
    int rc = 0;

    buf_init(&raw, ORION_FIELD_MAX);
    for (size_t i = 1; i < n && rc == 0;) { /* past '[' */
        size_t k = 0;
        float f;
        unsigned char le[4];
        unsigned u;
        while (i < n && (ws(v[i]) || v[i] == ','))
            i++;
        if (i >= n || v[i] == ']')
            break;
        while (i < n && !ws(v[i]) && v[i] != ',' && v[i] != ']' && k + 1 < sizeof(num))
            num[k++] = v[i++];
        num[k] = '\0';
        f = strtof(num, NULL);
        memcpy(&u, &f, 4);
        le[0] = (unsigned char)u, le[1] = (unsigned char)(u >> 8);
        le[2] = (unsigned char)(u >> 16), le[3] = (unsigned char)(u >> 24);
        rc = buf_append(&raw, le, 4);
    }
    if (rc == 0)
        rc = b64_put(out, (const unsigned char *)buf_data(&raw), buf_size(&raw));
    buf_release(&raw);
    return rc;
}
