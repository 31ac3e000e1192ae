/* SPDX-License-Identifier: MIT */
/*
 * worker: the orion-inference-worker daemon. Publishes this node's health every interval,
 * takes the requests the router put on P:requests:{node} (group inference-workers, consumer =
 * node id; its own pending entries first), runs them on the local Ollama, writes each answer
 * once (contract_answer_lua), and on SIGTERM lets running requests finish.
 */
#ifndef ORION_WORKER_H
#define ORION_WORKER_H

#include "orion/conf.h"

struct worker_conf {
    struct conf_common c;
    const char *node_id, *ollama_url, *sysfs_root, *keep_alive, *labels;
    long interval, parallel, shutdown_timeout, ollama_timeout;
};

int worker_run(const struct worker_conf *wc); /* exit code */

#endif
