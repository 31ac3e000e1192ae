/* SPDX-License-Identifier: MIT */
/* chat_map's shared half: releasing a map, and Anthropic's stop_reason for Ollama's
 * done_reason (the two mappings are chat_map_responses.c and chat_map_messages.c). */
#include "orion/chat_map.h"

#include "orion/buf.h"

#include "cJSON.h"

#include <string.h>

void chat_map_release(struct chat_map *m)
{
    if (!m)
        return;
    cJSON_free(m->messages);
    cJSON_free(m->options);
    cJSON_free(m->tools);
    cJSON_free(m->format);
    orion_free(m->echo);
    orion_free(m->echo_end);
    memset(m, 0, sizeof(*m));
}

const char *chat_map_stop_reason(const char *reason, size_t n, bool tool_calls)
{
    if (tool_calls)
        return "tool_use";
    if (n == 4 && !memcmp(reason, "stop", 4))
        return "end_turn";
    if (n == 6 && !memcmp(reason, "length", 6))
        return "max_tokens";
    return n ? "stop_sequence" : NULL;
}
