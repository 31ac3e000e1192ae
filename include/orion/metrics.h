/* SPDX-License-Identifier: MIT */
/*
 * metrics: what the worker reads from /proc and /sys, under a root directory (the worker's
 * --sysfs-root: "/" for the real system, a fixture tree in tests, a simulated Pi in the
 * cluster simulation); every path is root + "/proc/stat" and so on. Parsers take text and do
 * no I/O (tests and fuzzers call them); readers read one small file each (at most
 * ORION_PROC_MAX_FILE bytes) and call the parser.
 *
 * CPU (the first line of /proc/stat, "cpu  user nice system idle iowait irq softirq steal
 * guest guest_nice", trailing fields absent on old kernels read as 0):
 * busy = user + nice + system + irq + softirq + steal; idle = idle + iowait (iowait is idle
 * time); guest and guest_nice are already inside user and nice and are not added again.
 * RAM: used = MemTotal - MemAvailable; without MemAvailable (kernels before 3.14) the
 * estimate MemFree + Buffers + Cached + SReclaimable stands in for it (mem_info.estimated).
 * Temperature: the thermal zone whose type is cpu-thermal, cpu_thermal, soc_thermal or
 * x86_pkg_temp (in that order), else the lowest-numbered zone with a readable temp, else a
 * hwmon chip's temp1_input (cpu_thermal, coretemp, k10temp, then any other, and rp1_adc, the
 * Pi 5's I/O chip, only when nothing else has a reading); millidegrees / 1000. No sensor at
 * all is not an error: *has = false.
 * Throttling (Raspberry Pi): the firmware's get_throttled file (bare hex, "50005"), found in a
 * directory whose name contains "firmware" one or two levels under sys/devices/platform (Pi 4:
 * soc/soc:firmware, Pi 5: soc@107c000000/soc@107c000000:firmware), and the rpi_volt
 * hwmon's in0_lcrit_alarm (the driver raises it from bit 16, so it sets
 * THROTTLE_UNDERVOLT_OCCURRED). Neither there (not a Pi): *has = false, not an error.
 */
#ifndef ORION_METRICS_H
#define ORION_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/limits.h"

struct cpu_sample {
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice;
};

struct mem_info {
    unsigned long long total_kb, avail_kb; /* avail_kb <= total_kb, total_kb > 0 */
    bool estimated;                        /* no MemAvailable: the fallback sum */
};

struct loadavg {
    double load1, load5, load15;
};

/* get_throttled bits (vcgencmd get_throttled); "occurred" bits are sticky but the kernel's
 * raspberrypi-hwmon driver clears them every ~2 s, so they mean "lately", not "since boot". */
enum metrics_throttle {
    THROTTLE_UNDERVOLT = 1 << 0,            /* under-voltage now */
    THROTTLE_FREQ_CAPPED = 1 << 1,          /* ARM frequency capped now */
    THROTTLE_THROTTLED = 1 << 2,            /* throttled now */
    THROTTLE_SOFT_TEMP = 1 << 3,            /* soft temperature limit active now */
    THROTTLE_UNDERVOLT_OCCURRED = 1 << 16,  /* under-voltage has occurred */
    THROTTLE_FREQ_CAPPED_OCCURRED = 1 << 17, /* ARM frequency capping has occurred */
    THROTTLE_THROTTLED_OCCURRED = 1 << 18,  /* throttling has occurred */
    THROTTLE_SOFT_TEMP_OCCURRED = 1 << 19,  /* soft temperature limit has occurred */
};
#define THROTTLE_NOW_MASK 0xfUL
#define THROTTLE_OCCURRED_MASK 0xf0000UL

/* Parsers: 0, or -1 when the text is not what the kernel writes. */
int metrics_parse_stat(const char *text, size_t len, struct cpu_sample *out); /* 1st line */
int metrics_parse_meminfo(const char *text, size_t len, struct mem_info *out);
int metrics_parse_loadavg(const char *text, size_t len, struct loadavg *out);
int metrics_parse_throttled(const char *text, size_t len, unsigned long *flags); /* hex */
int metrics_parse_millideg(const char *text, size_t len, double *temp_c); /* "61234" -> 61.234 */

unsigned long long metrics_cpu_busy(const struct cpu_sample *s);
unsigned long long metrics_cpu_idle(const struct cpu_sample *s);
/* CPU busy % between two samples, in [0, 100]: each counter's delta, a counter that went
 * backwards counting 0; no tick at all in between gives 0. */
double metrics_cpu_percent(const struct cpu_sample *prev, const struct cpu_sample *cur);
double metrics_ram_percent(const struct mem_info *m); /* (total - avail) / total * 100 */
long metrics_ram_used_mb(const struct mem_info *m);   /* MiB */
long metrics_ram_total_mb(const struct mem_info *m);  /* MiB */
/* "under-voltage now, throttling has occurred", or "none"; truncated to fit. */
void metrics_throttle_describe(unsigned long flags, char *out, size_t len);

/* Readers under root: 0, or -1 (file missing, unreadable or not parsable). */
int metrics_read_cpu(const char *root, struct cpu_sample *out);
int metrics_read_mem(const char *root, struct mem_info *out);
int metrics_read_loadavg(const char *root, struct loadavg *out);
/* Always 0: no sensor (or none readable) gives *has = false. */
int metrics_read_temp(const char *root, bool *has, double *temp_c);
/* Always 0: no flags exposed gives *has = false and *flags = 0. */
int metrics_read_throttled(const char *root, bool *has, unsigned long *flags);

#endif
