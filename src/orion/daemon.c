/* SPDX-License-Identifier: MIT */
/* The start every ORION program shares: Redis options from the common flags, a first check. */
#include "orion/daemon.h"
#include "orion/log.h"


void daemon_redis_opts(struct redis_opts *o, const struct conf_common *c, const char *name)
{
    redis_opts_conf(o, c, name); /* --redis-addr or the sentinels, and the WAIT settings */
}

int daemon_check_redis(const struct conf_common *c)
{
    struct redis_opts o;
    char err[600], where[600];
    struct redis_sync *s;

    daemon_redis_opts(&o, c, "redis");
    s = redis_sync_connect(&o, 3000, err, sizeof(err));
    if (!s && redis_err_loading(err)) { /* reachable, answering: the link waits for it */
        log_info("redis %s: %s; starting anyway", redis_conf_where(c, where, sizeof(where)), err);
        return 0;
    }
    if (!s) {
        log_errorx("redis %s: %s", redis_conf_where(c, where, sizeof(where)), err);
        return -1;
    }
    redis_sync_free(s);
    return 0;
}
