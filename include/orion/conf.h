/* SPDX-License-Identifier: MIT */
/*
 * conf: one table per program drives flag parsing, environment variables, --help and
 * --check-config. Precedence: default < environment < flag. "--name value" and "--name=value"
 * are both accepted. Numbers parse strictly and are range-checked. Every error exits 100 with
 * a message naming the flag; --help and --version exit 0.
 */
#ifndef ORION_CONF_H
#define ORION_CONF_H

#include <stdbool.h>
#include <stddef.h>

enum conf_type { CONF_STR, CONF_INT, CONF_DOUBLE, CONF_BOOL };

struct conf_opt {
    const char *name; /* flag without "--" */
    const char *env;  /* ORION_* variable */
    enum conf_type type;
    const char *def; /* default, as text (NULL: none) */
    const char *help;
    double min, max; /* numbers: allowed range */
    void *dst;       /* const char ** / long * / double * / bool * */
    const char *env2; /* a second variable read when env is unset (e.g. OLLAMA_HOST) */
    bool secret;      /* --check-config prints "(set)" instead of the value */
};

/* Options every daemon has. */
struct conf_common {
    const char *redis_addr, *redis_user, *redis_password, *prefix, *log_level, *log_format;
    long redis_db;
    /* Sentinel: where to ask for the master, its name there, the sentinels' own AUTH */
    const char *redis_sentinels, *redis_master_name, *redis_sentinel_user,
        *redis_sentinel_password;
    long redis_min_replicas, redis_wait_timeout; /* WAIT after writes that must survive */
};

#define CONF_COMMON_OPTS(c)                                                                        \
    {"redis-addr", "ORION_REDIS_ADDR", CONF_STR, "127.0.0.1:6379",                                 \
     "Redis address: HOST:PORT or a unix socket path", 0, 0, &(c)->redis_addr, NULL, false},       \
        {"redis-user", "ORION_REDIS_USER", CONF_STR, NULL, "Redis ACL user (AUTH user password)",  \
         0, 0, &(c)->redis_user, NULL, false},                                                     \
        {"redis-password", "ORION_REDIS_PASSWORD", CONF_STR, NULL,                                 \
         "Redis password (prefer the environment variable)", 0, 0, &(c)->redis_password, NULL,     \
         true},                                                                                    \
        {"redis-db", "ORION_REDIS_DB", CONF_INT, "0", "Redis database number", 0, 15,              \
         &(c)->redis_db, NULL, false},                                                             \
        {"redis-sentinels", "ORION_REDIS_SENTINELS", CONF_STR, NULL,                               \
         "Redis Sentinel: HOST:PORT,... to ask where the master is (then --redis-addr is unused)", \
         0, 0, &(c)->redis_sentinels, NULL, false},                                                \
        {"redis-master-name", "ORION_REDIS_MASTER_NAME", CONF_STR, "mymaster",                     \
         "the master's name in the sentinels' configuration", 0, 0, &(c)->redis_master_name, NULL, \
         false},                                                                                   \
        {"redis-sentinel-user", "ORION_REDIS_SENTINEL_USER", CONF_STR, NULL,                       \
         "the sentinels' own ACL user", 0, 0, &(c)->redis_sentinel_user, NULL, false},             \
        {"redis-sentinel-password", "ORION_REDIS_SENTINEL_PASSWORD", CONF_STR, NULL,               \
         "the sentinels' own password (prefer the environment variable)", 0, 0,                    \
         &(c)->redis_sentinel_password, NULL, true},                                               \
        {"redis-min-replicas", "ORION_REDIS_MIN_REPLICAS", CONF_INT, "0",                          \
         "a request, answer or move counts as accepted once WAIT says this many replicas have it", \
         0, 16, &(c)->redis_min_replicas, NULL, false},                                            \
        {"redis-wait-timeout", "ORION_REDIS_WAIT_TIMEOUT", CONF_INT, "1000",                       \
         "ms that WAIT may take before the write counts as not replicated", 1, 60000,              \
         &(c)->redis_wait_timeout, NULL, false},                                                   \
        {"prefix", "ORION_PREFIX", CONF_STR, "orion:inference", "prefix of every Redis key", 0, 0, \
         &(c)->prefix, NULL, false},                                                               \
        {"log-level", "ORION_LOG_LEVEL", CONF_STR, "info", "error, warning, info or debug", 0, 0,  \
         &(c)->log_level, NULL, false},                                                            \
    {                                                                                              \
        "log-format", "ORION_LOG_FORMAT", CONF_STR, "text", "text or json", 0, 0,                  \
            &(c)->log_format, NULL, false                                                          \
    }

/* Parse; exits on --help, --version, --check-config and on any error. */
void conf_parse(const struct conf_opt *opts, size_t n, int argc, char **argv, const char *prog,
                const char *summary);
/* Apply log-level/log-format of c to the log module; exits 100 when they are invalid. */
void conf_apply_log(const struct conf_common *c, const char *prog);
/* Strict number parsers: 0, or -1 when s is not wholly a number in [min, max]. */
int conf_parse_long(const char *s, long min, long max, long *out);
int conf_parse_double(const char *s, double min, double max, double *out);

#define ORION_EXIT_USAGE 100
#define ORION_EXIT_SYSTEM 111

#endif
