/* SPDX-License-Identifier: MIT */
/*
 * resp_bench: reply-parsing throughput of our RESP reader against hiredis's reader, on the
 * same replies recorded from a live redis-server in this run:
 *   - XREADGROUP of 100 entries of ~1 KB each,
 *   - HGETALL of a hash of 50 fields (health JSON of ~300 bytes each).
 * Both readers get the whole reply in one feed, build the reply tree and free it; the best of
 * 5 rounds of ~0.5 s counts. Output: one "BENCH ..." line per figure (tools/bench/run.sh).
 * Usage: resp_bench HOST PORT
 */
#include "orion/resp.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

static double ours(const char *p, size_t n)
{
    double best = 0;

    for (int round = 0; round < 5; round++) {
        double t0 = now_s(), t;
        long iters = 0;
        struct resp_reader rd;

        resp_reader_init(&rd);
        do {
            struct resp_reply *rep;
            for (int i = 0; i < 50; i++) {
                resp_reader_feed(&rd, p, n);
                if (resp_reader_get(&rd, &rep) != 1)
                    exit(111);
                resp_reply_free(rep);
            }
            iters += 50;
            t = now_s() - t0;
        } while (t < 0.5);
        resp_reader_release(&rd);
        if ((double)n * (double)iters / t / 1e6 > best)
            best = (double)n * (double)iters / t / 1e6;
    }
    return best;
}

static double theirs(const char *p, size_t n)
{
    double best = 0;

    for (int round = 0; round < 5; round++) {
        double t0 = now_s(), t;
        long iters = 0;
        redisReader *rd = redisReaderCreate();

        do {
            void *rep;
            for (int i = 0; i < 50; i++) {
                redisReaderFeed(rd, p, n);
                if (redisReaderGetReply(rd, &rep) != REDIS_OK || !rep)
                    exit(111);
                freeReplyObject(rep);
            }
            iters += 50;
            t = now_s() - t0;
        } while (t < 0.5);
        redisReaderFree(rd);
        if ((double)n * (double)iters / t / 1e6 > best)
            best = (double)n * (double)iters / t / 1e6;
    }
    return best;
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

int main(int argc, char **argv)
{
    const char *xr[] = {"XREADGROUP", "GROUP", "g", "c", "COUNT", "100", "STREAMS", "bq", ">"};
    const char *hg[] = {"HGETALL", "bh"};
    redisContext *c;
    char *x, *h;
    size_t xn, hn;
    double o1, t1, o2, t2;

    if (argc != 3)
        return 100;
    c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err)
        return 111;
    fill(c);
    x = record(c, 9, xr, &xn);
    h = record(c, 2, hg, &hn);
    o1 = ours(x, xn);
    t1 = theirs(x, xn);
    o2 = ours(h, hn);
    t2 = theirs(h, hn);
    printf("# xreadgroup reply %zu bytes, hgetall reply %zu bytes\n", xn, hn);
    printf("BENCH resp_parse_vs_hiredis value=%.1f unit=MB/s peer=hiredis-reader peer_value=%.1f "
           "better=higher\n",
           (o1 + o2) / 2, (t1 + t2) / 2);
    printf("BENCH resp_parse_xreadgroup_vs_hiredis value=%.1f unit=MB/s peer=hiredis-reader "
           "peer_value=%.1f better=higher\n",
           o1, t1);
    printf("BENCH resp_parse_hgetall_vs_hiredis value=%.1f unit=MB/s peer=hiredis-reader "
           "peer_value=%.1f better=higher\n",
           o2, t2);
    free(x);
    free(h);
    redisFree(c);
    return 0;
}
