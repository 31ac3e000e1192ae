/* SPDX-License-Identifier: MIT */
/* The contract: keys, request entries good and bad (table-driven), the answer script's
 * arguments. */
#include "orion/contract.h"
#include "orion/jsonw.h"
#include "orion/limits.h"
#include "../t.h"

#include <stdlib.h>

/* Build a field array reply from "k=v" strings (v may contain '='). */
static struct resp_reply *entry(const char *const *kv, size_t n)
{
    struct buf b;
    struct resp_reader rd;
    struct resp_reply *r = NULL;

    buf_init(&b, 1 << 24);
    buf_printf(&b, "*%zu\r\n", n * 2);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        size_t kl = (size_t)(eq - kv[i]), vl = strlen(eq + 1);
        buf_printf(&b, "$%zu\r\n%.*s\r\n$%zu\r\n%s\r\n", kl, (int)kl, kv[i], vl, eq + 1);
    }
    resp_reader_init(&rd);
    resp_reader_feed(&rd, buf_data(&b), buf_size(&b));
    resp_reader_get(&rd, &r);
    resp_reader_release(&rd);
    buf_release(&b);
    return r;
}

struct pcase {
    const char *name;
    const char *kv[8];
    const char *err; /* NULL: valid; else a substring of the error */
};

static const struct pcase cases[] = {
    {"chat", {"model=gemma3:1b", "messages=[{\"role\":\"user\",\"content\":\"hi\"}]"}, NULL},
    {"generate", {"model=gemma3", "prompt=hi", "stream=true", "priority=3"}, NULL},
    {"all optional", {"model=m", "prompt=p", "options={\"num_predict\":5}", "format=\"json\"",
                      "think=low", "timeout_ms=5000", "callback=cb:1"}, NULL},
    {"no model: auto", {"prompt=hi"}, NULL},
    {"empty model: auto", {"model=", "prompt=hi"}, NULL},
    {"a role and a task type", {"model=coder", "prompt=hi", "task_type=code"}, NULL},
    {"task type with a newline", {"prompt=hi", "task_type=a\nb"}, "'task_type'"},
    {"orchestrated", {"prompt=hi", "orchestration_mode=debate", "models=[\"a:1b\",\"b\"]"},
     NULL},
    {"every mode", {"prompt=hi", "orchestration_mode=pipeline"}, NULL},
    {"unknown mode", {"prompt=hi", "orchestration_mode=Debate"}, "'orchestration_mode'"},
    {"models not an array", {"prompt=hi", "models=\"a\""}, "'models' must be"},
    {"models empty", {"prompt=hi", "models=[]"}, "'models' must be"},
    {"models with a number", {"prompt=hi", "models=[\"a\",3]"}, "'models' must be"},
    {"models with a space", {"prompt=hi", "models=[\"a b\"]"}, "'models' must be"},
    {"models: 8 fit", {"prompt=hi", "models=[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"]"},
     NULL},
    {"models: 9 do not", {"prompt=hi", "models=[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]"},
     "'models' must be"},
    {"model with space", {"model=a b", "prompt=hi"}, "not a model name"},
    {"neither", {"model=m"}, "'messages', 'prompt' or 'input' is required"},
    {"both", {"model=m", "prompt=p", "messages=[]"}, "not more"},
    {"prompt and input", {"model=m", "prompt=p", "input=\"x\""}, "not more"},
    {"embed one string", {"model=m", "input=\"why\"", "truncate=false", "dimensions=256"}, NULL},
    {"embed a list", {"model=m", "input=[\"a\",\"b\"]", "keep_alive=5m"}, NULL},
    {"embed an empty list", {"model=m", "input=[]"}, NULL},
    {"embed legacy", {"model=m", "input=\"x\"", "legacy=true"}, NULL},
    {"embed legacy list", {"model=m", "input=[\"x\"]", "legacy=true"}, "one JSON string"},
    {"input bare text", {"model=m", "input=hello"}, "'input' is not a JSON string"},
    {"input numbers", {"model=m", "input=[1,2]"}, "'input' is not a JSON string"},
    {"input an object", {"model=m", "input={}"}, "'input' is not a JSON string"},
    {"truncate maybe", {"model=m", "input=\"x\"", "truncate=maybe"}, "'truncate'"},
    {"dimensions 0", {"model=m", "input=\"x\"", "dimensions=0"}, "'dimensions'"},
    {"dimensions 65537", {"model=m", "input=\"x\"", "dimensions=65537"}, "'dimensions'"},
    {"dimensions 65536", {"model=m", "input=\"x\"", "dimensions=65536"}, NULL},
    {"dimensions on a chat", {"model=m", "messages=[]", "dimensions=8"}, "need 'input'"},
    {"legacy maybe", {"model=m", "input=\"x\"", "legacy=2"}, "'legacy'"},
    {"messages not JSON", {"model=m", "messages=[{"}, "'messages' is not a JSON array"},
    {"messages an object", {"model=m", "messages={}"}, "'messages' is not a JSON array"},
    {"options not object", {"model=m", "prompt=p", "options=[1]"}, "'options' is not a JSON object"},
    {"format garbage", {"model=m", "prompt=p", "format=js on"}, "'format' is not a JSON value"},
    {"priority 0", {"model=m", "prompt=p", "priority=0"}, "'priority'"},
    {"priority 4", {"model=m", "prompt=p", "priority=4"}, "'priority'"},
    {"priority text", {"model=m", "prompt=p", "priority=high"}, "'priority'"},
    {"timeout negative", {"model=m", "prompt=p", "timeout_ms=-5"}, "'timeout_ms'"},
    {"timeout zero", {"model=m", "prompt=p", "timeout_ms=0"}, "'timeout_ms'"},
    {"stream maybe", {"model=m", "prompt=p", "stream=maybe"}, "'stream'"},
    {"think bad", {"model=m", "prompt=p", "think=ultra"}, "'think'"},
    {"callback control char", {"model=m", "prompt=p", "callback=a\nb"}, "'callback'"},
    {"pinned to a node", {"model=m", "prompt=", "node=pi-a", "keep_alive=0"}, NULL},
    {"node empty", {"model=m", "prompt=p", "node="}, "'node'"},
    {"node with space", {"model=m", "prompt=p", "node=pi a"}, "'node'"},
};

static void test_parse_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pcase *c = &cases[i];
        size_t n = 0;
        struct resp_reply *f;
        struct contract_request r;
        char err[200] = "";
        int rc;

        while (n < 8 && c->kv[n])
            n++;
        f = entry(c->kv, n);
        rc = contract_request_parse(f, "1-1", &r, err, sizeof(err));
        if (!c->err)
            ok(rc == 0, "%s: valid (%s)", c->name, err);
        else
            ok(rc < 0 && strstr(err, c->err), "%s: rejected: %s", c->name, err);
        resp_reply_free(f);
    }
}

static void test_values(void)
{
    const char *kv[] = {"model=gemma3:1b", "prompt=hi", "stream=true", "priority=3",
                        "timeout_ms=1500", "callback=orion:cb:7", "attempt=2", "x-unknown=1"};
    struct resp_reply *f = entry(kv, 8);
    struct contract_request r;
    char err[200];
    struct contract_str id;

    ok(contract_request_parse(f, "5-0", &r, err, sizeof(err)) == 0, "parse");
    ok(r.stream && r.priority == 3 && r.timeout_ms == 1500 && r.attempt == 2, "numbers and flags");
    ok(r.callback.n == 10 && !memcmp(r.callback.p, "orion:cb:7", 10), "callback view");
    id = contract_request_id(&r);
    ok(id.n == 3 && !memcmp(id.p, "5-0", 3), "request id defaults to the entry id");
    resp_reply_free(f);
    {
        const char *kv2[] = {"model=m", "prompt=p", "request_id=abc"};
        f = entry(kv2, 3);
        contract_request_parse(f, "5-0", &r, err, sizeof(err));
        id = contract_request_id(&r);
        ok(id.n == 3 && !memcmp(id.p, "abc", 3), "explicit request id wins");
        ok(r.priority == 2 && !r.has_priority && !r.stream, "defaults: priority 2, no stream");
        resp_reply_free(f);
    }
    {
        const char *kv3[] = {"model=m", "prompt=p", "callback=bad\x01key", "request_id=r9"};
        f = entry(kv3, 4);
        ok(contract_request_parse(f, "5-0", &r, err, sizeof(err)) < 0 && !r.callback.p,
           "an untrusted callback is never used");
        id = contract_request_id(&r);
        ok(id.n == 2, "request id still known for the log");
        resp_reply_free(f);
    }
}

/* The kind of each request, its embedding fields, and the input cap at its edge. */
static void test_embed_values(void)
{
    const char *kv[] = {"model=nomic-embed-text", "input=[\"a\",\"b\",\"c\"]",
                        "truncate=false", "dimensions=128", "legacy=0"};
    const char *chat[] = {"model=m", "messages=[]"}, *gen[] = {"model=m", "prompt=p"};
    struct resp_reply *f = entry(kv, 5);
    struct contract_request r;
    char err[200] = "";
    struct buf big;

    ok(contract_request_parse(f, "5-0", &r, err, sizeof(err)) == 0, "embed parses (%s)", err);
    ok(r.kind == CONTRACT_EMBED && r.dimensions == 128 && !r.legacy &&
           r.truncate.n == 5 && !memcmp(r.truncate.p, "false", 5), "embed: kind and fields");
    is_int(contract_input_count(r.input.p, r.input.n), 3, "embed: three inputs");
    resp_reply_free(f);
    f = entry(chat, 2);
    ok(contract_request_parse(f, "5-0", &r, err, sizeof(err)) == 0 && r.kind == CONTRACT_CHAT,
       "messages: a chat");
    resp_reply_free(f);
    f = entry(gen, 2);
    ok(contract_request_parse(f, "5-0", &r, err, sizeof(err)) == 0 && r.kind == CONTRACT_GENERATE,
       "prompt: a generation");
    resp_reply_free(f);
    buf_init(&big, 1 << 20);
    buf_putc(&big, '[');
    for (int i = 0; i < ORION_EMBED_MAX_INPUTS; i++)
        buf_puts(&big, i ? ",\"x\"" : "\"x\"");
    buf_putc(&big, ']');
    is_int(contract_input_count(buf_data(&big), buf_size(&big)), ORION_EMBED_MAX_INPUTS,
           "2048 inputs: the cap is allowed");
    big.len--;
    buf_puts(&big, ",\"y\"]");
    is_int(contract_input_count(buf_data(&big), buf_size(&big)), -1, "2049 inputs: refused");
    is_int(contract_input_count("\"\"", 2), 1, "an empty string is one input");
    is_int(contract_input_count("[", 1), -1, "not JSON: refused");
    buf_release(&big);
}

struct acase {
    const char *name;
    const char *kv[6];
    const char *err;
    enum contract_op op;
};

static const struct acase admins[] = {
    {"pull", {"op=pull", "model=llama3.2:1b", "callback=cb:1", "request_id=gw-r-1.pi-a"}, NULL,
     CONTRACT_PULL},
    {"pull insecure", {"op=pull", "model=m", "insecure=true"}, NULL, CONTRACT_PULL},
    {"copy", {"op=copy", "model=m", "destination=n:v1"}, NULL, CONTRACT_COPY},
    {"delete", {"op=delete", "model=m"}, NULL, CONTRACT_DELETE},
    {"no op", {"model=m"}, "'op' must be pull, copy or delete", 0},
    {"unknown op", {"op=push", "model=m"}, "'op' must be", 0},
    {"no model", {"op=pull"}, "'model' is not a model name", 0},
    {"model with space", {"op=delete", "model=a b"}, "'model' is not", 0},
    {"copy without destination", {"op=copy", "model=m"}, "'destination' is not", 0},
    {"insecure maybe", {"op=pull", "model=m", "insecure=maybe"}, "'insecure'", 0},
    {"callback control char", {"op=pull", "model=m", "callback=a\nb"}, "'callback'", 0},
};

static void test_admin(void)
{
    for (size_t i = 0; i < sizeof(admins) / sizeof(admins[0]); i++) {
        const struct acase *c = &admins[i];
        size_t n = 0;
        struct resp_reply *f;
        struct contract_admin a;
        char err[200] = "";
        int rc;

        while (n < 6 && c->kv[n])
            n++;
        f = entry(c->kv, n);
        rc = contract_admin_parse(f, "7-0", &a, err, sizeof(err));
        if (!c->err)
            ok(rc == 0 && a.op == c->op, "admin %s: valid (%s)", c->name, err);
        else
            ok(rc < 0 && strstr(err, c->err), "admin %s: rejected: %s", c->name, err);
        resp_reply_free(f);
    }
    {
        const char *kv[] = {"op=pull", "model=m", "insecure=true", "request_id=gw-r-1.pi-a"};
        struct resp_reply *f = entry(kv, 4);
        struct contract_admin a;
        char err[200];
        struct contract_str id;
        char key[CONTRACT_KEY_MAX];
        struct contract_keys k;

        contract_admin_parse(f, "7-0", &a, err, sizeof(err));
        id = contract_admin_id(&a);
        ok(a.insecure && id.n == 11 && !memcmp(id.p, "gw-r-1.pi-a", 11), "admin: insecure, its id");
        contract_keys_init(&k, "P");
        ok(contract_admin_stream(&k, "pi-a", key, sizeof(key)) == 0 && !strcmp(key, "P:admin:pi-a"),
           "admin stream: P:admin:{node}");
        ok(!strcmp(contract_op_name(CONTRACT_COPY), "copy") && !contract_op_name(0), "op names");
        resp_reply_free(f);
    }
}

static void test_keys_and_script(void)
{
    struct contract_keys k;
    char key[CONTRACT_KEY_MAX];
    struct resp_cmd c;

    ok(contract_keys_init(&k, "orion:inference") == 0, "keys");
    is_str(k.requests, "orion:inference:requests", "requests key");
    is_str(k.health, "orion:inference:health", "health key");
    contract_node_stream(&k, "pi5", key, sizeof(key));
    is_str(key, "orion:inference:requests:pi5", "node stream");
    contract_done_key(&k, "abc", 3, key, sizeof(key));
    is_str(key, "orion:inference:done:abc", "done key");
    ok(contract_keys_init(&k, "") < 0, "empty prefix refused");
    resp_cmd_init(&c);
    contract_answer_begin(&c, "d", "cb", 2, "src", "g", "1-1");
    resp_cmd_adds(&c, "type");
    resp_cmd_adds(&c, "done");
    ok(resp_cmd_finish(&c) == 0 && c.argc == 13, "EVAL with 3 keys, 5 args and one field pair");
    is_str(c.argv[2], "3", "numkeys 3");
    is_str(c.argv[3], "d", "first key is the done key");
    is_str(c.argv[4], "src", "then the source stream");
    is_str(c.argv[5], "cb", "then the callback");
    is_str(c.argv[6], "g", "then the group");
    resp_cmd_release(&c);
    /* no callback: two keys, no empty key name (an ACL would need the bare ~ for it) */
    resp_cmd_init(&c);
    contract_answer_begin(&c, "d", "", 0, "src", "g", "1-1");
    ok(resp_cmd_finish(&c) == 0 && c.argc == 10, "EVAL with 2 keys and 5 args");
    is_str(c.argv[2], "2", "numkeys 2");
    is_str(c.argv[4], "src", "source stream second");
    is_str(c.argv[5], "g", "then the group, no empty key");
    for (int i = 3; i < c.argc; i++)
        ok(c.len[i] > 0, "argument %d not empty", i);
    resp_cmd_release(&c);
    resp_cmd_init(&c);
    contract_answer_begin(&c, "d", NULL, 0, "src", "g", "1-1");
    ok(resp_cmd_finish(&c) == 0 && c.argc == 10 && !strcmp(c.argv[2], "2"),
       "NULL callback: 2 keys too");
    resp_cmd_release(&c);
}

static void test_json_depth(void)
{
    char deep[200];

    memset(deep, '[', 150);
    deep[150] = '\0';
    ok(!contract_json_ok(deep, 150, '['), "unterminated deep JSON rejected");
    ok(contract_json_ok("[1,2]", 5, '['), "array accepted");
}

int main(void)
{
    json_init();
    test_parse_table();
    test_values();
    test_embed_values();
    test_admin();
    test_keys_and_script();
    test_json_depth();
    return done_testing();
}
