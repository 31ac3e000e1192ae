/* SPDX-License-Identifier: MIT */
/* Internal state of the HTTP front, shared by gateway.c (server, callback reader, requests),
 * gateway_api.c (Ollama's native API, health) and gateway_openai.c. Not a public interface. */
#ifndef ORION_GATEWAY_INT_H
#define ORION_GATEWAY_INT_H

#include "router_int.h"

#include "orion/gateway.h"
#include "orion/httpd.h"

#include <stdbool.h>

enum gw_kind { GW_CHAT, GW_GENERATE, GW_OPENAI };

/* One generation request from a client, from its XADD until its answer is relayed. */
struct gw_req {
    struct gateway *g;
    struct gw_req *next, *prev;
    struct httpd_req *hr; /* NULL once the client is gone */
    enum gw_kind kind;
    bool stream, started, usage, submitted, gone;
    unsigned long n;
    char id[96], cb[CONTRACT_KEY_MAX], last[48];
    char model[ORION_MODEL_MAX + 1], node[ORION_NODE_ID_MAX + 1];
    long long xadd_ms, routed_ms; /* entry times (Redis clock), 0 unknown */
    long long first_ms;           /* the first callback entry (Redis clock), 0 none yet */
    int attempt;                  /* routed events seen */
    size_t streamed;              /* delta bytes relayed */
    long long created;            /* Unix s, OpenAI's "created" */
};

#define GW_HIST_BUCKETS 8 /* 0.1 0.5 1 2 5 10 30 60 s, then +Inf */

struct gw_hist {
    unsigned long bucket[GW_HIST_BUCKETS], count; /* cumulative: bucket[i] counts <= bound */
    double sum;                                   /* s */
};

struct gateway {
    struct router *r;
    struct httpd *h;
    struct redis *rd; /* XREAD BLOCK over the open callbacks and P:events */
    char *token;
    char events_last[48];
    bool have_pos, reading;
    unsigned long seq, retry;
    struct gw_req *reqs;
    struct gw_hist h_wait, h_first, h_total; /* answered requests: routed, first entry, end */
};

/* gateway.c */
struct gw_req *gw_req_new(struct gateway *g, struct httpd_req *hr, enum gw_kind kind,
                          const char *model);
/* Start "XADD P:requests * request_id .. callback .. stream true" in c. */
void gw_xadd_begin(struct gw_req *q, struct resp_cmd *c);
/* Send it; on failure answer 503/500 through gw_fail and free q. Releases c. */
void gw_submit(struct gw_req *q, struct resp_cmd *c);
/* Answer an error in the request's API shape (before or after the stream started). */
void gw_fail(struct gw_req *q, int status, const char *msg);
/* headers: Content-Type (and X-Orion-Node when node is set) */
int gw_respond(struct httpd_req *hr, int status, const char *ctype, const char *node,
               const char *body, size_t len);
int gw_start(struct gw_req *q, const char *ctype);
void gw_time(char out[40]); /* RFC 3339 UTC, "2025-08-18T09:15:04.517Z" */
/* Field of a stream entry as a string view ("" with n 0 when absent). */
const char *gw_field(const struct resp_reply *f, const char *name, size_t *n);
/* ,"orion":{...} */
void gw_orion_obj(const struct gw_req *q, struct buf *b);
int gw_error_status(const char *code);

/* gateway_api.c */
void gw_native_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
                    enum gw_kind kind);
bool gw_native_entry(struct gw_req *q, const struct resp_reply *fields); /* true: finished */
void gw_native_error(struct gw_req *q, int status, const char *msg);
/* Append the JSON counters of a done entry: ,"total_duration":N,... */
void gw_counters(const struct resp_reply *f, struct buf *b);
struct cJSON;
/* A body value as a field (strings as text, the rest as JSON); NULL/null: nothing. */
void gw_add_json(struct resp_cmd *c, const char *name, const struct cJSON *v);
void gw_add_common(struct resp_cmd *c, const struct cJSON *body); /* keep_alive, priority, timeout */
/* The body as a JSON object, or NULL after answering 400 through err. */
struct cJSON *gw_parse_body(struct httpd_req *hr, const struct httpd_request *req,
                            void (*err)(struct httpd_req *, int, const char *));
void gw_entry_error(struct gw_req *q, const struct resp_reply *f); /* answers, q->hr NULL */

/* gateway_info.c */
void gw_tags(struct gateway *g, struct httpd_req *hr);
void gw_ps(struct gateway *g, struct httpd_req *hr);
void gw_models(struct gateway *g, struct httpd_req *hr);
void gw_show(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);
void gw_health(struct gateway *g, struct httpd_req *hr, bool ready);

/* gateway_ops.c */
void gw_hist_observe(struct gw_hist *h, double s);
void gw_metrics(struct gateway *g, struct httpd_req *hr);
void gw_stats(struct gateway *g, struct httpd_req *hr);
void gw_backends(struct gateway *g, struct httpd_req *hr);
/* POST /backends/deregister (drain true: HSET P:drain) or /backends/register (HDEL). */
void gw_drain(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req,
              bool drain);

/* gateway_ui.c */
void gw_ui(struct httpd_req *hr); /* the status page */

/* gateway_openai.c */
void gw_openai_post(struct gateway *g, struct httpd_req *hr, const struct httpd_request *req);
bool gw_openai_entry(struct gw_req *q, const struct resp_reply *fields);
void gw_openai_error(struct httpd_req *hr, int status, const char *msg);

#endif
