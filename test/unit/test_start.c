/* SPDX-License-Identifier: MIT */
/*
 * The daemons' start under memory pressure: allocation N fails, for N = 1, 2, ... until a run
 * gets past its start. Every run that stops on the way must exit 111 (a temporary failure:
 * systemd's RestartPreventExitStatus=100 must not keep it down), never 100, which is kept for
 * settings to fix; a bad --ollama-url still exits 100. Each run is a child process against a
 * real redis-server.
 */
#include "orion/buf.h"
#include "orion/conf.h"
#include "../t.h"
#include "../testsrv.h"

#include "../../src/router/router.h"
#include "../../src/worker/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>

#define MAX_N 400

static struct testsrv srv;

static void common(struct conf_common *c)
{
    memset(c, 0, sizeof(*c));
    c->redis_addr = srv.addr;
    c->prefix = "t-start";
    c->log_level = "error";
    c->log_format = "text";
}

static int run_worker(const char *url)
{
    struct worker_conf wc;

    memset(&wc, 0, sizeof(wc));
    common(&wc.c);
    wc.node_id = "n1";
    wc.ollama_url = url;
    wc.sysfs_root = "/";
    wc.keep_alive = "5m";
    wc.labels = "gpu,big";
    wc.interval = 1;
    wc.parallel = 2;
    wc.shutdown_timeout = 1;
    wc.ollama_timeout = 5;
    return worker_run(&wc);
}

static int run_router(const char *unused)
{
    struct router_conf rc;

    (void)unused;
    memset(&rc, 0, sizeof(rc));
    common(&rc.c);
    rc.max_temp = 75;
    rc.max_ram = 90;
    rc.stale_after = 15;
    rc.queue_timeout = 60;
    rc.service_ms = 15000;
    rc.cold_load_ms = 5000;
    rc.load_factor = 125;
    rc.policy = "sticky";
    rc.router_id = "r1";
    rc.http_listen = "127.0.0.1:0";
    return router_run(&rc);
}

/* Run fn in a child with allocation n failing (0: none). The exit code, or -1 once it said it
 * is ready ($ORION_NOTIFY_FD) or still runs after 3 s: it got past its start and is killed. */
static int child(int (*fn)(const char *), const char *arg, unsigned long n)
{
    int p[2], st;
    pid_t pid;
    char fd[16], c;
    struct pollfd pf;

    if (pipe(p) < 0)
        return -2;
    pid = fork();
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0 && !getenv("T_STDERR"))
            dup2(dn, 2);
        close(p[0]);
        snprintf(fd, sizeof(fd), "%d", p[1]);
        setenv("ORION_NOTIFY_FD", fd, 1);
        orion_alloc_fail_at(n);
        _exit(fn(arg));
    }
    close(p[1]);
    pf.fd = p[0];
    pf.events = POLLIN;
    if (poll(&pf, 1, (int)(3000 * t_slow())) == 1 && read(p[0], &c, 1) == 1) {
        kill(pid, SIGKILL); /* ready */
        waitpid(pid, &st, 0);
        st = -1;
    } else if (waitpid(pid, &st, WNOHANG) == pid) {
        st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    } else {
        for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) != pid; i++)
            testsrv_sleep_ms(10); /* the pipe closed as it exited */
        if (kill(pid, 0) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            st = -1;
        } else {
            st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
    }
    close(p[0]);
    return st;
}

/* Fail allocation 1, 2, ... until 20 runs in a row got past their start: the allocations of
 * the start are then all behind. */
static void oom_loop(const char *name, int (*fn)(const char *), const char *arg)
{
    unsigned long n, stopped = 0, first_bad = 0, streak = 0;
    int bad_rc = 0;

    for (n = 1; n <= MAX_N && streak < 20; n++) {
        int rc = child(fn, arg, n);
        if (rc == -1) {
            streak++;
            continue;
        }
        streak = 0;
        stopped++;
        if (rc != ORION_EXIT_SYSTEM && !first_bad) {
            first_bad = n;
            bad_rc = rc;
        }
    }
    ok(streak == 20, "%s: with allocation %lu failing and after, runs get past their start", name,
       n - 20);
    ok(stopped >= 3, "%s: %lu runs stopped on a failed allocation at start", name, stopped);
    ok(!first_bad, "%s: every one of them exited 111%s", name, first_bad ? " (not all)" : "");
    if (first_bad)
        printf("#   allocation %lu failing: exit %d\n", first_bad, bad_rc);
}

int main(void)
{
    if (testsrv_start(&srv, NULL) < 0) {
        ok(0, "redis-server started");
        return done_testing();
    }
    signal(SIGPIPE, SIG_IGN);
    is_int(child(run_worker, "ftp://nowhere", 0), ORION_EXIT_USAGE,
           "worker: a bad --ollama-url exits 100");
    oom_loop("worker", run_worker, "http://127.0.0.1:1");
    oom_loop("router", run_router, NULL);
    testsrv_stop(&srv);
    return done_testing();
}
