/* SPDX-License-Identifier: MIT */
/* Fuzz the reading of a critic's verdict (Ollama's structured output, through a worker and
 * Redis): the score is -1 or within [0, 1], and reading never goes past the input. */
#include "orion/jsonw.h"
#include "orion/verdict.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    double v;

    json_init();
    v = verdict_score((const char *)data, size);
    if (!(v == -1 || (v >= 0 && v <= 1)))
        abort();
    return 0;
}
