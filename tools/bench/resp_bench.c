/* SPDX-License-Identifier: MIT */
/*
 * resp_bench: reply-parsing throughput of our RESP reader against hiredis's reader, on the
 * same replies recorded from a live redis-server in this run:
 *   - XREADGROUP of 100 entries of ~1 KB each (~126 KB),
 *   - HGETALL of a hash of 50 fields (health JSON of ~300 bytes each).
 * Both readers get the whole reply in one feed, build the reply tree and free it: ours as the
 * Redis client (src/redis.c) frees a reply it delivered, with resp_reader_recycle, hiredis's
 * with freeReplyObject. Each reader's best of 10 rounds of ~0.25 s counts, the readers'
 * rounds taken in turn. Output: one "BENCH ..." line per figure (tools/bench/run.sh) and "#"
 * lines with the minor page faults a parse cost each reader (a reader that hands big blocks
 * back to malloc can make glibc trim and regrow its heap, and every regrown page faults), and
 * ours freeing with resp_reply_free, for comparison.
 *
 * Usage: resp_bench HOST PORT             record from redis-server at HOST:PORT and time
 *        resp_bench -s DIR HOST PORT      the same, and save the replies as DIR/xreadgroup.resp
 *                                         and DIR/hgetall.resp
 *        resp_bench -n N FILE READER      parse FILE N times, untimed, for
 *                                         valgrind --tool=callgrind; READER: ours, ours-free
 *                                         (freed with resp_reply_free) or hiredis
 */
#include "orion/resp.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum reader { OURS, OURS_FREE, HIREDIS };

struct result {
    double mbs;    /* best round, MB/s */
    double faults; /* minor page faults a parse, over all rounds */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long minflt(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* Record the raw bytes of one reply: send the command on a hiredis connection's socket,
 * read with our reader until one whole reply is there, and keep the bytes. */
static char *record(redisContext *c, int argc, const char **argv, size_t *outlen)
{
    struct buf out, raw;
    struct resp_reader rd;
    struct resp_reply *rep = NULL;
    char chunk[16384];

    buf_init(&out, 1 << 20);
    buf_init(&raw, 64 << 20);
    resp_format(&out, argc, argv, NULL);
    if (write(c->fd, buf_data(&out), buf_size(&out)) < 0)
        exit(111);
    resp_reader_init(&rd);
    while (!rep) {
        ssize_t n = read(c->fd, chunk, sizeof(chunk));
        if (n <= 0)
            exit(111);
        buf_append(&raw, chunk, (size_t)n);
        resp_reader_feed(&rd, chunk, (size_t)n);
        if (resp_reader_get(&rd, &rep) < 0)
            exit(111);
    }
    resp_reply_free(rep);
    resp_reader_release(&rd);
    buf_release(&out);
    return buf_detach(&raw, outlen);
}

/* One reader of either kind, kept across the parses of a round as a client keeps it. */
struct rd {
    enum reader w;
    redisReader *h;
    struct resp_reader o;
};

static void rd_open(struct rd *r, enum reader w)
{
    r->w = w;
    if (w == HIREDIS)
        r->h = redisReaderCreate();
    else
        resp_reader_init(&r->o);
}

static void rd_close(struct rd *r)
{
    if (r->w == HIREDIS)
        redisReaderFree(r->h);
    else
        resp_reader_release(&r->o);
}

/* Parse p (one whole reply) and free the reply; the top reply's element count. */
static long rd_parse(struct rd *r, const char *p, size_t len)
{
    long n;

    if (r->w == HIREDIS) {
        void *v;
        redisReaderFeed(r->h, p, len);
        if (redisReaderGetReply(r->h, &v) != REDIS_OK || !v)
            exit(111);
        n = (long)((redisReply *)v)->elements;
        freeReplyObject(v);
    } else {
        struct resp_reply *rep;
        resp_reader_feed(&r->o, p, len);
        if (resp_reader_get(&r->o, &rep) != 1)
            exit(111);
        n = (long)rep->n;
        if (r->w == OURS)
            resp_reader_recycle(&r->o, rep);
        else
            resp_reply_free(rep);
    }
    return n;
}

#define ROUNDS 10
#define ROUND_S 0.25

/* One round of ~ROUND_S: MB/s; *iters gets the parses done. */
static double round_mbs(enum reader w, const char *p, size_t n, long *iters)
{
    double t0 = now_s(), t;
    struct rd r;

    *iters = 0;
    rd_open(&r, w);
    do {
        for (int i = 0; i < 50; i++)
            rd_parse(&r, p, n);
        *iters += 50;
        t = now_s() - t0;
    } while (t < ROUND_S);
    rd_close(&r);
    return (double)n * (double)*iters / t / 1e6;
}

/* The best of ROUNDS rounds for each of the nw readers in w[], their rounds taken in turn,
 * so that a change in the load of the shared machine falls on all of them alike. Page faults
 * are counted over each reader's own rounds. */
static void timed(const enum reader *w, struct result *res, int nw, const char *p, size_t n)
{
    long total[3] = {0, 0, 0}, faults[3] = {0, 0, 0};

    for (int k = 0; k < nw; k++)
        res[k].mbs = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < nw; k++) {
            long f0 = minflt(), iters;
            double mbs = round_mbs(w[k], p, n, &iters);
            faults[k] += minflt() - f0;
            total[k] += iters;
            if (mbs > res[k].mbs)
                res[k].mbs = mbs;
        }
    }
    for (int k = 0; k < nw; k++)
        res[k].faults = (double)faults[k] / (double)total[k];
}

static void fill(redisContext *c)
{
    char val[1100], field[32];

    memset(val, 'x', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    memcpy(val, "[{\"role\":\"user\",\"content\":\"", 27);
    freeReplyObject(redisCommand(c, "DEL bq bh"));
    for (int i = 0; i < 100; i++)
        freeReplyObject(redisCommand(c, "XADD bq * request_id req-%d model gemma3:1b messages %s "
                                        "callback orion:cb:%d priority 2",
                                     i, val, i));
    freeReplyObject(redisCommand(c, "XGROUP CREATE bq g 0"));
    for (int i = 0; i < 50; i++) {
        snprintf(field, sizeof(field), "pi-node-%02d", i);
        freeReplyObject(redisCommand(
            c, "HSET bh %s {\"node_id\":\"%s\",\"cpu_percent\":12.5,\"ram_percent\":41.2,"
               "\"ram_used_mb\":3300,\"ram_total_mb\":7800,\"temp_c\":61.234,\"models\":"
               "[\"gemma3:1b\",\"llama3.2:1b\"],\"available\":true,\"last_seen\":1795377295,"
               "\"installed\":[\"gemma3:1b\",\"llama3.2:1b\",\"qwen2.5:0.5b\"],\"capacity\":1,"
               "\"inflight\":0,\"ollama_up\":true,\"version\":\"0.1.0\"}",
            field, field));
    }
}

static void save(const char *dir, const char *name, const char *p, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(111);
    }
}

/* resp_bench -n N FILE READER */
static int replay(long n, const char *file, const char *who)
{
    enum reader w;
    char *p;
    long len;
    FILE *f = fopen(file, "rb");

    if (!strcmp(who, "ours"))
        w = OURS;
    else if (!strcmp(who, "ours-free"))
        w = OURS_FREE;
    else if (!strcmp(who, "hiredis"))
        w = HIREDIS;
    else
        return 100;
    if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) < 0)
        return 111;
    p = malloc((size_t)len);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len)
        return 111;
    fclose(f);
    {
        struct rd r;
        long sum = 0;
        rd_open(&r, w);
        for (long i = 0; i < n; i++)
            sum += rd_parse(&r, p, (size_t)len);
        rd_close(&r);
        printf("%s: %ld parses of %ld bytes, %ld elements\n", who, n, len, sum);
    }
    free(p);
    return 0;
}

int main(int argc, char **argv)
{
    const char *xr[] = {"XREADGROUP", "GROUP", "g", "c", "COUNT", "100", "STREAMS", "bq", ">"};
    const char *hg[] = {"HGETALL", "bh"};
    const char *dir = NULL;
    redisContext *c;
    char *x, *h;
    size_t xn, hn;
    const enum reader three[] = {OURS, HIREDIS, OURS_FREE};
    struct result x3[3], h3[3];

    if (argc == 5 && !strcmp(argv[1], "-n"))
        return replay(atol(argv[2]), argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "-s")) {
        dir = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 3)
        return 100;
    c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err)
        return 111;
    fill(c);
    x = record(c, 9, xr, &xn);
    h = record(c, 2, hg, &hn);
    if (dir) {
        save(dir, "xreadgroup.resp", x, xn);
        save(dir, "hgetall.resp", h, hn);
    }
    timed(three, x3, 3, x, xn);
    timed(three, h3, 2, h, hn);
    printf("# xreadgroup reply %zu bytes, hgetall reply %zu bytes\n", xn, hn);
    printf("# minor page faults a parse: xreadgroup ours %.2f hiredis %.2f, "
           "hgetall ours %.2f hiredis %.2f\n",
           x3[0].faults, x3[1].faults, h3[0].faults, h3[1].faults);
    printf("# xreadgroup, ours freed with resp_reply_free: %.1f MB/s, %.2f page faults a parse\n",
           x3[2].mbs, x3[2].faults);
    printf("BENCH resp_parse_vs_hiredis value=%.1f unit=MB/s peer=hiredis-reader peer_value=%.1f "
           "better=higher\n",
           (x3[0].mbs + h3[0].mbs) / 2, (x3[1].mbs + h3[1].mbs) / 2);
    printf("BENCH resp_parse_xreadgroup_vs_hiredis value=%.1f unit=MB/s peer=hiredis-reader "
           "peer_value=%.1f better=higher\n",
           x3[0].mbs, x3[1].mbs);
    printf("BENCH resp_parse_hgetall_vs_hiredis value=%.1f unit=MB/s peer=hiredis-reader "
           "peer_value=%.1f better=higher\n",
           h3[0].mbs, h3[1].mbs);
    free(x);
    free(h);
    redisFree(c);
    return 0;
}
