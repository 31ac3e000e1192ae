/* SPDX-License-Identifier: MIT */
/* Retrying a Redis read after an error reply: one log line per distinct error, backoff 0.1-2 s. */
#include "orion/retry.h"
#include "orion/log.h"

#include <stdio.h>
#include <string.h>

void retry_error(struct retry *t, struct loop *l, const char *what, const char *key,
                 const char *err, loop_timer_fn *cb, void *arg)
{
    long d = t->next_ms ? t->next_ms : 100;

    if (strcmp(t->err, err)) {
        log_warnx("%s %s: %s; reading again with back-off", what, key, err);
        snprintf(t->err, sizeof(t->err), "%s", err);
    }
    t->next_ms = d * 2 > 2000 ? 2000 : d * 2;
    if (!t->timer)
        t->timer = loop_timer(l, d, cb, arg);
}

void retry_ok(struct retry *t)
{
    t->next_ms = 0;
    t->err[0] = '\0';
}
