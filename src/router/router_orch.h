/* SPDX-License-Identifier: MIT */
/* A running orchestration, shared by router_orch.c (runs, steps, reading their answers) and
 * router_orch_report.c (the caller's answer and its report). Not a public interface. */
#ifndef ORION_ROUTER_ORCH_H
#define ORION_ROUTER_ORCH_H

#include "router_int.h"

#define ORCH_POLL_MS 20        /* the steps' callbacks are read this often while runs exist */
#define ORCH_IDLE_MS 100       /* ... and whether a run exists looked at this often otherwise */
#define ORCH_READ_STREAMS 60   /* callbacks read by one XREAD (the runs are taken in turns) */
#define ORCH_CODE_MAX 32
#define ORCH_VERDICT_TOKENS 256 /* num_predict a critic gets at least */
#define ORCH_COMPRESS_MODEL "fast" /* the role that compresses a handoff (the seed's) */

/* What the router saw of a step beyond its text (orch.h keeps that). */
struct orun_step {
    double t0, t1; /* router clock: issued, answered (0: not yet) */
    char node[ORION_NODE_ID_MAX + 1];
    char model[ORION_MODEL_MAX + 1]; /* the model that answered */
    long long counter[ENTRY_NCOUNTERS];
    char *message; /* an answering step's (orch_answers) assistant message JSON: heap or NULL */
};

struct orun {
    char entry_id[48];
    struct resp_reply *fields;   /* owned clone of the request entry */
    struct contract_request req; /* views into fields */
    char id[260];                /* its request id, NUL-terminated */
    char *goal;                  /* the last user message or the prompt (heap) */
    char *images;                /* the caller's images, a JSON array (heap), or NULL */
    struct orch o;
    char cb[CONTRACT_KEY_MAX];   /* P:orch:{id}: the callback of every step */
    char after[48];              /* cb read up to here */
    double started;
    char code[ORCH_CODE_MAX];    /* the last failed step's error code */
    bool retriable;              /* ... and whether it was retriable */
    /* The relay of the final step's tokens (a streamed run): the step (orch_last) and try
     * whose chunks go on to the caller, fixed by the first chunk relayed (-1: none yet); broken
     * once that try did not give the answer (failed, retried, quarantined): later tries are not
     * relayed, and the answer's text follows whole as one chunk (router_orch_relay_answer). */
    int relay_step, relay_try;
    bool relay_broken;
    long seq;                    /* chunks relayed to the caller */
    struct orun_step st[ORCH_MAX_STEPS];
    struct orun *next;
};

/* router_orch_step.c. Set u->goal and u->images from u->req: 0, or -1 (ENOMEM). */
int router_orch_input(struct orun *u);
/* XADD step i of u as a request entry: 0, -1 (it could not be sent), or 1: not sent, held
 * for a compression of its handoff (orch_compress; or the run ended, u->code says why). */
int router_orch_issue(struct router *r, struct orun *u, size_t i);

/* router_orch_relay.c. Whether step i is sent with stream set: the run is streamed to a
 * callback and step i's answer ends the run (orch_last). */
bool router_orch_streams(const struct orun *u, size_t i);
/* A chunk entry a of step i's current try, read from P:orch:{id}: passed on to the caller
 * when it belongs to the relayed try (the first one a chunk came from). */
void router_orch_chunk(struct router *r, struct orun *u, size_t i, const struct entry_answer *a);
/* Step i answered or failed (orch_done / orch_failed applied): a relayed try that did not end
 * OK breaks the relay. */
void router_orch_relay_settled(struct orun *u, size_t i);
/* A streamed run whose relayed tokens are not the answer's text: relay that text whole as
 * one chunk, so that the caller's stream ends with it (before router_orch_answer). */
void router_orch_relay_answer(struct router *r, struct orun *u);

/* Answer the caller (a done answer, partial or not, or the last step's error) through the
 * one-answer script, acknowledging the request entry. */
void router_orch_answer(struct router *r, struct orun *u);

#endif
