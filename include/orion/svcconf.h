/* SPDX-License-Identifier: MIT */
/*
 * svcconf: the service contract's configuration files, read into the pure tables of roles.h
 * and preset.h. docs/PROTOCOL.md ("Roles", "Presets") shows the formats to users.
 *
 * Roles (--model-roles, ORION_MODEL_ROLES, or the seed's INFERENCE_MODEL_ROLES as it is): a
 * JSON object of model -> roles, each an array of role names or one name:
 *   {"phi-4":["primary","thinker","coder"],"llama-3.2-3b":["fast"],"gemma3":"primary"}
 * The argument is that JSON when it starts with '{', else the name of a file holding it.
 *
 * Presets (the built-in set, contrib/presets.json, then --presets FILE, whose presets add to
 * or replace the built-in ones by name):
 *   {"models":  {NAME: {"memory_mb":N, "roles":[...]}, ...},          (optional catalogue)
 *    "presets": {PRESET: {"models":[NAME,...], "mode":MODE, "note":TEXT,
 *                         "memory_mb":{NAME:N}, "roles":{NAME:[...]}}, ...}}
 * A preset's model takes its memory and roles from the preset, else from the catalogue (of
 * the same file). mode is single (default), critique, debate, ensemble or pipeline. Errors
 * name the preset and the field. Files are at most SVC_FILE_MAX bytes.
 */
#ifndef ORION_SVCCONF_H
#define ORION_SVCCONF_H

#include <stddef.h>

#include "orion/preset.h"
#include "orion/roles.h"

#define SVC_FILE_MAX (256u * 1024)

/* 0, or -1 with a sentence in err (entries already added stay). */
int svc_roles_parse(struct role_map *m, const char *json, size_t n, char *err, size_t errlen);
/* arg: JSON or a file name (see above). */
int svc_roles_load(struct role_map *m, const char *arg, char *err, size_t errlen);

int svc_presets_parse(struct preset_set *s, const char *json, size_t n, char *err,
                      size_t errlen);
int svc_presets_load_file(struct preset_set *s, const char *path, char *err, size_t errlen);
/* The built-in presets (contrib/presets.json, compiled in). */
int svc_presets_load_default(struct preset_set *s, char *err, size_t errlen);
/* The built-in presets file's text, as shipped (for --print-presets). */
void svc_presets_default_text(void (*line)(void *arg, const char *s), void *arg);

#endif
