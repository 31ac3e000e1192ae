/* SPDX-License-Identifier: MIT */
/*
 * reqconv: the conversation of a request entry as the router's core sees it (route_conv.h):
 * the prefix chain of its rendered messages. Pure: no I/O; parses the messages JSON the entry
 * carries (contract.h has checked that it is a JSON array).
 *
 * Messages, in order, each route_conv_add(role, content) and then folded into it:
 *   chat (messages)   a system field first (role "system"), then every element of messages:
 *                     role (a string; else ""), content (a string; else its JSON text, so an
 *                     array of parts still hashes its parts); then, when present, its images
 *                     (each as a 64-bit FNV-1a digest of the string, 8 bytes: an image costs
 *                     the chain a constant, never its base64 length in tokens), thinking,
 *                     tool_calls (their compact JSON text) and tool_name.
 *   generate (prompt) the system field (role "system") when there is one, then the prompt as
 *                     a "user" message with its images folded in the same way.
 * An element that is not an object adds a message of role "" with its JSON text. Two requests
 * whose messages agree up to message k thus agree on the chain up to k, whatever order the
 * client wrote the keys in or how it spaced them.
 */
#ifndef ORION_REQCONV_H
#define ORION_REQCONV_H

#include "orion/contract.h"
#include "orion/route_conv.h"

/* Fill c from req (route_conv_init first). Returns 0, or -1 with errno EINVAL (messages not a
 * JSON array: c is then the system field alone, or empty) or ENOMEM (c holds what was added
 * before). */
int reqconv_build(const struct contract_request *req, struct route_conv *c);

#endif
