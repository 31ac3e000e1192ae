/* SPDX-License-Identifier: MIT */
/* ollama: request bodies and every NDJSON line shape of the reference transcripts. */
#include "orion/ollama.h"

#include "../t.h"

#include <string.h>

static const char *body(const struct ollama_gen *g, bool *chat)
{
    static struct buf b;

    buf_release(&b);
    buf_init(&b, 1 << 20);
    return ollama_build_body(g, &b, chat) == 0 ? buf_data(&b) : NULL;
}

static void test_bodies(void)
{
    struct ollama_gen g = {0};
    bool chat;
    const char *m = "[{\"role\":\"user\",\"content\":\"hi\"}]";

    g.model = "llama3.2:1b", g.model_len = 11;
    g.messages = m, g.messages_len = strlen(m);
    g.keep_alive = "10m";
    g.options = "{\"temperature\":0.2,\"num_predict\":32}";
    is_str(body(&g, &chat), "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                            "\"options\":{\"temperature\":0.2,\"num_predict\":32},\"keep_alive\":\"10m\"}",
           "chat body: messages, options, keep_alive string");
    ok(chat, "messages => /api/chat");
    g.keep_alive = "300";
    ok(strstr(body(&g, &chat), "\"keep_alive\":300}") != NULL, "bare number keep_alive is a JSON number");
    g.keep_alive = "-1";
    ok(strstr(body(&g, &chat), "\"keep_alive\":-1}") != NULL, "-1 is a JSON number");
    g.keep_alive = "2.5";
    ok(strstr(body(&g, &chat), "\"keep_alive\":2.5}") != NULL, "2.5 is a JSON number");
    g.keep_alive = "-1m";
    ok(strstr(body(&g, &chat), "\"keep_alive\":\"-1m\"}") != NULL, "-1m stays a string");
    g.keep_alive = "1.";
    ok(strstr(body(&g, &chat), "\"keep_alive\":\"1.\"}") != NULL, "1. is not a number");
    g.keep_alive = NULL;
    g.system = "be <brief>";
    g.tools = "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]";
    g.think = "\"low\"", g.format = "\"json\"";
    is_str(body(&g, &chat),
           "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"system\",\"content\":\"be <brief>\"},"
           "{\"role\":\"user\",\"content\":\"hi\"}],\"format\":\"json\",\"options\":{\"temperature\":0.2,"
           "\"num_predict\":32},\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"think\":\"low\"}",
           "chat: system message in front, tools/think/format passed through");
    g.messages = "[]", g.messages_len = 2;
    g.tools = g.think = g.format = g.options = NULL;
    is_str(body(&g, &chat), "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"system\",\"content\":\"be <brief>\"}]}",
           "system into an empty array");
    g.messages = NULL;
    g.prompt = "Why \"blue\"?\n", g.prompt_len = strlen(g.prompt);
    g.images = "[\"aGk=\"]", g.keep_alive = "0";
    is_str(body(&g, &chat), "{\"model\":\"llama3.2:1b\",\"prompt\":\"Why \\\"blue\\\"?\\n\",\"system\":\"be <brief>\","
                            "\"images\":[\"aGk=\"],\"keep_alive\":0}",
           "generate body: prompt quoted, system, images, keep_alive 0");
    ok(!chat, "prompt => /api/generate");
    g.suffix = "end", g.images = NULL;
    is_str(body(&g, &chat), "{\"model\":\"llama3.2:1b\",\"prompt\":\"Why \\\"blue\\\"?\\n\",\"system\":\"be <brief>\","
                            "\"suffix\":\"end\",\"keep_alive\":0}",
           "generate body: suffix");
    g.suffix = NULL;
    g.messages = m, g.messages_len = strlen(m);
    ok(body(&g, &chat) == NULL, "both messages and prompt: refused");
    g.messages = NULL, g.model_len = 0;
    ok(body(&g, &chat) == NULL, "no model: refused");
}

static int parse(const char *s, struct ollama_line *l)
{
    return ollama_parse_line(s, strlen(s), l);
}

static void test_lines(void)
{
    struct ollama_line l;

    is_int(parse("{\"model\":\"llama3.2:1b\",\"created_at\":\"2025-08-18T09:15:04.517483Z\",\"message\":{\"role\":"
                 "\"assistant\",\"content\":\"Hello\"},\"done\":false}", &l), 0, "chat line parses");
    is_str(l.delta, "Hello", "chat delta");
    ok(!l.done && !l.error && !l.thinking && !l.tool_calls, "not done, nothing else");
    ollama_line_release(&l);
    is_int(parse("{\"model\":\"llama3.2:1b\",\"created_at\":\"2025-08-18T09:15:05.239839Z\",\"message\":{\"role\":"
                 "\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":5054688136,"
                 "\"load_duration\":3871402117,\"prompt_eval_count\":31,\"prompt_eval_duration\":443210000,"
                 "\"eval_count\":8,\"eval_duration\":728202567}", &l), 0, "final chat line parses");
    ok(l.done && l.final.ok && !l.delta, "final: done, ok, empty content is no delta");
    is_str(l.final.done_reason, "stop", "done_reason");
    is_int(l.final.total_duration, 5054688136LL, "total_duration");
    is_int(l.final.load_duration, 3871402117LL, "load_duration");
    is_int(l.final.prompt_eval_count, 31, "prompt_eval_count");
    is_int(l.final.prompt_eval_duration, 443210000, "prompt_eval_duration");
    is_int(l.final.eval_count, 8, "eval_count");
    is_int(l.final.eval_duration, 728202567, "eval_duration");
    ollama_line_release(&l);
    is_int(parse("{\"model\":\"qwen2.5:0.5b\",\"created_at\":\"2025-08-18T09:16:30.413517Z\",\"response\":\"The sky\","
                 "\"done\":true,\"done_reason\":\"length\",\"context\":[1,2,3],\"total_duration\":1303129349}", &l), 0,
           "generate final with context");
    is_str(l.delta, "The sky", "generate response is the delta");
    is_str(l.final.done_reason, "length", "length");
    is_int(l.final.eval_count, 0, "absent counter is 0");
    ollama_line_release(&l);
    is_int(parse("{\"model\":\"m\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":"
                 "\"hmm \\u003cok\\u003e\"},\"done\":false}", &l), 0, "thinking line");
    is_str(l.thinking, "hmm <ok>", "thinking decoded (\\u003c)");
    ollama_line_release(&l);
    is_int(parse("{\"model\":\"m\",\"created_at\":\"x\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":"
                 "[{\"id\":\"call_ab12cd34\",\"function\":{\"index\":0,\"name\":\"get_weather\",\"arguments\":{\"city\":\"Tokyo\",\"n\":1.0}}}]},"
                 "\"done\":false}", &l), 0, "tool call line");
    is_str(l.tool_calls, "[{\"id\":\"call_ab12cd34\",\"function\":{\"index\":0,\"name\":\"get_weather\",\"arguments\":"
                         "{\"city\":\"Tokyo\",\"n\":1.0}}}]", "tool_calls raw bytes untouched");
    ollama_line_release(&l);
    is_int(parse("{\"error\":\"an error was encountered while running the model: unexpected EOF\"}", &l), 0, "error line");
    is_str(l.error, "an error was encountered while running the model: unexpected EOF", "error text");
    ok(!l.done, "error line is not done");
    ollama_line_release(&l);
    is_int(parse("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\\u2028\\ud83d\\ude00\"},\"done\":false}", &l), 0,
           "escapes");
    is_str(l.delta, "\xe2\x80\xa8\xf0\x9f\x98\x80", "U+2028 and a surrogate pair decoded");
    ollama_line_release(&l);
    ok(parse("not json", &l) < 0, "garbage refused");
    ok(parse("[1,2]", &l) < 0, "array refused");
    ok(parse("{\"model\":\"m\"}", &l) < 0, "no done refused");
    ok(parse("{\"done\":false,\"message\":\"x\"}", &l) < 0, "message not an object refused");
    ok(parse("{\"done\":false,\"response\":5}", &l) < 0, "response not a string refused");
    ok(parse("{\"done\":false,\"message\":{\"content\":\"a\",\"tool_calls\":{}}}", &l) < 0, "tool_calls not an array refused");
    ok(parse("{\"done\":tru", &l) < 0, "truncated refused");
}

static void test_status(void)
{
    bool r;

    is_str(ollama_status_code(404, &r), "model_not_found", "404");
    ok(!r, "404 not retriable");
    is_str(ollama_status_code(503, &r), "ollama_busy", "503");
    ok(r, "503 retriable");
    is_str(ollama_status_code(400, &r), "bad_request", "400: Ollama refused the request as invalid");
    is_str(ollama_status_code(500, &r), "ollama_error", "500");
}

static void test_oom(void)
{
    struct ollama_line l;
    unsigned long i;
    int fails = 0;

    for (i = 1; i < 40; i++) {
        orion_alloc_fail_at(i);
        if (parse("{\"model\":\"m\",\"message\":{\"content\":\"hi\",\"thinking\":\"t\",\"tool_calls\":[1]},\"done\":false}", &l) < 0)
            fails++;
        else
            ollama_line_release(&l);
    }
    orion_alloc_fail_at(0);
    ok(fails > 0, "allocation failures give -1 without leaks (%d)", fails);
}

int main(void)
{
    test_bodies();
    test_lines();
    test_status();
    test_oom();
    printf("1..%d\n", t_count);
    return t_failed != 0;
}
