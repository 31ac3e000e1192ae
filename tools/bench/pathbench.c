/* SPDX-License-Identifier: MIT */
/*
 * pathbench: the request path's own latency, for tools/bench/bench_path.sh.
 *
 *   pathbench done --port P --node ID --model M --count N
 *       Plays the worker of node ID (one slot; its health written by someone else) against a
 *       router that holds N+1 requests for M, which this program adds to P:requests first.
 *       For each request the router moves to ID's stream: a started event, the entry deleted
 *       (as the answer script does), then a done event; the clock starts just before the done
 *       event is written and stops when the next request is read from the stream (XREAD
 *       BLOCK on a second connection). Prints
 *         done n=.. p50_us=.. p99_us=.. max_us=.. overbooked=.. ping_p50_us=.. ping_p99_us=..
 *       overbooked: reads that found a request already waiting behind the one just taken
 *       (the router sent to a full slot; that sample is not counted). ping: the round trip of
 *       the command connection, 200 PINGs after the run.
 *   pathbench http --direct HOST:PORT --router HOST:PORT --model M --count N
 *       N non-streamed POST /api/generate of a one-token answer (options.num_predict 1) to
 *       each address, one at a time, interleaved (direct, router, router, direct, ...) so both
 *       see the same machine; a new connection each (Connection: close), timed from connect
 *       to the last byte of the answer; 5 of each first, untimed (warm model). Prints
 *         http n=.. direct_p50_us=.. direct_p99_us=.. router_p50_us=.. router_p99_us=..
 *              errors=..
 *   pathbench load --target HOST:PORT --model M --clients C --seconds S
 *       C clients (processes), each sending the same one-token POST as http, one after
 *       another, for the same S seconds (after 5 untimed ones each, 2 s given). Prints
 *         load n=.. rps=.. p50_us=.. p99_us=.. errors=..
 *       rps: answers over the S seconds; latencies of every answer, pooled.
 * Percentiles: nearest rank over the samples.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orion/buf.h"
#include "orion/resp.h"

#define PFX "orion:inference"
#define MAXN 100000

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
    fprintf(stderr, "pathbench: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile of v[0..n) (sorts v); 0 for no samples. */
static int64_t pct(int64_t *v, size_t n, double p)
{
    size_t k;

    if (!n)
        return 0;
    qsort(v, n, sizeof(*v), cmp_i64);
    k = (size_t)(p / 100.0 * (double)n + 0.999999);
    return v[(k ? k : 1) - 1];
}

static int tcp_connect(const char *host, int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0)
        die("socket");
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        die("address");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* --- a small synchronous Redis client ------------------------------------------------------- */
struct rc {
    int fd;
    struct resp_reader rd;
};

static void rc_open(struct rc *c, int port)
{
    resp_reader_init(&c->rd);
    if ((c->fd = tcp_connect("127.0.0.1", port)) < 0)
        die("connect to redis");
}

static struct resp_reply *rc_get(struct rc *c)
{
    struct resp_reply *rep = NULL;
    char tmp[65536];

    for (;;) {
        int g = resp_reader_get(&c->rd, &rep);
        ssize_t n;

        if (g == 1)
            return rep;
        if (g < 0)
            die("reading a reply");
        do
            n = read(c->fd, tmp, sizeof tmp);
        while (n < 0 && errno == EINTR);
        if (n <= 0 || resp_reader_feed(&c->rd, tmp, (size_t)n) < 0)
            die("reading from redis");
    }
}

static struct resp_reply *rcmd(struct rc *c, int argc, const char *const *argv)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    if (resp_format(&b, argc, argv, NULL) < 0 || write_all(c->fd, buf_data(&b), buf_size(&b)))
        die("sending a command");
    buf_release(&b);
    return rc_get(c);
}

static void rcmd_ok(struct rc *c, int argc, const char *const *argv)
{
    struct resp_reply *r = rcmd(c, argc, argv);

    if (r->type == RESP_ERROR) {
        fprintf(stderr, "pathbench: %s: %s\n", argv[0], r->str);
        exit(1);
    }
    resp_reply_free(r);
}

/* --- done -> next dispatch ----------------------------------------------------------------- */
static int do_done(int port, const char *node, const char *model, long count)
{
    static int64_t lat[MAXN], ping[200];
    struct rc c, x;
    char stream[128], last[64] = "0-0", rid[64];
    size_t n = 0;
    long overbooked = 0;
    bool skip = false;
    int64_t t_done = 0; /* when the last done event was sent */

    snprintf(stream, sizeof stream, PFX ":requests:%s", node);
    rc_open(&c, port);
    rc_open(&x, port);
    for (long i = 0; i <= count; i++) {
        char id[32];
        const char *argv[] = {"XADD", PFX ":requests", "*", "model", model, "prompt", "hi",
                              "callback", "pb:cb", "request_id", id};

        snprintf(id, sizeof id, "pb-%ld", i);
        rcmd_ok(&c, 11, argv);
    }
    for (long i = 0; i <= count; i++) {
        const char *rd[] = {"XREAD", "COUNT", "2", "BLOCK", "30000", "STREAMS", stream, last};
        struct resp_reply *r = rcmd(&x, 8, rd);
        int64_t t1 = mono_us();
        const struct resp_reply *es = resp_at(resp_at(resp_at(r, 0), 1), 0), *f, *eid;

        if (!es || !(eid = resp_at(es, 0)) || eid->type != RESP_BULK || eid->len >= sizeof last) {
            fprintf(stderr, "pathbench: no request reached %s in 30 s (%ld of %ld)\n", node, i,
                    count + 1);
            return 1;
        }
        if (i > 0 && !skip && n < MAXN)
            lat[n++] = t1 - t_done;
        memcpy(last, eid->str, eid->len + 1);
        f = resp_field(resp_at(es, 1), "request_id");
        snprintf(rid, sizeof rid, "%s", f && f->type == RESP_BULK ? f->str : "");
        skip = resp_at(resp_at(resp_at(r, 0), 1), 1) != NULL;
        overbooked += skip;
        resp_reply_free(r);
        {
            const char *st[] = {"XADD", PFX ":events", "*", "type", "started", "request_id", rid,
                                "node_id", node, "model", model};
            const char *del[] = {"XDEL", stream, last};
            const char *dn[] = {"XADD", PFX ":events", "*", "type", "done", "request_id", rid,
                                "node_id", node, "model", model, "info", "", "total_duration",
                                "1000000", "load_duration", "0", "prompt_eval_count", "5",
                                "prompt_eval_duration", "500000", "eval_count", "1",
                                "eval_duration", "100000"};
            rcmd_ok(&c, 11, st);
            rcmd_ok(&c, 3, del);
            t_done = mono_us();
            rcmd_ok(&c, 25, dn);
        }
    }
    for (size_t i = 0; i < 200; i++) {
        const char *p[] = {"PING"};
        int64_t t0 = mono_us();
        rcmd_ok(&c, 1, p);
        ping[i] = mono_us() - t0;
    }
    {
        size_t k = n;
        int64_t p50 = pct(lat, k, 50), p99 = pct(lat, k, 99), mx = k ? lat[k - 1] : 0; /* sorted */
        printf("done n=%zu p50_us=%lld p99_us=%lld max_us=%lld overbooked=%ld ping_p50_us=%lld "
               "ping_p99_us=%lld\n",
               k, (long long)p50, (long long)p99, (long long)mx, overbooked,
               (long long)pct(ping, 200, 50), (long long)pct(ping, 200, 99));
    }
    return 0;
}

/* --- HTTP: direct against through the router ----------------------------------------------- */

/* One POST; its time in us, or -1 (no connection, not 200, or cut short). */
static int64_t http_once(const char *host, int port, const char *model)
{
    char body[256], req[768], resp[65536];
    size_t got = 0;
    int64_t t0 = mono_us();
    int fd, bl;
    ssize_t k;

    bl = snprintf(body, sizeof body,
                  "{\"model\":\"%s\",\"prompt\":\"hi\",\"stream\":false,"
                  "\"options\":{\"num_predict\":1}}",
                  model);
    snprintf(req, sizeof req,
             "POST /api/generate HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
             "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
             host, port, bl, body);
    if ((fd = tcp_connect(host, port)) < 0)
        return -1;
    if (write_all(fd, req, strlen(req)) < 0) {
        close(fd);
        return -1;
    }
    for (;;) { /* to EOF: the request said Connection: close */
        k = read(fd, resp + got, sizeof resp - 1 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
        if (got == sizeof resp - 1)
            break;
    }
    close(fd);
    resp[got] = '\0';
    if (strncmp(resp, "HTTP/1.1 200", 12) || !strstr(resp, "\"done\":true"))
        return -1;
    return mono_us() - t0;
}

static int split_addr(const char *a, char *host, size_t n, int *port)
{
    const char *c = strrchr(a, ':');

    if (!c || (size_t)(c - a) >= n)
        return -1;
    memcpy(host, a, (size_t)(c - a));
    host[c - a] = '\0';
    *port = atoi(c + 1);
    return *port > 0 ? 0 : -1;
}

static int do_http(const char *direct, const char *router, const char *model, long count)
{
    static int64_t d[MAXN], r[MAXN];
    char dh[64], rh[64];
    int dp, rp;
    size_t nd = 0, nr = 0;
    long errors = 0;

    if (split_addr(direct, dh, sizeof dh, &dp) < 0 || split_addr(router, rh, sizeof rh, &rp) < 0)
        die("--direct and --router want HOST:PORT");
    for (int i = 0; i < 5; i++) {
        http_once(dh, dp, model);
        http_once(rh, rp, model);
    }
    for (long i = 0; i < count && i < MAXN; i++) {
        int64_t a, b;

        if (i % 2) {
            b = http_once(rh, rp, model);
            a = http_once(dh, dp, model);
        } else {
            a = http_once(dh, dp, model);
            b = http_once(rh, rp, model);
        }
        if (a < 0 || b < 0) {
            errors++;
            continue;
        }
        d[nd++] = a;
        r[nr++] = b;
    }
    printf("http n=%zu direct_p50_us=%lld direct_p99_us=%lld router_p50_us=%lld "
           "router_p99_us=%lld errors=%ld\n",
           nd, (long long)pct(d, nd, 50), (long long)pct(d, nd, 99), (long long)pct(r, nr, 50),
           (long long)pct(r, nr, 99), errors);
    return errors > count / 10;
}

/* One client's run: 5 untimed requests, a wait for start_us, then requests until end_us;
 * the error count and the latencies, written to fd as int64_t values, then exit. */
static void load_client(const char *host, int port, const char *model, int64_t start_us,
                        int64_t end_us, int fd)
{
    static int64_t lat[MAXN];
    size_t n = 0;
    int64_t errors = 0, t;

    for (int i = 0; i < 5; i++)
        http_once(host, port, model);
    while ((t = start_us - mono_us()) > 0) {
        struct timespec ts = {0, t > 999999 ? 999999000L : (long)t * 1000};
        nanosleep(&ts, NULL);
    }
    while (mono_us() < end_us && n < MAXN - 1) {
        if ((t = http_once(host, port, model)) < 0)
            errors++;
        else
            lat[n++] = t;
    }
    if (write_all(fd, (const char *)&errors, sizeof errors) < 0 ||
        (n && write_all(fd, (const char *)lat, n * sizeof lat[0]) < 0))
        _exit(1);
    _exit(0);
}

static int do_load(const char *target, const char *model, int clients, int seconds)
{
    static int64_t all[MAXN];
    int fds[64];
    pid_t pids[64];
    size_t n = 0;
    int64_t errors = 0, e, start;
    char host[64];
    int port;

    if (split_addr(target, host, sizeof host, &port) < 0 || clients < 1 || clients > 64 ||
        seconds < 1)
        die("load wants --target HOST:PORT, 1-64 clients, >= 1 s");
    start = mono_us() + 2000000; /* the warm-up's 5 requests each come first */
    for (int c = 0; c < clients; c++) {
        int pfd[2];
        if (pipe(pfd) < 0 || (pids[c] = fork()) < 0)
            die("pipe or fork failed");
        if (pids[c] == 0) {
            close(pfd[0]);
            load_client(host, port, model, start, start + (int64_t)seconds * 1000000, pfd[1]);
        }
        close(pfd[1]);
        fds[c] = pfd[0];
    }
    for (int c = 0; c < clients; c++) { /* each to its end, in turn: a writer blocks until then */
        char buf[8192];
        size_t have = 0;
        ssize_t k;
        bool first = true;
        while ((k = read(fds[c], buf + have, sizeof buf - have)) > 0 ||
               (k < 0 && errno == EINTR)) {
            if (k < 0)
                continue;
            have += (size_t)k;
            while (have >= sizeof(int64_t)) {
                memcpy(&e, buf, sizeof e);
                if (first)
                    errors += e;
                else if (n < MAXN)
                    all[n++] = e;
                first = false;
                memmove(buf, buf + sizeof e, have - sizeof e);
                have -= sizeof e;
            }
        }
        close(fds[c]);
        waitpid(pids[c], NULL, 0);
    }
    printf("load n=%zu rps=%.1f p50_us=%lld p99_us=%lld errors=%lld\n", n,
           (double)n / seconds, (long long)pct(all, n, 50), (long long)pct(all, n, 99),
           (long long)errors);
    return errors > (int64_t)n / 10;
}

int main(int argc, char **argv)
{
    const char *node = "rb000", *model = "gemma3:1b", *direct = NULL, *router = NULL;
    const char *target = NULL;
    long count = 300, clients = 8, seconds = 10;
    int port = 6379;

    if (argc < 2)
        goto usage;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--node"))
            node = argv[i + 1];
        else if (!strcmp(argv[i], "--model"))
            model = argv[i + 1];
        else if (!strcmp(argv[i], "--count"))
            count = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--direct"))
            direct = argv[i + 1];
        else if (!strcmp(argv[i], "--router"))
            router = argv[i + 1];
        else if (!strcmp(argv[i], "--target"))
            target = argv[i + 1];
        else if (!strcmp(argv[i], "--clients"))
            clients = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atol(argv[i + 1]);
        else
            goto usage;
    }
    if (count < 1 || count >= MAXN)
        goto usage;
    if (!strcmp(argv[1], "done"))
        return do_done(port, node, model, count);
    if (!strcmp(argv[1], "http") && direct && router)
        return do_http(direct, router, model, count);
    if (!strcmp(argv[1], "load") && target)
        return do_load(target, model, (int)clients, (int)seconds);
usage:
    fprintf(stderr, "usage: pathbench done --port P [--node ID] [--model M] [--count N]\n"
                    "       pathbench http --direct HOST:PORT --router HOST:PORT [--model M] "
                    "[--count N]\n"
                    "       pathbench load --target HOST:PORT [--model M] [--clients C] "
                    "[--seconds S]\n");
    return 2;
}
