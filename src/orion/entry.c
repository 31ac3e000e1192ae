/* SPDX-License-Identifier: MIT */
/* The contract's stream entries (answers, chunks, events, routed, deadletter, cancel), both ways. */
#include "orion/entry.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define MAXLEN STR(CONTRACT_MAXLEN)

const char *const entry_counter_names[ENTRY_NCOUNTERS] = {
    "total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count",
    "eval_duration"};

struct contract_str entry_cstr(const char *s)
{
    struct contract_str v = {s, s ? strlen(s) : 0};

    return v;
}

bool entry_is(struct contract_str s, const char *lit)
{
    return s.p && s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

static void put(struct entry_argv *a, const char *p, size_t n)
{
    if (a->argc >= RESP_CMD_MAX_ARGS) {
        a->full = true;
        return;
    }
    a->argv[a->argc] = p;
    a->len[a->argc++] = n;
}

static void puts_(struct entry_argv *a, const char *s) { put(a, s, strlen(s)); }

static void put_str(struct entry_argv *a, struct contract_str s) { put(a, s.p ? s.p : "", s.n); }

static void put_num(struct entry_argv *a, int slot, long long v)
{
    int n = snprintf(a->num[slot], sizeof(a->num[slot]), "%lld", v);

    put(a, a->num[slot], (size_t)n);
}

/* XADD stream MAXLEN ~ N *: every stream the contract appends to is trimmed alike. */
static void xadd_trimmed(struct entry_argv *a, const char *stream, size_t n)
{
    memset(a, 0, sizeof(*a));
    puts_(a, "XADD");
    put(a, stream, n);
    puts_(a, "MAXLEN");
    puts_(a, "~");
    puts_(a, MAXLEN);
    puts_(a, "*");
}

void entry_request_begin(struct resp_cmd *c, const struct contract_keys *k)
{
    resp_cmd_adds(c, "XADD");
    resp_cmd_adds(c, k->requests);
    resp_cmd_adds(c, "*");
}

void entry_answer_begin(struct resp_cmd *c, const struct contract_keys *k,
                        const struct contract_request *req, const char *source,
                        const char *group, const char *node)
{
    struct contract_str id = contract_request_id(req);
    char done[CONTRACT_KEY_MAX];

    if (contract_done_key(k, id.p, id.n, done, sizeof(done)) < 0)
        snprintf(done, sizeof(done), "%s:done:%s", k->prefix, req->entry_id);
    contract_answer_begin(c, done, req->callback.p, req->callback.n, source, group,
                          req->entry_id);
    resp_cmd_adds(c, "request_id");
    resp_cmd_add(c, id.p, id.n);
    if (node) {
        resp_cmd_adds(c, "node_id");
        resp_cmd_adds(c, node);
    }
}

void entry_answer_error(struct resp_cmd *c, const char *code, bool retriable, const char *msg,
                        struct contract_str model)
{
    resp_cmd_adds(c, "type");
    resp_cmd_adds(c, "error");
    resp_cmd_adds(c, "status");
    resp_cmd_adds(c, "error");
    resp_cmd_adds(c, "error");
    resp_cmd_adds(c, msg);
    resp_cmd_adds(c, "code");
    resp_cmd_adds(c, code);
    resp_cmd_adds(c, "retriable");
    resp_cmd_adds(c, retriable ? "true" : "false");
    if (model.p) {
        resp_cmd_adds(c, "model");
        resp_cmd_add(c, model.p, model.n);
    }
}

void entry_answer_error_more(struct resp_cmd *c, const char *details, long retry_after_ms)
{
    if (details) {
        resp_cmd_adds(c, "details");
        resp_cmd_adds(c, details);
    }
    if (retry_after_ms > 0) {
        resp_cmd_adds(c, "retry_after_ms");
        resp_cmd_addf(c, "%ld", retry_after_ms);
    }
}

void entry_answer_orch(struct resp_cmd *c, const char *orch, const char *meta)
{
    resp_cmd_adds(c, "orchestration");
    resp_cmd_adds(c, orch);
    resp_cmd_adds(c, "inference_metadata");
    resp_cmd_adds(c, meta);
}

void entry_answer_done(struct resp_cmd *c, const struct entry_done *d)
{
    resp_cmd_adds(c, "type");
    resp_cmd_adds(c, "done");
    resp_cmd_adds(c, "status");
    resp_cmd_adds(c, "ok");
    resp_cmd_adds(c, "response");
    resp_cmd_add(c, d->response.p ? d->response.p : "", d->response.n);
    if (d->message.p) {
        resp_cmd_adds(c, "message");
        resp_cmd_add(c, d->message.p, d->message.n);
    }
    resp_cmd_adds(c, "model");
    resp_cmd_add(c, d->model.p ? d->model.p : "", d->model.n);
    if (d->role.p) {
        resp_cmd_adds(c, "role");
        resp_cmd_add(c, d->role.p, d->role.n);
    }
    resp_cmd_adds(c, "done_reason");
    resp_cmd_adds(c, d->done_reason);
    for (int i = 0; i < ENTRY_NCOUNTERS; i++) {
        resp_cmd_adds(c, entry_counter_names[i]);
        resp_cmd_addf(c, "%lld", d->counter[i]);
    }
}

void entry_answer_embed(struct resp_cmd *c, const struct entry_embed *e)
{
    resp_cmd_adds(c, "type");
    resp_cmd_adds(c, "done");
    resp_cmd_adds(c, "status");
    resp_cmd_adds(c, "ok");
    resp_cmd_adds(c, "embeddings");
    resp_cmd_add(c, e->embeddings.p ? e->embeddings.p : "[]", e->embeddings.p ? e->embeddings.n : 2);
    resp_cmd_adds(c, "model");
    resp_cmd_add(c, e->model.p ? e->model.p : "", e->model.n);
    resp_cmd_adds(c, "done_reason");
    resp_cmd_adds(c, "stop");
    for (int i = 0; i < ENTRY_NCOUNTERS; i++) {
        resp_cmd_adds(c, entry_counter_names[i]);
        resp_cmd_addf(c, "%lld", e->counter[i]);
    }
}

static void add_opt(struct resp_cmd *c, const char *name, const char *v)
{
    if (!v)
        return;
    resp_cmd_adds(c, name);
    resp_cmd_adds(c, v);
}

void entry_admin(struct resp_cmd *c, const char *stream, const struct entry_admin *a)
{
    resp_cmd_adds(c, "XADD");
    resp_cmd_adds(c, stream);
    resp_cmd_adds(c, "MAXLEN");
    resp_cmd_adds(c, "~");
    resp_cmd_adds(c, MAXLEN);
    resp_cmd_adds(c, "*");
    add_opt(c, "request_id", a->request_id);
    add_opt(c, "op", a->op);
    add_opt(c, "model", a->model);
    add_opt(c, "destination", a->destination);
    add_opt(c, "insecure", a->insecure ? "true" : NULL);
    add_opt(c, "callback", a->callback);
}

void entry_admin_answer_begin(struct resp_cmd *c, const struct contract_keys *k,
                              const struct contract_admin *a, const char *source,
                              const char *group, const char *node)
{
    struct contract_request r;

    memset(&r, 0, sizeof(r)); /* the answer's head needs only the ids and the callback */
    r.entry_id = a->entry_id;
    r.request_id = contract_admin_id(a);
    r.callback = a->callback;
    entry_answer_begin(c, k, &r, source, group, node);
}

void entry_admin_done(struct resp_cmd *c, const struct contract_admin *a)
{
    resp_cmd_adds(c, "type");
    resp_cmd_adds(c, "done");
    resp_cmd_adds(c, "status");
    resp_cmd_adds(c, "ok");
    resp_cmd_adds(c, "op");
    resp_cmd_adds(c, contract_op_name(a->op) ? contract_op_name(a->op) : "");
    resp_cmd_adds(c, "model");
    resp_cmd_add(c, a->model.p ? a->model.p : "", a->model.n);
    if (a->destination.p) {
        resp_cmd_adds(c, "destination");
        resp_cmd_add(c, a->destination.p, a->destination.n);
    }
}

void entry_progress(struct entry_argv *a, struct contract_str callback, struct contract_str id,
                    const char *node, long seq, const struct entry_progress *p)
{
    xadd_trimmed(a, callback.p, callback.n);
    puts_(a, "request_id");
    put_str(a, id);
    puts_(a, "node_id");
    puts_(a, node);
    puts_(a, "type");
    puts_(a, "progress");
    puts_(a, "seq");
    put_num(a, 0, seq);
    puts_(a, "progress");
    puts_(a, p->status ? p->status : "");
    if (p->digest && *p->digest) {
        puts_(a, "digest");
        puts_(a, p->digest);
    }
    if (p->total >= 0) {
        puts_(a, "total");
        put_num(a, 1, p->total);
    }
    if (p->completed >= 0) {
        puts_(a, "completed");
        put_num(a, 2, p->completed);
    }
}

void entry_chunk(struct entry_argv *a, struct contract_str callback, struct contract_str id,
                 long seq, const char *delta, size_t n, const char *thinking, size_t tn)
{
    xadd_trimmed(a, callback.p, callback.n);
    puts_(a, "request_id");
    put_str(a, id);
    puts_(a, "type");
    puts_(a, "chunk");
    puts_(a, "seq");
    put_num(a, 0, seq);
    puts_(a, "delta");
    put(a, delta, n);
    if (tn) {
        puts_(a, "thinking");
        put(a, thinking, tn);
    }
}

void entry_orch_progress(struct entry_argv *a, struct contract_str callback,
                         struct contract_str id, const char *json, size_t n)
{
    xadd_trimmed(a, callback.p, callback.n);
    puts_(a, "request_id");
    put_str(a, id);
    puts_(a, "type");
    puts_(a, "progress");
    puts_(a, "progress");
    put(a, json, n);
}

void entry_event_init(struct entry_event *e)
{
    memset(e, 0, sizeof(*e));
    e->total_duration = e->load_duration = -1;
    e->prompt_eval_count = e->prompt_eval_duration = e->eval_count = e->eval_duration = -1;
    e->prompt_cached = e->prompt_est = e->first_token_ms = -1;
}

/* The optional numbers of an event, written each when known: name and place. */
struct numslot {
    const char *name;
    size_t off;
};
#define NUM(member) {#member, offsetof(struct entry_event, member)}
static const struct numslot event_nums[] = {NUM(prompt_eval_count), NUM(prompt_eval_duration),
                                            NUM(eval_count), NUM(eval_duration),
                                            NUM(prompt_cached)};
#define NEVENT_NUMS (sizeof(event_nums) / sizeof(event_nums[0]))

void entry_event(struct entry_argv *a, const struct contract_keys *k, const struct entry_event *e)
{
    int slot = 2;

    xadd_trimmed(a, k->events, strlen(k->events));
    puts_(a, "type");
    put_str(a, e->type);
    puts_(a, "request_id");
    put_str(a, e->request_id);
    puts_(a, "node_id");
    put_str(a, e->node);
    puts_(a, "model");
    put_str(a, e->model);
    if (e->kind.p) {
        puts_(a, "kind");
        put_str(a, e->kind);
    }
    if (e->info.p) {
        puts_(a, "info");
        put_str(a, e->info);
    }
    if (e->total_duration >= 0 && e->load_duration >= 0) {
        puts_(a, "total_duration");
        put_num(a, 0, e->total_duration);
        puts_(a, "load_duration");
        put_num(a, 1, e->load_duration);
    }
    for (size_t i = 0; i < NEVENT_NUMS; i++) {
        long long v = *(const long long *)((const char *)e + event_nums[i].off);
        if (v < 0)
            continue;
        puts_(a, event_nums[i].name);
        put_num(a, slot++, v);
    }
    if (e->total_duration >= 0 && e->load_duration >= 0 && e->has_first_token &&
        e->first_token_ms >= 0) { /* a done event's, measured by the node's runner */
        puts_(a, "first_token_ms");
        put_num(a, ENTRY_NUM_SLOTS - 1, e->first_token_ms);
    }
    if (e->code.p) {
        puts_(a, "code");
        put_str(a, e->code);
    }
    if (e->role.p) {
        puts_(a, "role");
        put_str(a, e->role);
    }
    if (e->task_type.p) {
        puts_(a, "task_type");
        put_str(a, e->task_type);
    }
    if (e->requested.p) {
        puts_(a, "requested");
        put_str(a, e->requested);
    }
    if (e->prompt_est > 0 && e->prompt_eval_count >= 0) { /* the count: among the numbers */
        puts_(a, "prompt_est");
        put_num(a, slot, e->prompt_est);
    }
}

static bool routed_field(const struct resp_reply *k, struct contract_str model,
                         struct contract_str role)
{
    return resp_str_eq(k, "attempt") || resp_str_eq(k, "routed_at") ||
           resp_str_eq(k, "request_id") || (model.p && resp_str_eq(k, "model")) ||
           (role.p && resp_str_eq(k, "role"));
}

void entry_routed(struct entry_argv *a, const char *stream, const struct resp_reply *fields,
                  struct contract_str id, int attempt, long long routed_at_ms,
                  struct contract_str model, struct contract_str role)
{
    memset(a, 0, sizeof(*a));
    puts_(a, "XADD");
    puts_(a, stream);
    puts_(a, "*");
    for (size_t i = 0; i + 1 < fields->n; i += 2) {
        if (routed_field(&fields->elem[i], model, role))
            continue;
        if (a->argc + 12 > RESP_CMD_MAX_ARGS) { /* room for the ten words below */
            a->full = true;
            return;
        }
        put(a, fields->elem[i].str, fields->elem[i].len);
        put(a, fields->elem[i + 1].str, fields->elem[i + 1].len);
    }
    if (model.p) {
        puts_(a, "model");
        put_str(a, model);
    }
    if (role.p) {
        puts_(a, "role");
        put_str(a, role);
    }
    puts_(a, "request_id");
    put_str(a, id);
    puts_(a, "attempt");
    put_num(a, 0, attempt);
    puts_(a, "routed_at");
    put_num(a, 1, routed_at_ms);
}

void entry_deadletter(struct entry_argv *a, const struct contract_keys *k,
                      const struct resp_reply *fields)
{
    xadd_trimmed(a, k->deadletter, strlen(k->deadletter));
    for (size_t i = 0; i + 1 < fields->n && a->argc + 2 < RESP_CMD_MAX_ARGS; i += 2) {
        put(a, fields->elem[i].str, fields->elem[i].len);
        put(a, fields->elem[i + 1].str, fields->elem[i + 1].len);
    }
}

int entry_cancel(struct entry_argv *a, char *key, const struct contract_keys *k, const char *id,
                 size_t n)
{
    memset(a, 0, sizeof(*a));
    if (contract_cancel_key(k, id, n, key, CONTRACT_KEY_MAX) < 0)
        return -1;
    puts_(a, "SET");
    puts_(a, key);
    puts_(a, "1");
    puts_(a, "EX");
    puts_(a, ENTRY_CANCEL_TTL);
    return 0;
}

/* --- reading ------------------------------------------------------------------------------ */

static struct contract_str field(const struct resp_reply *f, const char *name)
{
    const struct resp_reply *v = resp_field(f, name);
    struct contract_str s = {"", 0};

    if (v && v->type == RESP_BULK) {
        s.p = v->str;
        s.n = v->len;
    }
    return s;
}

static bool digits(struct contract_str s) { return s.n && s.n < 24 && strspn(s.p, "0123456789") >= s.n; }

/* The value of a run of digits, LLONG_MAX past it (23 digits would overflow). */
static long long number(struct contract_str s)
{
    long long v = 0;

    for (size_t i = 0; i < s.n; i++) {
        if (v > (LLONG_MAX - 9) / 10)
            return LLONG_MAX;
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

/* The string fields of a struct read from an entry: name and place. */
struct slot {
    const char *name;
    size_t off;
};

static void read_slots(const struct resp_reply *f, void *out, const struct slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        *(struct contract_str *)((char *)out + s[i].off) = field(f, s[i].name);
}

#define SLOT(type, name, member) {name, offsetof(struct type, member)}

void entry_answer_read(const struct resp_reply *f, struct entry_answer *a)
{
    static const struct slot slots[] = {
        SLOT(entry_answer, "request_id", request_id), SLOT(entry_answer, "node_id", node),
        SLOT(entry_answer, "model", model),           SLOT(entry_answer, "delta", delta),
        SLOT(entry_answer, "thinking", thinking),
        SLOT(entry_answer, "response", response),     SLOT(entry_answer, "message", message),
        SLOT(entry_answer, "done_reason", done_reason), SLOT(entry_answer, "error", error),
        SLOT(entry_answer, "code", code),         SLOT(entry_answer, "embeddings", embeddings),
        SLOT(entry_answer, "op", op),             SLOT(entry_answer, "progress", progress),
        SLOT(entry_answer, "digest", digest),     SLOT(entry_answer, "total", total),
        SLOT(entry_answer, "completed", completed), SLOT(entry_answer, "role", role),
        SLOT(entry_answer, "details", details),
        SLOT(entry_answer, "orchestration", orchestration),
        SLOT(entry_answer, "inference_metadata", metadata)};
    struct contract_str ra = field(f, "retry_after_ms");
    struct contract_str type = field(f, "type");

    a->type = entry_is(type, "chunk")   ? ENTRY_CHUNK
              : entry_is(type, "done")  ? ENTRY_DONE
              : entry_is(type, "error") ? ENTRY_ERROR
              : entry_is(type, "progress") ? ENTRY_PROGRESS
                                        : ENTRY_OTHER;
    read_slots(f, a, slots, sizeof(slots) / sizeof(slots[0]));
    if (!digits(a->total))
        a->total.p = "", a->total.n = 0;
    if (!digits(a->completed))
        a->completed.p = "", a->completed.n = 0;
    a->retriable = entry_is(field(f, "retriable"), "true");
    a->retry_after_ms = digits(ra) && ra.n < 10 ? (long)number(ra) : 0;
    for (int i = 0; i < ENTRY_NCOUNTERS; i++) {
        a->counter[i] = field(f, entry_counter_names[i]);
        if (!digits(a->counter[i]))
            a->counter[i].p = "", a->counter[i].n = 0;
    }
}

long long entry_counter(const struct entry_answer *a, int which) { return number(a->counter[which]); }

/* JSON white space */
static bool ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int entry_vec_next(const char *s, size_t n, size_t *pos, const char **v, size_t *vlen)
{
    size_t i = *pos;
    int depth = 0;

    if (i == 0) { /* past the outer '[' */
        while (i < n && ws(s[i]))
            i++;
        if (i >= n || s[i] != '[')
            return -1;
        i++;
    }
    while (i < n && (ws(s[i]) || s[i] == ','))
        i++;
    if (i >= n || s[i] == ']')
        return 0;
    if (s[i] != '[')
        return -1;
    *v = s + i;
    for (; i < n; i++) {
        if (s[i] == '[')
            depth++;
        else if (s[i] == ']' && --depth == 0)
            break;
        else if (s[i] == '"' || s[i] == '{')
            return -1; /* vectors hold numbers only */
    }
    if (i >= n)
        return -1;
    *vlen = (size_t)(s + i + 1 - *v);
    *pos = i + 1;
    return 1;
}

void entry_event_read(const struct resp_reply *f, struct entry_event *e)
{
    static const struct slot slots[] = {
        SLOT(entry_event, "type", type),   SLOT(entry_event, "request_id", request_id),
        SLOT(entry_event, "node_id", node), SLOT(entry_event, "model", model),
        SLOT(entry_event, "kind", kind),   SLOT(entry_event, "info", info),
        SLOT(entry_event, "code", code),   SLOT(entry_event, "role", role),
        SLOT(entry_event, "task_type", task_type), SLOT(entry_event, "requested", requested)};
    struct contract_str td = field(f, "total_duration"), ld = field(f, "load_duration");
    struct contract_str pe = field(f, "prompt_est"), ft = field(f, "first_token_ms");

    read_slots(f, e, slots, sizeof(slots) / sizeof(slots[0]));
    e->total_duration = digits(td) ? number(td) : -1;
    e->load_duration = digits(ld) ? number(ld) : -1;
    for (size_t i = 0; i < NEVENT_NUMS; i++) {
        struct contract_str v = field(f, event_nums[i].name);
        *(long long *)((char *)e + event_nums[i].off) = digits(v) ? number(v) : -1;
    }
    e->prompt_est = digits(pe) ? number(pe) : -1;
    e->first_token_ms = digits(ft) ? number(ft) : -1;
    e->has_first_token = e->first_token_ms >= 0;
}
