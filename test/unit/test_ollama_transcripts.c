/* SPDX-License-Identifier: MIT */
/*
 * Conformance of the Ollama client (src/ollama.c) with real server bytes: a one-shot server on
 * loopback answers each request with a response recorded in the reference transcripts
 * (../shared/reference/transcripts, the .raw files: exact bytes: chunked and Content-Length framing,
 * NDJSON lines, error bodies), and the client must turn every one into the right callbacks.
 * Skips when the transcripts are not there.
 */
#include "orion/loop.h"
#include "orion/net.h"
#include "orion/ollama.h"

#include "../t.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct loop *L;
static char dir[512];

/* --- the recorded bytes ----------------------------------------------------------------- */

/* The RESPONSE part labelled label in file: malloc'd, or NULL. */
static char *recorded(const char *file, const char *label, size_t *len)
{
    char path[700], mark[200], *all, *p, *out = NULL;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/%s.raw", dir, file);
    if (!(f = fopen(path, "rb")))
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    all = malloc((size_t)n + 1);
    if (all && fread(all, 1, (size_t)n, f) == (size_t)n) {
        all[n] = '\0';
        snprintf(mark, sizeof(mark), "=== %s RESPONSE (", label);
        if ((p = strstr(all, mark)) && sscanf(p + strlen(mark), "%zu", len) == 1 &&
            (p = strchr(p, '\n')) && (out = malloc(*len)))
            memcpy(out, p + 1, *len);
    }
    free(all);
    fclose(f);
    return out;
}

/* --- a server that answers one request with canned bytes, then closes ------------------- */

struct canned {
    int lfd, fd;
    char *resp;
    size_t len, sent;
    char in[8192];
    size_t got;
};

static void conn_io(struct loop *l, int fd, int revents, void *arg)
{
    struct canned *c = arg;
    long n;

    if ((revents & POLLIN) && c->sent == 0) {
        n = net_read(fd, c->in + c->got, sizeof(c->in) - 1 - c->got);
        if (n > 0)
            c->got += (size_t)n;
        c->in[c->got] = '\0';
        if (strstr(c->in, "\r\n\r\n")) /* our requests are small: the body came along */
            loop_set_events(l, fd, POLLOUT);
        if (n >= 0)
            return;
    }
    if ((revents & POLLOUT) && c->sent < c->len) {
        n = net_write(fd, c->resp + c->sent, c->len - c->sent);
        if (n > 0)
            c->sent += (size_t)n;
        if (c->sent < c->len && n >= 0)
            return;
    }
    loop_unwatch(l, fd);
    close(fd);
    c->fd = -1;
}

static void on_accept(struct loop *l, int lfd, int revents, void *arg)
{
    struct canned *c = arg;
    int fd = net_accept(lfd);

    (void)revents;
    if (fd < 0)
        return;
    c->fd = fd;
    loop_watch(l, fd, POLLIN, conn_io, c);
}

/* Serve resp once; returns the base URL in url. */
static int canned_start(struct canned *c, char *resp, size_t len, char *url, size_t ulen)
{
    char err[128];

    memset(c, 0, sizeof(*c));
    c->resp = resp;
    c->len = len;
    c->fd = -1;
    c->lfd = net_listen("127.0.0.1:0", err, sizeof(err));
    if (c->lfd < 0)
        return -1;
    snprintf(url, ulen, "http://127.0.0.1:%d", net_local_port(c->lfd));
    return loop_watch(L, c->lfd, POLLIN, on_accept, c);
}

static void canned_stop(struct canned *c)
{
    if (c->fd >= 0) {
        loop_unwatch(L, c->fd);
        close(c->fd);
    }
    loop_unwatch(L, c->lfd);
    close(c->lfd);
    free(c->resp);
}

/* --- the client's view ------------------------------------------------------------------- */

struct seen {
    char text[4096], code[32], msg[256], names[1024];
    int chunks, dones, errors, lists;
    bool retriable, list_ok;
    size_t count;
    struct ollama_final fin;
};

static void s_chunk(void *arg, const char *d, size_t n, const char *t, size_t tn)
{
    struct seen *s = arg;
    size_t have = strlen(s->text);

    (void)t;
    (void)tn;
    s->chunks++;
    if (n < sizeof(s->text) - have) {
        memcpy(s->text + have, d, n);
        s->text[have + n] = '\0';
    }
}

static void s_tools(void *arg, const char *json, size_t n)
{
    (void)arg;
    (void)json;
    (void)n;
}

static void s_done(void *arg, const struct ollama_final *f)
{
    struct seen *s = arg;

    s->dones++;
    s->fin = *f;
}

static void s_error(void *arg, const char *code, bool retriable, const char *msg)
{
    struct seen *s = arg;

    s->errors++;
    s->retriable = retriable;
    snprintf(s->code, sizeof(s->code), "%s", code);
    snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

static void s_list(void *arg, bool ok_, const char *names, size_t count)
{
    struct seen *s = arg;
    size_t o = 0;

    s->lists++;
    s->list_ok = ok_;
    s->count = count;
    for (size_t i = 0; i < count; i++) { /* NUL-separated -> comma-separated */
        o += (size_t)snprintf(s->names + o, sizeof(s->names) - o, "%s%s", i ? "," : "", names);
        names += strlen(names) + 1;
    }
}

static const struct ollama_cbs CBS = {s_chunk, s_tools, s_done, s_error};

enum what { GEN_CHAT, GEN_PROMPT, PS, TAGS };

/* Run one request against the recorded response; false when the transcript is missing. */
static bool run(const char *file, const char *label, enum what w, struct seen *s)
{
    struct ollama_gen g = {"llama3.2:1b", 11, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL,
                           NULL, NULL, "10m"};
    static const char msgs[] = "[{\"role\":\"user\",\"content\":\"hi\"}]";
    struct canned c;
    struct ollama *o;
    char url[64];
    size_t len;
    char *resp = recorded(file, label, &len);

    memset(s, 0, sizeof(*s));
    if (!resp || canned_start(&c, resp, len, url, sizeof(url)) < 0) {
        free(resp);
        return false;
    }
    o = ollama_new(L, url, 0);
    if (w == GEN_CHAT)
        g.messages = msgs, g.messages_len = sizeof(msgs) - 1;
    else
        g.prompt = "hi", g.prompt_len = 2;
    if (w == PS)
        ollama_ps(o, s_list, s);
    else if (w == TAGS)
        ollama_tags(o, s_list, s);
    else
        ollama_generate(o, &g, &CBS, s);
    for (int i = 0; i < 500 && !s->dones && !s->errors && !s->lists; i++)
        loop_once(L, 10);
    ollama_free(o);
    canned_stop(&c);
    return true;
}

static void test_generations(void)
{
    struct seen s;

    if (!run("01-api-chat-stream-cold", "chat-stream", GEN_CHAT, &s))
        return;
    is_int(s.chunks, 8, "01 chat stream: eight pieces");
    is_str(s.text, "Hello there, nice to meet you!", "01 chat stream: the text");
    ok(s.dones == 1 && !s.errors && s.fin.ok, "01 chat stream: done once, no error");
    is_str(s.fin.done_reason, "stop", "01: done_reason");
    ok(s.fin.total_duration == 5054688136LL && s.fin.load_duration == 3871402117LL &&
           s.fin.prompt_eval_count == 31 && s.fin.prompt_eval_duration == 443210000 &&
           s.fin.eval_count == 8 && s.fin.eval_duration == 728202567,
       "01: every counter of the final line");

    run("02-api-generate-nonstream-warm", "generate-nonstream", GEN_PROMPT, &s);
    is_str(s.text, "The sky appears blue because air molecules scatter short blue wavelengths of "
                   "sunlight far more than longer red ones.",
           "02 stream:false body (Content-Length, no newline): the whole text");
    ok(s.dones == 1 && s.fin.total_duration == 1303129349LL && s.fin.load_duration == 5812345 &&
           s.fin.eval_count == 21,
       "02: done with the counters");

    run("03-errors", "chat-midstream-error", GEN_CHAT, &s);
    is_str(s.text, "Once upon a", "03 mid-stream error: the pieces before it");
    ok(s.errors == 1 && !s.dones && !strcmp(s.code, "ollama_error") && !s.retriable,
       "03 mid-stream error: ollama_error, not retriable, no done");
    is_str(s.msg, "an error was encountered while running the model: unexpected EOF",
           "03 mid-stream error: Ollama's text");
}

static void test_errors(void)
{
    static const struct {
        const char *label, *code, *msg;
        bool retriable;
    } t[] = {
        {"chat-model-not-found", "model_not_found", "model 'llama3.3:70b' not found", false},
        {"generate-bad-keepalive", "bad_request", "time: missing unit in duration \"300\"", false},
        {"chat-queue-full", "ollama_busy",
         "server busy, please try again.  maximum pending requests exceeded", true},
        {"generate-empty-model", "model_not_found", "model '' not found", false},
    };
    struct seen s;

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (!run("03-errors", t[i].label, GEN_CHAT, &s))
            return;
        ok(s.errors == 1 && !s.dones && !s.chunks && !strcmp(s.code, t[i].code) &&
               s.retriable == t[i].retriable,
           "03 %s: %s, retriable %d", t[i].label, t[i].code, t[i].retriable);
        is_str(s.msg, t[i].msg, "03 %s: the sentence is Ollama's", t[i].label);
    }
    run("03-errors", "unknown-route", GEN_CHAT, &s);
    ok(s.errors == 1 && !s.dones && !strcmp(s.code, "ollama_error") && !s.retriable,
       "03 plain-text 404 page not found (a wrong URL): ollama_error, not model_not_found");
}

static void test_lists(void)
{
    struct seen s;

    if (!run("04-api-ps-tags-version", "ps", PS, &s))
        return;
    ok(s.lists == 1 && s.list_ok && s.count == 1, "04 /api/ps: one model");
    is_str(s.names, "llama3.2:1b", "04 /api/ps: its name");
    run("04-api-ps-tags-version", "tags", TAGS, &s);
    ok(s.lists == 1 && s.list_ok && s.count == 3, "04 /api/tags: three models");
    is_str(s.names, "gemma3:1b,qwen2.5:0.5b,llama3.2:1b", "04 /api/tags: names in order");
}

int main(void)
{
    const char *top = getenv("ORION_TOP");
    struct seen s;

    snprintf(dir, sizeof(dir), "%s/../shared/reference/transcripts", top ? top : ".");
    if (getenv("ORION_TRANSCRIPTS"))
        snprintf(dir, sizeof(dir), "%s", getenv("ORION_TRANSCRIPTS"));
    L = loop_new();
    if (!L || !run("04-api-ps-tags-version", "version", PS, &s)) {
        printf("ok %d # skip transcripts not found in %s\n", ++t_count, dir);
        loop_free(L);
        return done_testing();
    }
    test_generations();
    test_errors();
    test_lists();
    loop_free(L);
    return done_testing();
}
