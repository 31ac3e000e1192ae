/* SPDX-License-Identifier: MIT */
/* Fuzz health JSON: parse, and when it parses, write it back and parse that again. */
#include "orion/contract.h"
#include "orion/health.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct health h, g;
    struct buf b;
    char err[200];

    contract_json_init();
    if (health_from_json(&h, (const char *)data, size, err, sizeof(err)) < 0)
        return 0;
    buf_init(&b, 1 << 20);
    if (health_to_json(&h, &b) == 0) {
        if (health_from_json(&g, buf_data(&b), buf_size(&b), err, sizeof(err)) < 0)
            abort(); /* what we write we must read */
        health_release(&g);
    }
    buf_release(&b);
    health_release(&h);
    return 0;
}
