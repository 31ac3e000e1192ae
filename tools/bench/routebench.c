/* SPDX-License-Identifier: MIT */
/*
 * routebench: the router's own cost, for tools/bench/bench_router.sh. The nodes are fake: their
 * health records are written straight into P:health, and nothing but this program reads the
 * node streams P:requests:{node} the router writes to. Node ids: rb000, rb001, ...
 *
 *   routebench health --port P --nodes N [--capacity C]
 *       HSET P:health with N records (fresh last_seen, one model loaded each: node i has the
 *       i % 5-th of the five models; capacity C, default 1) at once and then every second,
 *       until SIGTERM.
 *   routebench fill --port P --count N
 *       XADD N requests to P:requests, pipelined 1000 at a time.
 *   routebench drain --port P --nodes N --count N [--timeout S]
 *       from now on, every 10 ms, the sum of XLEN over the N node streams; prints
 *         drain t10_ms=.. t90_ms=.. t100_ms=.. routes_per_s=.. routed=..
 *       routes_per_s: 80 % of the count over the time between 10 % and 90 % of it arrived.
 *   routebench latency --port P --nodes N --rate R --duration S --pid PID [--seed N]
 *       open-loop Poisson XADDs to P:requests on one connection (t0 taken just before the
 *       write); XREAD BLOCK 0 over every node stream on a second one (arrival = when the read
 *       returned the entry); a PING on the first connection every 10 ms when nothing else is
 *       outstanding on it (its round trip); PID's CPU (utime + stime) over the run. Prints
 *         latency n=.. lost=.. p50_us=.. p99_us=.. ping_n=.. ping_p50_us=.. ping_p99_us=..
 *                 cpu_s=.. cpu_s_per_1000=.. nodes_used=..
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "orion/buf.h"
#include "orion/resp.h"

#define PFX "orion:inference"
#define NMODELS 5
#define MAXNODES 1000
#define MAXREQ 200000

static const char *const models[NMODELS] = {"gemma3:1b", "llama3.2:1b", "qwen2.5:0.5b",
                                            "llama3.2:3b", "qwen2.5:1.5b"};

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
    fprintf(stderr, "routebench: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

/* --- a small synchronous Redis client ------------------------------------------------------- */
struct rc {
    int fd;
    struct resp_reader rd;
};

static void rc_open(struct rc *c, int port)
{
    struct sockaddr_in a;

    resp_reader_init(&c->rd);
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        die("socket");
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("connect to redis");
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write to redis");
        p += w;
        n -= (size_t)w;
    }
}

static void rc_flush(struct rc *c, struct buf *b)
{
    write_all(c->fd, buf_data(b), buf_size(b));
    buf_reset(b);
}

/* One read() into the reader; -1 on EOF or error. */
static int rc_read(struct rc *c)
{
    char tmp[65536];
    ssize_t n;

    do
        n = read(c->fd, tmp, sizeof tmp);
    while (n < 0 && errno == EINTR);
    if (n <= 0 || resp_reader_feed(&c->rd, tmp, (size_t)n) < 0)
        return -1;
    return 0;
}

/* The next reply, reading as needed. */
static struct resp_reply *rc_get(struct rc *c)
{
    struct resp_reply *rep = NULL;

    for (;;) {
        int g = resp_reader_get(&c->rd, &rep);

        if (g == 1)
            return rep;
        if (g < 0 || rc_read(c) < 0)
            die("reading a reply");
    }
}

static struct resp_reply *rcmd(struct rc *c, int argc, const char *const *argv)
{
    struct buf b;

    buf_init(&b, 64 << 20);
    if (resp_format(&b, argc, argv, NULL) < 0)
        die("format");
    rc_flush(c, &b);
    buf_release(&b);
    return rc_get(c);
}

static void node_id(char *out, size_t n, int i) { snprintf(out, n, "rb%03d", i); }

/* --- health -------------------------------------------------------------------------------- */
static long capacity = 1;

static void write_health(struct rc *c, int nodes)
{
    static char ids[MAXNODES][16], js[MAXNODES][512];
    static const char *argv[2 + 2 * MAXNODES];
    long long now = (long long)time(NULL);
    struct resp_reply *r;
    int i, argc = 0;

    argv[argc++] = "HSET";
    argv[argc++] = PFX ":health";
    for (i = 0; i < nodes; i++) {
        char id[8];

        snprintf(id, sizeof id, "rb%03d", i % 1000);
        memcpy(ids[i], id, sizeof id);
        snprintf(js[i], sizeof js[i],
                 "{\"node_id\":\"%s\",\"cpu_percent\":5.0,\"ram_percent\":30.0,"
                 "\"ram_used_mb\":2458,\"ram_total_mb\":8192,\"temp_c\":50.0,\"models\":[\"%s\"],"
                 "\"installed\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"],\"available\":true,"
                 "\"last_seen\":%lld,\"capacity\":%ld,\"inflight\":0,\"ollama_up\":true}",
                 id, models[i % NMODELS], models[0], models[1], models[2], models[3], models[4],
                 now, capacity);
        argv[argc++] = ids[i];
        argv[argc++] = js[i];
    }
    r = rcmd(c, argc, argv);
    if (r->type == RESP_ERROR)
        fprintf(stderr, "routebench: HSET: %s\n", r->str);
    resp_reply_free(r);
}

static int do_health(int port, int nodes)
{
    struct rc c;

    rc_open(&c, port);
    for (;;) { /* until SIGTERM */
        struct timespec ts = {1, 0};

        write_health(&c, nodes);
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    return 0;
}

/* --- requests ------------------------------------------------------------------------------ */
static uint64_t rng_s = 1;
static double urand(void) /* (0, 1) */
{
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return ((double)((rng_s * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}

static int pick_model(void) /* Zipf(1) over the five models, as tools/cluster-sim/loadgen.c */
{
    double sum = 0, acc = 0, u;
    int m;

    for (m = 0; m < NMODELS; m++)
        sum += 1.0 / (m + 1);
    u = urand() * sum;
    for (m = 0; m < NMODELS - 1; m++) {
        acc += 1.0 / (m + 1);
        if (u < acc)
            break;
    }
    return m;
}

/* XADD P:requests * model M prompt ... priority 2 callback rb:cb request_id ID */
static void add_request(struct buf *b, const char *id)
{
    const char *argv[] = {"XADD", PFX ":requests", "*", "model", models[pick_model()], "prompt",
                          "Why is the sky blue? Answer in two sentences for a ten-year-old.",
                          "priority", "2", "callback", "rb:cb", "request_id", id};

    if (resp_format(b, 13, argv, NULL) < 0)
        die("format");
}

static int do_fill(int port, long count)
{
    struct rc c;
    struct buf b;
    long done = 0;
    int64_t t0 = mono_us();

    rc_open(&c, port);
    buf_init(&b, 64 << 20);
    while (done < count) {
        long k, batch = count - done < 1000 ? count - done : 1000;
        char id[32];

        for (k = 0; k < batch; k++) {
            snprintf(id, sizeof id, "fill-%ld", done + k);
            add_request(&b, id);
        }
        rc_flush(&c, &b);
        for (k = 0; k < batch; k++) {
            struct resp_reply *r = rc_get(&c);

            if (r->type != RESP_BULK)
                die("XADD");
            resp_reply_free(r);
        }
        done += batch;
    }
    fprintf(stderr, "routebench: %ld requests added in %.2f s\n", count,
            (double)(mono_us() - t0) / 1e6);
    return 0;
}

/* --- drain: how fast the backlog reaches the node streams --------------------------------- */
static long sum_xlen(struct rc *c, struct buf *b, int nodes)
{
    char key[64], id[16];
    long sum = 0;
    int i;

    for (i = 0; i < nodes; i++) {
        const char *argv[] = {"XLEN", key};

        node_id(id, sizeof id, i);
        snprintf(key, sizeof key, PFX ":requests:%s", id);
        if (resp_format(b, 2, argv, NULL) < 0)
            die("format");
    }
    rc_flush(c, b);
    for (i = 0; i < nodes; i++) {
        struct resp_reply *r = rc_get(c);

        if (r->type == RESP_INT)
            sum += (long)r->integer;
        resp_reply_free(r);
    }
    return sum;
}

static int do_drain(int port, int nodes, long count, double timeout)
{
    struct rc c;
    struct buf b;
    int64_t t0 = mono_us(), t10 = -1, t90 = -1, t100 = -1, now;
    long sum = 0;

    rc_open(&c, port);
    buf_init(&b, 1 << 20);
    for (;;) {
        struct timespec ts = {0, 10000000L};

        sum = sum_xlen(&c, &b, nodes);
        now = mono_us() - t0;
        if (t10 < 0 && sum * 10 >= count)
            t10 = now;
        if (t90 < 0 && sum * 10 >= count * 9)
            t90 = now;
        if (sum >= count) {
            t100 = now;
            break;
        }
        if (now > (int64_t)(timeout * 1e6))
            break;
        nanosleep(&ts, NULL);
    }
    printf("drain t10_ms=%.1f t90_ms=%.1f t100_ms=%.1f routes_per_s=%.0f routed=%ld\n",
           (double)t10 / 1000, (double)t90 / 1000, (double)t100 / 1000,
           t90 > t10 && t10 >= 0 ? 0.8 * (double)count / ((double)(t90 - t10) / 1e6) : 0.0, sum);
    return sum >= count ? 0 : 1;
}

/* --- latency ------------------------------------------------------------------------------- */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static int64_t pct(int64_t *v, long n, double p) /* nearest rank */
{
    long k;

    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    k = (long)ceil((double)n * p / 100);
    if (k < 1)
        k = 1;
    return v[k - 1];
}

static double cpu_s(int pid)
{
    char path[64], line[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    int i;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    p = fgets(line, sizeof line, f);
    fclose(f);
    if (!p || !(p = strrchr(line, ')')))
        return -1;
    /* after ") ": state(3) ppid ... utime is field 14, stime 15 */
    for (i = 3, p += 2; i < 14 && p; i++)
        p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
    if (!p || sscanf(p, "%lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct lat {
    int nodes;
    char (*keys)[64], (*last)[64];
    int64_t *t0, *arr; /* per request: submit and arrival (us), arr 0 until seen */
    long nsub, narr;
    int *used;
};

static void send_xread(struct rc *w, const struct lat *L)
{
    static const char *argv[6 + 2 * MAXNODES];
    struct buf b;
    int i, argc = 0;

    argv[argc++] = "XREAD";
    argv[argc++] = "COUNT";
    argv[argc++] = "1000";
    argv[argc++] = "BLOCK";
    argv[argc++] = "0";
    argv[argc++] = "STREAMS";
    for (i = 0; i < L->nodes; i++)
        argv[argc++] = L->keys[i];
    for (i = 0; i < L->nodes; i++)
        argv[argc++] = L->last[i];
    buf_init(&b, 1 << 20);
    if (resp_format(&b, argc, argv, NULL) < 0)
        die("format");
    rc_flush(w, &b);
    buf_release(&b);
}

/* [[key, [[id, [f, v, ...]], ...]], ...]: note every lat-N entry's arrival */
static void on_xread(struct lat *L, const struct resp_reply *r, int64_t now)
{
    size_t s, e;

    if (!r || r->type != RESP_ARRAY)
        return;
    for (s = 0; s < r->n; s++) {
        const struct resp_reply *key = resp_at(&r->elem[s], 0), *ents = resp_at(&r->elem[s], 1);
        int ni;

        if (!key || key->type != RESP_BULK || !ents)
            continue;
        for (ni = 0; ni < L->nodes && strcmp(L->keys[ni], key->str); ni++)
            ;
        if (ni == L->nodes)
            continue;
        for (e = 0; e < ents->n; e++) {
            const struct resp_reply *id = resp_at(&ents->elem[e], 0);
            const struct resp_reply *rid = resp_field(resp_at(&ents->elem[e], 1), "request_id");
            long k;

            if (id && id->type == RESP_BULK && id->len < sizeof L->last[ni])
                memcpy(L->last[ni], id->str, id->len + 1);
            if (!rid || rid->type != RESP_BULK || strncmp(rid->str, "lat-", 4))
                continue;
            k = strtol(rid->str + 4, NULL, 10);
            if (k >= 0 && k < L->nsub && !L->arr[k]) {
                L->arr[k] = now;
                L->narr++;
                L->used[ni] = 1;
            }
        }
    }
}

static int do_latency(int port, int nodes, double rate, double dur, int pid)
{
    struct rc s, w;
    struct lat L;
    struct buf b;
    char kinds[64]; /* outstanding replies on s: 'X' XADD, 'P' PING (a small FIFO) */
    int64_t ping_t0[64], *rtt, *lat, start, end, next_sub, next_ping, now;
    int head = 0, tail = 0, i, used = 0;
    long nrtt = 0, maxreq = (long)(rate * dur * 1.5) + 100, maxrtt = (long)(dur * 100) + 100;
    long k, nlat = 0;
    int64_t wreq = -1;
    double c0, c1;

    memset(&L, 0, sizeof L);
    L.nodes = nodes;
    L.keys = calloc((size_t)nodes, sizeof *L.keys);
    L.last = calloc((size_t)nodes, sizeof *L.last);
    L.used = calloc((size_t)nodes, sizeof *L.used);
    L.t0 = calloc((size_t)maxreq, sizeof *L.t0);
    L.arr = calloc((size_t)maxreq, sizeof *L.arr);
    rtt = calloc((size_t)maxrtt, sizeof *rtt);
    lat = calloc((size_t)maxreq, sizeof *lat);
    if (!L.keys || !L.last || !L.used || !L.t0 || !L.arr || !rtt || !lat || maxreq > MAXREQ)
        die("memory");
    for (i = 0; i < nodes; i++) {
        char id[16];

        node_id(id, sizeof id, i);
        snprintf(L.keys[i], sizeof L.keys[i], PFX ":requests:%s", id);
        snprintf(L.last[i], sizeof L.last[i], "0-0"); /* the streams are new: nothing missed */
    }
    rc_open(&s, port);
    rc_open(&w, port);
    buf_init(&b, 1 << 20);
    send_xread(&w, &L);

    /* Warm-up: one request that must arrive before the clock starts (the router has read the
     * health records and placed once). Counted as lat-0, excluded below. */
    L.nsub = 1;
    add_request(&b, "lat-0");
    L.t0[0] = mono_us();
    rc_flush(&s, &b);
    resp_reply_free(rc_get(&s));
    while (!L.arr[0]) {
        struct pollfd p = {w.fd, POLLIN, 0};
        struct resp_reply *r;

        if (mono_us() - L.t0[0] > 15000000)
            die("warm-up request never reached a node stream");
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (rc_read(&w) < 0)
            die("watch connection");
        while (resp_reader_get(&w.rd, &r) == 1) {
            on_xread(&L, r, mono_us());
            resp_reply_free(r);
            send_xread(&w, &L);
        }
    }
    L.narr = 0;
    memset(L.used, 0, sizeof(int) * (size_t)nodes);

    c0 = cpu_s(pid);
    start = mono_us();
    end = start + (int64_t)(dur * 1e6);
    next_sub = start;
    next_ping = start + 5000;
    for (;;) {
        struct pollfd p[2] = {{s.fd, POLLIN, 0}, {w.fd, POLLIN, 0}};
        int64_t wake;
        int timeout;

        now = mono_us();
        if (now >= end && wreq < 0)
            wreq = now + 3000000; /* after the last submission: 3 s for stragglers */
        if (wreq >= 0 && (L.narr >= L.nsub - 1 || now >= wreq))
            break;
        if (now < end && now >= next_sub && L.nsub < maxreq) {
            char id[32];

            snprintf(id, sizeof id, "lat-%ld", L.nsub);
            add_request(&b, id);
            L.t0[L.nsub++] = mono_us();
            rc_flush(&s, &b);
            kinds[tail % 64] = 'X';
            tail++;
            next_sub += (int64_t)(-log(urand()) / rate * 1e6);
            continue;
        }
        if (now >= next_ping) {
            if (head == tail && now < end && nrtt < maxrtt) {
                const char *argv[] = {"PING"};

                if (resp_format(&b, 1, argv, NULL) < 0)
                    die("format");
                ping_t0[tail % 64] = mono_us();
                rc_flush(&s, &b);
                kinds[tail % 64] = 'P';
                tail++;
            }
            next_ping += 10000;
        }
        wake = now >= end ? now + 10000 : next_ping < next_sub ? next_ping : next_sub;
        timeout = wake > now ? (int)((wake - now + 999) / 1000) : 0;
        if (poll(p, 2, timeout) <= 0)
            continue;
        now = mono_us();
        if (p[0].revents) {
            struct resp_reply *r;

            if (rc_read(&s) < 0)
                die("submit connection");
            while (head != tail && resp_reader_get(&s.rd, &r) == 1) {
                if (kinds[head % 64] == 'P')
                    rtt[nrtt++] = now - ping_t0[head % 64];
                else if (r->type != RESP_BULK)
                    fprintf(stderr, "routebench: XADD: %s\n", r->type == RESP_ERROR ? r->str : "?");
                resp_reply_free(r);
                head++;
            }
        }
        if (p[1].revents) {
            struct resp_reply *r;

            if (rc_read(&w) < 0)
                die("watch connection");
            while (resp_reader_get(&w.rd, &r) == 1) {
                on_xread(&L, r, now);
                resp_reply_free(r);
                send_xread(&w, &L);
            }
        }
    }
    c1 = cpu_s(pid);
    for (k = 1; k < L.nsub; k++)
        if (L.arr[k])
            lat[nlat++] = L.arr[k] - L.t0[k];
    for (i = 0; i < nodes; i++)
        used += L.used[i];
    printf("latency n=%ld lost=%ld p50_us=%lld p99_us=%lld ping_n=%ld ping_p50_us=%lld "
           "ping_p99_us=%lld cpu_s=%.2f cpu_s_per_1000=%.4f nodes_used=%d\n",
           nlat, L.nsub - 1 - nlat, (long long)pct(lat, nlat, 50), (long long)pct(lat, nlat, 99),
           nrtt, (long long)pct(rtt, nrtt, 50), (long long)pct(rtt, nrtt, 99), c1 - c0,
           nlat > 0 && c0 >= 0 && c1 >= 0 ? (c1 - c0) / (double)nlat * 1000 : 0.0, used);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: routebench health|fill|drain|latency --port P [--nodes N]\n"
                    "       [--count N] [--capacity C] [--timeout S] [--rate R] [--duration S]\n"
                    "       [--pid PID] [--seed N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0, nodes = 10, pid = 0, i;
    long count = 0;
    double timeout = 120, rate = 100, dur = 20;

    if (argc < 2)
        usage();
    for (i = 2; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];

        if (!strcmp(o, "--port"))
            port = (int)strtol(v, NULL, 10);
        else if (!strcmp(o, "--nodes"))
            nodes = (int)strtol(v, NULL, 10);
        else if (!strcmp(o, "--count"))
            count = strtol(v, NULL, 10);
        else if (!strcmp(o, "--timeout"))
            timeout = strtod(v, NULL);
        else if (!strcmp(o, "--rate"))
            rate = strtod(v, NULL);
        else if (!strcmp(o, "--duration"))
            dur = strtod(v, NULL);
        else if (!strcmp(o, "--capacity"))
            capacity = strtol(v, NULL, 10);
        else if (!strcmp(o, "--pid"))
            pid = (int)strtol(v, NULL, 10);
        else if (!strcmp(o, "--seed"))
            rng_s = strtoull(v, NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
        else
            usage();
    }
    if (i != argc || port <= 0 || nodes < 1 || nodes > MAXNODES || rate <= 0 || dur <= 0)
        usage();
    if (!strcmp(argv[1], "health"))
        return do_health(port, nodes);
    if (!strcmp(argv[1], "fill") && count > 0)
        return do_fill(port, count);
    if (!strcmp(argv[1], "drain") && count > 0)
        return do_drain(port, nodes, count, timeout);
    if (!strcmp(argv[1], "latency") && pid > 0)
        return do_latency(port, nodes, rate, dur, pid);
    usage();
    return 2;
}
