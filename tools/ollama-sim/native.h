/* SPDX-License-Identifier: MIT */
/* native: request decoding for /api/chat and /api/generate; prompt: the prompt they build. */
#ifndef ORION_SIM_NATIVE_H
#define ORION_SIM_NATIVE_H

#include "sim.h"

#include <stddef.h>

/* native.c */
int go_parse_duration(const char *s, long long *ns, char *err, size_t errlen);
void go_json_error(const char *p, size_t n, char *err, size_t errlen);
int go_b64_check(const char *s); /* -1: valid standard base64; else the offset Go reports */
/* a JSON number as a long, kept within +-2^40 (no undefined cast); def when it is none */
long native_long(const cJSON *v, long def);
int native_keep_alive(const cJSON *v, struct sim_req *r, char *err, size_t errlen);
/* 0: r filled; else the HTTP status of the error, text in err */
int native_decode(struct sim *s, struct sim_req *r, const char *body, size_t n, char *err,
                  size_t errlen);

/* prompt.c: r->ptok, r->hash, r->load_only, the reply and score markers, the runner's
 * context errors (r->err_status) from the request j of a known model. 0, or an HTTP status
 * with err (400: a request Ollama refuses before scheduling; 500: out of memory). */
int prompt_build(struct sim_req *r, const cJSON *j, char *err, size_t errlen);

#endif
