/* SPDX-License-Identifier: MIT */
/* Fuzz the mapping of a /v1/responses (byte 0 even) or /v1/messages (odd) request body onto
 * Ollama's chat request (chat_map). Whatever the body: no crash; a mapped request has
 * messages that parse as a JSON array, options, tools and format that parse, a think among
 * the contract's words, and (Responses) echo parts that make a valid object; a refused one
 * has a 400 or 501 and a sentence. */
#include "orion/chat_map.h"
#include "orion/buf.h"
#include "orion/jsonw.h"

#include "cJSON.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_parse(const char *s, bool array)
{
    cJSON *j;

    if (!s)
        return;
    j = cJSON_Parse(s);
    if (!j || (array && !cJSON_IsArray(j)))
        abort();
    cJSON_Delete(j);
}

static void check_echo(const struct chat_map *m)
{
    struct buf b;

    buf_init(&b, 1u << 30);
    buf_puts(&b, "{\"output\":[]");
    buf_puts(&b, m->echo);
    buf_puts(&b, ",\"usage\":null");
    buf_puts(&b, m->echo_end);
    buf_putc(&b, '}');
    must_parse(buf_data(&b), false);
    buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const think[] = {"true", "false", "low", "medium", "high", "max"};
    struct chat_map m;
    cJSON *j;
    bool known = false;
    int rc;

    if (size < 1)
        return 0;
    json_init();
    j = cJSON_ParseWithLength((const char *)data + 1, size - 1);
    rc = data[0] & 1 ? chat_map_messages(j, &m) : chat_map_responses(j, &m);
    if (rc < 0) {
        if ((m.status != 400 && m.status != 501 && m.status != 500) || !m.err[0])
            abort();
    } else {
        if (!m.messages || !m.options)
            abort();
        must_parse(m.messages, true);
        must_parse(m.options, false);
        must_parse(m.tools, true);
        must_parse(m.format, false);
        for (size_t i = 0; m.think && i < sizeof(think) / sizeof(think[0]); i++)
            known |= !strcmp(m.think, think[i]);
        if (m.think && !known)
            abort();
        if (!(data[0] & 1))
            check_echo(&m);
    }
    chat_map_release(&m);
    cJSON_Delete(j);
    return 0;
}
