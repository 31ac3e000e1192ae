/* SPDX-License-Identifier: MIT */
/*
 * Fuzz what the router and the worker read about models: byte 0 picks the parser (0: a
 * P:models record, which when it parses is written, read back and written again, and must
 * come out the same; 1: /api/tags; 2: /api/ps; 3: /api/show), the rest is its input.
 */
#include "orion/jsonw.h"
#include "orion/modelinfo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void record(const char *p, size_t n)
{
    struct modelinfo mi, back;
    struct buf a, b;
    char err[200] = "";

    modelinfo_init(&mi);
    modelinfo_init(&back);
    if (modelinfo_from_json(&mi, p, n, err, sizeof(err)) < 0) {
        if (!err[0] || mi.m || mi.n)
            abort(); /* an error says why and leaves nothing to free */
        return;
    }
    buf_init(&a, 1 << 22);
    buf_init(&b, 1 << 22);
    if (modelinfo_to_json(&mi, &a) < 0 ||
        modelinfo_from_json(&back, buf_data(&a), buf_size(&a), err, sizeof(err)) < 0 ||
        modelinfo_to_json(&back, &b) < 0 || buf_size(&a) != buf_size(&b) ||
        memcmp(buf_data(&a), buf_data(&b), buf_size(&a)))
        abort();
    buf_release(&a);
    buf_release(&b);
    modelinfo_release(&mi);
    modelinfo_release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1;
    struct ollama_model *m = NULL, one;
    size_t n = 0;
    char err[200] = "";
    int rc;

    json_init();
    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        record(p, size - 1);
        return 0;
    case 1:
    case 2:
        rc = (data[0] % 4 == 1 ? ollama_parse_tags : ollama_parse_ps)(p, size - 1, &m, &n, err,
                                                                       sizeof(err));
        if (rc < 0 ? !err[0] || m || n : n > ORION_HEALTH_MAX_LIST)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!m[i].name[0] || strlen(m[i].name) > ORION_MODEL_MAX)
                abort();
        orion_free(m);
        return 0;
    default:
        memset(&one, 0, sizeof(one));
        if (ollama_parse_show(p, size - 1, &one, err, sizeof(err)) < 0 && !err[0])
            abort();
        if (one.context_length < 0 || one.num_ctx < 0)
            abort();
        return 0;
    }
}
