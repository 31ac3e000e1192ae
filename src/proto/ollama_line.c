/* SPDX-License-Identifier: MIT */
/*
 * ollama_line: reading what Ollama answers (ollama.h): one response line with cJSON, except
 * message.tool_calls, whose raw bytes are cut out of the line so that they pass through
 * exactly as Ollama sent them; an HTTP status as an error code; a version against another.
 * Pure: no I/O.
 */
#include "orion/ollama.h"

#include "cJSON.h"
#include "orion/jsonw.h"
#include "orion/limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- line parsing ---- */

static int depth_of(const cJSON *j, int d)
{
    int m = d;

    for (j = j->child; j && m <= ORION_JSON_MAX_DEPTH; j = j->next) {
        int c = depth_of(j, d + 1);

        m = c > m ? c : m;
    }
    return m;
}

static int take_str(const cJSON *obj, const char *key, char **dst, size_t *len)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!s || cJSON_IsNull(s))
        return 0;
    if (!cJSON_IsString(s))
        return -1;
    *len = strlen(s->valuestring);
    if (*len == 0)
        return 0;
    *dst = orion_strndup(s->valuestring, *len);
    return *dst ? 0 : -1;
}

static long long num(const cJSON *obj, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    double d = cJSON_IsNumber(n) ? n->valuedouble : 0;

    return d > -9e18 && d < 9e18 ? (long long)d : 0; /* past long long's range: undefined */
}

static void take_final(const cJSON *j, struct ollama_final *f)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "done_reason"), *n;

    if (cJSON_IsString(r))
        snprintf(f->done_reason, sizeof f->done_reason, "%s", r->valuestring);
    f->total_duration = num(j, "total_duration");
    f->load_duration = num(j, "load_duration");
    f->prompt_eval_count = num(j, "prompt_eval_count");
    f->prompt_eval_duration = num(j, "prompt_eval_duration");
    f->eval_count = num(j, "eval_count");
    f->eval_duration = num(j, "eval_duration");
    n = cJSON_GetObjectItemCaseSensitive(j, "prompt_eval_cached_count");
    f->prompt_cached = cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble < 1e15
                           ? (long long)n->valuedouble
                           : -1;
}

static int take_tool_calls(const char *line, size_t n, bool chat, struct ollama_line *out)
{
    const char *e = line + n, *v = line;
    size_t len = n;

    if (chat && !(v = ollama_json_member(line, e, "message", &len)))
        return -1;
    v = ollama_json_member(v, v + len, "tool_calls", &len);
    if (!v || len < 2 || *v != '[')
        return v ? -1 : 0;
    if (len == 2 || (v[1] == ']'))
        return 0;
    out->tool_calls = orion_strndup(v, len);
    out->tool_calls_len = len;
    return out->tool_calls ? 0 : -1;
}

static int take_body(const cJSON *j, const char *line, size_t n, struct ollama_line *out)
{
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
    const cJSON *src = msg ? msg : j;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(src, "tool_calls");

    if (msg && !cJSON_IsObject(msg))
        return -1;
    if (take_str(src, msg ? "content" : "response", &out->delta, &out->delta_len) < 0 ||
        take_str(src, "thinking", &out->thinking, &out->thinking_len) < 0)
        return -1;
    if (tc && !cJSON_IsNull(tc) && (!cJSON_IsArray(tc) || take_tool_calls(line, n, msg != NULL, out) < 0))
        return -1;
    return 0;
}

int ollama_parse_line(const char *line, size_t n, struct ollama_line *out)
{
    cJSON *j;
    const cJSON *done;
    int rc = -1;

    memset(out, 0, sizeof *out);
    json_init();
    j = cJSON_ParseWithLength(line, n);
    if (!j || !cJSON_IsObject(j) || depth_of(j, 0) > ORION_JSON_MAX_DEPTH)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(j, "error")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        const char *s = cJSON_IsString(e) ? e->valuestring : "unknown error";

        out->error_len = strlen(s);
        out->error = orion_strndup(s, out->error_len);
        rc = out->error ? 0 : -1;
        goto out;
    }
    done = cJSON_GetObjectItemCaseSensitive(j, "done");
    if (!cJSON_IsBool(done) || take_body(j, line, n, out) < 0)
        goto out;
    out->done = cJSON_IsTrue(done);
    if (out->done) {
        take_final(j, &out->final);
        out->final.ok = true;
    }
    rc = 0;
out:
    if (rc < 0) {
        ollama_line_release(out);
        errno = errno == ENOMEM ? ENOMEM : EINVAL;
    }
    cJSON_Delete(j);
    return rc;
}

void ollama_line_release(struct ollama_line *l)
{
    orion_free(l->delta);
    orion_free(l->thinking);
    orion_free(l->tool_calls);
    orion_free(l->error);
    memset(l, 0, sizeof *l);
}

const char *ollama_status_code(int status, bool *retriable)
{
    *retriable = status == 503;
    if (status == 400)
        return "bad_request";
    if (status == 404)
        return "model_not_found";
    if (status == 503)
        return "ollama_busy";
    return "ollama_error";
}

/* "0.30.1", "v0.30.0-rc32", "0.9": numbers up to the first character that is not part of them */
int ollama_version_cmp(const char *v, int major, int minor)
{
    long x[2] = {0, 0};
    char *end;

    if (!v)
        return -2;
    if (*v == 'v')
        v++;
    for (int i = 0; i < 2; i++) {
        if (*v < '0' || *v > '9')
            return -2;
        x[i] = strtol(v, &end, 10);
        v = end;
        if (i == 0 && *v++ != '.')
            return -2;
    }
    if (x[0] != major)
        return x[0] < major ? -1 : 1;
    if (x[1] != minor)
        return x[1] < minor ? -1 : 1;
    return 0;
}
