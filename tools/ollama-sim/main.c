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
    r->t0_ns = now_ns();
    buf_init(&r->acc, ORION_HTTP_MAX_OUT);
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
    s->down_ms = cJSON_IsNumber(ms) ? (long)ms->valuedouble : 3000;
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
        native_tags(s, &b);
        reply_buf(hr, &b, "application/json; charset=utf-8");
    } else if (is(q, "/api/ps", ",GET,", known)) {
        sim_ps_json(s, &b);
        reply_buf(hr, &b, "application/json; charset=utf-8");
    } else if (is(q, "/api/show", ",POST,", known)) {
        if ((st = native_show(s, q->body, q->body_len, &b, err, sizeof err)))
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
    else if (is(q, "/sim/temp", ",POST,", &known))
        sim_temp(s, hr, q);
    else if (is(q, "/sim/fail", ",POST,", &known))
        sim_fail(s, hr, q);
    else
        not_found(hr, known);
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

static void add_models(struct sim *s, const char *list, const char *load_spec)
{
    const char *p = list;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[ORION_MODEL_MAX];

        snprintf(name, sizeof name, "%.*s", (int)len, p);
        if (*name && sim_add_model(s, name, load_ms_for(load_spec, name)) < 0) {
            fprintf(stderr, PROG ": --models: cannot add \"%s\" (at most %d models)\n", name,
                    SIM_MAX_MODELS);
            exit(ORION_EXIT_USAGE);
        }
        p += len + (end != NULL);
    }
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

int main(int argc, char **argv)
{
    static struct sim s;
    const char *models = NULL, *load_ms = NULL, *ka = NULL, *level = NULL;
    const struct conf_opt opts[] = {
        {"listen", "ORION_SIM_LISTEN", CONF_STR, "127.0.0.1:11434", "HOST:PORT to serve (port 0 picks one)", 0, 0, &s.listen, NULL, false},
        {"models", "ORION_SIM_MODELS", CONF_STR, "llama3.2:1b,qwen2.5:0.5b,gemma3:1b", "installed models (a,b,c)", 0, 0, &models, NULL, false},
        {"load-ms", "ORION_SIM_LOAD_MS", CONF_STR, "3000", "cold load time: MS, or NAME=MS,NAME=MS (bare MS = the rest)", 0, 0, &load_ms, NULL, false},
        {"tokens-per-s", "ORION_SIM_TOKENS_PER_S", CONF_INT, "10", "generation speed", 1, 1000, &s.tokens_per_s, NULL, false},
        {"max-loaded", "OLLAMA_MAX_LOADED_MODELS", CONF_INT, "3", "models resident at once", 1, SIM_MAX_MODELS, &s.max_loaded, NULL, false},
        {"num-parallel", "OLLAMA_NUM_PARALLEL", CONF_INT, "1", "requests one model runs at once", 1, 64, &s.num_parallel, NULL, false},
        {"max-queue", "OLLAMA_MAX_QUEUE", CONF_INT, "512", "requests waiting for a load before 503", 0, 1000000, &s.max_queue, NULL, false},
        {"keep-alive", "OLLAMA_KEEP_ALIVE", CONF_STR, "5m", "default keep-alive (Go duration or seconds; negative = forever)", 0, 0, &ka, NULL, false},
        {"ram-mb", "ORION_SIM_RAM_MB", CONF_INT, "8192", "RAM of the simulated node (for --sysfs-root)", 256, 1048576, &s.ram_mb, NULL, false},
        {"sysfs-root", "ORION_SIM_SYSFS_ROOT", CONF_STR, NULL, "write fake proc/ and sys/ files under this directory every 500 ms", 0, 0, &s.sysfs_root, NULL, false},
        {"version-string", "ORION_SIM_VERSION", CONF_STR, SIM_OLLAMA_VERSION, "what /api/version reports", 0, 0, &s.version, NULL, false},
        {"log-level", "ORION_LOG_LEVEL", CONF_STR, "info", "error, warning, info or debug", 0, 0, &level, NULL, false},
    };
    int rc;

    conf_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, PROG,
               "Imitates one Ollama server (v" SIM_OLLAMA_VERSION ": native API, OpenAI /v1 with the "
               "v0.32.6+ stream layout) with simulated load times, keep-alive, eviction and queue; "
               "for tests. POST /sim/temp and /sim/fail are simulator-only test hooks.");
    log_init(PROG, 2, false);
    json_init();
    parse_keep_alive(&s, ka);
    add_models(&s, models, load_ms);
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
    log_info("serving on %s, %d models, imitating ollama %s", s.listen, s.nmodels, SIM_OLLAMA_VERSION);
    rc = loop_run(s.l);
    httpd_free(s.h);
    loop_free(s.l);
    return rc < 0 ? ORION_EXIT_SYSTEM : 0;
}
