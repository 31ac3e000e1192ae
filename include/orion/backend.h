/* SPDX-License-Identifier: MIT */
/*
 * backend: a URL backend's spec, as --backends lists it, POST /backends/register sends it and
 * P:backends keeps it (docs/PROTOCOL.md, "URL backends"). Pure: no I/O.
 *
 * A spec is "URL" or "NAME=URL". URL is http://HOST[:PORT][/PATH] (http only: ORION speaks
 * no TLS; https:// is refused with a sentence saying so), at most ORION_BACKEND_URL_MAX bytes,
 * no blanks or control characters. NAME is the node id the backend runs as: 1 to
 * ORION_NODE_ID_MAX bytes of letters, digits and . _ - (no ':', so that a node stream's name
 * P:requests:NAME has one more part only); without one it is HOST-PORT from the URL, the
 * port 11434 when absent ("http://10.0.1.11:11434" -> "10.0.1.11-11434").
 */
#ifndef ORION_BACKEND_H
#define ORION_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/limits.h"

struct backend_spec {
    char name[ORION_NODE_ID_MAX + 1];
    char url[ORION_BACKEND_URL_MAX + 1];
};

/* Is url a base URL a backend may have? true, or false with a sentence in err. */
bool backend_url_ok(const char *url, size_t len, char *err, size_t errlen);
/* Is name a node id a backend may take? true, or false with a sentence in err. */
bool backend_name_ok(const char *name, size_t len, char *err, size_t errlen);
/* One spec, s[0..len): 0, or -1 with a sentence in err (out is then unspecified). name may
 * be given apart (NULL: from "NAME=" or the URL). */
int backend_spec_parse(const char *s, size_t len, struct backend_spec *out, char *err,
                       size_t errlen);
/* A comma-separated list (empty items skipped): the number of specs (at most max), or -1 with
 * a sentence in err for a bad item, more than max, or a name given twice. */
long backend_list_parse(const char *csv, struct backend_spec *out, size_t max, char *err,
                        size_t errlen);

/* One router runs a backend at a time: it holds P:backend-lease:{name} (value: its router id,
 * expiring after the lease time) and renews it every second; another router runs the backend
 * only once that key expired. The key: 0, or -1 when it does not fit. */
struct contract_keys;
int backend_lease_key(const struct contract_keys *k, const char *name, char *out, size_t n);
/* EVAL backend_lease_lua 1 LEASEKEY ROUTERID SECONDS: 1 when ROUTERID holds the lease now
 * (renewed, or taken because nobody held it), 0 when another router holds it. Uses only
 * MGET, EXPIRE and SET NX EX, which the router's ACL user already has. */
extern const char backend_lease_lua[];

#endif
