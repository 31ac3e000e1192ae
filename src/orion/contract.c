/* SPDX-License-Identifier: MIT */
/*
 * The Redis contract: keys, request entries, the one-answer script. What the router, the
 * worker, orionctl and the HTTP front agree on lives here and nowhere else.
 */
#include "orion/contract.h"
#include "orion/limits.h"
#include "orion/orch.h"

#include "cJSON.h"

#include <stdio.h>
#include <string.h>

int contract_keys_init(struct contract_keys *k, const char *prefix)
{
    size_t n = strlen(prefix);

    if (!n || n >= sizeof(k->prefix) - 1 || n > 200)
        return -1;
    memcpy(k->prefix, prefix, n + 1);
    snprintf(k->requests, sizeof(k->requests), "%s:requests", prefix);
    snprintf(k->health, sizeof(k->health), "%s:health", prefix);
    snprintf(k->events, sizeof(k->events), "%s:events", prefix);
    snprintf(k->deadletter, sizeof(k->deadletter), "%s:deadletter", prefix);
    snprintf(k->drain, sizeof(k->drain), "%s:drain", prefix);
    snprintf(k->models, sizeof(k->models), "%s:models", prefix);
    return 0;
}

static int key_with(const struct contract_keys *k, const char *what, const char *s, size_t sn,
                    char *out, size_t n)
{
    int w = snprintf(out, n, "%s:%s:%.*s", k->prefix, what, (int)sn, s);

    return w < 0 || (size_t)w >= n ? -1 : 0;
}

int contract_node_stream(const struct contract_keys *k, const char *node, char *out, size_t n)
{
    return key_with(k, "requests", node, strlen(node), out, n);
}

int contract_done_key(const struct contract_keys *k, const char *id, size_t idlen, char *out,
                      size_t n)
{
    return key_with(k, "done", id, idlen, out, n);
}

int contract_cancel_key(const struct contract_keys *k, const char *id, size_t idlen, char *out,
                        size_t n)
{
    return key_with(k, "cancel", id, idlen, out, n);
}

bool contract_json_ok(const char *s, size_t n, char kind)
{
    cJSON *j = cJSON_ParseWithLength(s, n);
    bool good = j != NULL;

    if (j && kind == '[')
        good = cJSON_IsArray(j);
    else if (j && kind == '{')
        good = cJSON_IsObject(j);
    cJSON_Delete(j);
    return good;
}

static bool str_is(struct contract_str s, const char *lit)
{
    return s.p && s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

static bool printable(struct contract_str s)
{
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
            return false;
    return true;
}

static int parse_int(struct contract_str s, long long min, long long max, long long *out)
{
    long long v = 0;

    if (!s.n || s.n > 18)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

struct field_slot {
    const char *name;
    size_t off;
};

#define SLOT(f) {#f, offsetof(struct contract_request, f)}
static const struct field_slot slots[] = {
    SLOT(request_id), SLOT(model),  SLOT(messages), SLOT(prompt), SLOT(system),     SLOT(options),
    SLOT(format),     SLOT(tools),  SLOT(think),    SLOT(images), SLOT(keep_alive), SLOT(callback),
    SLOT(node),       SLOT(suffix), SLOT(task_type), SLOT(role),
    SLOT(orchestration_mode), SLOT(models),
};

static struct contract_str *slot_of(struct contract_request *r, const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        if (strlen(slots[i].name) == n && !memcmp(slots[i].name, name, n))
            return (struct contract_str *)((char *)r + slots[i].off);
    return NULL;
}

/* Pass 1: pick the fields out. Pass 2 (check_fields) judges them. */
static int collect(const struct resp_reply *f, struct contract_request *r, struct contract_str *pri,
                   struct contract_str *tmo, struct contract_str *stream, struct contract_str *att,
                   struct contract_str *routed, char *err, size_t errlen)
{
    for (size_t i = 0; i + 1 < f->n; i += 2) {
        const struct resp_reply *k = &f->elem[i], *v = &f->elem[i + 1];
        struct contract_str *dst, val;

        if (k->type != RESP_BULK || v->type != RESP_BULK)
            continue;
        val.p = v->str;
        val.n = v->len;
        dst = slot_of(r, k->str, k->len);
        if (!dst) {
            if (k->len == 8 && !memcmp(k->str, "priority", 8))
                dst = pri;
            else if (k->len == 10 && !memcmp(k->str, "timeout_ms", 10))
                dst = tmo;
            else if (k->len == 6 && !memcmp(k->str, "stream", 6))
                dst = stream;
            else if (k->len == 7 && !memcmp(k->str, "attempt", 7))
                dst = att;
            else if (k->len == 9 && !memcmp(k->str, "routed_at", 9))
                dst = routed;
            else
                continue;
        }
        if (v->len > ORION_FIELD_MAX) {
            snprintf(err, errlen, "field '%.*s' is larger than %u bytes", (int)k->len, k->str,
                     ORION_FIELD_MAX);
            return -1;
        }
        *dst = val;
    }
    return 0;
}

static int check_json_fields(const struct contract_request *r, char *err, size_t errlen)
{
    const struct {
        const char *name;
        struct contract_str v;
        char kind;
    } js[] = {{"messages", r->messages, '['}, {"options", r->options, '{'},
              {"format", r->format, 0},       {"tools", r->tools, '['},
              {"images", r->images, '['}};

    for (size_t i = 0; i < sizeof(js) / sizeof(js[0]); i++) {
        if (js[i].v.p && !contract_json_ok(js[i].v.p, js[i].v.n, js[i].kind)) {
            snprintf(err, errlen, "field '%s' is not a JSON %s", js[i].name,
                     js[i].kind == '[' ? "array" : js[i].kind == '{' ? "object" : "value");
            return -1;
        }
    }
    return 0;
}

static int check_model(const struct contract_request *r, char *err, size_t errlen)
{
    if (r->model.p && (r->model.n > ORION_MODEL_MAX || !printable(r->model) ||
                       memchr(r->model.p, ' ', r->model.n))) {
        snprintf(err, errlen, "field 'model' is not a model name");
        return -1;
    }
    if (r->task_type.p && (r->task_type.n > 64 || !printable(r->task_type))) {
        snprintf(err, errlen, "field 'task_type' is not a task type (printable, at most 64 bytes)");
        return -1;
    }
    if (!!r->messages.p == !!r->prompt.p) {
        snprintf(err, errlen, r->messages.p ? "give 'messages' or 'prompt', not both"
                                            : "field 'messages' or 'prompt' is required");
        return -1;
    }
    if (r->think.p && !str_is(r->think, "true") && !str_is(r->think, "false") &&
        !str_is(r->think, "low") && !str_is(r->think, "medium") && !str_is(r->think, "high") &&
        !str_is(r->think, "max")) {
        snprintf(err, errlen, "field 'think' must be true, false, low, medium, high or max");
        return -1;
    }
    return 0;
}

static int check_numbers(struct contract_request *r, struct contract_str pri, struct contract_str tmo,
                         struct contract_str stream, struct contract_str att,
                         struct contract_str routed, char *err, size_t errlen)
{
    long long v;

    if (pri.p) {
        if (parse_int(pri, 1, 3, &v) < 0) {
            snprintf(err, errlen, "field 'priority' must be 1, 2 or 3");
            return -1;
        }
        r->priority = (int)v;
        r->has_priority = true;
    }
    if (tmo.p) {
        if (parse_int(tmo, 1, 7LL * 86400 * 1000, &r->timeout_ms) < 0) {
            snprintf(err, errlen, "field 'timeout_ms' must be a positive integer of ms");
            return -1;
        }
    }
    if (stream.p) {
        if (!str_is(stream, "true") && !str_is(stream, "false") && !str_is(stream, "1") &&
            !str_is(stream, "0")) {
            snprintf(err, errlen, "field 'stream' must be true or false");
            return -1;
        }
        r->stream = str_is(stream, "true") || str_is(stream, "1");
    }
    if (att.p && parse_int(att, 0, 1000, &v) == 0)
        r->attempt = (int)v;
    if (routed.p)
        parse_int(routed, 0, (long long)1 << 50, &r->routed_at);
    return 0;
}

/* orchestration_mode one of the modes; models a JSON array of 1..ORCH_MAX_MODELS names. */
static int check_orch(const struct contract_request *r, char *err, size_t errlen)
{
    enum orch_mode m;
    cJSON *j, *e, *arr;
    int n = 0;

    if (r->orchestration_mode.p &&
        orch_mode_parse(r->orchestration_mode.p, r->orchestration_mode.n, &m) < 0) {
        snprintf(err, errlen, "field 'orchestration_mode' must be single, critique, debate, "
                              "ensemble or pipeline");
        return -1;
    }
    if (!r->models.p)
        return 0;
    j = cJSON_ParseWithLength(r->models.p, r->models.n);
    arr = cJSON_IsArray(j) ? j : NULL;
    cJSON_ArrayForEach(e, arr)
    {
        struct contract_str v;
        if (!cJSON_IsString(e) || ++n > ORCH_MAX_MODELS)
            break;
        v.p = e->valuestring;
        v.n = strlen(v.p);
        if (!v.n || v.n > ORION_MODEL_MAX || !printable(v) || memchr(v.p, ' ', v.n))
            break;
    }
    if (!cJSON_IsArray(j) || e || !n) {
        cJSON_Delete(j);
        snprintf(err, errlen, "field 'models' must be a JSON array of 1 to %d model names",
                 ORCH_MAX_MODELS);
        return -1;
    }
    cJSON_Delete(j);
    return 0;
}

int contract_request_parse(const struct resp_reply *fields, const char *entry_id,
                           struct contract_request *r, char *err, size_t errlen)
{
    struct contract_str pri = {0}, tmo = {0}, stream = {0}, att = {0}, routed = {0};

    memset(r, 0, sizeof(*r));
    r->entry_id = entry_id;
    r->priority = 2;
    if (!fields || fields->type != RESP_ARRAY) {
        snprintf(err, errlen, "entry has no fields");
        return -1;
    }
    if (collect(fields, r, &pri, &tmo, &stream, &att, &routed, err, errlen) < 0)
        return -1;
    if (r->callback.p && (r->callback.n > 256 || !printable(r->callback))) {
        r->callback.p = NULL; /* never write to a key we cannot trust */
        snprintf(err, errlen, "field 'callback' is not a key name (printable, at most 256 bytes)");
        return -1;
    }
    if (check_model(r, err, errlen) < 0)
        return -1;
    if (r->node.p && (!r->node.n || r->node.n > ORION_NODE_ID_MAX || !printable(r->node) ||
                      memchr(r->node.p, ' ', r->node.n))) {
        snprintf(err, errlen, "field 'node' is not a node id");
        return -1;
    }
    if (check_numbers(r, pri, tmo, stream, att, routed, err, errlen) < 0 ||
        check_orch(r, err, errlen) < 0)
        return -1;
    return check_json_fields(r, err, errlen);
}

struct contract_str contract_request_id(const struct contract_request *r)
{
    struct contract_str s = r->request_id;

    if (!s.p || !s.n || s.n > 256 || !printable(s)) {
        s.p = r->entry_id;
        s.n = r->entry_id ? strlen(r->entry_id) : 0;
    }
    return s;
}

const char contract_answer_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])\n"
    "  redis.call('XDEL', KEYS[2], ARGV[2])\n"
    "  return 0\n"
    "end\n"
    "if KEYS[3] and #ARGV > 5 then\n"
    "  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', unpack(ARGV, 6))\n"
    "  redis.call('EXPIRE', KEYS[3], ARGV[4])\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])\n"
    "redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])\n"
    "redis.call('XDEL', KEYS[2], ARGV[2])\n"
    "return 1\n";

/* Without a callback the script gets two keys, not an empty third: an ACL user then needs
 * no rule for the empty key name. */
void contract_answer_begin(struct resp_cmd *c, const char *done_key, const char *callback,
                           size_t callback_len, const char *source, const char *group,
                           const char *entry_id)
{
    bool cb = callback && callback_len > 0;

    resp_cmd_adds(c, "EVAL");
    resp_cmd_adds(c, contract_answer_lua);
    resp_cmd_adds(c, cb ? "3" : "2");
    resp_cmd_adds(c, done_key);
    resp_cmd_adds(c, source);
    if (cb)
        resp_cmd_add(c, callback, callback_len);
    resp_cmd_adds(c, group);
    resp_cmd_adds(c, entry_id);
    resp_cmd_addf(c, "%d", CONTRACT_DONE_TTL_S);
    resp_cmd_addf(c, "%d", CONTRACT_CALLBACK_TTL_S);
    resp_cmd_addf(c, "%d", CONTRACT_MAXLEN);
}
