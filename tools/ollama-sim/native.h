/* SPDX-License-Identifier: MIT */
/* native: request decoding for /api/chat and /api/generate; /api/tags and /api/show bodies. */
#ifndef ORION_SIM_NATIVE_H
#define ORION_SIM_NATIVE_H

#include "sim.h"

#include <stddef.h>

int go_parse_duration(const char *s, long long *ns, char *err, size_t errlen);
void go_json_error(const char *p, size_t n, char *err, size_t errlen);
int native_decode(struct sim *s, struct sim_req *r, const char *body, size_t n, char *err,
                  size_t errlen);
void native_tags(struct sim *s, struct buf *b);
int native_show(struct sim *s, const char *body, size_t n, struct buf *b, char *err, size_t errlen);

#endif
