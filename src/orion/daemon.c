/* SPDX-License-Identifier: MIT */
/* The start every ORION program shares: Redis options from the common flags, a first check. */
#include "orion/daemon.h"
#include "orion/log.h"

#include <string.h>

void daemon_redis_opts(struct redis_opts *o, const struct conf_common *c, const char *name)
{
    memset(o, 0, sizeof(*o));
    o->addr = c->redis_addr;
    o->user = c->redis_user;
    o->password = c->redis_password;
    o->db = c->redis_db;
    o->name = name;
}

int daemon_check_redis(const struct conf_common *c)
{
    struct redis_opts o;
    char err[200];
    struct redis_sync *s;

    daemon_redis_opts(&o, c, "redis");
    s = redis_sync_connect(&o, 3000, err, sizeof(err));
    if (!s && redis_err_loading(err)) { /* reachable, answering: the link waits for it */
        log_info("redis %s: %s; starting anyway", c->redis_addr, err);
        return 0;
    }
    if (!s) {
        log_errorx("redis %s: %s", c->redis_addr, err);
        return -1;
    }
    redis_sync_free(s);
    return 0;
}
