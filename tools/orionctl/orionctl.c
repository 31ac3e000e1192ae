/* SPDX-License-Identifier: MIT */
/*
 * orionctl: look at and talk to an ORION inference cluster through Redis.
 *   orionctl status [--json]        nodes: temperature, RAM, CPU, models, load, eligible or why not
 *   orionctl submit --model M (--prompt P | --messages JSON) [--stream] [--priority N]
 *                   [--timeout-ms N] [--wait S]
 *   orionctl watch                  events as they happen
 *   orionctl drain NODE | undrain NODE
 *   orionctl cancel REQUEST_ID      SET P:cancel:ID: the router drops it while it waits, the
 *                                   worker running it stops; either answers code=canceled
 * Redis settings as the daemons: --redis-addr, ORION_REDIS_* variables, --prefix.
 */
#include "orion/conf.h"
#include "orion/contract.h"
#include "orion/daemon.h"
#include "orion/entry.h"
#include "orion/health.h"
#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/node.h"
#include "orion/redis.h"
#include "orion/route.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "orionctl"

struct ctl {
    struct conf_common c;
    const char *model, *prompt, *messages, *node;
    long priority, timeout_ms, wait_s;
    bool stream, json;
    double max_temp, max_ram;
    long stale_after;
    struct redis_sync *s;
    struct contract_keys k;
    char err[256];
    char last_id[64]; /* the entry submit added: its request id */
};

static struct resp_reply *cmd(struct ctl *x, ...)
{
    const char *argv[64];
    int argc = 0;
    va_list ap;
    const char *a;
    struct resp_reply *r;

    va_start(ap, x);
    while ((a = va_arg(ap, const char *)) != NULL && argc < 64)
        argv[argc++] = a;
    va_end(ap);
    r = redis_sync_cmdv(x->s, argc, argv, NULL, x->err, sizeof(x->err));
    if (!r) {
        char where[600];
        fprintf(stderr, PROG ": redis %s: %s\n", redis_conf_where(&x->c, where, sizeof(where)),
                x->err);
        exit(ORION_EXIT_SYSTEM);
    }
    if (r->type == RESP_ERROR) {
        fprintf(stderr, PROG ": redis: %s\n", r->str);
        exit(ORION_EXIT_SYSTEM);
    }
    return r;
}

/* One callback entry printed; *done once it is the answer, and then 1 when it is an error. */
static int print_entry(const struct entry_answer *a, bool *done)
{
    if (a->type == ENTRY_CHUNK) {
        fwrite(a->delta.p, 1, a->delta.n, stdout);
        fflush(stdout);
        return 0;
    }
    *done = true;
    if (a->type == ENTRY_DONE) {
        printf("%.*s\n", (int)a->response.n, a->response.p);
        fprintf(stderr, "(node %s, load %.2f s)\n", a->node.n ? a->node.p : "?",
                (double)entry_counter(a, ENTRY_LOAD_DURATION) / 1e9);
        return 0;
    }
    fprintf(stderr, PROG ": error %s: %s\n", a->code.n ? a->code.p : "?",
            a->error.n ? a->error.p : "?");
    return 1;
}

/* --redis-min-replicas: the XADD counts once WAIT says the replicas have it; otherwise the
 * request is cancelled (a failover could lose it) and submit fails. */
static bool replicated(struct ctl *x)
{
    char n[24], ms[24], key[CONTRACT_KEY_MAX];
    const char *argv[] = {"WAIT", n, ms};
    struct entry_argv a;
    struct resp_reply *r;
    bool good;

    snprintf(n, sizeof(n), "%ld", x->c.redis_min_replicas);
    snprintf(ms, sizeof(ms), "%ld", x->c.redis_wait_timeout);
    r = redis_sync_cmdv(x->s, 3, argv, NULL, x->err, sizeof(x->err));
    good = r && r->type == RESP_INT && r->integer >= x->c.redis_min_replicas;
    if (!good) {
        fprintf(stderr, PROG ": not on %ld replica(s) within %ld ms (%s): not accepted\n",
                x->c.redis_min_replicas, x->c.redis_wait_timeout,
                !r ? x->err : r->type == RESP_ERROR ? r->str : "WAIT timed out");
        if (r && entry_cancel(&a, key, &x->k, x->last_id, strlen(x->last_id)) == 0)
            resp_reply_free(redis_sync_cmdv(x->s, a.argc, a.argv, a.len, x->err,
                                            sizeof(x->err)));
    }
    resp_reply_free(r);
    return good;
}

static int do_submit(struct ctl *x)
{
    char cb[128], last[64] = "0-0", pr[24], tmo[24];
    struct resp_reply *r;
    bool done = false, streamed = false;
    time_t end = time(NULL) + x->wait_s;
    struct resp_cmd c;
    int rc = 0;

    if (!x->model || (!x->prompt == !x->messages)) {
        fprintf(stderr, PROG ": submit needs --model and one of --prompt, --messages\n");
        return ORION_EXIT_USAGE;
    }
    snprintf(cb, sizeof(cb), "%s:cb:orionctl:%ld:%ld", x->c.prefix, (long)getpid(), (long)time(NULL));
    snprintf(pr, sizeof(pr), "%ld", x->priority);
    snprintf(tmo, sizeof(tmo), "%ld", x->timeout_ms);
    resp_cmd_init(&c);
    entry_request_begin(&c, &x->k);
    resp_cmd_adds(&c, "model");
    resp_cmd_adds(&c, x->model);
    resp_cmd_adds(&c, x->prompt ? "prompt" : "messages");
    resp_cmd_adds(&c, x->prompt ? x->prompt : x->messages);
    resp_cmd_adds(&c, "callback");
    resp_cmd_adds(&c, cb);
    resp_cmd_adds(&c, "priority");
    resp_cmd_adds(&c, pr);
    resp_cmd_adds(&c, "stream");
    resp_cmd_adds(&c, x->stream ? "true" : "false");
    if (x->timeout_ms > 0) {
        resp_cmd_adds(&c, "timeout_ms");
        resp_cmd_adds(&c, tmo);
    }
    r = resp_cmd_finish(&c) == 0 ? redis_sync_cmdv(x->s, c.argc, c.argv, c.len, x->err,
                                                   sizeof(x->err))
                                 : NULL;
    resp_cmd_release(&c);
    if (!r || r->type != RESP_BULK) {
        fprintf(stderr, PROG ": XADD: %s\n", r && r->type == RESP_ERROR ? r->str : x->err);
        resp_reply_free(r);
        return ORION_EXIT_SYSTEM;
    }
    fprintf(stderr, "submitted %s\n", r->str);
    snprintf(x->last_id, sizeof(x->last_id), "%s", r->str);
    resp_reply_free(r);
    if (x->c.redis_min_replicas > 0 && !replicated(x))
        return ORION_EXIT_SYSTEM;
    while (!done && time(NULL) < end) {
        const struct resp_reply *e;
        const char *rd[] = {"XREAD", "COUNT", "100", "BLOCK", "1000", "STREAMS", cb, last};
        /* a link lost here (a failover) is made again by the next call */
        if (!(r = redis_sync_cmdv(x->s, 8, rd, NULL, x->err, sizeof(x->err))))
            continue;
        e = resp_at(resp_at(r, 0), 1);
        for (size_t i = 0; e && i < e->n && !done; i++) {
            const struct resp_reply *id = resp_at(&e->elem[i], 0);
            struct entry_answer a;

            snprintf(last, sizeof(last), "%s", id ? id->str : "0-0");
            entry_answer_read(resp_at(&e->elem[i], 1), &a);
            if (a.type == ENTRY_CHUNK)
                streamed = true;
            else if (streamed)
                printf("\n");
            rc = print_entry(&a, &done);
        }
        resp_reply_free(r);
    }
    resp_reply_free(cmd(x, "DEL", cb, (char *)NULL));
    if (!done) {
        fprintf(stderr, PROG ": no answer within %ld s (the request stays queued)\n", x->wait_s);
        return 1;
    }
    return rc;
}

static int do_watch(struct ctl *x)
{
    char last[64] = "$";

    for (;;) {
        struct resp_reply *r = cmd(x, "XREAD", "COUNT", "100", "BLOCK", "2000", "STREAMS",
                                   x->k.events, last, (char *)NULL);
        const struct resp_reply *e = resp_at(resp_at(r, 0), 1);
        for (size_t i = 0; e && i < e->n; i++) {
            const struct resp_reply *id = resp_at(&e->elem[i], 0), *f = resp_at(&e->elem[i], 1);
            snprintf(last, sizeof(last), "%s", id ? id->str : "$");
            printf("%s", id ? id->str : "");
            for (size_t j = 0; f && j + 1 < f->n; j += 2)
                printf(" %s=%s", f->elem[j].str, f->elem[j + 1].str);
            printf("\n");
            fflush(stdout);
        }
        resp_reply_free(r);
    }
    return 0;
}

/* v joined by ',' into out, whole, or cut with "..." at its end when it does not fit. */
static void join(char *out, size_t n, char *const *v, size_t nv)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < nv; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? "," : "", v[i]);
        if (w < 0 || (size_t)w >= n - used) {
            memcpy(out + n - 4, "...", 4);
            return;
        }
        used += (size_t)w;
    }
    if (!nv)
        snprintf(out, n, "-");
}

static double redis_time(struct ctl *x)
{
    struct resp_reply *r = cmd(x, "TIME", (char *)NULL);
    double t = strtod(resp_at(r, 0)->str, NULL) + strtod(resp_at(r, 1)->str, NULL) / 1e6;

    resp_reply_free(r);
    return t;
}

/* Requests in the node's stream: routed there, not finished (the router's "inflight"). */
static unsigned long queued(struct ctl *x, const char *node)
{
    char key[CONTRACT_KEY_MAX];
    struct resp_reply *r;
    unsigned long n = 0;

    if (contract_node_stream(&x->k, node, key, sizeof(key)) < 0)
        return 0;
    r = cmd(x, "XLEN", key, (char *)NULL);
    if (r->type == RESP_INT && r->integer > 0)
        n = (unsigned long)r->integer;
    resp_reply_free(r);
    return n;
}

/* One line of the table, its text columns sized once every row is known. */
struct row {
    char id[ORION_NODE_ID_MAX + 1], temp[16], load[32], loaded[1024], inst[1024], status[256];
    double ram, cpu;
};

static void row_fill(struct row *w, const struct node_view *v)
{
    const struct health *h = v->h;

    snprintf(w->id, sizeof(w->id), "%s", v->id);
    if (h->has_temp)
        snprintf(w->temp, sizeof(w->temp), "%.1fC", h->temp_c);
    else
        snprintf(w->temp, sizeof(w->temp), "-");
    w->ram = h->ram_percent;
    w->cpu = h->cpu_percent;
    snprintf(w->load, sizeof(w->load), "%u/%u", v->rn.inflight, v->rn.capacity);
    join(w->loaded, sizeof(w->loaded), h->models, h->nmodels);
    join(w->inst, sizeof(w->inst), h->installed, h->ninstalled);
    snprintf(w->status, sizeof(w->status), "%s%s", v->eligible ? "eligible" : v->why,
             h->ollama_up ? "" : " (ollama down)");
}

static int widest(const struct row *w, size_t n, size_t off, int least)
{
    int m = least;

    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen((const char *)w + i * sizeof(*w) + off);
        m = len > m ? len : m;
    }
    return m;
}

/* The table: every name whole (a column as wide as its widest cell), unreadable records after
 * the rows as "ID unreadable health: why". */
static void status_table(const struct row *w, size_t n)
{
    int id = widest(w, n, offsetof(struct row, id), 4);
    int ld = widest(w, n, offsetof(struct row, loaded), 6);
    int in = widest(w, n, offsetof(struct row, inst), 9);

    printf("%-*s %7s %6s %5s %6s  %-*s %-*s %s\n", id, "NODE", "TEMP", "RAM", "CPU", "LOAD", ld,
           "LOADED", in, "INSTALLED", "STATUS");
    for (size_t i = 0; i < n; i++)
        printf("%-*s %7s %5.1f%% %4.0f%% %6s  %-*s %-*s %s\n", id, w[i].id, w[i].temp, w[i].ram,
               w[i].cpu, w[i].load, ld, w[i].loaded, in, w[i].inst, w[i].status);
}

/* Each node as the router judges it (node.h), on Redis's clock, as a table or, with --json,
 * as the router's GET /backends writes it. A router knows the hysteresis marks and when a
 * record last changed; this one look judges the plain thresholds and trusts last_seen once. */
static int do_status(struct ctl *x)
{
    struct resp_reply *r = cmd(x, "HGETALL", x->k.health, (char *)NULL);
    struct resp_reply *dr = cmd(x, "HGETALL", x->k.drain, (char *)NULL);
    struct route_settings rs;
    double now = redis_time(x);
    struct buf b, bad;
    struct row *rows;
    size_t nrows = 0;

    route_settings_init(&rs);
    rs.max_temp = x->max_temp;
    rs.max_ram = x->max_ram;
    rs.stale_after = (double)x->stale_after;
    buf_init(&b, 1u << 24);
    buf_init(&bad, 1u << 20);
    rows = r->n ? orion_calloc(r->n / 2 + 1, sizeof(*rows)) : NULL;
    if (r->n && !rows) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(1);
    }
    if (x->json)
        buf_puts(&b, "{\"backends\":[");
    for (size_t i = 0; i + 1 < r->n; i += 2) {
        const char *id = r->elem[i].str;
        struct health h;
        struct node_view v;
        char err[200];
        bool ok = health_from_json(&h, r->elem[i + 1].str, r->elem[i + 1].len, err,
                                   sizeof(err)) == 0;

        if (!ok && !x->json)
            buf_printf(&bad, "%s unreadable health: %s\n", id, err);
        node_view_init(&v, id, ok ? &h : NULL, resp_field(dr, id) != NULL,
                       node_seen(0, 0, (double)h.last_seen, now, true), queued(x, id));
        node_view_judge(&v, &rs, NULL, now);
        if (x->json) {
            buf_puts(&b, i ? "," : "");
            node_view_json(&v, &b);
        } else if (ok) {
            row_fill(&rows[nrows++], &v);
        }
        health_release(&h);
    }
    if (x->json) {
        printf("%.*s]}\n", (int)buf_size(&b), buf_data(&b));
    } else if (!r->n) {
        printf("(no node reports health under %s)\n", x->k.health);
    } else {
        status_table(rows, nrows);
        fwrite(buf_data(&bad), 1, buf_size(&bad), stdout);
    }
    orion_free(rows);
    buf_release(&bad);
    buf_release(&b);
    resp_reply_free(r);
    resp_reply_free(dr);
    return 0;
}

static int do_cancel(struct ctl *x)
{
    struct entry_argv a;
    char key[CONTRACT_KEY_MAX];
    struct resp_reply *r;

    if (!x->node || entry_cancel(&a, key, &x->k, x->node, strlen(x->node)) < 0) {
        fprintf(stderr, PROG ": cancel needs a request id (at most 256 bytes)\n");
        return ORION_EXIT_USAGE;
    }
    r = redis_sync_cmdv(x->s, a.argc, a.argv, a.len, x->err, sizeof(x->err));
    if (!r || r->type == RESP_ERROR) {
        fprintf(stderr, PROG ": SET %s: %s\n", key, r ? r->str : x->err);
        resp_reply_free(r);
        return ORION_EXIT_SYSTEM;
    }
    resp_reply_free(r);
    printf("%s: cancel asked; whoever holds it answers code=canceled\n", x->node);
    return 0;
}

static int do_drain(struct ctl *x, bool drain)
{
    char ts[24];

    if (!x->node) {
        fprintf(stderr, PROG ": %s needs a node id\n", drain ? "drain" : "undrain");
        return ORION_EXIT_USAGE;
    }
    snprintf(ts, sizeof(ts), "%ld", (long)time(NULL));
    resp_reply_free(drain ? cmd(x, "HSET", x->k.drain, x->node, ts, (char *)NULL)
                          : cmd(x, "HDEL", x->k.drain, x->node, (char *)NULL));
    printf("%s %s\n", x->node, drain ? "drained: it gets no new requests" : "back in rotation");
    return 0;
}

int main(int argc, char **argv)
{
    struct ctl x;
    const char *verb;
    char *args[64];
    int nargs = 0;
    const struct conf_opt opts[] = {
        CONF_COMMON_OPTS(&x.c),
        {"model", "ORION_MODEL", CONF_STR, NULL, "submit: model name", 0, 0, &x.model, NULL, false},
        {"prompt", "ORION_PROMPT", CONF_STR, NULL, "submit: prompt (generate)", 0, 0, &x.prompt,
         NULL, false},
        {"messages", "ORION_MESSAGES", CONF_STR, NULL, "submit: JSON array of messages (chat)", 0,
         0, &x.messages, NULL, false},
        {"stream", "ORION_STREAM", CONF_BOOL, "false", "submit: print the answer as it comes", 0,
         0, &x.stream, NULL, false},
        {"priority", "ORION_PRIORITY", CONF_INT, "2", "submit: 1 low, 2 normal, 3 high", 1, 3,
         &x.priority, NULL, false},
        {"timeout-ms", "ORION_TIMEOUT_MS", CONF_INT, "0", "submit: how long it may wait for a node",
         0, 604800000, &x.timeout_ms, NULL, false},
        {"wait", "ORION_WAIT", CONF_INT, "300", "submit: seconds to wait for the answer", 1, 86400,
         &x.wait_s, NULL, false},
        {"max-temp", "ORION_MAX_TEMP", CONF_DOUBLE, "75", "status: the router's --max-temp", 0, 200,
         &x.max_temp, NULL, false},
        {"max-ram", "ORION_MAX_RAM", CONF_DOUBLE, "90", "status: the router's --max-ram", 0, 100,
         &x.max_ram, NULL, false},
        {"stale-after", "ORION_STALE_AFTER", CONF_INT, "15", "status: the router's --stale-after",
         1, 3600, &x.stale_after, NULL, false},
        {"json", "ORION_JSON", CONF_BOOL, "false",
         "status: the nodes as the router's GET /backends writes them", 0, 0, &x.json, NULL,
         false},
    };
    struct redis_opts o;
    int rc = ORION_EXIT_USAGE;

    memset(&x, 0, sizeof(x));
    /* the verb and its operand are the words that are not options */
    args[nargs++] = argv[0];
    verb = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && (i == 1 || argv[i - 1][0] != '-' || strchr(argv[i - 1], '=') ||
                                  !strcmp(argv[i - 1], "--stream") ||
                                  !strcmp(argv[i - 1], "--json"))) {
            if (!verb)
                verb = argv[i];
            else if (!x.node)
                x.node = argv[i];
            continue;
        }
        if (nargs < 63)
            args[nargs++] = argv[i];
    }
    conf_parse(opts, sizeof(opts) / sizeof(opts[0]), nargs, args, PROG,
               "commands: status | submit --model M --prompt P [--stream] | watch | drain NODE | "
               "undrain NODE | cancel REQUEST_ID");
    conf_apply_log(&x.c, PROG);
    redis_conf_check(&x.c, PROG);
    if (!verb) {
        fprintf(stderr,
                PROG ": which command? status, submit, watch, drain, undrain, cancel (--help)\n");
        return ORION_EXIT_USAGE;
    }
    json_init();
    if (contract_keys_init(&x.k, x.c.prefix) < 0)
        return ORION_EXIT_USAGE;
    daemon_redis_opts(&o, &x.c, "redis");
    o.cmd_timeout_ms = 5000;
    x.s = redis_sync_connect(&o, 3000, x.err, sizeof(x.err));
    if (!x.s) {
        char where[600];
        fprintf(stderr, PROG ": redis %s: %s\n", redis_conf_where(&x.c, where, sizeof(where)),
                x.err);
        return ORION_EXIT_SYSTEM;
    }
    if (!strcmp(verb, "status"))
        rc = do_status(&x);
    else if (!strcmp(verb, "submit"))
        rc = do_submit(&x);
    else if (!strcmp(verb, "watch"))
        rc = do_watch(&x);
    else if (!strcmp(verb, "cancel"))
        rc = do_cancel(&x);
    else if (!strcmp(verb, "drain") || !strcmp(verb, "undrain"))
        rc = do_drain(&x, !strcmp(verb, "drain"));
    else
        fprintf(stderr, PROG ": unknown command '%s'\n", verb);
    redis_sync_free(x.s);
    return rc;
}
