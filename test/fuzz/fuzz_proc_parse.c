/* SPDX-License-Identifier: MIT */
/* Fuzz the /proc and /sys text parsers: byte 0 picks the parser. */
#include "orion/metrics.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cpu_sample a, b = {0, 0};
    struct mem_info m;
    double l;
    unsigned long f;
    const char *t = (const char *)data + 1;

    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        if (metrics_parse_stat(t, size - 1, &a) == 0)
            (void)metrics_cpu_percent(&b, &a);
        break;
    case 1:
        metrics_parse_meminfo(t, size - 1, &m);
        break;
    case 2:
        metrics_parse_loadavg(t, size - 1, &l);
        break;
    default:
        metrics_parse_throttled(t, size - 1, &f);
    }
    return 0;
}
