/* SPDX-License-Identifier: MIT */
/*
 * The contract's entries (entry.c), word for word: each writer's command is compared with the
 * words the daemons sent before the writers were gathered here (so the bytes on the wire did
 * not change), and each reader gets back what a writer put in.
 */
#include "orion/entry.h"
#include "../t.h"

#include <limits.h>

/* The words of a command, joined by '|', with lengths honoured. */
static void join(char *out, size_t n, int argc, const char *const *argv, const size_t *len)
{
    size_t used = 0;

    out[0] = '\0';
    for (int i = 0; i < argc && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s%.*s", i ? "|" : "", (int)len[i], argv[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* A reply holding a flat field array, from "k", "v", ... */
static struct resp_reply *fields(int n, const char *const *kv)
{
    struct buf b;
    struct resp_reader rd;
    struct resp_reply *r = NULL;

    buf_init(&b, 1 << 20);
    resp_format(&b, n, kv, NULL);
    resp_reader_init(&rd);
    resp_reader_feed(&rd, buf_data(&b), buf_size(&b));
    resp_reader_get(&rd, &r);
    resp_reader_release(&rd);
    buf_release(&b);
    return r;
}

static struct contract_keys keys;
static char got[4096];

static void check_cmd(struct resp_cmd *c, const char *want, const char *name)
{
    ok(resp_cmd_finish(c) == 0, "%s: built", name);
    join(got, sizeof(got), c->argc, c->argv, c->len);
    is_str(got, want, "%s", name);
    resp_cmd_release(c);
}

static void check_argv(const struct entry_argv *a, const char *want, const char *name)
{
    ok(!a->full, "%s: fits", name);
    join(got, sizeof(got), a->argc, a->argv, a->len);
    is_str(got, want, "%s", name);
}

static void test_answers(void)
{
    static const char *const kv[] = {"model", "gemma3", "prompt", "hi", "request_id", "r1",
                                     "callback", "cb:1"};
    struct resp_reply *f = fields(8, kv);
    struct contract_request req;
    struct resp_cmd c;
    struct entry_done d;
    char err[128], head[1024];
    struct contract_str none = {NULL, 0};

    ok(contract_request_parse(f, "5-0", &req, err, sizeof(err)) == 0, "request parsed");
    snprintf(head, sizeof(head), "EVAL|%s|3|P:done:r1|P:requests:n1|cb:1|inference-workers|5-0|"
             "86400|3600|10000|request_id|r1", contract_answer_lua);

    resp_cmd_init(&c);
    entry_answer_begin(&c, &keys, &req, "P:requests:n1", CONTRACT_GROUP_WORKERS, "n1");
    entry_answer_error(&c, "ollama_busy", true, "busy", req.model);
    snprintf(got, sizeof(got), "%s|node_id|n1|type|error|status|error|error|busy|code|"
             "ollama_busy|retriable|true|model|gemma3", head);
    {
        char want[4096];
        memcpy(want, got, sizeof(want));
        check_cmd(&c, want, "worker's error answer");
    }

    resp_cmd_init(&c);
    entry_answer_begin(&c, &keys, &req, "P:requests:n1", CONTRACT_GROUP_WORKERS, NULL);
    entry_answer_error(&c, "bad_request", false, "no", none);
    {
        char want[4096];
        snprintf(want, sizeof(want), "%s|type|error|status|error|error|no|code|bad_request|"
                 "retriable|false", head);
        check_cmd(&c, want, "router's error answer: no node_id, no model");
    }

    memset(&d, 0, sizeof(d));
    d.response = entry_cstr("Hello");
    d.message = entry_cstr("{\"role\":\"assistant\",\"content\":\"Hello\"}");
    d.model = req.model;
    d.done_reason = "stop";
    for (int i = 0; i < ENTRY_NCOUNTERS; i++)
        d.counter[i] = 10 + i;
    resp_cmd_init(&c);
    entry_answer_begin(&c, &keys, &req, "P:requests:n1", CONTRACT_GROUP_WORKERS, "n1");
    entry_answer_done(&c, &d);
    {
        char want[4096];
        snprintf(want, sizeof(want), "%s|node_id|n1|type|done|status|ok|response|Hello|message|"
                 "{\"role\":\"assistant\",\"content\":\"Hello\"}|model|gemma3|done_reason|stop|"
                 "total_duration|10|load_duration|11|prompt_eval_count|12|"
                 "prompt_eval_duration|13|eval_count|14|eval_duration|15", head);
        check_cmd(&c, want, "done answer");
    }
    {
        struct entry_embed e;
        char want[4096];
        memset(&e, 0, sizeof(e));
        e.embeddings = entry_cstr("[[0.6,0.8],[1,0]]");
        e.model = req.model;
        e.counter[ENTRY_TOTAL_DURATION] = 90;
        e.counter[ENTRY_PROMPT_EVAL_COUNT] = 7;
        resp_cmd_init(&c);
        entry_answer_begin(&c, &keys, &req, "P:requests:n1", CONTRACT_GROUP_WORKERS, "n1");
        entry_answer_embed(&c, &e);
        snprintf(want, sizeof(want), "%s|node_id|n1|type|done|status|ok|embeddings|"
                 "[[0.6,0.8],[1,0]]|model|gemma3|done_reason|stop|total_duration|90|"
                 "load_duration|0|prompt_eval_count|7|prompt_eval_duration|0|eval_count|0|"
                 "eval_duration|0", head);
        check_cmd(&c, want, "embedding answer");
    }
    resp_reply_free(f);
}

static void test_streams(void)
{
    static const char *const kv[] = {"model", "m", "request_id", "old", "prompt", "p",
                                     "attempt", "1", "routed_at", "5", "callback", "cb"};
    struct resp_reply *f = fields(12, kv);
    struct entry_argv a;
    struct entry_event e;
    char key[CONTRACT_KEY_MAX];

    entry_chunk(&a, entry_cstr("cb:1"), entry_cstr("r1"), 7, "Hel", 3, NULL, 0);
    check_argv(&a, "XADD|cb:1|MAXLEN|~|10000|*|request_id|r1|type|chunk|seq|7|delta|Hel", "chunk");
    entry_chunk(&a, entry_cstr("cb:1"), entry_cstr("r1"), 8, "", 0, "hm", 2);
    check_argv(&a, "XADD|cb:1|MAXLEN|~|10000|*|request_id|r1|type|chunk|seq|8|delta||thinking|hm",
               "chunk with thinking");

    entry_event_init(&e);
    e.type = entry_cstr("routed");
    e.request_id = entry_cstr("r1");
    e.node = entry_cstr("n1");
    e.model = entry_cstr("m");
    e.kind = entry_cstr("sticky");
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|routed|request_id|r1|node_id|n1|model|m|"
               "kind|sticky", "routed event (router)");

    entry_event_init(&e);
    e.type = entry_cstr("done");
    e.request_id = entry_cstr("r1");
    e.node = entry_cstr("n1");
    e.info = entry_cstr("");
    e.total_duration = 2000000;
    e.load_duration = 1000;
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|done|request_id|r1|node_id|n1|model||"
               "info||total_duration|2000000|load_duration|1000", "done event (worker, no model)");
    e.prompt_eval_count = 412;
    e.prompt_eval_duration = 5000000;
    e.eval_count = 0;
    e.eval_duration = 123456789012LL;
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|done|request_id|r1|node_id|n1|model||"
               "info||total_duration|2000000|load_duration|1000|prompt_eval_count|412|"
               "prompt_eval_duration|5000000|eval_count|0|eval_duration|123456789012",
               "done event with the prompt's figures (a 0 is written, no cached count)");
    e.prompt_cached = 400;
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|done|request_id|r1|node_id|n1|model||"
               "info||total_duration|2000000|load_duration|1000|prompt_eval_count|412|"
               "prompt_eval_duration|5000000|eval_count|0|eval_duration|123456789012|"
               "prompt_cached|400", "done event with the cached tokens Ollama told");

    entry_event_init(&e);
    e.type = entry_cstr("failed");
    e.request_id = entry_cstr("r1");
    e.node = entry_cstr("n1");
    e.info = entry_cstr("");
    e.code = entry_cstr("canceled");
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|failed|request_id|r1|node_id|n1|model||"
               "info||code|canceled", "failed event (worker)");

    entry_routed(&a, "P:requests:n2", f, entry_cstr("old"), 2, 1700000000123LL, entry_cstr(NULL),
                 entry_cstr(NULL));
    check_argv(&a, "XADD|P:requests:n2|*|model|m|prompt|p|callback|cb|request_id|old|attempt|2|"
               "routed_at|1700000000123", "routed request: the routing fields replaced at the end");
    entry_routed(&a, "P:requests:n2", f, entry_cstr("old"), 1, 5, entry_cstr("gemma3:1b"),
                 entry_cstr("coder"));
    check_argv(&a, "XADD|P:requests:n2|*|prompt|p|callback|cb|model|gemma3:1b|role|coder|"
               "request_id|old|attempt|1|routed_at|5", "routed request: the model chosen, its role");
    entry_event_init(&e);
    e.type = entry_cstr("done");
    e.total_duration = 9;
    e.load_duration = 1;
    e.prompt_est = 40;
    e.prompt_eval_count = 38;
    e.task_type = entry_cstr("code");
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|done|request_id||node_id||model||"
               "total_duration|9|load_duration|1|prompt_eval_count|38|task_type|code|"
               "prompt_est|40",
               "done event with the prompt's estimate and count");
    e.prompt_eval_count = -1; /* the estimate alone is not written: nothing to learn from */
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|done|request_id||node_id||model||"
               "total_duration|9|load_duration|1|task_type|code",
               "done event: prompt_est only with prompt_eval_count");

    e.prompt_est = 0;
    e.task_type = entry_cstr(NULL);
    e.prompt_eval_duration = 250;
    e.has_first_token = true;
    e.first_token_ms = 0;
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|done|request_id||node_id||model||"
               "total_duration|9|load_duration|1|prompt_eval_duration|250|first_token_ms|0",
               "done event with prompt_eval_duration and first_token_ms (0 ms is a measure)");
    e.prompt_eval_duration = -1; /* absent */
    e.has_first_token = false;
    entry_event(&a, &keys, &e);
    check_argv(&a, "XADD|P:events|MAXLEN|~|10000|*|type|done|request_id||node_id||model||"
               "total_duration|9|load_duration|1", "done event: neither when not measured");

    entry_deadletter(&a, &keys, f);
    check_argv(&a, "XADD|P:deadletter|MAXLEN|~|10000|*|model|m|request_id|old|prompt|p|attempt|1|"
               "routed_at|5|callback|cb", "deadletter: the fields as they were");

    ok(entry_cancel(&a, key, &keys, "gw-r-1", 6) == 0, "cancel built");
    check_argv(&a, "SET|P:cancel:gw-r-1|1|EX|600", "cancel");
    {
        struct entry_progress p = {"pulling 3879", "sha256:38", 400, 24};
        entry_progress(&a, entry_cstr("cb:2"), entry_cstr("gw-r-2.n1"), "n1", 3, &p);
        check_argv(&a, "XADD|cb:2|MAXLEN|~|10000|*|request_id|gw-r-2.n1|node_id|n1|type|progress|"
                   "seq|3|progress|pulling 3879|digest|sha256:38|total|400|completed|24",
                   "progress of a pull");
        p.digest = NULL;
        p.total = p.completed = -1;
        p.status = "pulling manifest";
        entry_progress(&a, entry_cstr("cb:2"), entry_cstr("gw-r-2.n1"), "n1", 1, &p);
        check_argv(&a, "XADD|cb:2|MAXLEN|~|10000|*|request_id|gw-r-2.n1|node_id|n1|type|progress|"
                   "seq|1|progress|pulling manifest", "progress without numbers");
    }
    resp_reply_free(f);
}

static void test_admin(void)
{
    static const char *const kv[] = {"request_id", "gw-r-3.n1", "op", "copy", "model", "m",
                                     "destination", "m2", "callback", "cb:3"};
    struct resp_reply *f = fields(10, kv);
    struct contract_admin ad;
    struct entry_admin e = {"gw-r-3.n1", "pull", "llama3.2:1b", NULL, "cb:3", true};
    struct resp_cmd c;
    char err[128], want[4096];

    resp_cmd_init(&c);
    entry_admin(&c, "P:admin:n1", &e);
    check_cmd(&c, "XADD|P:admin:n1|MAXLEN|~|10000|*|request_id|gw-r-3.n1|op|pull|model|"
              "llama3.2:1b|insecure|true|callback|cb:3", "admin request");
    ok(contract_admin_parse(f, "9-0", &ad, err, sizeof(err)) == 0, "admin parsed");
    resp_cmd_init(&c);
    entry_admin_answer_begin(&c, &keys, &ad, "P:admin:n1", CONTRACT_GROUP_WORKERS, "n1");
    entry_admin_done(&c, &ad);
    snprintf(want, sizeof(want), "EVAL|%s|3|P:done:gw-r-3.n1|P:admin:n1|cb:3|inference-workers|"
             "9-0|86400|3600|10000|request_id|gw-r-3.n1|node_id|n1|type|done|status|ok|op|copy|"
             "model|m|destination|m2", contract_answer_lua);
    check_cmd(&c, want, "admin done answer");
    resp_reply_free(f);
    {
        static const char *const pr[] = {"request_id", "r", "node_id", "n1", "type", "progress",
                                         "progress", "pulling x", "total", "9", "completed", "-1"};
        struct entry_answer a;
        f = fields(12, pr);
        entry_answer_read(f, &a);
        ok(a.type == ENTRY_PROGRESS && entry_is(a.progress, "pulling x") &&
               entry_is(a.total, "9") && !a.completed.n && !a.digest.n,
           "progress read: status, total; a completed that is not digits is absent");
        resp_reply_free(f);
    }
}

static void test_read(void)
{
    static const char *const done[] = {"request_id", "r1", "node_id", "n1", "type", "done",
                                       "response", "Hi", "done_reason", "length",
                                       "load_duration", "600000000", "eval_count", "12x"};
    static const char *const ev[] = {"type", "done", "request_id", "r9", "node_id", "n2",
                                     "model", "m", "info", "", "total_duration", "-5",
                                     "load_duration", "77", "prompt_eval_count", "31",
                                     "prompt_eval_duration", "99999999999999999999999",
                                     "eval_count", "1e3", "prompt_cached", "0"};
    struct resp_reply *f = fields(14, done);
    struct entry_answer a;
    struct entry_event e;

    entry_answer_read(f, &a);
    ok(a.type == ENTRY_DONE, "read: type done");
    ok(entry_is(a.node, "n1") && entry_is(a.response, "Hi") && entry_is(a.done_reason, "length"),
       "read: node, response, done_reason");
    is_int(entry_counter(&a, ENTRY_LOAD_DURATION), 600000000, "read: load_duration");
    is_int(a.counter[ENTRY_EVAL_COUNT].n, 0, "read: a counter that is not all digits is absent");
    ok(a.error.n == 0 && a.error.p && !a.message.n, "read: absent fields are empty views");
    ok(a.embeddings.n == 0, "read: no embeddings in a text answer");
    resp_reply_free(f);
    {
        static const char *const emb[] = {"request_id", "r2", "type", "done", "embeddings",
                                          "[[1,0]]", "prompt_eval_count", "3"};
        f = fields(8, emb);
        entry_answer_read(f, &a);
        ok(a.type == ENTRY_DONE && entry_is(a.embeddings, "[[1,0]]") &&
               entry_counter(&a, ENTRY_PROMPT_EVAL_COUNT) == 3, "read: an embedding answer");
        resp_reply_free(f);
    }

    f = fields(22, ev);
    entry_event_read(f, &e);
    ok(entry_is(e.type, "done") && entry_is(e.request_id, "r9") && entry_is(e.node, "n2"),
       "event read: type, request_id, node");
    is_int(e.total_duration, -1, "event read: a negative duration is not a number");
    is_int(e.load_duration, 77, "event read: load_duration");
    is_int(e.prompt_eval_count, 31, "event read: prompt_eval_count");
    ok(e.prompt_eval_duration == LLONG_MAX, "event read: 23 digits saturate, never overflow");
    is_int(e.eval_count, -1, "event read: '1e3' is not all digits: absent");
    is_int(e.eval_duration, -1, "event read: an absent number is -1");
    is_int(e.prompt_cached, 0, "event read: prompt_cached 0 (a miss Ollama told)");
    ok(e.first_token_ms == -1 && !e.has_first_token, "event read: first_token_ms absent");
    resp_reply_free(f);
    {
        static const char *const ev2[] = {"type", "done", "prompt_eval_duration", "1500",
                                          "first_token_ms", "0"};
        f = fields(6, ev2);
        entry_event_read(f, &e);
        ok(e.prompt_eval_duration == 1500 && e.first_token_ms == 0 && e.has_first_token,
           "event read: prompt_eval_duration, first_token_ms 0 is a measure");
        resp_reply_free(f);
    }
}

struct vec_case {
    const char *name, *in;
    int n;              /* vectors, -1: refused */
    const char *second; /* the second vector's bytes */
};

static const struct vec_case vecs[] = {
    {"two", "[[1,2],[3.5e-05,-4]]", 2, "[3.5e-05,-4]"},
    {"white space", " [ [1] , [ 2 , 3 ] ] ", 2, "[ 2 , 3 ]"},
    {"none", "[]", 0, NULL},
    {"one empty vector", "[[]]", 1, NULL},
    {"not an array", "{\"a\":1}", -1, NULL},
    {"a flat vector", "[1,2]", -1, NULL},
    {"a string inside", "[[\"1\"]]", -1, NULL},
    {"cut short", "[[1,2", -1, NULL},
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const struct vec_case *c = &vecs[i];
        size_t pos = 0, vlen = 0;
        const char *v = NULL;
        int r, k = 0;
        bool second_ok = !c->second;

        while ((r = entry_vec_next(c->in, strlen(c->in), &pos, &v, &vlen)) == 1) {
            if (++k == 2 && c->second)
                second_ok = vlen == strlen(c->second) && !memcmp(v, c->second, vlen);
        }
        if (c->n < 0)
            ok(r < 0, "%s: refused", c->name);
        else
            ok(r == 0 && k == c->n && second_ok, "%s: %d vectors", c->name, c->n);
    }
}

int main(void)
{
    contract_keys_init(&keys, "P");
    test_answers();
    test_streams();
    test_read();
    test_vectors();
    test_admin();
    return done_testing();
}
