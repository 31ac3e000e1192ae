/* SPDX-License-Identifier: MIT */
/*
 * Fuzz URL backend specs (backend.h), as POST /backends/register and P:backends bring them:
 * one spec and a whole list, read only within their length (the input is not NUL-terminated
 * here). What parses must hold its own rules again: its name and URL check out, and
 * "NAME=URL" made from them parses back to the same two.
 */
#include "orion/backend.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct backend_spec s, t, list[4];
    char err[400], again[ORION_NODE_ID_MAX + ORION_BACKEND_URL_MAX + 2], *csv;

    err[0] = '\0';
    if (backend_spec_parse((const char *)data, size, &s, err, sizeof(err)) < 0) {
        if (!err[0])
            abort(); /* an error always says why */
    } else {
        if (!backend_name_ok(s.name, strlen(s.name), err, sizeof(err)) ||
            !backend_url_ok(s.url, strlen(s.url), err, sizeof(err)))
            abort();
        snprintf(again, sizeof(again), "%s=%s", s.name, s.url);
        if (backend_spec_parse(again, strlen(again), &t, err, sizeof(err)) < 0 ||
            strcmp(s.name, t.name) || strcmp(s.url, t.url))
            abort();
    }
    csv = malloc(size + 1);
    if (!csv)
        return 0;
    memcpy(csv, data, size);
    csv[size] = '\0';
    err[0] = '\0';
    if (backend_list_parse(csv, list, 4, err, sizeof(err)) < 0 && !err[0])
        abort();
    free(csv);
    return 0;
}
