/* SPDX-License-Identifier: MIT */
/*
 * A Redis connection in Sentinel mode: before each connect the sentinels are asked where the
 * master is (sentinel.c checks the address's ROLE too), and a switch heard from a sentinel
 * drops the link and connects to the new master at once, without a backoff. What redis.c
 * does with an address is the same as with --redis-addr.
 */
#include "redis_int.h"

#include "orion/sentinel.h"

#include <stdio.h>
#include <string.h>

int redis_sentinel_init(struct redis *r, const struct redis_opts *o)
{
    struct sentinel_opts so = {o->sentinels, o->master_name, o->sentinel_user,
                               o->sentinel_password, o->user, o->password, r->name, 0};
    char err[200];

    r->sent = sentinel_new(r->l, &so, err, sizeof(err));
    if (!r->sent) {
        log_errorx("%s: %s", r->name ? r->name : "redis", err);
        return -1;
    }
    snprintf(err, sizeof(err), "(master %s)", o->master_name);
    r->addr = orion_strdup(err);
    return 0;
}

static void set_addr(struct redis *r, const char *addr)
{
    char *a = orion_strdup(addr);

    if (a) { /* no memory: the old address, and the next resolve tries again */
        orion_free(r->addr);
        r->addr = a;
    }
}

static void resolved_cb(struct sentinel *s, const char *addr, const char *err, void *arg)
{
    struct redis *r = arg;

    (void)s;
    if (!addr) {
        redis_fail(r, "sentinels: %s", err);
        return;
    }
    set_addr(r, addr);
    r->resolved = true;
    redis_start(r);
}

void redis_sentinel_resolve(struct redis *r)
{
    if (!sentinel_busy(r->sent) && sentinel_resolve(r->sent, resolved_cb, r) < 0)
        redis_fail(r, "out of memory");
}

/* A sentinel announced a new master (its ROLE checked): leave the old one now. */
static void switch_cb(struct sentinel *s, const char *addr, void *arg)
{
    struct redis *r = arg;

    if (r->st != R_DOWN && !strcmp(addr, r->addr))
        return;
    if (r->st != R_DOWN)
        redis_fail(r, "the sentinels moved the master to %s", addr);
    sentinel_cancel(s);
    if (r->retry_timer) {
        loop_timer_cancel(r->l, r->retry_timer);
        r->retry_timer = 0;
    }
    set_addr(r, addr);
    r->resolved = true;
    r->backoff = 0;
    redis_start(r);
}

void redis_sentinel_watch(struct redis *r)
{
    r->watching = sentinel_watch(r->sent, switch_cb, r) == 0;
}
