/* SPDX-License-Identifier: MIT */
/*
 * log: one line per message on stderr, no timestamp (svlogd, s6-log and journald add one).
 * Text:  "orion-inference-worker: warning: redis 127.0.0.1:6379: connect: Connection refused"
 * JSON:  {"level":"warning","prog":"orion-inference-worker","msg":"..."}
 * log_warn/log_error append ": strerror(errno)"; the *x variants do not. fatal/fatalx exit 111.
 */
#ifndef ORION_LOG_H
#define ORION_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern int log_level_cur;

#if defined(__GNUC__)
#define ORION_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ORION_NORETURN __attribute__((noreturn))
#else
#define ORION_PRINTF(a, b)
#define ORION_NORETURN
#endif

void log_init(const char *prog, int level, bool json);
int log_parse_level(const char *s); /* -1 when unknown */
void log_info(const char *fmt, ...) ORION_PRINTF(1, 2);
void log_warn(const char *fmt, ...) ORION_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) ORION_PRINTF(1, 2);
void log_error(const char *fmt, ...) ORION_PRINTF(1, 2);
void log_errorx(const char *fmt, ...) ORION_PRINTF(1, 2);
void log_debug_(const char *fmt, ...) ORION_PRINTF(1, 2);
void fatal(const char *fmt, ...) ORION_PRINTF(1, 2) ORION_NORETURN;
void fatalx(const char *fmt, ...) ORION_PRINTF(1, 2) ORION_NORETURN;

#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_level_cur >= LOG_LVL_DEBUG)                                                        \
            log_debug_(__VA_ARGS__);                                                               \
    } while (0)

#endif
