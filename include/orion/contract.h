/* SPDX-License-Identifier: MIT */
/*
 * contract: the Redis contract of docs/PROTOCOL.md in code: key names, the request entry
 * (parsed and checked), answer entries, and the one-answer script. Pure: no I/O.
 *
 * Keys (P = the prefix, default "orion:inference"):
 *   P:requests            stream, group inference-router: requests from callers
 *   P:requests:{node}     stream, group inference-workers, consumer = node id
 *   P:health              hash: node id -> health JSON
 *   P:events              stream of routed/started/done/failed events (trimmed)
 *   P:deadletter          stream of requests that failed over too often (trimmed)
 *   P:done:{request_id}   string: set once a request has its answer (expires)
 *   P:cancel:{request_id} string: set by whoever wants the request stopped (expires)
 *   P:drain               hash: node id -> Unix s; a drained node gets no new requests
 *   P:admin:{node}        stream, group inference-workers, consumer = node id: model
 *                         management (pull, copy, delete) run by that node's worker
 *   P:models              hash: node id -> its models and what each is (modelinfo.h)
 */
#ifndef ORION_CONTRACT_H
#define ORION_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/resp.h"

#define CONTRACT_GROUP_ROUTER "inference-router"
#define CONTRACT_GROUP_WORKERS "inference-workers"
#define CONTRACT_KEY_MAX 512
#define CONTRACT_DONE_TTL_S 86400     /* how long "this request is answered" is remembered */
#define CONTRACT_CALLBACK_TTL_S 3600  /* unread answers expire */
#define CONTRACT_MAXLEN 10000 /* every stream appended to is trimmed: XADD MAXLEN ~ this */
#define CONTRACT_MAX_ATTEMPTS 3

struct contract_keys {
    char prefix[256];
    char requests[CONTRACT_KEY_MAX], health[CONTRACT_KEY_MAX], events[CONTRACT_KEY_MAX],
        deadletter[CONTRACT_KEY_MAX], drain[CONTRACT_KEY_MAX], models[CONTRACT_KEY_MAX],
        backends[CONTRACT_KEY_MAX]; /* P:backends: URL backends registered at run time */
};

/* 0, or -1 when the prefix is empty or too long. */
int contract_keys_init(struct contract_keys *k, const char *prefix);
/* P:requests:{node}, P:admin:{node}, P:done:{id}, P:cancel:{id}: 0, or -1 when it does not
 * fit. */
int contract_node_stream(const struct contract_keys *k, const char *node, char *out, size_t n);
int contract_admin_stream(const struct contract_keys *k, const char *node, char *out, size_t n);
int contract_done_key(const struct contract_keys *k, const char *id, size_t idlen, char *out,
                      size_t n);
int contract_cancel_key(const struct contract_keys *k, const char *id, size_t idlen, char *out,
                        size_t n);

struct contract_str {
    const char *p; /* NULL when the field is absent */
    size_t n;
};

/* What a request asks of Ollama: which of messages, prompt and input it carries. */
enum contract_kind { CONTRACT_CHAT, CONTRACT_GENERATE, CONTRACT_EMBED };

/* A request entry. Every view points into the reply it was parsed from. */
struct contract_request {
    const char *entry_id;
    struct contract_str request_id, model, messages, prompt, system, options, format, tools,
        think, images, keep_alive, callback,
        node,   /* "run only on this node" (load/unload of the HTTP front) */
        suffix, /* generate: passed to Ollama */
        input,  /* embed: a JSON string or array of strings */
        truncate, /* embed: "true" or "false" (absent: Ollama's default, true) */
        task_type, /* what the request is for: picks the role when model is a role or auto */
        role,   /* the role the router chose the model by (set when it resolved one) */
        orchestration_mode, /* single, critique, debate, ensemble or pipeline (orch.h) */
        models; /* the models an orchestration uses: a JSON array of names */
    enum contract_kind kind;
    long long dimensions; /* embed: 0 when absent */
    bool legacy;          /* embed: Ollama's /api/embeddings (one input, a JSON string) */
    bool stream;
    int priority;         /* 1 low, 2 normal (default), 3 high */
    bool has_priority;    /* the entry gave one (else the router's default applies) */
    long long timeout_ms; /* 0: none given */
    int attempt;          /* 0 when the router has not routed it yet */
    long long routed_at;  /* ms, 0 when absent */
};

/*
 * Parse the flat field/value array of a stream entry. On error, returns -1 with a sentence in
 * err; the fields that could be read (request_id, callback, model) are still filled so that
 * the caller can answer the error. Checks: model (absent or "" means "auto": the router picks
 * one) ≤ ORION_MODEL_MAX bytes, no control characters or spaces; task_type ≤ 64 bytes of
 * printable text; exactly one of messages (a JSON array), prompt (a string) and input (embed:
 * a JSON string, or an array of at most ORION_EMBED_MAX_INPUTS strings; with legacy=true a
 * string; truncate true/false; dimensions a positive integer ≤ 65536); options, format,
 * tools, images valid JSON; think true/false/low/medium/high/max; priority 1-3; timeout_ms a
 * positive integer; stream true/false; every field ≤ ORION_FIELD_MAX; callback ≤ 256 bytes of
 * printable text; node (optional) ≤ ORION_NODE_ID_MAX bytes of printable text without spaces.
 * Unknown fields are ignored (and kept by whoever forwards the entry).
 */
int contract_request_parse(const struct resp_reply *fields, const char *entry_id,
                           struct contract_request *r, char *err, size_t errlen);

/* How many strings a JSON input holds (a string: 1, an array of strings: its length), or -1
 * when it is neither or holds more than ORION_EMBED_MAX_INPUTS. */
int contract_input_count(const char *s, size_t n);

/* A model-management entry of P:admin:{node}: op pull (model, insecure), copy (model is the
 * source, destination), delete (model). */
enum contract_op { CONTRACT_PULL = 1, CONTRACT_COPY, CONTRACT_DELETE };

struct contract_admin {
    const char *entry_id;
    struct contract_str request_id, model, destination, callback;
    enum contract_op op;
    bool insecure;
};

/* Parse one: 0, or -1 with a sentence in err (request_id and callback still filled). Checks:
 * op one of pull, copy, delete; model (and for copy destination) present, ≤ ORION_MODEL_MAX
 * bytes of printable text without spaces; insecure true/false; callback as for requests. */
int contract_admin_parse(const struct resp_reply *fields, const char *entry_id,
                         struct contract_admin *a, char *err, size_t errlen);
/* Its request id: request_id, or the entry id when the entry had none. */
struct contract_str contract_admin_id(const struct contract_admin *a);
/* The name of an op ("pull", ...); NULL for none. */
const char *contract_op_name(enum contract_op op);

/* The request id to use: request_id, or the entry id when the entry had none. */
struct contract_str contract_request_id(const struct contract_request *r);

/*
 * One answer per request. EVAL this script with
 *   KEYS: done key, source stream, callback stream (left out when the request has none)
 *   ARGV: group, entry id, done TTL s, callback TTL s, callback MAXLEN, field, value, ...
 * If the done key exists, it only acknowledges (and deletes) the entry and returns 0;
 * otherwise it appends the answer to the callback stream (expiring it), sets the done key,
 * acknowledges and deletes the entry, and returns 1. Atomic: a late answer from a node that
 * was thought dead is dropped.
 */
extern const char contract_answer_lua[];

/* Start an EVAL of contract_answer_lua in c (fields follow with resp_cmd_add*). */
void contract_answer_begin(struct resp_cmd *c, const char *done_key, const char *callback,
                           size_t callback_len, const char *source, const char *group,
                           const char *entry_id);

/* Is s a JSON value of the given kind? ('[': array, '{': object, 0: any). */
bool contract_json_ok(const char *s, size_t n, char kind);

#endif
