/* SPDX-License-Identifier: MIT */
/*
 * ollama-sim: imitates Ollama SIM_OLLAMA_VERSION for tests and demos: argv -> models ->
 * listener -> routes. Test hooks under /sim/ exist only here, never in Ollama.
 */
#include "native.h"

#include "cJSON.h"
#include "orion/conf.h"
#include "orion/contract.h"
#include "orion/jsonw.h"
#include "orion/log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "ollama-sim"

static void client_gone(void *arg)
{
    struct sim_req *r = arg;

    sched_abandon(r);
    gen_free(r);
}

struct sim_req *sim_req_new(struct sim *s, struct httpd_req *hr, enum sim_kind kind)
{
    struct sim_req *r = orion_calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->s = s;
    r->hr = hr;
    r->kind = kind;
    r->where = -1;
    r->slot = -1;
    r->t0_ns = now_ns();
    buf_init(&r->acc, ORION_HTTP_MAX_OUT);
    buf_init(&r->ans, ORION_HTTP_MAX_OUT);
    tokv_init(&r->ptok);
    return r;
}

void sim_req_go(struct sim_req *r)
{
    httpd_on_close(r->hr, client_gone, r);
    sched_submit(r);
}

static void unload_reply(struct sim_req *r)
{
    struct sim_model *m = r->m;
    struct buf b;
    char t[64];

    if (m->state == M_LOADED && m->active == 0 && !m->wait) {
        if (m->expire_tmr)
            loop_timer_cancel(r->s->l, m->expire_tmr);
        m->expire_tmr = 0;
        sched_unload_now(m);
    } else if (m->state != M_UNLOADED)
        m->keep_alive_ns = 0; /* goes when its last request ends */
    buf_init(&b, 4096);
    go_time_utc(t, now_ns());
    buf_puts(&b, "{\"model\":");
    go_quote(&b, r->model, strlen(r->model));
    buf_printf(&b, ",\"created_at\":\"%s\",", t);
    buf_puts(&b, r->kind == K_CHAT ? "\"message\":{\"role\":\"assistant\",\"content\":\"\"}"
                                   : "\"response\":\"\"");
    buf_puts(&b, ",\"done\":true,\"done_reason\":\"unload\"}");
    reply_json(r->hr, 200, "application/json; charset=utf-8", buf_data(&b), buf_size(&b));
    buf_release(&b);
    gen_free(r);
}

static void native_gen(struct sim *s, struct httpd_req *hr, const struct httpd_request *q,
                       enum sim_kind kind)
{
    struct sim_req *r = sim_req_new(s, hr, kind);
    char err[512];
    int status;

    if (!r) {
        reply_error(hr, 500, "out of memory");
        return;
    }
    status = native_decode(s, r, q->body, q->body_len, err, sizeof err);
    if (status) {
        reply_error(hr, status, err);
        gen_free(r);
    } else if (r->load_only && r->has_ka && r->ka_ns == 0)
        unload_reply(r);
    else
        sim_req_go(r);
}

static void reply_buf(struct httpd_req *hr, struct buf *b, const char *ctype)
{
    reply_json(hr, 200, ctype, buf_data(b), buf_size(b));
    buf_release(b);
}

static void sim_temp(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    cJSON *j = cJSON_ParseWithLength(q->body, q->body_len);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "c");

    if (cJSON_IsNumber(c))
        s->temp_forced = true, s->forced_c = c->valuedouble;
    else if (cJSON_IsNull(c))
        s->temp_forced = false;
    else {
        cJSON_Delete(j);
        reply_error(hr, 400, "want {\"c\":NUMBER} or {\"c\":null}");
        return;
    }
    cJSON_Delete(j);
    reply_text(hr, 200, "application/json; charset=utf-8", "{\"ok\":true}");
}

static long listen_again(struct loop *l, void *arg);

static long go_down(struct loop *l, void *arg)
{
    struct sim *s = arg;

    (void)l;
    /* every generation's client is gone (client_gone drops it) before its httpd_req is freed:
     * no timer of a generation may write to a request httpd_free took away */
    httpd_close_all(s->h);
    httpd_free(s->h);
    s->h = NULL;
    loop_timer(s->l, s->down_ms, listen_again, s);
    return -1;
}

static void sim_fail(struct sim *s, struct httpd_req *hr, const struct httpd_request *q)
{
    static const char *const modes[] = {"none", "down", "garbage", "hang", "midstream"};
    cJSON *j = cJSON_ParseWithLength(q->body, q->body_len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "mode");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "ms");
    int i;

    for (i = 0; i < 5; i++)
        if (cJSON_IsString(m) && strcmp(m->valuestring, modes[i]) == 0)
            break;
    s->down_ms = native_long(ms, 3000);
    s->down_ms = s->down_ms < 0 ? 0 : s->down_ms > 86400000 ? 86400000 : s->down_ms;
    cJSON_Delete(j);
    if (i == 5) {
        reply_error(hr, 400, "mode: none, down, garbage, hang or midstream");
        return;
    }
    reply_text(hr, 200, "application/json; charset=utf-8", "{\"ok\":true}");
    if (i == F_DOWN)
        loop_timer(s->l, 50, go_down, s); /* after our answer left */
    else
        s->fail = (enum sim_fail)i;
}

static void not_found(struct httpd_req *hr, bool path_known)
{
    if (path_known)
        reply_text(hr, 405, "text/plain", "405 method not allowed");
    else
        reply_text(hr, 404, "text/plain", "404 page not found");
}

static bool is(const struct httpd_request *q, const char *path, const char *methods, bool *known)
{
    char m[12];

    if (strcmp(q->path, path) != 0)
        return false;
    *known = true;
    snprintf(m, sizeof m, ",%s,", q->method);
    return strstr(methods, m) != NULL;
}

static bool route_info(struct sim *s, struct httpd_req *hr, const struct httpd_request *q,
                       bool *known)
{
    struct buf b;
    char err[512];
    int st;

    buf_init(&b, ORION_HTTP_MAX_OUT);
    if (is(q, "/", ",GET,HEAD,", known))
        reply_text(hr, 200, "text/plain; charset=utf-8", "Ollama is running");
    else if (is(q, "/api/version", ",GET,HEAD,", known)) {
        buf_printf(&b, "{\"version\":\"%s\"}", s->version);
        reply_buf(hr, &b, "application/json; charset=utf-8");
    } else if (is(q, "/api/tags", ",GET,HEAD,", known)) {
        show_tags(s, &b);
        reply_buf(hr, &b, "application/json; charset=utf-8");
    } else if (is(q, "/api/ps", ",GET,", known)) {
        show_ps(s, &b);
        reply_buf(hr, &b, "application/json; charset=utf-8");
    } else if (is(q, "/api/show", ",POST,", known)) {
        if ((st = show_model(s, q->body, q->body_len, &b, err, sizeof err)))
            reply_error(hr, st, err);
        else
            reply_buf(hr, &b, "application/json; charset=utf-8");
    } else if (is(q, "/v1/models", ",GET,", known))
        openai_models(s, hr);
    else
        return false;
    buf_release(&b);
    return true;
}

static bool route_models(struct sim *s, struct httpd_req *hr, const struct httpd_request *q,
                         bool *known)
{
    if (is(q, "/api/pull", ",POST,", known))
        pull_model(s, hr, q);
    else if (is(q, "/api/copy", ",POST,", known))
        copy_model(s, hr, q);
    else if (is(q, "/api/delete", ",DELETE,", known))
        delete_model(s, hr, q);
    else if (is(q, "/api/create", ",POST,", known))
        create_model(s, hr, q);
    else if (is(q, "/api/push", ",POST,", known))
        push_model(s, hr, q);
    else
        return false;
    return true;
}

static void route_more(struct sim *s, struct httpd_req *hr, const struct httpd_request *q,
                       bool *known);

static void handle(void *arg, struct httpd_req *hr, const struct httpd_request *q)
{
    struct sim *s = arg;
    bool known = false;

    if (route_info(s, hr, q, &known))
        return;
    if (is(q, "/api/chat", ",POST,", &known))
        native_gen(s, hr, q, K_CHAT);
    else if (is(q, "/api/generate", ",POST,", &known))
        native_gen(s, hr, q, K_GENERATE);
    else if (is(q, "/v1/chat/completions", ",POST,", &known))
        openai_chat(s, hr, q);
    else if (!route_models(s, hr, q, &known))
        route_more(s, hr, q, &known);
}

/* embeddings, model management and the test hooks */
static void route_more(struct sim *s, struct httpd_req *hr, const struct httpd_request *q,
                       bool *known)
{
    if (is(q, "/api/embed", ",POST,", known))
        embed_native(s, hr, q);
    else if (is(q, "/api/embeddings", ",POST,", known))
        embed_legacy(s, hr, q);
    else if (is(q, "/v1/embeddings", ",POST,", known))
        embed_openai(s, hr, q);
    else if (is(q, "/sim/temp", ",POST,", known))
        sim_temp(s, hr, q);
    else if (is(q, "/sim/fail", ",POST,", known))
        sim_fail(s, hr, q);
    else
        not_found(hr, *known);
}

static int start_listen(struct sim *s)
{
    char err[256];

    s->h = httpd_new(s->l, s->listen, NULL, handle, s, err, sizeof err);
    if (!s->h) {
        log_errorx("%s", err);
        return -1;
    }
    return 0;
}

static long listen_again(struct loop *l, void *arg)
{
    struct sim *s = arg;

    (void)l;
    if (start_listen(s) < 0)
        return 500; /* the port may be in TIME_WAIT use; try again */
    return -1;
}

static long load_ms_for(const char *spec, const char *name)
{
    const char *p = spec;
    long def = 3000, v;
    size_t nl = strlen(name);

    while (*p) {
        const char *end = strchr(p, ','), *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[ORION_MODEL_MAX + 32];

        snprintf(tok, sizeof tok, "%.*s", (int)len, p);
        eq = strrchr(tok, '=');
        if (!eq && conf_parse_long(tok, 0, 86400000L, &v) == 0)
            def = v;
        else if (eq && (size_t)(eq - tok) == nl && memcmp(tok, name, nl) == 0 &&
                 conf_parse_long(eq + 1, 0, 86400000L, &v) == 0)
            return v;
        else if (!eq || conf_parse_long(eq + 1, 0, 86400000L, &v) < 0) {
            fprintf(stderr, PROG ": --load-ms: \"%s\" is neither MS nor NAME=MS\n", tok);
            exit(ORION_EXIT_USAGE);
        }
        p += len + (end != NULL);
    }
    return def;
}

static void add_models(struct sim *s, const char *installed, const char *registry,
                       const char *load_spec)
{
    char err[512];
    int i;

    if (sim_add_models(s, installed, true, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": --models: %s\n", err);
        exit(ORION_EXIT_USAGE);
    }
    if (sim_add_models(s, registry, false, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": --registry: %s\n", err);
        exit(ORION_EXIT_USAGE);
    }
    for (i = 0; i < s->nmodels; i++)
        s->models[i].load_ms = load_ms_for(load_spec, s->models[i].name);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
    (void)signo;
    (void)arg;
    loop_stop(l);
}

static void parse_keep_alive(struct sim *s, const char *ka)
{
    char err[200];
    long v;

    if (conf_parse_long(ka, -1000000000L, 1000000000L, &v) == 0)
        s->default_ka_ns = v < 0 ? -1 : v * 1000000000LL; /* OLLAMA_KEEP_ALIVE takes seconds */
    else if (go_parse_duration(ka, &s->default_ka_ns, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": --keep-alive: %s\n", err);
        exit(ORION_EXIT_USAGE);
    }
    if (s->default_ka_ns < 0)
        s->default_ka_ns = -1;
}

static enum kv_mode kv_mode_of(const struct sim *s, const char *v)
{
    static const char *const names[] = {"none", "runner", "multiuser", "server"};
    int i;

    if (strcmp(v, "auto") == 0)
        return s->gen < 30 ? KV_RUNNER : KV_SERVER;
    for (i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0)
            return (enum kv_mode)i;
    fprintf(stderr, PROG ": --kv-cache: \"%s\" is not auto, none, runner, multiuser or server\n",
            v);
    exit(ORION_EXIT_USAGE);
}

static void settings(struct sim *s, const char *kv, const char *prefill, const char *score)
{
    char err[512];
    double v;

    sim_set_version(s);
    s->kv_mode = kv_mode_of(s, kv);
    if (prefill && sim_set_prefill(s, prefill, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": --prefill-tps: %s\n", err);
        exit(ORION_EXIT_USAGE);
    }
    if (score && conf_parse_double(score, -1e15, 1e15, &v) < 0) {
        fprintf(stderr, PROG ": --json-score: \"%s\" is not a number\n", score);
        exit(ORION_EXIT_USAGE);
    }
    if (score)
        s->steer.has_score = true, s->steer.score = v;
}

int main(int argc, char **argv)
{
    static struct sim s;
    const char *models = NULL, *registry = NULL, *load_ms = NULL, *ka = NULL, *level = NULL;
    const char *kv = NULL, *prefill = NULL, *score = NULL;
    const struct conf_opt opts[] = {
        {"listen", "ORION_SIM_LISTEN", CONF_STR, "127.0.0.1:11434",
         "HOST:PORT to serve (port 0 picks one)", 0, 0, &s.listen, NULL, false},
        {"models", "ORION_SIM_MODELS", CONF_STR, "llama3.2:1b,qwen2.5:0.5b,gemma3:1b",
         "installed models (a,b,c; a spec: NAME+caps=completion/vision+ctx=N+num_ctx=N"
         "+size=N+ram=N+dim=N+family=S+params=S+quant=S+prefill=N)",
         0, 0, &models, NULL, false},
        {"registry", "ORION_SIM_REGISTRY", CONF_STR,
         "llama3.2:3b,llama3.2:1b,gemma3:1b,qwen2.5:0.5b,gemma3:4b,nomic-embed-text:latest",
         "models /api/pull can fetch (specs as --models)", 0, 0, &registry, NULL, false},
        {"load-ms", "ORION_SIM_LOAD_MS", CONF_STR, "3000",
         "cold load time: MS, or NAME=MS,NAME=MS (bare MS = the rest)", 0, 0, &load_ms, NULL,
         false},
        {"tokens-per-s", "ORION_SIM_TOKENS_PER_S", CONF_INT, "10", "generation speed", 1, 1000,
         &s.tokens_per_s, NULL, false},
        {"max-loaded", "OLLAMA_MAX_LOADED_MODELS", CONF_INT, "3", "models resident at once", 1,
         SIM_MAX_MODELS, &s.max_loaded, NULL, false},
        {"num-parallel", "OLLAMA_NUM_PARALLEL", CONF_INT, "1", "requests one model runs at once", 1,
         64, &s.num_parallel, NULL, false},
        {"max-queue", "OLLAMA_MAX_QUEUE", CONF_INT, "512", "requests waiting for a load before 503",
         0, 1000000, &s.max_queue, NULL, false},
        {"keep-alive", "OLLAMA_KEEP_ALIVE", CONF_STR, "5m",
         "default keep-alive (Go duration or seconds; negative = forever)", 0, 0, &ka, NULL, false},
        {"num-ctx", "OLLAMA_CONTEXT_LENGTH", CONF_INT, "4096",
         "default context of a loaded model (a model's num_ctx parameter and a request's "
         "options.num_ctx win)",
         16, 1048576, &s.num_ctx, NULL, false},
        {"kv-cache", "ORION_SIM_KV_CACHE", CONF_STR, "auto",
         "prompt cache: runner (<= v0.24), multiuser (OLLAMA_MULTIUSER_CACHE=1), server (>= v0.30 "
         "llama-server), none; auto = by --version-string",
         0, 0, &kv, NULL, false},
        {"cache-ram-mib", "LLAMA_ARG_CACHE_RAM", CONF_INT, "8192",
         "llama-server's host-RAM prompt cache per model (MiB; 0: off)", 0, 1048576,
         &s.cache_ram_mib, NULL, false},
        {"prefill-tps", "ORION_SIM_PREFILL_TPS", CONF_STR, NULL,
         "prompt tokens/s: N or NAME=N,... (default: the model's Pi 5 figure x tokens-per-s / 10)",
         0, 0, &prefill, NULL, false},
        {"pull-mbps", "ORION_SIM_PULL_MBPS", CONF_DOUBLE, "40",
         "simulated download rate of /api/pull (MB/s)", 0.001, 1e9, &s.pull_mbps, NULL, false},
        {"json-score", "ORION_SIM_JSON_SCORE", CONF_STR, NULL,
         "structured outputs: the value of every \"score\" number (a [[sim:score=X]] prompt marker "
         "wins)",
         0, 0, &score, NULL, false},
        {"ram-mb", "ORION_SIM_RAM_MB", CONF_INT, "8192",
         "RAM of the simulated node (for --sysfs-root)", 256, 1048576, &s.ram_mb, NULL, false},
        {"shared-cpu", "ORION_SIM_SHARED_CPU", CONF_BOOL, "false",
         "requests running at once (on any model) share the node's token and prefill rates, "
         "as llama.cpp's threads share a Pi's 4 cores; off: each runs at full speed",
         0, 0, &s.shared_cpu, NULL, false},
        {"temp-idle", "ORION_SIM_TEMP_IDLE", CONF_DOUBLE, "45",
         "fake sensor (--sysfs-root): the temperature an idle node settles at (C)", -40, 150,
         &s.temp_idle, NULL, false},
        {"temp-busy", "ORION_SIM_TEMP_BUSY", CONF_DOUBLE, "78",
         "fake sensor: the temperature a node busy without pause settles at (C)", -40, 150,
         &s.temp_busy, NULL, false},
        {"temp-tau", "ORION_SIM_TEMP_TAU", CONF_DOUBLE, "6",
         "fake sensor: seconds for 63 % of the way to the settling temperature", 0.5, 100000,
         &s.temp_tau, NULL, false},
        {"sysfs-root", "ORION_SIM_SYSFS_ROOT", CONF_STR, NULL,
         "write fake proc/ and sys/ files under this directory every 500 ms", 0, 0, &s.sysfs_root,
         NULL, false},
        {"version-string", "ORION_SIM_VERSION", CONF_STR, SIM_OLLAMA_VERSION,
         "what /api/version reports", 0, 0, &s.version, NULL, false},
        {"log-level", "ORION_LOG_LEVEL", CONF_STR, "info", "error, warning, info or debug", 0, 0,
         &level, NULL, false},
    };
    int rc, i;

    conf_parse(
        opts, sizeof(opts) / sizeof(opts[0]), argc, argv, PROG,
        "Imitates one Ollama server (v" SIM_OLLAMA_VERSION
        " by default: native API, OpenAI /v1 with the "
        "v0.32.6+ stream layout, embeddings, pull/copy/delete) with simulated load times, "
        "keep-alive, eviction, queue and per-slot prompt cache; for tests. POST /sim/temp and "
        "/sim/fail are simulator-only test hooks.");
    log_init(PROG, 2, false);
    json_init();
    parse_keep_alive(&s, ka);
    add_models(&s, models, registry, load_ms);
    settings(&s, kv, prefill, score);
    if (!(s.l = loop_new()))
        fatal("loop");
    if (start_listen(&s) < 0)
        return ORION_EXIT_SYSTEM;
    if (strrchr(s.listen, ':')) { /* remember the port we got, to listen there again after "down" */
        snprintf(s.listen_buf, sizeof s.listen_buf, "%.*s:%d",
                 (int)(strrchr(s.listen, ':') - s.listen), s.listen, httpd_port(s.h));
        s.listen = s.listen_buf;
    }
    if (s.sysfs_root && sysfs_start(&s) < 0)
        fatal("sysfs-root %s", s.sysfs_root);
    loop_signal(s.l, SIGTERM, on_signal, &s);
    loop_signal(s.l, SIGINT, on_signal, &s);
    log_info("serving on %s, %d models, imitating ollama %s", s.listen, s.nmodels, s.version);
    rc = loop_run(s.l);
    httpd_free(s.h);
    for (i = 0; i < s.nmodels; i++)
        kv_clear(&s.models[i].kv);
    loop_free(s.l);
    return rc < 0 ? ORION_EXIT_SYSTEM : 0;
}
