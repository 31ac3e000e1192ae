/* SPDX-License-Identifier: MIT */
/* orion-inference-router: argv -> settings -> router_run. */
#include "orion/conf.h"
#include "orion/log.h"
#include "orion/redis.h"
#include "router.h"

#define PROG "orion-inference-router"

int main(int argc, char **argv)
{
    struct router_conf rc;
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
        {"max-concurrent", "ORION_MAX_CONCURRENT", CONF_INT, "256",
         "HTTP connections the front serves at once (more get 503)", 1, 100000,
         &rc.max_concurrent, "INFERENCE_MAX_CONCURRENT_REQUESTS", false},
        {"model-roles", "ORION_MODEL_ROLES", CONF_STR, NULL,
         "model -> roles: JSON {\"model\":[\"coder\",...]} or a file of it", 0, 0,
         &rc.model_roles, "INFERENCE_MODEL_ROLES", false},
        {"presets", "ORION_PRESETS", CONF_STR, NULL,
         "presets file: adds to or replaces the built-in presets", 0, 0, &rc.presets, NULL,
         false},
        {"config", "ORION_CONFIG", CONF_STR, NULL, "the active preset (its models preloaded)", 0,
         0, &rc.config, "INFERENCE_CONFIG", false},
        {"preload", "ORION_PRELOAD", CONF_STR, NULL,
         "models to keep loaded: MODEL@NODE (that node) or MODEL (placed), comma-separated", 0,
         0, &rc.preload, "INFERENCE_PRELOAD_MODELS", false},
        {"orchestration-mode", "ORION_ORCHESTRATION_MODE", CONF_STR, NULL,
         "single, critique, debate, ensemble or pipeline (default: the preset's, else single)",
         0, 0, &rc.orchestration_mode, "INFERENCE_ORCHESTRATION_MODE", false},
        {"max-waiting", "ORION_MAX_WAITING", CONF_INT, "0",
         "requests that may wait for a node; more are answered queue_full (0: no bound)", 0,
         100000, &rc.max_waiting, NULL, false},
        {"max-per-model", "ORION_MAX_PER_MODEL", CONF_INT, "0",
         "requests one model runs at once across the cluster (0: no bound)", 0, 100000,
         &rc.max_per_model, "INFERENCE_MAX_CONCURRENT_PER_MODEL", false},
        {"queue-strategy", "ORION_QUEUE_STRATEGY", CONF_STR, "priority",
         "order of waiting requests: priority (then oldest) or fifo", 0, 0, &rc.queue_strategy,
         "INFERENCE_QUEUE_STRATEGY", false},
        {"default-priority", "ORION_DEFAULT_PRIORITY", CONF_INT, "2",
         "priority of a request that gives none (1 low .. 3 high)", 1, 3, &rc.default_priority,
         "INFERENCE_DEFAULT_PRIORITY", false},
        {"default-num-ctx", "ORION_DEFAULT_NUM_CTX", CONF_INT, "4096",
         "context a model runs with when nothing else says (Ollama's OLLAMA_CONTEXT_LENGTH)",
         256, 1 << 24, &rc.default_num_ctx, NULL, false},
        {"critique-max-rounds", "ORION_CRITIQUE_MAX_ROUNDS", CONF_INT, "2",
         "critique: rounds of critic and revision at most", 1, 10, &rc.critique_max_rounds,
         "INFERENCE_CRITIQUE_MAX_ROUNDS", false},
        {"critique-threshold", "ORION_CRITIQUE_THRESHOLD", CONF_DOUBLE, "0.8",
         "critique: a critic score this high ends the run", 0, 1, &rc.critique_threshold,
         "INFERENCE_CRITIQUE_THRESHOLD", false},
        {"debate-max-rounds", "ORION_DEBATE_MAX_ROUNDS", CONF_INT, "3",
         "debate: rounds of the participants at most", 1, 10, &rc.debate_max_rounds,
         "INFERENCE_DEBATE_MAX_ROUNDS", false},
        {"debate-reconcile-model", "ORION_DEBATE_RECONCILE_MODEL", CONF_STR, "primary",
         "debate: the reconciler, a model or a role", 0, 0, &rc.debate_reconcile_model,
         "INFERENCE_DEBATE_RECONCILE_MODEL", false},
        {"ensemble-min-agreement", "ORION_ENSEMBLE_MIN_AGREEMENT", CONF_DOUBLE, "0.7",
         "ensemble: agreement reported as enough; debate: agreement that ends the rounds", 0, 1,
         &rc.ensemble_min_agreement, "INFERENCE_ENSEMBLE_MIN_AGREEMENT", false},
        {"ensemble-synthesis-model", "ORION_ENSEMBLE_SYNTHESIS_MODEL", CONF_STR, "primary",
         "ensemble: the synthesizer, a model or a role", 0, 0, &rc.ensemble_synthesis_model,
         "INFERENCE_ENSEMBLE_SYNTHESIS_MODEL", false},
        {"pipeline-stages", "ORION_PIPELINE_STAGES", CONF_STR, "draft,refine,validate",
         "pipeline: its stages, comma-separated", 0, 0, &rc.pipeline_stages,
         "INFERENCE_PIPELINE_STAGES", false},
    };

    conf_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, PROG,
               "Routes requests from Redis to the best Ollama node.");
    conf_apply_log(&rc.c, PROG);
    redis_conf_check(&rc.c, PROG);
    return router_run(&rc);
}
