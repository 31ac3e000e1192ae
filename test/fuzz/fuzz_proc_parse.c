/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the /proc and /sys text parsers. Byte 0 picks the parser (stat, meminfo, loadavg,
 * get_throttled, millidegrees); the rest is the file's text. Results are checked against
 * what the parsers promise (percentages in [0, 100], available <= total).
 */
#include "orion/metrics.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_stat(const char *t, size_t n)
{
    static struct cpu_sample last;
    struct cpu_sample s;
    double p;

    if (metrics_parse_stat(t, n, &s) < 0)
        return;
    p = metrics_cpu_percent(&last, &s);
    if (!(p >= 0 && p <= 100))
        abort();
    p = metrics_cpu_percent(&s, &last);
    if (!(p >= 0 && p <= 100))
        abort();
    last = s;
}

static void check_meminfo(const char *t, size_t n)
{
    struct mem_info m;
    double p;

    if (metrics_parse_meminfo(t, n, &m) < 0)
        return;
    p = metrics_ram_percent(&m);
    if (!m.total_kb || m.avail_kb > m.total_kb || !(p >= 0 && p <= 100) ||
        metrics_ram_used_mb(&m) > metrics_ram_total_mb(&m))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data + 1;
    struct loadavg l;
    unsigned long f;
    double c;
    char s[128];

    if (size < 1)
        return 0;
    switch (data[0] % 5) {
    case 0:
        check_stat(t, size - 1);
        break;
    case 1:
        check_meminfo(t, size - 1);
        break;
    case 2:
        if (metrics_parse_loadavg(t, size - 1, &l) == 0 && !(l.load1 >= 0 && l.load15 <= 1e6))
            abort();
        break;
    case 3:
        if (metrics_parse_throttled(t, size - 1, &f) == 0)
            metrics_throttle_describe(f, s, (size_t)data[0] % sizeof(s));
        break;
    default:
        if (metrics_parse_millideg(t, size - 1, &c) == 0 && !(c >= -273.15 && c <= 500))
            abort();
    }
    return 0;
}
