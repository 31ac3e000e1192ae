/* SPDX-License-Identifier: MIT */
/* The parts of a request entry's prompt fed to the token estimate (promptest.h). */
#include "orion/promptest.h"
#include "orion/jsonw.h"

#include "cJSON.h"

#include <string.h>

static void feed_str(struct tokest_text *t, const cJSON *v)
{
    if (cJSON_IsString(v))
        tokest_feed(t, v->valuestring, strlen(v->valuestring));
}

static void feed_json(struct tokest_text *t, const cJSON *v)
{
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;

    if (s)
        tokest_feed(t, s, strlen(s));
    cJSON_free(s);
}

static void feed_message(struct tokest_text *t, const cJSON *m)
{
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content"), *part;
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(m, "images");

    t->messages++;
    if (cJSON_IsArray(content)) {
        cJSON_ArrayForEach(part, content) {
            feed_str(t, cJSON_GetObjectItemCaseSensitive(part, "text"));
            if (cJSON_GetObjectItemCaseSensitive(part, "image_url"))
                t->images++;
        }
    } else {
        feed_str(t, content);
    }
    feed_str(t, cJSON_GetObjectItemCaseSensitive(m, "thinking"));
    feed_json(t, cJSON_GetObjectItemCaseSensitive(m, "tool_calls"));
    if (cJSON_IsArray(images))
        t->images += (unsigned)cJSON_GetArraySize(images);
}

static cJSON *parse(struct contract_str s)
{
    return s.p && json_depth(s.p, s.n, ORION_JSON_MAX_DEPTH) <= ORION_JSON_MAX_DEPTH
               ? cJSON_ParseWithLength(s.p, s.n)
               : NULL;
}

void promptest_features(const struct contract_request *r, struct tokest_text *t)
{
    cJSON *j;
    const cJSON *m;

    memset(t, 0, sizeof(*t));
    if (r->messages.p) {
        j = parse(r->messages);
        if (cJSON_IsArray(j)) {
            cJSON_ArrayForEach(m, j) feed_message(t, m);
        } else {
            tokest_feed(t, r->messages.p, r->messages.n);
            t->messages++;
        }
        cJSON_Delete(j);
    } else if (r->prompt.p) {
        tokest_feed(t, r->prompt.p, r->prompt.n);
        t->messages++;
    }
    if (r->system.p) {
        tokest_feed(t, r->system.p, r->system.n);
        t->messages++;
    }
    if (r->suffix.p)
        tokest_feed(t, r->suffix.p, r->suffix.n);
    if (r->tools.p)
        tokest_feed(t, r->tools.p, r->tools.n);
    if (r->images.p && !r->messages.p) {
        j = parse(r->images);
        if (cJSON_IsArray(j))
            t->images += (unsigned)cJSON_GetArraySize(j);
        cJSON_Delete(j);
    }
}

static long positive(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 1e9 ? (long)v->valuedouble
                                                                           : 0;
}

void promptest_options(const struct contract_request *r, long *num_ctx, long *num_predict)
{
    cJSON *o = parse(r->options);

    *num_ctx = positive(cJSON_GetObjectItemCaseSensitive(o, "num_ctx"));
    *num_predict = positive(cJSON_GetObjectItemCaseSensitive(o, "num_predict"));
    cJSON_Delete(o);
}
