/* SPDX-License-Identifier: MIT */
/*
 * A blocking Redis client for tools (orionctl) and tests, built on the asynchronous one: it
 * owns a private loop and turns it until the one command it waits for is answered.
 */
#include "orion/redis.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct redis_sync {
    struct loop *l;
    struct redis *r;
    struct resp_reply *reply;
    bool done, changed;
    long timeout_ms;
};

static void sync_state(struct redis *r, bool up, void *arg)
{
    struct redis_sync *s = arg;

    (void)r;
    (void)up;
    s->changed = true;
}

void redis_sync_free(struct redis_sync *s)
{
    if (!s)
        return;
    redis_free(s->r);
    loop_free(s->l);
    orion_free(s);
}

struct redis_sync *redis_sync_connect(const struct redis_opts *o, long timeout_ms, char *err,
                                      size_t errlen)
{
    struct redis_sync *s = orion_calloc(1, sizeof(*s));
    struct redis_opts opts = *o;
    int64_t deadline = loop_now() + timeout_ms;

    if (!s || !(s->l = loop_new())) {
        snprintf(err, errlen, "out of memory");
        orion_free(s);
        return NULL;
    }
    opts.connect_timeout_ms = timeout_ms;
    opts.cmd_timeout_ms = timeout_ms;
    s->timeout_ms = timeout_ms;
    opts.watch = false; /* one command at a time: a failover shows as a lost link */
    s->r = redis_new(s->l, &opts, sync_state, s);
    if (!s->r) {
        snprintf(err, errlen, "%s", errno == EINVAL ? "bad sentinel settings" : "out of memory");
        redis_sync_free(s);
        return NULL;
    }
    redis_start(s->r);
    while (!redis_up(s->r) && loop_now() < deadline) {
        const char *e = redis_error(s->r);
        /* Sentinel mode: the sentinels can name a dead master for a while (a failover under
         * way), so an error is only final at the deadline */
        if (*e && !redis_up(s->r) && !o->sentinels) {
            snprintf(err, errlen, "%s", e);
            redis_sync_free(s);
            return NULL;
        }
        loop_once(s->l, 50);
    }
    if (!redis_up(s->r)) {
        snprintf(err, errlen, "%s", *redis_error(s->r) ? redis_error(s->r) : "connect timed out");
        redis_sync_free(s);
        return NULL;
    }
    return s;
}

static void sync_reply(struct redis *r, struct resp_reply *reply, void *arg)
{
    struct redis_sync *s = arg;

    s->done = true;
    s->reply = reply ? redis_take(r) : NULL;
}

struct resp_reply *redis_sync_cmdv(struct redis_sync *s, int argc, const char *const *argv,
                                   const size_t *len, char *err, size_t errlen)
{
    s->done = false;
    s->reply = NULL;
    if (!redis_up(s->r)) {
        redis_start(s->r);
        for (int64_t d = loop_now() + s->timeout_ms; !redis_up(s->r) && loop_now() < d;)
            loop_once(s->l, 50);
    }
    if (redis_cmdv(s->r, 0, sync_reply, s, argc, argv, len) < 0) {
        snprintf(err, errlen, "%s", *redis_error(s->r) ? redis_error(s->r) : strerror(errno));
        return NULL;
    }
    while (!s->done)
        loop_once(s->l, 100);
    if (!s->reply)
        snprintf(err, errlen, "%s", redis_error(s->r));
    return s->reply;
}

struct resp_reply *redis_sync_cmd(struct redis_sync *s, char *err, size_t errlen, ...)
{
    const char *argv[64];
    int argc = 0;
    va_list ap;
    const char *a;

    va_start(ap, errlen);
    while ((a = va_arg(ap, const char *)) != NULL && argc < 64)
        argv[argc++] = a;
    va_end(ap);
    return redis_sync_cmdv(s, argc, argv, NULL, err, errlen);
}
