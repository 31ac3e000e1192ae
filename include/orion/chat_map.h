/* SPDX-License-Identifier: MIT */
/*
 * Other APIs' chat requests mapped onto Ollama's chat request, field by field as Ollama's own
 * adapters map them: OpenAI's Responses API (POST /v1/responses, stateless) and Anthropic's
 * Messages API (POST /v1/messages). Pure: a parsed request body in, the chat request's fields
 * (the contract's messages, options, tools, format, think) out, or the sentence of a 400.
 * The answers' shapes are written by the HTTP front (src/front/gateway_responses.c,
 * gateway_messages.c); what they echo of the request is rendered here once.
 */
#ifndef ORION_CHAT_MAP_H
#define ORION_CHAT_MAP_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

struct chat_map {
    char *messages; /* JSON array of Ollama chat messages; never NULL after success */
    char *options;  /* JSON object, or NULL */
    char *tools;    /* JSON array of Ollama tools, or NULL */
    char *format;   /* JSON (a schema), or NULL */
    const char *think; /* true, false, low, medium, high, max; NULL: not set */
    bool stream;
    long estimate;  /* Messages: input tokens guessed as Ollama guesses them (bytes / 4) */
    int status;     /* on failure: 400, or 501 for what the router cannot do (web search) */
    char *echo;     /* Responses: the request's fields a response object repeats, as
                     * ,"instructions":..,"tools":..,... up to "reasoning" (JSON members) */
    char *echo_end; /* Responses: ,"max_output_tokens":..,... to the end (no closing brace) */
    char err[240];  /* on failure: the error's sentence */
};

/* Map a /v1/responses body (a JSON object). 0, or -1 with status and err set. Free with
 * chat_map_release either way. */
int chat_map_responses(const struct cJSON *body, struct chat_map *m);

/* Map a /v1/messages body (a JSON object). 0, or -1 with status and err set. */
int chat_map_messages(const struct cJSON *body, struct chat_map *m);

/* Free what a map holds and zero it (NULL accepted). */
void chat_map_release(struct chat_map *m);

/* Anthropic's stop_reason for Ollama's done_reason (n bytes): tool_use when the answer calls
 * tools, end_turn for stop, max_tokens for length, stop_sequence for another reason, NULL
 * for none. */
const char *chat_map_stop_reason(const char *done_reason, size_t n, bool tool_calls);

#endif
