/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr in one write per line, so lines from concurrent processes sharing a log
 * pipe do not interleave.
 */
#include "orion/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int log_level_cur = LOG_LVL_INFO;
static const char *log_prog = "orion";
static bool log_json;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_init(const char *prog, int level, bool json)
{
    log_prog = prog;
    log_level_cur = level;
    log_json = json;
}

int log_parse_level(const char *s)
{
    if (!strcmp(s, "warn"))
        return LOG_LVL_WARN;
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, level_names[i]))
            return i;
    return -1;
}

static void json_escape(char *out, size_t cap, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s && *pos + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[(*pos)++] = '\\';
            out[(*pos)++] = (char)c;
        } else if (c < 0x20) {
            out[(*pos)++] = '\\';
            out[(*pos)++] = 'u';
            out[(*pos)++] = '0';
            out[(*pos)++] = '0';
            out[(*pos)++] = hex[c >> 4];
            out[(*pos)++] = hex[c & 15];
        } else {
            out[(*pos)++] = (char)c;
        }
    }
}

static void log_emit(int level, int errnum, const char *fmt, va_list ap)
{
    char msg[1024], line[2600];
    size_t n = 0;
    int m;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (errnum) {
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof(msg) - l, ": %s", strerror(errnum));
    }
    if (log_json) {
        m = snprintf(line, sizeof(line), "{\"level\":\"%s\",\"prog\":\"%s\",\"msg\":\"",
                     level_names[level], log_prog);
        n = (size_t)m;
        json_escape(line, sizeof(line) - 3, &n, msg);
        line[n++] = '"';
        line[n++] = '}';
        line[n++] = '\n';
    } else {
        m = snprintf(line, sizeof(line), "%s: %s: %s\n", log_prog, level_names[level], msg);
        n = m < 0 ? 0 : (size_t)m >= sizeof(line) ? sizeof(line) - 1 : (size_t)m;
        line[n - 1] = '\n';
    }
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nowhere left to report it */
    }
}

#define LOG_FN(name, lvl, with_errno)                                                              \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        int saved = errno;                                                                         \
        va_list ap;                                                                                \
        if (log_level_cur < (lvl))                                                                 \
            return;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_emit((lvl), (with_errno) ? saved : 0, fmt, ap);                                        \
        va_end(ap);                                                                                \
        errno = saved;                                                                             \
    }

LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_error, LOG_LVL_ERROR, 1)
LOG_FN(log_errorx, LOG_LVL_ERROR, 0)
LOG_FN(log_debug_, LOG_LVL_DEBUG, 0)

void fatal(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_LVL_ERROR, saved, fmt, ap);
    va_end(ap);
    exit(111);
}

void fatalx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_LVL_ERROR, 0, fmt, ap);
    va_end(ap);
    exit(111);
}
