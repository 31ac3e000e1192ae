/* SPDX-License-Identifier: MIT */
/*
 * orionctl: look at and talk to an ORION inference cluster through Redis.
 *   orionctl status                 nodes: temperature, RAM, CPU, models, load, eligible or why not
 *   orionctl submit --model M (--prompt P | --messages JSON) [--stream] [--priority N]
 *                   [--timeout-ms N] [--wait S]
 *   orionctl watch                  events as they happen
 *   orionctl drain NODE | undrain NODE
 * Redis settings as the daemons: --redis-addr, ORION_REDIS_* variables, --prefix.
 */
#include "orion/conf.h"
#include "orion/contract.h"
#include "orion/health.h"
#include "orion/jsonw.h"
#include "orion/log.h"
#include "orion/redis.h"
#include "orion/route.h"

#include <stdarg.h>
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
    bool stream;
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
static int print_entry(const struct resp_reply *f, bool *done)
{
    const struct resp_reply *type = resp_field(f, "type");

    if (resp_str_eq(type, "chunk")) {
        const struct resp_reply *d = resp_field(f, "delta");
        if (d && d->type == RESP_BULK)
            fwrite(d->str, 1, d->len, stdout);
        fflush(stdout);
        return 0;
    }
    *done = true;
    if (resp_str_eq(type, "done")) {
        const struct resp_reply *resp = resp_field(f, "response"), *node = resp_field(f, "node_id");
        const struct resp_reply *load = resp_field(f, "load_duration");
        printf("%s\n", resp && resp->type == RESP_BULK ? resp->str : "");
        fprintf(stderr, "(node %s, load %.2f s)\n", node ? node->str : "?",
                load ? strtod(load->str, NULL) / 1e9 : 0.0);
        return 0;
    }
    {
        const struct resp_reply *e = resp_field(f, "error"), *code = resp_field(f, "code");
        fprintf(stderr, PROG ": error %s: %s\n", code ? code->str : "?", e ? e->str : "?");
        return 1;
    }
}

static bool replicated(struct ctl *x);

static int do_submit(struct ctl *x)
{
    char cb[128], pr[8], tmo[24], last[64] = "0-0";
    struct resp_reply *r;
    bool done = false, streamed = false;
    time_t end = time(NULL) + x->wait_s;
    const char *argv[24];
    int argc = 0, rc = 0;

    if (!x->model || (!x->prompt == !x->messages)) {
        fprintf(stderr, PROG ": submit needs --model and one of --prompt, --messages\n");
        return ORION_EXIT_USAGE;
    }
    snprintf(cb, sizeof(cb), "%s:cb:orionctl:%ld:%ld", x->c.prefix, (long)getpid(), (long)time(NULL));
    snprintf(pr, sizeof(pr), "%ld", x->priority);
    argv[argc++] = "XADD", argv[argc++] = x->k.requests, argv[argc++] = "*";
    argv[argc++] = "model", argv[argc++] = x->model;
    argv[argc++] = x->prompt ? "prompt" : "messages";
    argv[argc++] = x->prompt ? x->prompt : x->messages;
    argv[argc++] = "callback", argv[argc++] = cb, argv[argc++] = "priority", argv[argc++] = pr;
    argv[argc++] = "stream", argv[argc++] = x->stream ? "true" : "false";
    if (x->timeout_ms > 0) {
        snprintf(tmo, sizeof(tmo), "%ld", x->timeout_ms);
        argv[argc++] = "timeout_ms", argv[argc++] = tmo;
    }
    r = redis_sync_cmdv(x->s, argc, argv, NULL, x->err, sizeof(x->err));
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
            snprintf(last, sizeof(last), "%s", id ? id->str : "0-0");
            if (resp_str_eq(resp_field(resp_at(&e->elem[i], 1), "type"), "chunk"))
                streamed = true;
            else if (streamed)
                printf("\n");
            rc = print_entry(resp_at(&e->elem[i], 1), &done);
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

/* --redis-min-replicas: the XADD counts once WAIT says the replicas have it; otherwise the
 * request is cancelled (a failover could lose it) and submit fails. */
static bool replicated(struct ctl *x)
{
    char n[24], ms[24], key[CONTRACT_KEY_MAX];
    const char *argv[] = {"WAIT", n, ms};
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
        if (r && x->last_id[0] &&
            contract_cancel_key(&x->k, x->last_id, strlen(x->last_id), key, sizeof(key)) == 0)
            resp_reply_free(redis_sync_cmd(x->s, x->err, sizeof(x->err), "SET", key, "1", "EX",
                                           "600", (char *)NULL));
    }
    resp_reply_free(r);
    return good;
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

static void join(char *out, size_t n, char *const *v, size_t nv)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < nv && used + 2 < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? "," : "", v[i]);
        if (w < 0 || (size_t)w >= n - used)
            break;
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

static int do_status(struct ctl *x)
{
    struct resp_reply *r = cmd(x, "HGETALL", x->k.health, (char *)NULL);
    struct resp_reply *dr = cmd(x, "HGETALL", x->k.drain, (char *)NULL);
    struct route_settings rs;
    double now = redis_time(x);

    route_settings_init(&rs);
    rs.max_temp = x->max_temp;
    rs.max_ram = x->max_ram;
    rs.stale_after = (double)x->stale_after;
    printf("%-16s %7s %6s %5s %6s  %-28s %-28s %s\n", "NODE", "TEMP", "RAM", "CPU", "LOAD",
           "LOADED", "INSTALLED", "STATUS");
    for (size_t i = 0; i + 1 < r->n; i += 2) {
        struct health h;
        struct route_node n;
        char err[200], why[200], temp[16], loaded[256], inst[256];

        health_init(&h);
        if (health_from_json(&h, r->elem[i + 1].str, r->elem[i + 1].len, err, sizeof(err)) < 0) {
            printf("%-16.16s unreadable health: %s\n", r->elem[i].str, err);
            health_release(&h);
            continue;
        }
        memset(&n, 0, sizeof(n));
        n.id = r->elem[i].str;
        n.last_seen = (double)h.last_seen;
        n.available = h.available ? ROUTE_AVAIL_YES : ROUTE_AVAIL_NO;
        n.has_temp = h.has_temp;
        n.temp_c = h.temp_c;
        n.ram_percent = h.ram_percent;
        n.ram_total_mb = h.ram_total_mb > 0 ? (unsigned long)h.ram_total_mb : 0;
        n.draining = h.draining || resp_field(dr, n.id) != NULL;
        n.capacity = h.capacity > 0 ? (unsigned)h.capacity : 1;
        if (h.has_temp)
            snprintf(temp, sizeof(temp), "%.1fC", h.temp_c);
        else
            snprintf(temp, sizeof(temp), "-");
        join(loaded, sizeof(loaded), h.models, h.nmodels);
        join(inst, sizeof(inst), h.installed, h.ninstalled);
        if (!route_eligible(&n, NULL, &rs, NULL, now, why, sizeof(why)))
            ;
        else
            snprintf(why, sizeof(why), "eligible");
        printf("%-16.16s %7s %5.1f%% %4.0f%% %3ld/%-2ld  %-28.28s %-28.28s %s%s\n", n.id, temp,
               h.ram_percent, h.cpu_percent, (long)h.inflight, (long)n.capacity, loaded, inst,
               why, h.ollama_up ? "" : " (ollama down)");
        health_release(&h);
    }
    if (!r->n)
        printf("(no node reports health under %s)\n", x->k.health);
    resp_reply_free(r);
    resp_reply_free(dr);
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
    };
    struct redis_opts o;
    int rc = ORION_EXIT_USAGE;

    memset(&x, 0, sizeof(x));
    /* the verb and its operand are the words that are not options */
    args[nargs++] = argv[0];
    verb = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && (i == 1 || argv[i - 1][0] != '-' || strchr(argv[i - 1], '=') ||
                                  !strcmp(argv[i - 1], "--stream"))) {
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
               "undrain NODE");
    conf_apply_log(&x.c, PROG);
    redis_conf_check(&x.c, PROG);
    if (!verb) {
        fprintf(stderr, PROG ": which command? status, submit, watch, drain, undrain (--help)\n");
        return ORION_EXIT_USAGE;
    }
    json_init();
    if (contract_keys_init(&x.k, x.c.prefix) < 0)
        return ORION_EXIT_USAGE;
    redis_opts_conf(&o, &x.c, "redis");
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
    else if (!strcmp(verb, "drain") || !strcmp(verb, "undrain"))
        rc = do_drain(&x, !strcmp(verb, "drain"));
    else
        fprintf(stderr, PROG ": unknown command '%s'\n", verb);
    redis_sync_free(x.s);
    return rc;
}
