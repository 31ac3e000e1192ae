/* SPDX-License-Identifier: MIT */
/*
 * worker: the node runner, and the orion-inference-worker daemon built on it. A node runner
 * publishes one node's health every interval, takes the requests the router put on
 * P:requests:{node} (group inference-workers, consumer = node id; its own pending entries
 * first), runs them on that node's Ollama, writes each answer once (contract_answer_lua), and
 * when stopped lets running requests finish.
 *
 * The worker daemon runs one runner for the Ollama beside it, on its own loop. The router runs
 * one per URL backend (--backends) on the router's loop: the same code in the router's
 * process (the one exception to "neither daemon includes the other's headers": the router
 * includes this header and links src/worker/ without main_worker.c; see ARCHITECTURE.md).
 *
 * A remote runner (wc->remote, a URL backend) differs from a worker's in what it can see:
 * no /proc or /sys (temperature absent, RAM and CPU unknown); the probe is GET /api/version
 * every interval, and the node is available only while the last probe answered 200; its
 * capacity is learned (see worker_capacity) up to wc->parallel; and a request whose backend
 * could not be reached is left pending for the router to move elsewhere instead of being
 * answered with an error.
 */
#ifndef ORION_WORKER_H
#define ORION_WORKER_H

#include "orion/conf.h"
#include "orion/loop.h"

#include <stdbool.h>

struct worker_conf {
    struct conf_common c;
    const char *node_id, *ollama_url, *sysfs_root, *keep_alive, *labels;
    long interval, parallel, shutdown_timeout, ollama_timeout;
    long connect_timeout; /* s: connecting to Ollama (0: httpc's 3 s) */
    bool remote;          /* a URL backend run by the router (see above) */
};

/* What a runner tells its owner: ready once Redis first answered; stopped once a
 * worker_stop() has finished (running requests answered or timed out, the health field
 * removed). Either may be NULL. stopped runs inside a runner callback: the owner must not
 * free the runner there (defer it with a 0 ms timer). */
struct worker_hooks {
    void (*ready)(void *arg);
    void (*stopped)(void *arg);
    void *arg;
};

struct worker;

/* A runner of wc (kept by pointer: it must outlive the runner) on l, with its own two Redis
 * connections; nothing is sent before worker_start. NULL with *code: 100 bad settings (node
 * id, URL, labels; logged), 111 no memory. */
struct worker *worker_new(struct loop *l, const struct worker_conf *wc,
                          const struct worker_hooks *hk, int *code);
/* Connect and start the health and cancel timers: 0, or -1 (ENOMEM). */
int worker_start(struct worker *w);
/* Take no new requests; running ones get wc->shutdown_timeout s, then the health field is
 * removed and hk.stopped runs. Unread entries stay in the stream (the router moves them when
 * the node's health is gone). Calling it again does nothing. */
void worker_stop(struct worker *w);
/* Free at once: running requests are dropped unanswered and stay pending in the stream (the
 * runner that starts next under the same node id takes them again). No hook runs. Accepts
 * NULL. */
void worker_free(struct worker *w);
/* Requests the runner takes at once now: wc->parallel for a worker; for a remote runner the
 * most it saw stream at once plus one (1 at first), at most wc->parallel. */
long worker_capacity(const struct worker *w);
/* A remote runner's last probe answered; a worker's runner: true. */
bool worker_serving(const struct worker *w);

/* The worker daemon: a runner on its own loop until SIGTERM/SIGINT. Returns the exit code. */
int worker_run(const struct worker_conf *wc);

#endif
