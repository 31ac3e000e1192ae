/* SPDX-License-Identifier: MIT */
/*
 * testsrv.h: start a real redis-server for a test, on a free loopback port and a unix socket
 * in a fresh temporary directory. Header-only, for test programs.
 */
#ifndef ORION_TESTSRV_H
#define ORION_TESTSRV_H

#include "orion/net.h"
#include "orion/redis.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct testsrv {
    pid_t pid;
    int port;
    char dir[64], addr[64], sock[128], conf[128];
};

static inline int testsrv_free_port(void)
{
    char err[128];
    int fd = net_listen("127.0.0.1:0", err, sizeof(err)), port;

    if (fd < 0)
        return -1;
    port = net_local_port(fd);
    close(fd);
    return port;
}

static inline void testsrv_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* (Re)start the server with the config already written; waits until it answers. */
static inline int testsrv_spawn(struct testsrv *s)
{
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        execlp("redis-server", "redis-server", s->conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct redis_opts o = {s->addr, NULL, NULL, 0, "test", 0, 0, 0, 0};
        char err[128];
        struct redis_sync *c = redis_sync_connect(&o, 200, err, sizeof(err));
        if (c) {
            redis_sync_free(c);
            return 0;
        }
        testsrv_sleep_ms(25);
    }
    return -1;
}

/* extra: more redis.conf lines (may be NULL). */
static inline int testsrv_start(struct testsrv *s, const char *extra)
{
    FILE *f;

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/orion-test-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    s->port = testsrv_free_port();
    snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%d", s->port);
    snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
    snprintf(s->conf, sizeof(s->conf), "%s/redis.conf", s->dir);
    f = fopen(s->conf, "w");
    if (!f)
        return -1;
    fprintf(f, "port %d\nbind 127.0.0.1 -::1\nunixsocket %s\ndir %s\nsave \"\"\nappendonly no\n"
               "daemonize no\nlogfile %s/redis.log\n%s\n",
            s->port, s->sock, s->dir, s->dir, extra ? extra : "");
    fclose(f);
    return testsrv_spawn(s);
}

static inline void testsrv_kill(struct testsrv *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

static inline void testsrv_stop(struct testsrv *s)
{
    char cmd[200];

    testsrv_kill(s);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0) {
        /* leave it */
    }
}

#endif
