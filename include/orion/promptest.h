/* SPDX-License-Identifier: MIT */
/*
 * promptest: what a request entry's prompt is made of, for the token estimate (tokest.h),
 * and the options that size its answer and its context. The router estimates with it before
 * it places a request; the worker computes the same prior for the done event, from which the
 * router learns. Pure.
 *
 * Fed as text: each message's content (a string, or the "text" of each part of an array of
 * parts), its "thinking", the JSON of its tool calls; the system prompt; the prompt and the
 * suffix of a generate; the tools' JSON. Counted: one message per chat message, and for a
 * generate one for the prompt and one for a system prompt (Ollama's templates render them as
 * messages); one image per entry of a message's "images", per image_url part, and per entry
 * of a generate's images. Messages that do not parse count as their raw text.
 */
#ifndef ORION_PROMPTEST_H
#define ORION_PROMPTEST_H

#include "orion/contract.h"
#include "orion/tokest.h"

void promptest_features(const struct contract_request *r, struct tokest_text *t);
/* options.num_ctx and options.num_predict (0 when absent, not numbers or not positive). */
void promptest_options(const struct contract_request *r, long *num_ctx, long *num_predict);

#endif
