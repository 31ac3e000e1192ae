/* SPDX-License-Identifier: MIT */
/* Internal state of the worker, shared by worker.c (Redis side), worker_run.c (Ollama side)
 * and worker_health.c. Not a public interface. */
#ifndef ORION_WORKER_INT_H
#define ORION_WORKER_INT_H

#include "orion/contract.h"
#include "orion/httpc.h"
#include "orion/group.h"
#include "orion/health.h"
#include "orion/loop.h"
#include "orion/metrics.h"
#include "orion/modelinfo.h"
#include "orion/ollama.h"
#include "orion/ollama_embed.h"
#include "orion/ollama_models.h"
#include "orion/redis.h"
#include "worker.h"

#include <stdbool.h>
#include <stdint.h>

#define WORKER_MAX_PARALLEL 64

struct worker;

/* One request taken from the node stream. */
struct job {
    struct worker *w;
    char entry_id[48];
    struct resp_reply *fields; /* owned clone */
    struct contract_request req;
    struct buf text, thinking, tool_calls;
    struct ollama_final final;
    long seq;
    struct ollama_call *call; /* in flight, or NULL */
    struct ollama_embed_call *ecall; /* an embedding in flight, or NULL */
    int64_t started;          /* loop_now() when Ollama was asked */
    int64_t first_token;      /* loop_now() at its first token; 0: none yet */
    bool answering;           /* the answer script is in flight */
    struct resp_cmd answer;   /* kept until Redis confirms it */
    bool has_answer;            /* answer holds a finished command */
    bool answer_fallback;       /* answer is the error sent as the real one could not be built */
    char err_code[32];          /* the code of an error answer, for the failed event */
    bool evented;               /* its done or failed event is sent */
    unsigned long answer_timer; /* sending the answer again after an error reply */
    long answer_backoff;        /* ms */
    unsigned answer_tries;      /* error replies so far */
    unsigned repl_tries;        /* WAITs that found the answer not yet on the replicas */
    bool streaming;             /* its first token came and it is not finished */
};

struct worker {
    const struct worker_conf *wc;
    struct loop *l;
    struct redis *cmd, *blk;
    struct ollama *ollama;
    struct contract_keys keys;
    char node[ORION_NODE_ID_MAX + 1];
    char stream[CONTRACT_KEY_MAX];
    struct job *jobs[WORKER_MAX_PARALLEL];
    size_t njobs;
    bool started, stopping, publishing, had_cmd_up;
    struct group g; /* the node stream, group inference-workers, consumer = node id */
    int64_t stop_deadline;
    /* health */
    struct cpu_sample prev_cpu;
    bool have_prev_cpu;
    struct health h;
    int pending_probes;
    struct ollama_admin_call *vcall; /* GET /api/version in flight */
    struct worker_admin *admin;      /* P:admin:{node} (worker_admin.c) */
    bool ps_ok, health_logged, metrics_warned, removing;
    char cancel_ids[WORKER_MAX_PARALLEL][48]; /* entry ids asked about in the last poll */
    size_t ncancel_ids;
    struct worker_hooks hk;
    unsigned long health_timer, cancel_timer, stop_timer, remove_timer; /* 0: none */
    /* a remote runner (wc->remote): the /api/version probe and the capacity it learns */
    struct httpc *probe;
    struct httpc_req *probe_req;
    int probe_status;
    bool probe_ok;            /* the last probe answered 200 */
    bool probed;              /* a probe has ended (its first failure is logged too) */
    unsigned streaming, peak; /* jobs streaming now; the most seen at once */
    struct { /* worker_meta.c: what Ollama says about its models */
        struct ollama_model *tags, *ps, *shown; /* the last /api/tags, /api/ps; /api/show's */
        size_t ntags, nps, nshown;
        int showing;    /* /api/show requests in flight */
        void *asks[2];  /* their contexts (freed here if Ollama's client goes first) */
        bool warned; /* a body that did not parse was logged */
    } meta;
};

/* worker.c */
void worker_answer(struct job *j);      /* send j->answer; frees j once Redis confirms */
void worker_read_more(struct worker *w); /* take more entries when slots are free */
void worker_event(struct worker *w, const char *type, const struct job *j, const char *extra);

/* worker_run.c: the Ollama side of one job */
int worker_ollama_init(struct worker *w);
void worker_ollama_release(struct worker *w);
void job_start(struct job *j);
void job_answer_error(struct job *j, const char *code, bool retriable, const char *msg);
void job_answer_begin(struct job *j); /* the answer's script, request_id and node_id */
void job_answer_send(struct job *j);  /* finish and send it (too_large when it cannot be) */
void job_free(struct job *j);
bool job_running(const struct job *j); /* Ollama is working on it */
void job_stop(struct job *j);          /* stop Ollama's work, no callback afterwards */

/* worker_admin.c: model management from P:admin:{node} */
struct worker_admin;
struct worker_admin *worker_admin_new(struct worker *w); /* NULL: no memory */
void worker_admin_link(struct worker_admin *wa, bool up); /* the command connection's state */
void worker_admin_stop(struct worker_admin *wa);          /* SIGTERM: take nothing more */
void worker_admin_free(struct worker_admin *wa);          /* accepts NULL */

/* worker_embed.c: the Ollama side of an embedding request (input) */
void job_start_embed(struct job *j);

void worker_job_abandon(struct job *j); /* free unanswered: it stays pending in the stream */
void worker_stopped(struct worker *w);   /* the stop is complete: hk.stopped */
/* worker_meta.c */
int worker_meta_take(struct worker *w, bool ps, int status, const char *body, size_t n);
void worker_meta_probed(struct worker *w); /* both lists are in: ask /api/show, publish */
void worker_meta_publish(struct worker *w);
void worker_meta_release(struct worker *w);

/* worker_health.c */
long worker_health_cb(struct loop *l, void *arg);
void worker_health_remove(struct worker *w, redis_reply_fn *cb, void *arg);

/* worker_probe.c: a remote runner's probe (GET /api/version) and learned capacity */
int worker_probe_init(struct worker *w);   /* 0, or -1 (EINVAL bad URL, ENOMEM) */
void worker_probe_release(struct worker *w);
void worker_probe_start(struct worker *w); /* one probe; worker_probe_done() when it ends */
void worker_probe_done(struct worker *w);  /* one of the interval's probes ended */
void worker_note_streaming(struct job *j, bool on); /* first token / end of a job */

#endif
