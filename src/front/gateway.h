/* SPDX-License-Identifier: MIT */
/*
 * gateway: the router's HTTP front. Ollama's native API (/api/chat, /api/generate, /api/tags,
 * /api/ps, /api/version, /) and the OpenAI-compatible one (/v1/chat/completions, /v1/models)
 * over the cluster, plus /health and /health/ready. Every generation request becomes an entry
 * on P:requests (stream=true, request_id gw-<router id>-<n>, callback P:cb:gw:<router id>:<n>)
 * and its callback stream is relayed to the client as it fills. A client that goes away before
 * its answer gets SET P:cancel:<request_id> 1 EX 600, and is dropped if still waiting here.
 */
#ifndef ORION_GATEWAY_H
#define ORION_GATEWAY_H

#include <stddef.h>

struct router;
struct gateway;

/* Listen on "HOST:PORT" and serve until gateway_free. token: NULL or the bearer token every
 * endpoint but /health and /health/ready requires. NULL with a sentence in err; errno EINVAL
 * when the address is bad. */
struct gateway *gateway_new(struct router *r, const char *listen, const char *token, char *err,
                            size_t errlen);
void gateway_free(struct gateway *g); /* accepts NULL */

#endif
