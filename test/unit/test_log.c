/* SPDX-License-Identifier: MIT */
/* Logging: one line per message, text and JSON forms, levels, errno appended by log_warn. */
#include "orion/log.h"
#include "../t.h"

#include <errno.h>
#include <unistd.h>

static char out[4096];

/* Run fn with stderr redirected into a pipe; the captured text goes to out. */
static void capture(void (*fn)(void))
{
    int p[2], saved = dup(STDERR_FILENO);
    ssize_t n;

    if (pipe(p) < 0)
        return;
    dup2(p[1], STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(p[1]);
    n = read(p[0], out, sizeof(out) - 1);
    out[n > 0 ? n : 0] = '\0';
    close(p[0]);
}

static void text_lines(void)
{
    log_init("orion-test", LOG_LVL_INFO, false);
    log_info("node '%s' is up", "pi5");
    errno = ECONNREFUSED;
    log_warn("redis %s: connect", "127.0.0.1:6379");
    log_debug("not shown at info level %d", 1);
}

static void json_lines(void)
{
    log_init("orion-test", LOG_LVL_DEBUG, true);
    log_warnx("bad \"quote\" and\nnewline");
    log_debug("debug %d", 7);
}

int main(void)
{
    capture(text_lines);
    is_str(out,
           "orion-test: info: node 'pi5' is up\n"
           "orion-test: warning: redis 127.0.0.1:6379: connect: Connection refused\n",
           "text lines: prog, level, message, strerror; debug filtered");
    capture(json_lines);
    is_str(out,
           "{\"level\":\"warning\",\"prog\":\"orion-test\",\"msg\":\"bad \\\"quote\\\" and\\u000anewline\"}\n"
           "{\"level\":\"debug\",\"prog\":\"orion-test\",\"msg\":\"debug 7\"}\n",
           "JSON lines, escaped, one per message");
    is_int(log_parse_level("warn"), LOG_LVL_WARN, "'warn' is accepted for warning");
    is_int(log_parse_level("loud"), -1, "unknown level");
    return done_testing();
}
