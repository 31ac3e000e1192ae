/* SPDX-License-Identifier: MIT */
/* orion-inference-router: argv -> settings -> router_run. */
#include "orion/conf.h"
#include "orion/log.h"
#include "orion/redis.h"
#include "router.h"

#define PROG "orion-inference-router"

int main(int argc, char **argv)
{
    struct router_conf rc = {0};
    const struct conf_opt opts[] = {
        CONF_COMMON_OPTS(&rc.c),
        {"max-temp", "ORION_MAX_TEMP", CONF_DOUBLE, "75", "hottest eligible node, in C", 0, 200,
         &rc.max_temp, NULL, false},
        {"max-ram", "ORION_MAX_RAM", CONF_DOUBLE, "90", "fullest eligible node, RAM %", 0, 100,
         &rc.max_ram, NULL, false},
        {"stale-after", "ORION_STALE_AFTER", CONF_INT, "15",
         "seconds of silence after which a node is dead", 1, 3600, &rc.stale_after, NULL, false},
        {"queue-timeout", "ORION_QUEUE_TIMEOUT", CONF_INT, "300",
         "seconds a request without timeout_ms may wait", 1, 86400, &rc.queue_timeout, NULL,
         false},
        {"service-ms", "ORION_SERVICE_MS", CONF_INT, "15000",
         "expected run time of a request until answers teach it, ms", 1, 3600000,
         &rc.service_ms, NULL, false},
        {"cold-load-ms", "ORION_COLD_LOAD_MS", CONF_INT, "5000",
         "expected cold load of a model until answers teach it, ms", 1, 3600000,
         &rc.cold_load_ms, NULL, false},
        {"load-factor", "ORION_LOAD_FACTOR", CONF_INT, "125",
         "bounded load: a node takes at most this % of the mean load", 100, 10000,
         &rc.load_factor, NULL, false},
        {"policy", "ORION_POLICY", CONF_STR, "sticky",
         "sticky, first-fit, least-conn, round-robin or random", 0, 0, &rc.policy, NULL, false},
        {"placement", "ORION_PLACEMENT", CONF_STR, NULL, "file of placement rules", 0, 0,
         &rc.placement, NULL, false},
        {"router-id", "ORION_ROUTER_ID", CONF_STR, NULL, "consumer name (default: host name)", 0,
         0, &rc.router_id, NULL, false},
        {"takeover-ms", "ORION_TAKEOVER_MS", CONF_INT, "30000",
         "a waiting request idle this long belongs to a router that died: another router takes "
         "it over (longer than any Redis outage or failover you expect)", 1000, 3600000,
         &rc.takeover_ms, NULL, false},
        {"http-listen", "ORION_HTTP_LISTEN", CONF_STR, "127.0.0.1:8088",
         "HTTP front ADDR:PORT, or off", 0, 0, &rc.http_listen, NULL, false},
        {"http-token", "ORION_HTTP_TOKEN", CONF_STR, NULL, "bearer token the HTTP front requires",
         0, 0, &rc.http_token, NULL, true},
        {"backends", "ORION_BACKENDS", CONF_STR, NULL,
         "Ollama servers this router runs as nodes itself, no worker: URL or NAME=URL, "
         "comma-separated", 0, 0, &rc.backends, "BACKENDS", false},
        {"backend-interval", "ORION_BACKEND_INTERVAL", CONF_INT, "5",
         "seconds between probes of a URL backend (GET /api/version, /api/ps, /api/tags)", 1,
         3600, &rc.backend_interval, NULL, false},
        {"backend-parallel", "ORION_BACKEND_PARALLEL", CONF_INT, "8",
         "most requests a URL backend is given at once (its capacity is learned below this)", 1,
         64, &rc.backend_parallel, NULL, false},
        {"connect-timeout", "ORION_CONNECT_TIMEOUT", CONF_INT, "3",
         "seconds a connect to a URL backend may take", 1, 600, &rc.connect_timeout,
         "CONNECT_TIMEOUT_SEC", false},
        {"read-timeout", "ORION_READ_TIMEOUT", CONF_INT, "600",
         "seconds a URL backend may take to start its answer (a cold model load counts)", 1,
         86400, &rc.read_timeout, "READ_TIMEOUT_SEC", false},
    };

    conf_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, PROG,
               "Routes requests from Redis to the best Ollama node.");
    conf_apply_log(&rc.c, PROG);
    redis_conf_check(&rc.c, PROG);
    return router_run(&rc);
}
