/* SPDX-License-Identifier: MIT */
/* orion-inference-worker: argv -> settings -> worker_run. */
#include "orion/conf.h"
#include "orion/log.h"
#include "orion/redis.h"
#include "worker.h"

#define PROG "orion-inference-worker"

int main(int argc, char **argv)
{
    struct worker_conf wc = {0};
    const struct conf_opt opts[] = {
        CONF_COMMON_OPTS(&wc.c),
        {"node-id", "ORION_NODE_ID", CONF_STR, NULL, "node id (default: the host name)", 0, 0,
         &wc.node_id, NULL, false},
        {"ollama-url", "ORION_OLLAMA_URL", CONF_STR, "http://127.0.0.1:11434",
         "Ollama base URL", 0, 0, &wc.ollama_url, "OLLAMA_HOST", false},
        {"sysfs-root", "ORION_SYSFS_ROOT", CONF_STR, "/", "where /proc and /sys are read", 0, 0,
         &wc.sysfs_root, NULL, false},
        {"health-interval", "ORION_HEALTH_INTERVAL", CONF_INT, "5",
         "seconds between health reports", 1, 3600, &wc.interval, NULL, false},
        {"parallel", "ORION_PARALLEL", CONF_INT, "1", "requests run at once", 1, 64, &wc.parallel,
         NULL, false},
        {"keep-alive", "ORION_KEEP_ALIVE", CONF_STR, "10m",
         "keep_alive sent to Ollama when a request has none", 0, 0, &wc.keep_alive, NULL, false},
        {"labels", "ORION_LABELS", CONF_STR, NULL, "labels for placement rules (a,b,c)", 0, 0,
         &wc.labels, NULL, false},
        {"shutdown-timeout", "ORION_SHUTDOWN_TIMEOUT", CONF_INT, "30",
         "seconds running requests get to finish on SIGTERM", 0, 3600, &wc.shutdown_timeout,
         NULL, false},
        {"ollama-timeout", "ORION_OLLAMA_TIMEOUT", CONF_INT, "600",
         "seconds Ollama may take to send its response headers (a cold model load counts); "
         "then the request is answered timeout", 1, 86400, &wc.ollama_timeout,
         "READ_TIMEOUT_SEC", false},
        {"connect-timeout", "ORION_CONNECT_TIMEOUT", CONF_INT, "3",
         "seconds a connect to Ollama may take; then the request is answered ollama_unreachable",
         1, 600, &wc.connect_timeout, "CONNECT_TIMEOUT_SEC", false},
    };

    conf_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, PROG,
               "Runs requests from Redis on the local Ollama and reports this node's health.");
    conf_apply_log(&wc.c, PROG);
    redis_conf_check(&wc.c, PROG);
    return worker_run(&wc);
}
