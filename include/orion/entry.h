/* SPDX-License-Identifier: MIT */
/*
 * entry: every stream entry of docs/PROTOCOL.md but the caller's request (contract.h parses
 * that), written and read here and nowhere else. Pure: commands are built, never sent.
 *
 *   answer   on the request's callback stream, exactly one per request, through the
 *            one-answer script (contract_answer_lua):
 *              done:  request_id [node_id] type=done status=ok response [message] model
 *                     [role] done_reason total_duration load_duration prompt_eval_count
 *                     prompt_eval_duration eval_count eval_duration [orchestration
 *                     inference_metadata] (JSON objects: a run of orch.h, the router's)
 *              embed: request_id [node_id] type=done status=ok embeddings model
 *                     done_reason=stop and the six counters (a request with `input`)
 *              error: request_id [node_id] type=error status=error error code
 *                     retriable=true|false [model] [details (a JSON object)]
 *                     [retry_after_ms]
 *   chunk    on the callback stream as the answer grows (stream=true):
 *              request_id type=chunk seq delta [thinking]
 *   admin    a model-management request on P:admin:{node}:
 *              request_id op=pull|copy|delete model [destination] [insecure=true] callback
 *   progress on an admin request's callback, one per progress object of a pull:
 *              request_id node_id type=progress seq progress [digest] [total] [completed]
 *            (progress: Ollama's status text; total, completed: bytes)
 *            and on the callback of an orchestrated request with stream=true, one per step
 *            that ends before the answer: request_id type=progress progress (a JSON object)
 *   admin answer, through the one-answer script like any answer:
 *              done: request_id node_id type=done status=ok op model [destination]
 *              error: as above
 *   event    on P:events: type (routed started done failed) request_id node_id model
 *            [kind] [info] [total_duration load_duration] [prompt_eval_count]
 *            [prompt_eval_duration] [eval_count] [eval_duration] [prompt_cached] [code]
 *            [role] [task_type] [requested] [prompt_est]
 *   routed   a request as the router puts it on P:requests:{node}: the caller's fields but
 *            request_id, attempt, routed_at (and model and role when the router chose the
 *            model), then those
 *   deadletter  a request given up, its fields as they were
 *   cancel   SET P:cancel:{request_id} 1 EX 600
 * (The caller's request entry itself is parsed by contract.h; entry_request_begin starts one.)
 * Every stream appended to with XADD is trimmed: MAXLEN ~ CONTRACT_MAXLEN (the callback
 * stream inside the script too).
 */
#ifndef ORION_ENTRY_H
#define ORION_ENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/contract.h"
#include "orion/resp.h"

#define ENTRY_NCOUNTERS 6
#define ENTRY_CANCEL_TTL "600" /* s a cancel mark is kept */
#define ENTRY_NUM_SLOTS 9       /* numbers one entry_argv holds: an event has up to 9 */
/* total_duration, load_duration, prompt_eval_count, prompt_eval_duration, eval_count,
 * eval_duration: Ollama's names, in this order everywhere. */
extern const char *const entry_counter_names[ENTRY_NCOUNTERS];
enum { ENTRY_TOTAL_DURATION, ENTRY_LOAD_DURATION, ENTRY_PROMPT_EVAL_COUNT,
       ENTRY_PROMPT_EVAL_DURATION, ENTRY_EVAL_COUNT, ENTRY_EVAL_DURATION };

/* A command's words pointing at the caller's strings (and at num[] for numbers): valid as
 * long as those are. full: a word did not fit (RESP_CMD_MAX_ARGS); such a command is not
 * sent. */
struct entry_argv {
    int argc;
    bool full;
    const char *argv[RESP_CMD_MAX_ARGS];
    size_t len[RESP_CMD_MAX_ARGS];
    char num[ENTRY_NUM_SLOTS][24];
};

/* A view of a NUL-terminated string (p NULL: absent). */
struct contract_str entry_cstr(const char *s);

/* --- writing ------------------------------------------------------------------------------ */

/* XADD P:requests *: a caller's request, its field/value pairs (contract.h) appended after. */
void entry_request_begin(struct resp_cmd *c, const struct contract_keys *k);

/* Start the answer of req taken from source (group): EVAL of the one-answer script with the
 * done key of its request id, then request_id and node_id (node NULL: left out). */
void entry_answer_begin(struct resp_cmd *c, const struct contract_keys *k,
                        const struct contract_request *req, const char *source,
                        const char *group, const char *node);
/* The error answer's fields after entry_answer_begin; model.p NULL: left out. */
void entry_answer_error(struct resp_cmd *c, const char *code, bool retriable, const char *msg,
                        struct contract_str model);
/* After entry_answer_error: details (a JSON object's text; NULL: none) and retry_after_ms
 * (<= 0: none). */
void entry_answer_error_more(struct resp_cmd *c, const char *details, long retry_after_ms);

/* After entry_answer_done or entry_answer_error_more: an orchestration's report, two JSON
 * objects' texts (orchestration, inference_metadata). */
void entry_answer_orch(struct resp_cmd *c, const char *orch, const char *meta);

struct entry_done {
    struct contract_str response, message, model; /* message.p NULL: none (generate) */
    struct contract_str role; /* p NULL: none */
    const char *done_reason;
    long long counter[ENTRY_NCOUNTERS];
};
/* The done answer's fields after entry_answer_begin. */
void entry_answer_done(struct resp_cmd *c, const struct entry_done *d);

struct entry_embed {
    struct contract_str embeddings, model; /* embeddings: a JSON array of arrays of numbers */
    long long counter[ENTRY_NCOUNTERS];    /* Ollama's: total, load, prompt_eval_count */
};
/* The done answer of an embedding request after entry_answer_begin. */
void entry_answer_embed(struct resp_cmd *c, const struct entry_embed *e);

/* A model-management request; NULL strings are left out. */
struct entry_admin {
    const char *request_id, *op, *model, *destination, *callback;
    bool insecure;
};
/* XADD P:admin:{node} MAXLEN ~ N * <a's fields>; stream from contract_admin_stream. */
void entry_admin(struct resp_cmd *c, const char *stream, const struct entry_admin *a);
/* Start the answer of an admin request taken from source (group), as entry_answer_begin. */
void entry_admin_answer_begin(struct resp_cmd *c, const struct contract_keys *k,
                              const struct contract_admin *a, const char *source,
                              const char *group, const char *node);
/* The done answer's fields after entry_admin_answer_begin. */
void entry_admin_done(struct resp_cmd *c, const struct contract_admin *a);

struct entry_progress {
    const char *status, *digest; /* digest NULL or "": left out */
    long long total, completed;  /* < 0: left out */
};
/* XADD callback MAXLEN ~ N * request_id id node_id node type progress seq N progress S
 * [digest D] [total N] [completed N] */
void entry_progress(struct entry_argv *a, struct contract_str callback, struct contract_str id,
                    const char *node, long seq, const struct entry_progress *p);

/* XADD callback MAXLEN ~ N * request_id id type chunk seq N delta D [thinking T] (thinking
 * when tn > 0: the model's reasoning, streamed before its text) */
void entry_chunk(struct entry_argv *a, struct contract_str callback, struct contract_str id,
                 long seq, const char *delta, size_t n, const char *thinking, size_t tn);

/* XADD callback MAXLEN ~ N * request_id id type progress progress JSON */
void entry_orch_progress(struct entry_argv *a, struct contract_str callback,
                         struct contract_str id, const char *json, size_t n);

struct entry_event {
    struct contract_str type, request_id, node, model, kind, info, code; /* p NULL: absent */
    long long total_duration, load_duration; /* ns; < 0: absent (written only both known) */
    /* Ollama's prompt and generation figures of a done answer (counts, ns); < 0: absent */
    long long prompt_eval_count, prompt_eval_duration, eval_count, eval_duration;
    long long prompt_cached; /* prompt tokens Ollama found in its cache; < 0: not told */
    struct contract_str role, task_type, requested; /* p NULL: absent */
    /* the router's prompt estimate, written when > 0 and prompt_eval_count is known; read: -1
     * when absent */
    long long prompt_est;
    /* done events, written with the durations above: the ms from asking Ollama to its first
     * token, as the node's runner measured it (written when has_first_token). Read: -1 when
     * absent. */
    long long first_token_ms;
    bool has_first_token;
};
/* e with every string absent and every number -1. */
void entry_event_init(struct entry_event *e);
/* XADD P:events MAXLEN ~ N * with e's fields (model absent is written ""; a number < 0 is
 * left out). */
void entry_event(struct entry_argv *a, const struct contract_keys *k, const struct entry_event *e);

/* XADD stream * <fields but request_id, attempt, routed_at> request_id id attempt N
 * routed_at ms: a request moved to a node's stream (attempt 1 the first time). model.p set:
 * the model the router chose (replaces the entry's model, or is added); role.p set: the role
 * it chose it by (replaces or is added). */
void entry_routed(struct entry_argv *a, const char *stream, const struct resp_reply *fields,
                  struct contract_str id, int attempt, long long routed_at_ms,
                  struct contract_str model, struct contract_str role);
/* XADD P:deadletter MAXLEN ~ N * <fields as they were> */
void entry_deadletter(struct entry_argv *a, const struct contract_keys *k,
                      const struct resp_reply *fields);
/* SET P:cancel:{id} 1 EX 600, the key built in key[CONTRACT_KEY_MAX]: 0, or -1 when the id
 * makes the key too long. */
int entry_cancel(struct entry_argv *a, char *key, const struct contract_keys *k, const char *id,
                 size_t n);

/* --- reading ------------------------------------------------------------------------------ */

enum entry_type { ENTRY_OTHER = 0, ENTRY_CHUNK, ENTRY_DONE, ENTRY_ERROR, ENTRY_PROGRESS };

/* An entry of a callback stream; views into the fields (p "" with n 0 when absent). */
struct entry_answer {
    enum entry_type type;
    struct contract_str request_id, node, model, delta, thinking, response, message, done_reason,
        error, code, role, details, embeddings,
        op, progress, digest, total, completed, /* admin answers and progress (see above) */
        orchestration, metadata;                /* orchestration, inference_metadata: JSON */
    bool retriable;
    long retry_after_ms; /* 0: none */
    struct contract_str counter[ENTRY_NCOUNTERS]; /* only when all digits (< 24 of them) */
};
void entry_answer_read(const struct resp_reply *fields, struct entry_answer *a);
/* A counter's value, 0 when absent. */
long long entry_counter(const struct entry_answer *a, int which);

/* Walk the vectors of an answer's embeddings, a JSON array of arrays (s, n): *pos starts at 0;
 * 1 with the next vector's bytes in *v, *vlen; 0 at the end; -1 when it is not that shape (a
 * string or an object inside, an array cut short). */
int entry_vec_next(const char *s, size_t n, size_t *pos, const char **v, size_t *vlen);

/* An event of P:events: views ("" when absent), numbers -1 when absent or not all digits. */
void entry_event_read(const struct resp_reply *fields, struct entry_event *e);

/* Does s hold exactly lit? */
bool entry_is(struct contract_str s, const char *lit);

#endif
