/* SPDX-License-Identifier: MIT */
/* chat_map: Responses and Messages requests mapped onto Ollama's chat request (messages,
 * options, tools, format, think), and the 400s / 501s, by table; the cases follow Ollama's
 * openai/responses_test.go and anthropic/anthropic_test.go where they exist. */
#include "orion/chat_map.h"
#include "orion/jsonw.h"
#include "../t.h"

#include "cJSON.h"

#include <string.h>

struct mcase {
    const char *name, *body;
    const char *messages, *options, *tools, *format, *think; /* NULL: absent */
    int status;                                                /* 0: mapped */
    const char *err;                                           /* a part of the sentence */
};

static const struct mcase responses[] = {
    {"a string input, instructions, max_output_tokens",
     "{\"model\":\"m\",\"instructions\":\"be brief\",\"input\":\"hi\",\"max_output_tokens\":9}",
     "[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]",
     "{\"temperature\":1,\"num_predict\":9}", NULL, NULL, NULL, 0, NULL},
    {"items: a message with parts, temperature and top_p",
     "{\"model\":\"m\",\"temperature\":0.5,\"top_p\":0.9,\"input\":[{\"type\":\"message\","
     "\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"a\"},{\"type\":"
     "\"input_text\",\"text\":\"b\"}]}]}",
     "[{\"role\":\"user\",\"content\":\"ab\"}]", "{\"temperature\":0.5,\"top_p\":0.9}", NULL,
     NULL, NULL, 0, NULL},
    {"a data: image", "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                      "\"input_image\",\"image_url\":\"data:image/png;base64,QUJD\"}]}]}",
     "[{\"role\":\"user\",\"images\":[\"QUJD\"],\"content\":\"\"}]", "{\"temperature\":1}", NULL,
     NULL, NULL, 0, NULL},
    {"a tool round trip: reasoning, call, output",
     "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":\"weather?\"},{\"type\":"
     "\"reasoning\",\"encrypted_content\":\"look it up\"},{\"type\":\"function_call\","
     "\"call_id\":\"c1\",\"name\":\"get\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"},"
     "{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":\"-3 C\"}]}",
     "[{\"role\":\"user\",\"content\":\"weather?\"},{\"role\":\"assistant\",\"content\":\"\","
     "\"tool_calls\":[{\"id\":\"c1\",\"function\":{\"name\":\"get\",\"arguments\":{\"city\":"
     "\"Oslo\"}}}],\"thinking\":\"look it up\"},{\"role\":\"tool\",\"content\":\"-3 C\","
     "\"tool_call_id\":\"c1\"}]",
     "{\"temperature\":1}", NULL, NULL, NULL, 0, NULL},
    {"function and namespace tools, json_schema format, effort minimal",
     "{\"model\":\"m\",\"input\":\"x\",\"reasoning\":{\"effort\":\"minimal\"},\"text\":{"
     "\"format\":{\"type\":\"json_schema\",\"name\":\"n\",\"schema\":{\"type\":\"object\"}}},"
     "\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"description\":\"d\",\"parameters\":"
     "{\"type\":\"object\"}},{\"type\":\"namespace\",\"name\":\"ns\",\"tools\":[{\"type\":"
     "\"function\",\"name\":\"g\"}]}]}",
     "[{\"role\":\"user\",\"content\":\"x\"}]", "{\"temperature\":1}",
     "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":\"d\",\"parameters\":"
     "{\"type\":\"object\"}}},{\"type\":\"function\",\"function\":{\"name\":\"ns.g\","
     "\"description\":\"\",\"parameters\":{}}}]",
     "{\"type\":\"object\"}", "low", 0, NULL},
    {"effort none: think false", "{\"model\":\"m\",\"input\":\"x\",\"reasoning\":{\"effort\":\"none\"}}",
     "[{\"role\":\"user\",\"content\":\"x\"}]", "{\"temperature\":1}", NULL, NULL, "false", 0, NULL},
    {"no model", "{\"input\":\"x\"}", NULL, NULL, NULL, NULL, NULL, 400, "model is required"},
    {"a bad effort", "{\"model\":\"m\",\"reasoning\":{\"effort\":\"lots\"}}", NULL, NULL, NULL,
     NULL, NULL, 400, "invalid reasoning value: \"lots\""},
    {"an unknown item", "{\"model\":\"m\",\"input\":[{\"type\":\"x\"}]}", NULL, NULL, NULL, NULL,
     NULL, 400, "input[0]: unknown input item type: \"x\""},
    {"an item without type or role", "{\"model\":\"m\",\"input\":[{}]}", NULL, NULL, NULL, NULL,
     NULL, 400, "missing required 'type' field"},
    {"an unknown content part", "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":"
                                "[{\"type\":\"audio\"}]}]}",
     NULL, NULL, NULL, NULL, NULL, 400, "content[0]: unknown content type: audio"},
    {"a file input", "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                     "\"input_file\",\"file_id\":\"f\"}]}]}",
     NULL, NULL, NULL, NULL, NULL, 400, "file inputs are not currently supported"},
    {"an http image", "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":"
                      "\"input_image\",\"image_url\":\"https://x/y.png\"}]}]}",
     NULL, NULL, NULL, NULL, NULL, 400, "image URLs are not currently supported"},
    {"arguments that are not JSON", "{\"model\":\"m\",\"input\":[{\"type\":\"function_call\","
                                    "\"name\":\"f\",\"arguments\":\"{\"}]}",
     NULL, NULL, NULL, NULL, NULL, 400, "failed to parse function call arguments"},
    {"input a number", "{\"model\":\"m\",\"input\":3}", NULL, NULL, NULL, NULL, NULL, 400,
     "input must be a string or array"},
    {"the web_search tool", "{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"web_search\"}]}",
     NULL, NULL, NULL, NULL, NULL, 501, "web_search"},
};

static const struct mcase messages[] = {
    {"a string, a system string, max_tokens, stop_sequences, top_k",
     "{\"model\":\"m\",\"max_tokens\":64,\"system\":\"sys\",\"top_k\":5,\"stop_sequences\":"
     "[\"END\"],\"messages\":[{\"role\":\"user\",\"content\":\"Hello, Claude\"}]}",
     "[{\"role\":\"system\",\"content\":\"sys\"},{\"role\":\"user\",\"content\":\"Hello, Claude\"}]",
     "{\"num_predict\":64,\"top_k\":5,\"stop\":[\"END\"]}", NULL, NULL, NULL, 0, NULL},
    {"system blocks, text blocks, a base64 image, a prefilled assistant turn",
     "{\"model\":\"m\",\"max_tokens\":8,\"temperature\":0.2,\"system\":[{\"type\":\"text\","
     "\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}],\"messages\":[{\"role\":\"User\","
     "\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":"
     "\"image/png\",\"data\":\"QUJD\"}},{\"type\":\"text\",\"text\":\"what?\"}]},{\"role\":"
     "\"assistant\",\"content\":\"It is\"}]}",
     "[{\"role\":\"system\",\"content\":\"ab\"},{\"images\":[\"QUJD\"],\"role\":\"user\","
     "\"content\":\"what?\"},{\"role\":\"assistant\",\"content\":\"It is\"}]",
     "{\"num_predict\":8,\"temperature\":0.2}", NULL, NULL, NULL, 0, NULL},
    {"tool use and its result (the result first in the user turn), tools, thinking on",
     "{\"model\":\"m\",\"max_tokens\":8,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":"
     "1024},\"tools\":[{\"name\":\"get_weather\",\"description\":\"d\",\"input_schema\":{"
     "\"type\":\"object\"}}],\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":"
     "\"thinking\",\"thinking\":\"hm\",\"signature\":\"s\"},{\"type\":\"tool_use\",\"id\":"
     "\"t1\",\"name\":\"get_weather\",\"input\":{\"city\":\"Oslo\"}}]},{\"role\":\"user\","
     "\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":[{\"type\":"
     "\"text\",\"text\":\"-3 C\"}]},{\"type\":\"text\",\"text\":\"and?\"}]}]}",
     "[{\"thinking\":\"hm\",\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":"
     "\"t1\",\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\"}}}]},"
     "{\"role\":\"tool\",\"content\":\"-3 C\",\"tool_call_id\":\"t1\"},{\"role\":\"user\","
     "\"content\":\"and?\"}]",
     "{\"num_predict\":8}",
     "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"d\","
     "\"parameters\":{\"type\":\"object\"}}}]",
     NULL, "true", 0, NULL},
    {"output_config effort xhigh: think high",
     "{\"model\":\"m\",\"max_tokens\":1,\"output_config\":{\"effort\":\" XHigh \"},\"messages\":"
     "[{\"role\":\"user\",\"content\":\"x\"}]}",
     "[{\"role\":\"user\",\"content\":\"x\"}]", "{\"num_predict\":1}", NULL, NULL, "high", 0, NULL},
    {"no max_tokens", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
     NULL, NULL, NULL, NULL, NULL, 400, "max_tokens is required and must be positive"},
    {"no messages", "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[]}", NULL, NULL, NULL, NULL,
     NULL, 400, "messages is required"},
    {"no model", "{\"max_tokens\":5}", NULL, NULL, NULL, NULL, NULL, 400, "model is required"},
    {"a url image", "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
                    "\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":"
                    "\"https://x\"}}]}]}",
     NULL, NULL, NULL, NULL, NULL, 400, "invalid image source type: url. Only base64"},
    {"tool_use without id", "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
                            "\"assistant\",\"content\":[{\"type\":\"tool_use\",\"name\":\"f\"}]}]}",
     NULL, NULL, NULL, NULL, NULL, 400, "tool_use block missing required 'id' field"},
    {"the web search tool", "{\"model\":\"m\",\"max_tokens\":5,\"tools\":[{\"type\":"
                            "\"web_search_20250305\",\"name\":\"web_search\"}],\"messages\":"
                            "[{\"role\":\"user\",\"content\":\"x\"}]}",
     NULL, NULL, NULL, NULL, NULL, 501, "web_search"},
};

static void same(const char *got, const char *want, const char *name, const char *what)
{
    if (!want)
        ok(!got, "%s: no %s", name, what);
    else
        is_str(got ? got : "(none)", want, "%s: %s", name, what);
}

static void run(const struct mcase *c, int (*map)(const struct cJSON *, struct chat_map *),
                const char *api)
{
    cJSON *j = cJSON_Parse(c->body);
    struct chat_map m;
    int rc = map(j, &m);

    if (c->status) {
        ok(rc < 0 && m.status == c->status, "%s %s: refused with %d", api, c->name, c->status);
        ok(strstr(m.err, c->err) != NULL, "%s %s: says '%s' (%s)", api, c->name, c->err, m.err);
    } else {
        ok(rc == 0, "%s %s: mapped (%s)", api, c->name, rc ? m.err : "");
        same(m.messages, c->messages, c->name, "messages");
        same(m.options, c->options, c->name, "options");
        same(m.tools, c->tools, c->name, "tools");
        same(m.format, c->format, c->name, "format");
        same(m.think, c->think, c->name, "think");
    }
    chat_map_release(&m);
    cJSON_Delete(j);
}

static void test_echo(void)
{
    cJSON *j = cJSON_Parse("{\"model\":\"m\",\"input\":\"x\",\"instructions\":\"i\",\"top_p\":0.5,"
                           "\"reasoning\":{\"effort\":\"high\"},\"background\":true,"
                           "\"max_output_tokens\":7}");
    struct chat_map m;

    ok(chat_map_responses(j, &m) == 0, "echo: mapped");
    ok(m.echo && strstr(m.echo, ",\"instructions\":\"i\",\"tools\":[],\"tool_choice\":\"auto\","
                                "\"truncation\":\"disabled\"") == m.echo,
       "echo: instructions, tools [] and truncation disabled by default");
    ok(m.echo && strstr(m.echo, "\"text\":{\"format\":{\"type\":\"text\"}},\"top_p\":0.5,"),
       "echo: text format text, the request's top_p");
    ok(m.echo && strstr(m.echo, "\"temperature\":1,\"reasoning\":{\"effort\":\"high\"}"),
       "echo: temperature 1 by default, the reasoning asked for");
    ok(m.echo_end && strstr(m.echo_end, ",\"max_output_tokens\":7,") == m.echo_end &&
           strstr(m.echo_end, "\"background\":true"),
       "echo_end: max_output_tokens, background");
    chat_map_release(&m);
    cJSON_Delete(j);
}

static void test_messages_extra(void)
{
    cJSON *j = cJSON_Parse("{\"model\":\"m\",\"max_tokens\":5,\"stream\":true,\"system\":\"12345678\","
                           "\"messages\":[{\"role\":\"user\",\"content\":\"abcd\"}]}");
    struct chat_map m;

    ok(chat_map_messages(j, &m) == 0 && m.stream, "messages: stream read");
    is_int(m.estimate, 4, "messages: estimate (8 + 4 + 4 bytes) / 4, as Ollama's");
    chat_map_release(&m);
    cJSON_Delete(j);
    is_str(chat_map_stop_reason("stop", 4, false), "end_turn", "stop_reason: stop -> end_turn");
    is_str(chat_map_stop_reason("length", 6, false), "max_tokens", "stop_reason: length");
    is_str(chat_map_stop_reason("stop", 4, true), "tool_use", "stop_reason: tool calls");
    is_str(chat_map_stop_reason("unload", 6, false), "stop_sequence", "stop_reason: another");
    ok(chat_map_stop_reason("", 0, false) == NULL, "stop_reason: none");
}

int main(void)
{
    json_init();
    for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++)
        run(&responses[i], chat_map_responses, "responses");
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
        run(&messages[i], chat_map_messages, "messages");
    test_echo();
    test_messages_extra();
    return done_testing();
}
