/* SPDX-License-Identifier: MIT */
/*
 * metrics: what the worker reads from /proc and /sys, under a root directory (the worker's
 * --sysfs-root: "/" for the real system, a fixture tree in tests, a simulated Pi in the
 * cluster simulation). Parsers take text and do no I/O; readers read one small file each.
 *
 * CPU: busy = user + nice + system + irq + softirq + steal; idle = idle + iowait (iowait is
 * idle time); guest and guest_nice are already inside user and nice and are not added again.
 * RAM: used = MemTotal - MemAvailable; without MemAvailable (kernels before 3.14):
 * MemFree + Buffers + Cached + SReclaimable stands in for it.
 * Temperature: the thermal zone whose type is cpu-thermal, cpu_thermal, soc_thermal or
 * x86_pkg_temp (in that order), else the first zone with a readable temp, else a hwmon chip
 * (cpu_thermal first; rp1_adc, the Pi 5's I/O chip, only when nothing else exists);
 * millidegrees / 1000. No sensor at all is not an error: *has = false.
 */
#ifndef ORION_METRICS_H
#define ORION_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/health.h"

#define METRICS_MAX_FILE 65536 /* bytes read of one /proc or /sys file */

struct cpu_sample {
    unsigned long long busy, total;
};

struct mem_info {
    unsigned long long total_kb, avail_kb;
};

/* Parsers: 0, or -1 when the text is not what the kernel writes. */
int metrics_parse_stat(const char *text, size_t len, struct cpu_sample *out);
int metrics_parse_meminfo(const char *text, size_t len, struct mem_info *out);
int metrics_parse_loadavg(const char *text, size_t len, double *load1);
int metrics_parse_throttled(const char *text, size_t len, unsigned long *flags); /* hex */
/* CPU busy % between two samples, in [0, 100]; counters that went backwards count as 0. */
double metrics_cpu_percent(const struct cpu_sample *prev, const struct cpu_sample *cur);

/* Readers under root: 0, or -1 (file missing or unreadable). */
int metrics_read_cpu(const char *root, struct cpu_sample *out);
int metrics_read_mem(const char *root, struct mem_info *out);
int metrics_read_temp(const char *root, bool *has, double *temp_c); /* no sensor: 0, *has false */
int metrics_read_loadavg(const char *root, double *load1);
int metrics_read_throttled(const char *root, bool *has, unsigned long *flags);

/* Fill h's cpu, ram, temp, load and throttled fields from root. *prev is the last CPU sample
 * (updated); the first call reports cpu 0. Returns 0, or -1 when /proc/stat or /proc/meminfo
 * could not be read (the other fields are still filled). */
int health_collect(struct health *h, const char *root, struct cpu_sample *prev, bool *have_prev);

#endif
