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
    snprintf(k->backends, sizeof(k->backends), "%s:backends", prefix);
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

int contract_admin_stream(const struct contract_keys *k, const char *node, char *out, size_t n)
{
    return key_with(k, "admin", node, strlen(node), out, n);
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
    SLOT(request_id), SLOT(model),    SLOT(messages), SLOT(prompt),   SLOT(system),
    SLOT(options),    SLOT(format),   SLOT(tools),    SLOT(think),    SLOT(images),
    SLOT(keep_alive), SLOT(callback), SLOT(node),     SLOT(suffix),   SLOT(input),
    SLOT(truncate),   SLOT(task_type), SLOT(role),    SLOT(orchestration_mode), SLOT(models),
};

/* The fields read as numbers or flags, kept as text until check_numbers judges them. */
struct raw_nums {
    struct contract_str priority, timeout_ms, stream, attempt, routed_at, dimensions, legacy;
};

#define NUM(f) {#f, offsetof(struct raw_nums, f)}
static const struct field_slot num_slots[] = {
    NUM(priority), NUM(timeout_ms), NUM(stream), NUM(attempt), NUM(routed_at), NUM(dimensions),
    NUM(legacy),
};

static struct contract_str *slot_in(void *base, const struct field_slot *t, size_t nt,
                                    const char *name, size_t n)
{
    for (size_t i = 0; i < nt; i++)
        if (strlen(t[i].name) == n && !memcmp(t[i].name, name, n))
            return (struct contract_str *)((char *)base + t[i].off);
    return NULL;
}

/* Pass 1: pick the fields out. Pass 2 (the checks below) judges them. */
static int collect(const struct resp_reply *f, struct contract_request *r, struct raw_nums *nums,
                   char *err, size_t errlen)
{
    for (size_t i = 0; i + 1 < f->n; i += 2) {
        const struct resp_reply *k = &f->elem[i], *v = &f->elem[i + 1];
        struct contract_str *dst, val;

        if (k->type != RESP_BULK || v->type != RESP_BULK)
            continue;
        val.p = v->str;
        val.n = v->len;
        dst = slot_in(r, slots, sizeof(slots) / sizeof(slots[0]), k->str, k->len);
        if (!dst)
            dst = slot_in(nums, num_slots, sizeof(num_slots) / sizeof(num_slots[0]), k->str,
                          k->len);
        if (!dst)
            continue;
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

int contract_input_count(const char *s, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(s, n);
    const cJSON *e, *list = cJSON_IsArray(j) ? j : NULL;
    int count = 0;

    if (cJSON_IsString(j))
        count = 1;
    else if (!list)
        count = -1;
    cJSON_ArrayForEach(e, list) {
        if (!cJSON_IsString(e) || count >= ORION_EMBED_MAX_INPUTS) {
            count = -1;
            break;
        }
        count++;
    }
    cJSON_Delete(j);
    return count;
}

/* An embedding request's own fields: input, truncate, legacy. */
static int check_embed(const struct contract_request *r, char *err, size_t errlen)
{
    if (r->kind != CONTRACT_EMBED) {
        if (r->truncate.p || r->dimensions || r->legacy) {
            snprintf(err, errlen, "fields 'truncate', 'dimensions' and 'legacy' need 'input'");
            return -1;
        }
        return 0;
    }
    if (contract_input_count(r->input.p, r->input.n) < 0) {
        snprintf(err, errlen, "field 'input' is not a JSON string or an array of at most %d "
                 "strings", ORION_EMBED_MAX_INPUTS);
        return -1;
    }
    if (r->legacy && r->input.p[0] != '"') {
        snprintf(err, errlen, "field 'input' must be one JSON string with legacy=true");
        return -1;
    }
    if (r->truncate.p && !str_is(r->truncate, "true") && !str_is(r->truncate, "false")) {
        snprintf(err, errlen, "field 'truncate' must be true or false");
        return -1;
    }
    return 0;
}

static int check_model(struct contract_request *r, char *err, size_t errlen)
{
    int given = !!r->messages.p + !!r->prompt.p + !!r->input.p;

    if (r->model.p && (r->model.n > ORION_MODEL_MAX || !printable(r->model) ||
                       memchr(r->model.p, ' ', r->model.n))) {
        snprintf(err, errlen, "field 'model' is not a model name");
        return -1;
    }
    if (r->task_type.p && (r->task_type.n > 64 || !printable(r->task_type))) {
        snprintf(err, errlen, "field 'task_type' is not a task type (printable, at most 64 bytes)");
        return -1;
    }
    if (given != 1) {
        snprintf(err, errlen, given ? "give one of 'messages', 'prompt' and 'input', not more"
                                    : "field 'messages', 'prompt' or 'input' is required");
        return -1;
    }
    r->kind = r->messages.p ? CONTRACT_CHAT : r->prompt.p ? CONTRACT_GENERATE : CONTRACT_EMBED;
    if (r->think.p && !str_is(r->think, "true") && !str_is(r->think, "false") &&
        !str_is(r->think, "low") && !str_is(r->think, "medium") && !str_is(r->think, "high") &&
        !str_is(r->think, "max")) {
        snprintf(err, errlen, "field 'think' must be true, false, low, medium, high or max");
        return -1;
    }
    return 0;
}

static bool flag_ok(struct contract_str s, bool *out)
{
    if (!str_is(s, "true") && !str_is(s, "false") && !str_is(s, "1") && !str_is(s, "0"))
        return false;
    *out = str_is(s, "true") || str_is(s, "1");
    return true;
}

static int check_numbers(struct contract_request *r, const struct raw_nums *nu, char *err,
                         size_t errlen)
{
    long long v;

    if (nu->priority.p) {
        if (parse_int(nu->priority, 1, 3, &v) < 0) {
            snprintf(err, errlen, "field 'priority' must be 1, 2 or 3");
            return -1;
        }
        r->priority = (int)v;
        r->has_priority = true;
    }
    if (nu->timeout_ms.p && parse_int(nu->timeout_ms, 1, 7LL * 86400 * 1000, &r->timeout_ms) < 0) {
        snprintf(err, errlen, "field 'timeout_ms' must be a positive integer of ms");
        return -1;
    }
    if (nu->stream.p && !flag_ok(nu->stream, &r->stream)) {
        snprintf(err, errlen, "field 'stream' must be true or false");
        return -1;
    }
    if (nu->legacy.p && !flag_ok(nu->legacy, &r->legacy)) {
        snprintf(err, errlen, "field 'legacy' must be true or false");
        return -1;
    }
    if (nu->dimensions.p && parse_int(nu->dimensions, 1, 65536, &r->dimensions) < 0) {
        snprintf(err, errlen, "field 'dimensions' must be an integer from 1 to 65536");
        return -1;
    }
    if (nu->attempt.p && parse_int(nu->attempt, 0, 1000, &v) == 0)
        r->attempt = (int)v;
    if (nu->routed_at.p)
        parse_int(nu->routed_at, 0, (long long)1 << 50, &r->routed_at);
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
    struct raw_nums nums;

    memset(r, 0, sizeof(*r));
    memset(&nums, 0, sizeof(nums));
    r->entry_id = entry_id;
    r->priority = 2;
    if (!fields || fields->type != RESP_ARRAY) {
        snprintf(err, errlen, "entry has no fields");
        return -1;
    }
    if (collect(fields, r, &nums, err, errlen) < 0)
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
    if (check_numbers(r, &nums, err, errlen) < 0 || check_embed(r, err, errlen) < 0 ||
        check_orch(r, err, errlen) < 0)
        return -1;
    return check_json_fields(r, err, errlen);
}

const char *contract_op_name(enum contract_op op)
{
    return op == CONTRACT_PULL ? "pull" : op == CONTRACT_COPY ? "copy"
           : op == CONTRACT_DELETE ? "delete" : NULL;
}

static bool name_ok(struct contract_str s)
{
    return s.p && s.n && s.n <= ORION_MODEL_MAX && printable(s) && !memchr(s.p, ' ', s.n);
}

int contract_admin_parse(const struct resp_reply *f, const char *entry_id,
                         struct contract_admin *a, char *err, size_t errlen)
{
    struct contract_str op = {0}, insecure = {0};

    memset(a, 0, sizeof(*a));
    a->entry_id = entry_id;
    if (!f || f->type != RESP_ARRAY) {
        snprintf(err, errlen, "entry has no fields");
        return -1;
    }
    for (size_t i = 0; i + 1 < f->n; i += 2) {
        const struct resp_reply *k = &f->elem[i], *v = &f->elem[i + 1];
        struct contract_str val = {v->str, v->len};
        if (k->type != RESP_BULK || v->type != RESP_BULK || v->len > ORION_FIELD_MAX)
            continue;
        if (resp_str_eq(k, "request_id"))
            a->request_id = val;
        else if (resp_str_eq(k, "model"))
            a->model = val;
        else if (resp_str_eq(k, "destination"))
            a->destination = val;
        else if (resp_str_eq(k, "callback"))
            a->callback = val;
        else if (resp_str_eq(k, "op"))
            op = val;
        else if (resp_str_eq(k, "insecure"))
            insecure = val;
    }
    if (a->callback.p && (a->callback.n > 256 || !printable(a->callback))) {
        a->callback.p = NULL;
        snprintf(err, errlen, "field 'callback' is not a key name (printable, at most 256 bytes)");
        return -1;
    }
    a->op = str_is(op, "pull") ? CONTRACT_PULL : str_is(op, "copy") ? CONTRACT_COPY
            : str_is(op, "delete") ? CONTRACT_DELETE : 0;
    if (!a->op) {
        snprintf(err, errlen, "field 'op' must be pull, copy or delete");
        return -1;
    }
    if (!name_ok(a->model) || (a->op == CONTRACT_COPY && !name_ok(a->destination))) {
        snprintf(err, errlen, "field '%s' is not a model name",
                 name_ok(a->model) ? "destination" : "model");
        return -1;
    }
    if (insecure.p && !flag_ok(insecure, &a->insecure)) {
        snprintf(err, errlen, "field 'insecure' must be true or false");
        return -1;
    }
    return 0;
}

static struct contract_str id_or_entry(struct contract_str s, const char *entry_id)
{
    if (!s.p || !s.n || s.n > 256 || !printable(s)) {
        s.p = entry_id;
        s.n = entry_id ? strlen(entry_id) : 0;
    }
    return s;
}

struct contract_str contract_request_id(const struct contract_request *r)
{
    return id_or_entry(r->request_id, r->entry_id);
}

struct contract_str contract_admin_id(const struct contract_admin *a)
{
    return id_or_entry(a->request_id, a->entry_id);
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
