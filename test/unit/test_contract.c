/* SPDX-License-Identifier: MIT */
/* The contract: keys, request entries good and bad (table-driven), the answer script's
 * arguments. */
#include "orion/contract.h"
#include "orion/jsonw.h"
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
    {"neither", {"model=m"}, "'messages' or 'prompt' is required"},
    {"both", {"model=m", "prompt=p", "messages=[]"}, "not both"},
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
    test_keys_and_script();
    test_json_depth();
    return done_testing();
}
