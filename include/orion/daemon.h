/* SPDX-License-Identifier: MIT */
/*
 * daemon: what every ORION program does with its common settings (conf_common) before its
 * loop runs: the Redis connection options, and one first connection that tells a Redis that
 * cannot be reached (the caller exits ORION_EXIT_SYSTEM) from one still loading its data set
 * (start anyway: the connection waits for it).
 */
#ifndef ORION_DAEMON_H
#define ORION_DAEMON_H

#include "orion/conf.h"
#include "orion/redis.h"

/* o from c's redis-* settings (redis_opts_conf: the address or the sentinels, the WAIT
 * settings); name is for log lines ("redis", "redis (blocking reads)"). Timeouts and backoff
 * are the redis module's defaults. o points into c: keep c alive. */
void daemon_redis_opts(struct redis_opts *o, const struct conf_common *c, const char *name);

/* Connect once (3 s) and close: 0 when Redis answers or answers -LOADING (logged), -1 when it
 * cannot be reached or refuses the handshake (logged as an error). */
int daemon_check_redis(const struct conf_common *c);

#endif
