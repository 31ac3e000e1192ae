/* SPDX-License-Identifier: MIT */
/* A request's messages as the prefix chain the router's core matches (reqconv.h has the rules). */
#include "orion/reqconv.h"

#include "cJSON.h"

#include <errno.h>
#include <string.h>

#define FNV_OFF 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

/* Fold a tagged part into the last message: the tag keeps an image apart from a tool call. */
static void fold(struct route_conv *c, const char *tag, const void *data, size_t len)
{
    route_conv_extend(c, tag, strlen(tag) + 1);
    route_conv_extend(c, data, len);
}

/* An image is folded as a digest of its text: 8 bytes, whatever its size. */
static void fold_image(struct route_conv *c, const char *s, size_t n)
{
    unsigned long long h = FNV_OFF;
    unsigned char d[8];

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    for (int i = 0; i < 8; i++)
        d[i] = (unsigned char)(h >> (8 * i));
    fold(c, "image", d, sizeof(d));
}

static void fold_images(struct route_conv *c, const cJSON *images)
{
    const cJSON *im;

    cJSON_ArrayForEach(im, images)
    {
        if (cJSON_IsString(im))
            fold_image(c, im->valuestring, strlen(im->valuestring));
    }
}

/* A value's compact JSON text folded (or added as the message when tag is NULL): 0, -1 ENOMEM. */
static int fold_json(struct route_conv *c, const char *role, const char *tag, const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);

    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    if (tag)
        fold(c, tag, s, strlen(s));
    else
        route_conv_add(c, role, s, strlen(s));
    cJSON_free(s);
    return 0;
}

static int add_message(struct route_conv *c, const cJSON *m)
{
    const cJSON *role, *content, *v;
    const char *r;

    if (!cJSON_IsObject(m))
        return fold_json(c, "", NULL, m);
    role = cJSON_GetObjectItemCaseSensitive(m, "role");
    content = cJSON_GetObjectItemCaseSensitive(m, "content");
    r = cJSON_IsString(role) ? role->valuestring : "";
    if (cJSON_IsString(content))
        route_conv_add(c, r, content->valuestring, strlen(content->valuestring));
    else if (!content || cJSON_IsNull(content))
        route_conv_add(c, r, "", 0);
    else if (fold_json(c, r, NULL, content) < 0)
        return -1;
    fold_images(c, cJSON_GetObjectItemCaseSensitive(m, "images"));
    v = cJSON_GetObjectItemCaseSensitive(m, "thinking");
    if (cJSON_IsString(v))
        fold(c, "thinking", v->valuestring, strlen(v->valuestring));
    v = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
    if (v && !cJSON_IsNull(v) && fold_json(c, NULL, "tool_calls", v) < 0)
        return -1;
    v = cJSON_GetObjectItemCaseSensitive(m, "tool_name");
    if (cJSON_IsString(v))
        fold(c, "tool_name", v->valuestring, strlen(v->valuestring));
    return 0;
}

int reqconv_build(const struct contract_request *req, struct route_conv *c)
{
    cJSON *j, *m;
    int rc = 0;

    if (req->system.p)
        route_conv_add(c, "system", req->system.p, req->system.n);
    if (!req->messages.p) {
        if (req->prompt.p) {
            route_conv_add(c, "user", req->prompt.p, req->prompt.n);
            if (req->images.p && (j = cJSON_ParseWithLength(req->images.p, req->images.n))) {
                fold_images(c, j);
                cJSON_Delete(j);
            }
        }
        return 0;
    }
    errno = 0;
    j = cJSON_ParseWithLength(req->messages.p, req->messages.n);
    if (!cJSON_IsArray(j)) {
        errno = !j && errno == ENOMEM ? ENOMEM : EINVAL;
        cJSON_Delete(j);
        return -1;
    }
    cJSON_ArrayForEach(m, j)
    {
        if ((rc = add_message(c, m)) < 0)
            break;
    }
    cJSON_Delete(j);
    return rc;
}
