/* SPDX-License-Identifier: MIT */
/* Internal state of the HTTP front, shared by its files: gateway.c (server, callback reader,
 * requests), gateway_api.c (Ollama's native API), gateway_openai.c, gateway_models.c,
 * gateway_info.c (answers out of the nodes' health), gateway_service.c (models, health,
 * config), gateway_error.c (the error schema), gateway_vision.c, gateway_ops.c, gateway_ui.c,
 * gateway_responses.c and gateway_messages.c (OpenAI's Responses, Anthropic's Messages). */
#ifndef ORION_GATEWAY_INT_H
#define ORION_GATEWAY_INT_H

#include "gateway.h"
#include "orion/contract.h"
#include "orion/entry.h"
#include "orion/httpd.h"
#include "orion/resp.h"

#include <stdbool.h>

enum gw_kind { GW_CHAT, GW_GENERATE, GW_OPENAI, GW_COMPLETION, GW_LOAD, GW_UNLOAD, GW_VISION,
               GW_VISION_BATCH, GW_EMBED, GW_EMBED_LEGACY, GW_EMBED_OPENAI, GW_PULL, GW_COPY,
               GW_DELETE, GW_RESPONSES, GW_MESSAGES };

/* The kinds answered in OpenAI's shapes (errors included). */
#define GW_OPENAI_SHAPE(k) ((k) == GW_OPENAI || (k) == GW_COMPLETION || (k) == GW_LOAD || \
                            (k) == GW_UNLOAD || (k) == GW_VISION || (k) == GW_VISION_BATCH || \
                            (k) == GW_EMBED_OPENAI || (k) == GW_RESPONSES)

/* A load_duration at least this long (ns) is a cold start whatever the routing said. */
#define GW_COLD_LOAD_NS 500000000LL

/* One generation request from a client, from its XADD until its answer is relayed. */
struct gw_req {
    struct gateway *g;
    struct gw_req *next, *prev;
    struct httpd_req *hr; /* NULL once the client is gone */
    enum gw_kind kind;
    bool stream, started, usage, submitted, gone;
    bool cold;                    /* routed "cold"/"spill", or a long load_duration */
    int pending;                  /* GW_UNLOAD, GW_VISION_BATCH: answers still to come */
    struct gw_vis *vis;           /* GW_VISION*: labels and results (gateway_vision.c) */
    struct buf nodes, failed;     /* GW_UNLOAD: the JSON lists being built */
    unsigned long n;
    char id[112], cb[CONTRACT_KEY_MAX], last[48];
    char model[ORION_MODEL_MAX + 1], node[ORION_NODE_ID_MAX + 1];
    char role[16], task[65];      /* the role the router chose the model by; the task type */
    long long xadd_ms, routed_ms; /* entry times (Redis clock), 0 unknown */
    long long first_ms;           /* the first callback entry (Redis clock), 0 none yet */
    int attempt;                  /* routed events seen */
    size_t streamed;              /* delta bytes relayed */
    size_t thought;               /* thinking bytes relayed (streamed chunks) */
    long long created;            /* Unix s, OpenAI's "created" */
    void *ext;                    /* an endpoint's own state, freed with ext_free */
    void (*ext_free)(void *ext);
    void (*ext_gone)(struct gw_req *q); /* the client left: cancel the parts (ids of its own) */
};

#define GW_HIST_BUCKETS 8 /* 0.1 0.5 1 2 5 10 30 60 s, then +Inf */

struct gw_hist {
    unsigned long bucket[GW_HIST_BUCKETS], count; /* cumulative: bucket[i] counts <= bound */
    double sum;                                   /* s */
};

struct gateway {
    struct loop *l;
    struct redis *cmd; /* lent by the router: XADD, DEL, SET cancel, P:drain */
    struct gateway_host host;
    struct contract_keys keys;
    char me[ORION_NODE_ID_MAX + 1];
    struct httpd *h;
    struct redis *rd; /* XREAD BLOCK over the open callbacks and P:events */
    char *token;
    char events_last[48];
    bool have_pos, reading;
    bool stopping; /* gateway_free runs: a request's client leaving is not a cancel */
    unsigned long seq, retry;
    unsigned long started; /* Unix s at start: part of every request id */
    struct gw_req *reqs;
    struct gw_hist h_wait, h_first, h_total; /* answered requests: routed, first entry, end */
    const struct placement *placement;        /* the router's rules, or NULL */
};

/* gateway.c */
struct gw_req *gw_req_new(struct gateway *g, struct httpd_req *hr, enum gw_kind kind,
                          const char *model);
/* Start "XADD P:requests * request_id .. callback .. stream true" in c. */
void gw_xadd_begin(struct gw_req *q, struct resp_cmd *c);
/* Answer 500 with msg and free q (nothing was sent for it). */
void gw_req_abort(struct gw_req *q, const char *msg);
/* Send it; on failure answer 503/500 through gw_fail and free q. Releases c. */
void gw_submit(struct gw_req *q, struct resp_cmd *c);
/* n > 1 entries at once (MULTI, the XADDs, EXEC); the same on failure. Releases c[0..n-1]. */
void gw_submit_n(struct gw_req *q, struct resp_cmd *c, size_t n);
/* The request with number n, or NULL when it is gone. */
struct gw_req *gw_req_by_n(struct gateway *g, unsigned long n);
/* SET P:cancel:{id} for whoever runs it, and drop it at once if it waits in the router. */
void gw_cancel_id(struct gateway *g, const char *id);
/* Its answer is relayed (or nobody wants it): DEL the callback, free it. */
void gw_req_finish(struct gw_req *q);
/* gateway_error.c: the error schema (docs/PROTOCOL.md "Errors") */
struct gw_code {
    const char *code;  /* as in the Redis answers: lower case */
    const char *http;  /* UPPER_SNAKE */
    int status;
    bool retriable;    /* the usual type (an answer's own word wins) */
    long retry_ms;     /* retry_after_ms when retriable and nothing better is known */
};
struct gw_error {
    const struct gw_code *code;
    int status;
    bool retriable;
    const char *msg;
    const char *details; /* a JSON object's text (details_len bytes), or NULL */
    size_t details_len;
    long retry_ms;       /* 0: the table's */
    const char *model, *node; /* for details when none are given */
};
const struct gw_code *gw_code_find(const char *code, size_t n); /* NULL: unknown */
const struct gw_code *gw_code_table(size_t *n);
int gw_error_status(const char *code);
/* e for code (unknown: internal_error) with the table's status and type. */
void gw_error_init(struct gw_error *e, const char *code, const char *msg);
void gw_error_body(struct buf *b, bool openai, const struct gw_error *e);
void gw_error_send(struct httpd_req *hr, bool openai, const struct gw_error *e);
void gw_error_code(struct httpd_req *hr, bool openai, const char *code, const char *msg);
/* The code is the status's usual one (400 bad_request, 404 not_found, 503 unavailable...). */
void gw_openai_error(struct httpd_req *hr, int status, const char *msg);
void gw_native_err(struct httpd_req *hr, int status, const char *msg);
/* Answer an error in the request's API shape (before or after the stream started). */
void gw_fail_error(struct gw_req *q, const struct gw_error *e);
void gw_fail_code(struct gw_req *q, const char *code, const char *msg);
void gw_fail(struct gw_req *q, int status, const char *msg);
void gw_entry_error(struct gw_req *q, const struct entry_answer *a); /* answers, q->hr NULL */
/* headers: Content-Type (and X-Orion-Node when node is set) */
int gw_respond(struct httpd_req *hr, int status, const char *ctype, const char *node,
               const char *body, size_t len);
int gw_start(struct gw_req *q, const char *ctype);
/* 200 with the answer headers: Content-Type, X-Orion-Node, X-Orion-Cold-Start. */
int gw_answer(struct gw_req *q, const char *ctype, const char *body, size_t len);
/* Note a done entry's load_duration: a long one makes the request cold. */
void gw_note_load(struct gw_req *q, const struct entry_answer *a);
void gw_time(char out[40]); /* RFC 3339 UTC, "2025-08-18T09:15:04.517Z" */
/* ,"orion":{...} */
void gw_orion_obj(const struct gw_req *q, struct buf *b);
/* ,"orchestration":{..},"inference_metadata":{..} of an orchestrated answer (each only when the
 * answer carries it as a JSON object). */
void gw_orch_obj(const struct entry_answer *a, struct buf *b);

/* gateway_api.c */
void gw_native_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                    enum gw_kind kind);
bool gw_native_entry(struct gw_req *q, const struct entry_answer *a); /* true: finished */
/* Append the JSON counters of a done entry: ,"total_duration":N,... */
void gw_counters(const struct entry_answer *a, struct buf *b);
struct cJSON;
/* A body value as a field (strings as text, the rest as JSON); NULL/null: nothing. */
void gw_add_json(struct resp_cmd *c, const char *name, const struct cJSON *v);
void gw_add_common(struct resp_cmd *c, const struct cJSON *body); /* keep_alive, priority, timeout */
void gw_add_task(struct gw_req *q, struct resp_cmd *c, const struct cJSON *body); /* task_type */
void gw_add_suffix(struct resp_cmd *c, const struct cJSON *body);  /* a non-empty suffix */
struct chat_map;
/* model and the mapped chat request's fields (messages, options, tools, format, think). */
void gw_add_chat_map(struct resp_cmd *c, const char *model, const struct chat_map *m);
/* The body as a JSON object, or NULL after answering 400 through err. */
struct cJSON *gw_parse_body(struct httpd_req *hr, const struct httpd_request *req,
                            void (*err)(struct httpd_req *, int, const char *));

/* An endpoint's handler. */
typedef void gw_handler(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);

/* gateway_http.c: the server's callback (httpd.h) */
void gw_on_http(void *arg, struct httpd_req *hr, const struct httpd_request *req);

/* gateway_info.c */
gw_handler gw_tags, gw_ps;
void gw_show(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);
/* Model names over every node with health: installed (and loaded), each once; the array is
 * the caller's to free (NULL with *n 0 when none). */
const char **gw_union_names(struct gateway *g, size_t *n);
/* True when the model is surely installed nowhere: some node reports health, every node with
 * health lists what it has installed, and none lists it (installed or loaded). */
bool gw_model_unknown(struct gateway *g, const char *model);
/* The model a client named, its "inference:" or "local:" prefix dropped; *pick: it is "auto"
 * or a role name, which the router resolves (roles.h). */
const char *gw_model_name(const char *model, bool *pick);
/* Nodes whose health lists the model as loaded, at most max. */
size_t gw_model_loaded_on(struct gateway *g, const char *model, const char **out, size_t max);
/* GET /v1/models/{id}: one model object, or 404. */
void gw_model_get(struct gateway *g, struct httpd_req *hr, const char *id);

/* gateway_service.c */
gw_handler gw_models, gw_config_get, gw_config_post;
void gw_health(struct gateway *g, struct httpd_req *hr, bool ready);
/* What a model is (from the node that has it loaded, else any): NULL when no record has it. */
const struct ollama_model *gw_meta(struct gateway *g, const char *model);
long gw_meta_memory_mb(const struct ollama_model *m); /* -1: unknown */
void gw_put_caps(struct buf *b, const struct ollama_model *m); /* a JSON array */

/* gateway_models.c */
/* Everything under /v1/models/: GET {id}, POST {id}/load, POST {id}/unload. */
void gw_models_path(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);
bool gw_model_entry(struct gw_req *q, const struct entry_answer *a); /* true: finished */
/* POST /v1/models/{model}/load (load) or /unload with body's options (body may be empty). */
void gw_model_action_body(struct gateway *g, struct httpd_req *hr, const char *model,
                          const struct cJSON *body, bool load);

/* gateway_vision.c: /v1/vision/... */
gw_handler gw_vision_health, gw_vision_classify, gw_vision_batch, gw_vision_load,
    gw_vision_unload;
bool gw_vision_entry(struct gw_req *q, const struct entry_answer *a); /* true: finished */
void gw_vision_free(struct gw_req *q);
size_t gw_vision_parts(const struct gw_req *q); /* a batch's images (their own ids); else 0 */

/* gateway_ops.c */
void gw_hist_observe(struct gw_hist *h, double s);
gw_handler gw_metrics, gw_stats, gw_backends;
/* POST /backends/deregister (drain true: HSET P:drain) or /backends/register (HDEL). */
void gw_drain(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
              bool drain);
/* The same for a node id already read (NULL: 400). */
void gw_drain_node(struct gateway *g, struct httpd_req *hr, const char *node, bool drain);
/* gateway_backends.c: POST /backends/register {"url","name"} and /backends/deregister
 * {"url"|"node"} (P:backends; a node and no URL: undrain / drain, as before) */
gw_handler gw_backend_register, gw_backend_deregister;

/* gateway_ui.c */
void gw_ui(struct httpd_req *hr); /* the status page */

/* gateway_vec.c: the pure half of embeddings */
/* Cut n inputs (len[i]: the bytes of input i as JSON) into pieces of at most max_count inputs
 * and max_bytes of JSON array each (an input alone is one piece whatever its size); first[p]
 * is the index of piece p's first input (first holds n entries). Returns the piece count. */
size_t gw_embed_plan(const size_t *len, size_t n, size_t max_count, size_t max_bytes,
                     size_t *first);
/* Node of each piece: round robin over the resident nodes, then the others; with fewer than
 * two nodes every piece gets NULL (the router places it). Returns the nodes used (0: none). */
size_t gw_embed_nodes(const char *const *resident, size_t nres, const char *const *other,
                      size_t noth, size_t pieces, const char **out);
/* A vector ("[0.5,-1]") as OpenAI's base64: its numbers as little-endian float32. 0 or -1. */
int gw_vec_base64(const char *v, size_t n, struct buf *out);

/* gateway_compat.c */
/* Compare two Ollama versions (0.12.6 < 0.12.10 < 0.13.0-rc1 < 0.13.0): <0, 0, >0. */
int gw_version_cmp(const char *a, const char *b);
gw_handler gw_version; /* GET /api/version: the lowest Ollama version of the eligible nodes */
/* An Ollama endpoint the front does not serve: answered 501 naming the path (true). */
bool gw_unserved(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);

/* gateway_embed.c: POST /api/embed, /api/embeddings, /v1/embeddings */
void gw_embed_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                   enum gw_kind kind);
bool gw_embed_entry(struct gw_req *q, const struct entry_answer *a); /* true: finished */

/* gateway_admin.c: model management through the workers */
gw_handler gw_pull, gw_copy, gw_delete;
bool gw_admin_entry(struct gw_req *q, const struct entry_answer *a); /* true: finished */

/* gateway_openai.c */
void gw_openai_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);
bool gw_openai_entry(struct gw_req *q, const struct entry_answer *a);
void gw_openai_not_found(struct httpd_req *hr, const char *model); /* 404 model '..' not found */
/* POST /v1/completions: the legacy text completions, mapped onto a prompt entry. */
void gw_completion_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);
bool gw_completion_entry(struct gw_req *q, const struct entry_answer *a);

/* gateway_responses.c: POST /v1/responses */
void gw_responses_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);
bool gw_responses_entry(struct gw_req *q, const struct entry_answer *a); /* true: finished */

/* gateway_messages.c: POST /v1/messages (Anthropic) */
void gw_messages_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);
bool gw_messages_entry(struct gw_req *q, const struct entry_answer *a); /* true: finished */
/* {"type":"error","error":{"type":..,"message":msg},"request_id":..} with the status. */
void gw_messages_error(struct httpd_req *hr, int status, const char *msg);
/* An error of a Messages request: the error object, or an error event once streaming. */
void gw_messages_fail(struct gw_req *q, int status, const char *msg);

#endif
