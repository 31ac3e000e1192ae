/* SPDX-License-Identifier: MIT */
/*
 * The common Redis settings of every program (--redis-addr, --redis-sentinels, ...,
 * include/orion/conf.h) checked at start and turned into connection options.
 */
#include "orion/conf.h"
#include "orion/redis.h"
#include "orion/sentinel_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void redis_opts_conf(struct redis_opts *o, const struct conf_common *c, const char *name)
{
    memset(o, 0, sizeof(*o));
    o->addr = c->redis_addr;
    o->user = c->redis_user;
    o->password = c->redis_password;
    o->db = c->redis_db;
    o->name = name;
    o->sentinels = c->redis_sentinels && *c->redis_sentinels ? c->redis_sentinels : NULL;
    o->master_name = c->redis_master_name;
    o->sentinel_user = c->redis_sentinel_user;
    o->sentinel_password = c->redis_sentinel_password;
    o->watch = true;
    o->min_replicas = c->redis_min_replicas;
    o->wait_timeout_ms = c->redis_wait_timeout;
}

void redis_conf_check(const struct conf_common *c, const char *prog)
{
    struct sentinel_list l;
    char err[200];

    if (!c->redis_sentinels || !*c->redis_sentinels)
        return;
    if (sentinel_list_parse(&l, c->redis_sentinels, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: redis-sentinels: %s\n", prog, err);
        exit(ORION_EXIT_USAGE);
    }
    if (!sentinel_name_ok(c->redis_master_name)) {
        fprintf(stderr, "%s: redis-master-name: '%s' is empty, longer than %d bytes or has a "
                        "space\n", prog, c->redis_master_name ? c->redis_master_name : "",
                SENTINEL_NAME_MAX);
        exit(ORION_EXIT_USAGE);
    }
}

const char *redis_conf_where(const struct conf_common *c, char *buf, size_t n)
{
    if (!c->redis_sentinels || !*c->redis_sentinels)
        return c->redis_addr;
    snprintf(buf, n, "master %s via sentinels %s", c->redis_master_name, c->redis_sentinels);
    return buf;
}
