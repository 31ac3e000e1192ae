/* SPDX-License-Identifier: MIT */
/*
 * Fuzz health JSON: parse; when it parses, write it, read that back and write it again. What
 * we write we must read, and the second text must equal the first (numbers settle at the
 * precision written).
 */
#include "orion/contract.h"
#include "orion/jsonw.h"
#include "orion/health.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct health h, g;
    struct buf a, b;
    char err[200];

    json_init();
    err[0] = '\0';
    if (health_from_json(&h, (const char *)data, size, err, sizeof(err)) < 0) {
        if (!err[0])
            abort(); /* an error always says why */
        return 0;
    }
    buf_init(&a, 1 << 22);
    buf_init(&b, 1 << 22);
    if (health_to_json(&h, &a) < 0)
        abort();
    if (health_from_json(&g, buf_data(&a), buf_size(&a), err, sizeof(err)) < 0)
        abort();
    if (health_to_json(&g, &b) < 0 || buf_size(&a) != buf_size(&b) ||
        memcmp(buf_data(&a), buf_data(&b), buf_size(&a)))
        abort();
    health_release(&g);
    buf_release(&a);
    buf_release(&b);
    health_release(&h);
    return 0;
}
