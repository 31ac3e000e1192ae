/* SPDX-License-Identifier: MIT */
/*
 * loadgen: an open-loop load generator for tools/cluster-sim/run.sh.
 *
 * The trace is a pure function of the options (seed, rate, duration, burst): Poisson arrivals,
 * Zipf(1) popularity over five models, log-uniform prompt lengths (40-800 chars), priorities 1/2/3 at
 * 20/70/10 %. The same seed gives the same trace for every policy.
 *
 *   loadgen redis --port P [trace options] --out FILE
 *       submits through P:requests (callback lg:cb), while a child process follows P:events
 *       and samples P:health for every "routed" entry. Lines written to FILE:
 *         S id submit_ms model priority prompt_chars     (submit_ms: the entry id's time)
 *         R id node routed_ms temp_c ram_percent last_seen available true_temp_c kind
 *       (--node NAME=ROOT: true_temp_c is read from the node's simulated sysfs at that moment)
 *         A id answer_ms status node load_ns total_ns code
 *   loadgen http --port P --sim PORT=ROOT ... [trace options] --out FILE
 *       one process per request, POST /api/generate (stream, HTTP/1.0) to 127.0.0.1:P (nginx);
 *       the X-Upstream header names the node; its simulated temperature and RAM are read from
 *       ROOT the moment the header arrives. Lines:
 *         S id submit_ms model priority prompt_chars
 *         R id node header_ms temp_c ram_percent 0 true temp_c nginx
 *         A id answer_ms status node load_ns total_ns -
 *       Both modes, with --ps NAME=PORT for each simulator: "L node ms model" when /api/ps
 *       (polled every 50 ms) shows a model that was not there: a cold load, counted the same
 *       way whoever routes.
 *   loadgen trace [trace options]       prints the trace (t_ms model priority prompt_chars)
 *
 * trace options: --seed N --rate PER_S --duration S [--burst-at S --burst-len S --burst-x K]
 *                [--drain S] (how long to wait for answers after the last arrival)
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orion/buf.h"
#include "orion/resp.h"

#include "lgio.h"

#define MAXREQ 20000
#define NMODELS 5
#define MAXSIMS 16
#define PFX "orion:inference"

static const char *const models[NMODELS] = {"gemma3:1b", "llama3.2:1b", "qwen2.5:0.5b",
                                            "llama3.2:3b", "qwen2.5:1.5b"};

struct arrival {
    long t_ms;
    int model, priority, chars;
};

static struct arrival tr[MAXREQ];
static int ntr;
static volatile sig_atomic_t stop;

static const char *node_name[MAXSIMS], *node_root[MAXSIMS];
static int nnodes;
static double true_temp(const char *node);

static const char *ps_name[MAXSIMS];
static int ps_port[MAXSIMS], nps;

static uint64_t rng_s;
static double urand(void) /* (0, 1) */
{
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return ((double)((rng_s * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}

static void make_trace(unsigned long seed, double rate, double dur, double b_at, double b_len,
                       double b_x)
{
    double t = 0, w[NMODELS], sum = 0;
    int i;

    rng_s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (i = 0; i < NMODELS; i++)
        sum += w[i] = 1.0 / (i + 1);
    for (ntr = 0; ntr < MAXREQ;) {
        double r = rate, u, acc = 0;
        struct arrival *a;

        if (b_len > 0 && t >= b_at && t < b_at + b_len)
            r = rate * b_x;
        t += -log(urand()) / r;
        if (t >= dur)
            break;
        a = &tr[ntr++];
        a->t_ms = (long)(t * 1000);
        u = urand() * sum;
        for (a->model = 0; a->model < NMODELS - 1; a->model++) {
            acc += w[a->model];
            if (u < acc)
                break;
        }
        u = urand();
        a->priority = u < 0.2 ? 1 : u < 0.9 ? 2 : 3;
        a->chars = (int)exp(log(40.0) + urand() * (log(800.0) - log(40.0)));
    }
}

/* --- a tiny synchronous Redis client --------------------------------------------------- */
struct rc {
    int fd;
    struct resp_reader rd;
};

static struct resp_reply *rcmd(struct rc *c, int argc, const char *const *argv)
{
    struct buf b;
    struct resp_reply *rep = NULL;
    char tmp[65536];

    buf_init(&b, 1 << 20);
    if (resp_format(&b, argc, argv, NULL) < 0 || write_all(c->fd, buf_data(&b), buf_size(&b)) < 0) {
        buf_release(&b);
        return NULL;
    }
    buf_release(&b);
    for (;;) {
        int g = resp_reader_get(&c->rd, &rep);
        ssize_t n;

        if (g == 1)
            return rep;
        if (g < 0)
            return NULL;
        n = read(c->fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || resp_reader_feed(&c->rd, tmp, (size_t)n) < 0)
            return NULL;
    }
}

static int rc_open(struct rc *c, int port)
{
    resp_reader_init(&c->rd);
    c->fd = tcp_connect(port);
    return c->fd < 0 ? -1 : 0;
}

static double json_num(const char *js, const char *key, double dflt)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof pat, "\"%s\":", key);
    if (!js || !(p = strstr(js, pat)))
        return dflt;
    p += strlen(pat);
    if (!strncmp(p, "null", 4))
        return dflt;
    return strtod(p, NULL);
}

static const char *json_bool(const char *js, const char *key)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof pat, "\"%s\":", key);
    if (!js || !(p = strstr(js, pat)))
        return "unknown";
    return !strncmp(p + strlen(pat), "true", 4) ? "true" : "false";
}

/* Follow P:events; for every routed entry, sample P:health of its node. Until SIGTERM. */
static void watcher(int port, FILE *out)
{
    struct rc c;
    char last[64] = "0-0";
    int draining = 0;

    if (rc_open(&c, port) < 0)
        _exit(1);
    for (;;) {
        const char *argv[] = {"XREAD", "COUNT", "200", "BLOCK", "200", "STREAMS", PFX ":events", last};
        struct resp_reply *r = rcmd(&c, 8, argv);
        const struct resp_reply *ents;
        size_t i;

        if (stop)
            draining = 1;
        if (!r)
            break;
        if (r->type != RESP_ARRAY || r->n < 1) {
            resp_reply_free(r);
            if (draining)
                break;
            continue;
        }
        ents = resp_at(resp_at(r, 0), 1);
        for (i = 0; ents && i < ents->n; i++) {
            const struct resp_reply *e = resp_at(ents, i), *id = resp_at(e, 0), *f = resp_at(e, 1);
            const struct resp_reply *type = resp_field(f, "type"), *rid = resp_field(f, "request_id");
            const struct resp_reply *node = resp_field(f, "node_id"), *kind = resp_field(f, "kind");

            if (!id || !id->str)
                continue;
            snprintf(last, sizeof last, "%s", id->str);
            if (type && resp_str_eq(type, "routed") && rid && node) {
                const char *hv[] = {"HGET", PFX ":health", node->str};
                struct resp_reply *h = rcmd(&c, 3, hv);
                const char *js = h && h->type == RESP_BULK ? h->str : NULL;

                fprintf(out, "R %s %s %lld %.2f %.1f %.0f %s %.2f %s\n", rid->str, node->str,
                        strtoll(id->str, NULL, 10), json_num(js, "temp_c", -1),
                        json_num(js, "ram_percent", -1), json_num(js, "last_seen", 0),
                        json_bool(js, "available"), true_temp(node->str), kind ? kind->str : "-");
                if (h)
                    resp_reply_free(h);
            }
        }
        resp_reply_free(r);
    }
    fflush(out);
    _exit(0);
}

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

/* Every 50 ms, GET /api/ps of each node (--ps NAME=PORT); a model that was not there at the
 * last look has been loaded: "L node ms model". Until SIGTERM. */
static void psmon(FILE *out)
{
    static char prev[MAXSIMS][1024];
    char *resp = malloc(65536), cur[1024];
    int k;

    if (!resp)
        _exit(1);
    while (!stop) {
        struct timespec ts = {0, 50000000L};

        for (k = 0; k < nps; k++) {
            int fd = tcp_connect(ps_port[k]);
            size_t have = 0;
            const char *p;
            static const char rq[] = "GET /api/ps HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";

            if (fd < 0)
                continue;
            if (write_all(fd, rq, sizeof rq - 1) == 0)
                for (;;) {
                    ssize_t n = read(fd, resp + have, 65535 - have);

                    if (n < 0 && errno == EINTR)
                        continue;
                    if (n <= 0 || (have += (size_t)n) >= 65535)
                        break;
                }
            close(fd);
            resp[have] = '\0';
            if (!strstr(resp, " 200 "))
                continue;
            cur[0] = '\0';
            for (p = resp; (p = strstr(p, "\"name\":\"")); ) {
                char nm[128], key[132];
                size_t l;

                p += 8;
                l = strcspn(p, "\"");
                if (l >= sizeof nm)
                    continue;
                memcpy(nm, p, l);
                nm[l] = '\0';
                snprintf(key, sizeof key, "|%s|", nm);
                if (!strstr(prev[k], key))
                    fprintf(out, "L %s %lld %s\n", ps_name[k], now_ms(), nm);
                if (strlen(cur) + l + 2 < sizeof cur) {
                    strcat(cur, "|");
                    strcat(cur, nm);
                    strcat(cur, "|");
                }
            }
            memcpy(prev[k], cur, sizeof cur);
        }
        nanosleep(&ts, NULL);
    }
    fflush(out);
    _exit(0);
}

static pid_t start_psmon(FILE *out)
{
    pid_t p;

    fflush(out);
    p = nps ? fork() : -1;
    if (p == 0)
        psmon(out);
    return p;
}

static void end_child(pid_t p)
{
    if (p > 0) {
        kill(p, SIGTERM);
        waitpid(p, NULL, 0);
    }
}

static int run_redis(int port, FILE *out, double drain)
{
    struct rc c;
    struct timespec t0;
    pid_t wpid, mpid;
    int i, got = 0;
    long long deadline;
    char last[64] = "0-0", rid[32], pri[4], *prompt = malloc(4096);
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    if (!prompt || rc_open(&c, port) < 0) {
        fprintf(stderr, "loadgen: cannot connect to redis on port %d\n", port);
        return 1;
    }
    fflush(out);
    wpid = fork();
    if (wpid == 0)
        watcher(port, out);
    mpid = start_psmon(out);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < ntr && !stop; i++) {
        const char *argv[] = {"XADD", PFX ":requests", "*", "model", models[tr[i].model], "prompt",
                              prompt, "callback", "lg:cb", "request_id", rid, "priority", pri,
                              "timeout_ms", "120000"};
        struct resp_reply *r;

        sleep_until(&t0, tr[i].t_ms, &stop);
        snprintf(rid, sizeof rid, "lg-%d", i);
        snprintf(pri, sizeof pri, "%d", tr[i].priority);
        prompt_text(prompt, tr[i].chars, i);
        r = rcmd(&c, 15, argv);
        if (!r || r->type != RESP_BULK) {
            fprintf(stderr, "loadgen: XADD failed\n");
            if (r)
                resp_reply_free(r);
            continue;
        }
        fprintf(out, "S %s %lld %s %d %d\n", rid, strtoll(r->str, NULL, 10), models[tr[i].model],
                tr[i].priority, tr[i].chars);
        resp_reply_free(r);
    }
    fflush(out);
    deadline = now_ms() + (long long)(drain * 1000);
    while (got < ntr && now_ms() < deadline && !stop) {
        const char *argv[] = {"XREAD", "COUNT", "500", "BLOCK", "500", "STREAMS", "lg:cb", last};
        struct resp_reply *r = rcmd(&c, 8, argv);
        const struct resp_reply *ents;
        size_t k;

        if (!r)
            break;
        ents = r->type == RESP_ARRAY ? resp_at(resp_at(r, 0), 1) : NULL;
        for (k = 0; ents && k < ents->n; k++) {
            const struct resp_reply *e = resp_at(ents, k), *id = resp_at(e, 0), *f = resp_at(e, 1);
            const struct resp_reply *type = resp_field(f, "type"), *q = resp_field(f, "request_id");
            const struct resp_reply *st = resp_field(f, "status"), *nd = resp_field(f, "node_id");
            const struct resp_reply *ld = resp_field(f, "load_duration");
            const struct resp_reply *td = resp_field(f, "total_duration");
            const struct resp_reply *code = resp_field(f, "code");

            snprintf(last, sizeof last, "%s", id->str);
            if (!type || !(resp_str_eq(type, "done") || resp_str_eq(type, "error")))
                continue;
            got++;
            fprintf(out, "A %s %lld %s %s %s %s %s\n", q ? q->str : "?", strtoll(id->str, NULL, 10),
                    st ? st->str : "?", nd ? nd->str : "-", ld ? ld->str : "0", td ? td->str : "0",
                    code ? code->str : "-");
        }
        resp_reply_free(r);
    }
    fflush(out);
    end_child(wpid);
    end_child(mpid);
    free(prompt);
    close(c.fd);
    return 0;
}

/* --- HTTP mode (nginx in front of the sims) --------------------------------------------- */
static int sim_port[MAXSIMS], nsims;
static const char *sim_root[MAXSIMS];

static void read_node(const char *root, double *temp, double *ram)
{
    char p[4200], line[256];
    FILE *f;
    double total = 0, avail = 0;

    *temp = -1;
    *ram = -1;
    snprintf(p, sizeof p, "%s/sys/class/thermal/thermal_zone0/temp", root);
    if ((f = fopen(p, "r"))) {
        if (fgets(line, sizeof line, f))
            *temp = strtod(line, NULL) / 1000.0;
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/proc/meminfo", root);
    if ((f = fopen(p, "r"))) {
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "MemTotal:", 9))
                total = strtod(line + 9, NULL);
            else if (!strncmp(line, "MemAvailable:", 13))
                avail = strtod(line + 13, NULL);
        }
        fclose(f);
        if (total > 0)
            *ram = (total - avail) * 100.0 / total;
    }
}

/* what the node's simulated sensor says now (the truth the health report lags behind) */
static double true_temp(const char *node)
{
    double t = -1, ram;
    int k;

    for (k = 0; k < nnodes; k++)
        if (!strcmp(node_name[k], node))
            read_node(node_root[k], &t, &ram);
    return t;
}

static void http_one(int port, int i, int ofd)
{
    char *req = malloc(8192), *body = malloc(4096), *prompt = malloc(4096), *resp = malloc(1 << 20);
    char line[512];
    char node[64] = "-";
    size_t have = 0;
    int fd, blen, hdr = 0, k;
    double temp = -1, ram = -1;
    long long t_end;
    const char *lp, *tp, *status = "error";

    if (!req || !body || !prompt || !resp)
        _exit(1);
    prompt_text(prompt, tr[i].chars, i);
    blen = snprintf(body, 4096, "{\"model\":\"%s\",\"prompt\":\"%s\",\"stream\":true}",
                    models[tr[i].model], prompt);
    snprintf(req, 4096,
             "POST /api/generate HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %d\r\n\r\n%s",
             blen, body);
    fd = tcp_connect(port);
    if (fd < 0 || write_all(fd, req, strlen(req)) < 0)
        goto out;
    for (;;) {
        ssize_t n = read(fd, resp + have, (1 << 20) - 1 - have);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        resp[have] = '\0';
        if (!hdr && strstr(resp, "\r\n\r\n")) {
            const char *u = strstr(resp, "X-Upstream: ");
            int up = 0;

            hdr = 1;
            if (u) {
                const char *colon;

                u += 12;
                sscanf(u, "%63s", node);
                colon = strrchr(node, ':');
                up = colon ? atoi(colon + 1) : 0;
                if ((colon = strchr(node, ',')) || (colon = strchr(node, ' ')))
                    node[colon - node] = '\0';
            }
            for (k = 0; k < nsims; k++)
                if (sim_port[k] == up)
                    read_node(sim_root[k], &temp, &ram);
            snprintf(line, sizeof line, "R lg-%d %s %lld %.2f %.1f 0 true %.2f nginx\n", i, node, now_ms(),
                     temp, ram, temp);
            if (write(ofd, line, strlen(line)) < 0)
                _exit(1);
        }
        if (have >= (1 << 20) - 1)
            break;
    }
out:
    t_end = now_ms();
    resp[have] = '\0';
    lp = NULL;
    tp = resp;
    while ((tp = strstr(tp, "\"load_duration\":"))) /* the last one: the final line */
        lp = tp++;
    tp = lp ? strstr(lp, "\"total_duration\":") : NULL;
    if (!tp && lp) /* total_duration comes before load_duration in Ollama's order */
        for (tp = resp; strstr(tp + 1, "\"total_duration\":"); tp = strstr(tp + 1, "\"total_duration\":"))
            ;
    if (lp && strstr(resp, " 200 ") && strstr(resp, "\"done\":true"))
        status = "ok";
    snprintf(line, sizeof line, "A lg-%d %lld %s %s %lld %lld -\n", i, t_end, status, node,
             lp ? strtoll(lp + 16, NULL, 10) : 0LL,
             tp && strstr(tp, "\"total_duration\":") == tp ? strtoll(tp + 17, NULL, 10) : 0LL);
    if (write(ofd, line, strlen(line)) < 0)
        _exit(1);
    _exit(0);
}

static int run_http(int port, FILE *out, double drain)
{
    struct timespec t0;
    static pid_t kids[MAXREQ];
    int i, live = 0, ofd = fileno(out);
    pid_t mpid = start_psmon(out);
    long long deadline;
    char line[256];

    fflush(out);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < ntr; i++) {
        pid_t p;

        sleep_until(&t0, tr[i].t_ms, &stop);
        while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
            live -= p != mpid;
        snprintf(line, sizeof line, "S lg-%d %lld %s %d %d\n", i, now_ms(), models[tr[i].model],
                 tr[i].priority, tr[i].chars);
        if (write(ofd, line, strlen(line)) < 0)
            return 1;
        p = fork();
        if (p == 0)
            http_one(port, i, ofd);
        kids[i] = p;
        if (p > 0)
            live++;
    }
    deadline = now_ms() + (long long)(drain * 1000);
    while (live > 0 && now_ms() < deadline) {
        pid_t p = waitpid(-1, NULL, WNOHANG);

        if (p == mpid)
            continue;
        if (p > 0)
            live--;
        else {
            struct timespec ts = {0, 20000000L};

            nanosleep(&ts, NULL);
        }
    }
    for (i = 0; i < ntr; i++) /* whatever did not finish in time is lost */
        if (kids[i] > 0)
            kill(kids[i], SIGKILL);
    end_child(mpid);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "", *outp = NULL;
    unsigned long seed = 1;
    double rate = 4, dur = 20, b_at = 0, b_len = 0, b_x = 10, drain = 60;
    int port = 6379, i;
    FILE *out = stdout;

    for (i = 2; i < argc; i++) {
        const char *o = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v) {
            fprintf(stderr, "loadgen: %s needs a value\n", o);
            return 2;
        }
        i++;
        if (!strcmp(o, "--seed"))
            seed = strtoul(v, NULL, 10);
        else if (!strcmp(o, "--rate"))
            rate = strtod(v, NULL);
        else if (!strcmp(o, "--duration"))
            dur = strtod(v, NULL);
        else if (!strcmp(o, "--burst-at"))
            b_at = strtod(v, NULL);
        else if (!strcmp(o, "--burst-len"))
            b_len = strtod(v, NULL);
        else if (!strcmp(o, "--burst-x"))
            b_x = strtod(v, NULL);
        else if (!strcmp(o, "--drain"))
            drain = strtod(v, NULL);
        else if (!strcmp(o, "--port"))
            port = atoi(v);
        else if (!strcmp(o, "--out"))
            outp = v;
        else if (!strcmp(o, "--sim") && nsims < MAXSIMS && strchr(v, '=')) {
            sim_port[nsims] = atoi(v);
            sim_root[nsims++] = strchr(v, '=') + 1;
        } else if (!strcmp(o, "--ps") && nps < MAXSIMS && strchr(v, '=')) {
            ps_name[nps] = v;
            ps_port[nps++] = atoi(strchr(v, '=') + 1);
            *strchr(v, '=') = '\0';
        } else if (!strcmp(o, "--node") && nnodes < MAXSIMS && strchr(v, '=')) {
            node_name[nnodes] = v;
            node_root[nnodes++] = strchr(v, '=') + 1;
            *strchr(v, '=') = '\0';
        } else {
            fprintf(stderr, "loadgen: unknown option %s\n", o);
            return 2;
        }
    }
    if (rate <= 0 || dur <= 0) {
        fprintf(stderr, "loadgen: --rate and --duration must be > 0\n");
        return 2;
    }
    make_trace(seed, rate, dur, b_at, b_len, b_x);
    if (outp && !(out = fopen(outp, "a"))) {
        fprintf(stderr, "loadgen: cannot open %s\n", outp);
        return 1;
    }
    setvbuf(out, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(mode, "trace")) {
        for (i = 0; i < ntr; i++)
            fprintf(out, "%ld %s %d %d\n", tr[i].t_ms, models[tr[i].model], tr[i].priority,
                    tr[i].chars);
        return 0;
    }
    if (!strcmp(mode, "redis"))
        return run_redis(port, out, drain);
    if (!strcmp(mode, "http"))
        return run_http(port, out, drain);
    fprintf(stderr, "usage: loadgen redis|http|trace [options] (see the source's head)\n");
    return 2;
}
