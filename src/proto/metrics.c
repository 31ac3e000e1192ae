/* SPDX-License-Identifier: MIT */
/*
 * /proc and /sys readers. Every file is small and is read whole (bounded) with one
 * open/read/close, then parsed from memory, so that tests and fuzzers call the very parsers
 * the worker uses. Sensors and throttle flags are optional hardware: their absence is
 * reported as "not there", never as an error; only /proc/stat and /proc/meminfo must exist.
 */
#include "orion/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- parsers ------------------------------------------------------------------------- */

static const char *skip_blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Decimal digits at *pp (after blanks) without overflow; *pp moves past them. */
static int parse_ull(const char **pp, const char *end, unsigned long long *out)
{
    const char *p = skip_blank(*pp, end);
    unsigned long long v = 0;

    if (p >= end || *p < '0' || *p > '9')
        return -1;
    while (p < end && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p++ - '0');
        if (v > (~0ULL - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *pp = p;
    *out = v;
    return 0;
}

/*
 * The first line of /proc/stat (fs/proc/stat.c): "cpu" then, after one or more blanks (the
 * kernel prints two), user nice system idle [iowait [irq softirq [steal [guest [guest_nice]]]]]
 * in USER_HZ ticks as 64-bit decimals. Fields newer kernels might add are ignored.
 */
int metrics_parse_stat(const char *text, size_t len, struct cpu_sample *out)
{
    const char *nl = memchr(text, '\n', len);
    const char *p = text, *end = nl ? nl : text + len;
    unsigned long long f[10] = {0};
    int n = 0;

    if (end - p < 4 || memcmp(p, "cpu", 3) || (p[3] != ' ' && p[3] != '\t'))
        return -1;
    p += 3;
    while (n < 10 && (p = skip_blank(p, end)) < end) {
        if (parse_ull(&p, end, &f[n]) < 0 || (p < end && *p != ' ' && *p != '\t'))
            return -1;
        n++;
    }
    if (n < 4)
        return -1;
    out->user = f[0];
    out->nice = f[1];
    out->system = f[2];
    out->idle = f[3];
    out->iowait = f[4];
    out->irq = f[5];
    out->softirq = f[6];
    out->steal = f[7];
    out->guest = f[8];
    out->guest_nice = f[9];
    return 0;
}

unsigned long long metrics_cpu_busy(const struct cpu_sample *s)
{
    /* guest and guest_nice are already counted in user and nice */
    return s->user + s->nice + s->system + s->irq + s->softirq + s->steal;
}

unsigned long long metrics_cpu_idle(const struct cpu_sample *s) { return s->idle + s->iowait; }

static double delta(unsigned long long a, unsigned long long b)
{
    return b > a ? (double)(b - a) : 0; /* iowait may decrease; CPUs come and go */
}

double metrics_cpu_percent(const struct cpu_sample *prev, const struct cpu_sample *cur)
{
    double busy = delta(prev->user, cur->user) + delta(prev->nice, cur->nice) +
                  delta(prev->system, cur->system) + delta(prev->irq, cur->irq) +
                  delta(prev->softirq, cur->softirq) + delta(prev->steal, cur->steal);
    double idle = delta(prev->idle, cur->idle) + delta(prev->iowait, cur->iowait);
    double pct;

    if (busy <= 0)
        return 0;
    pct = 100.0 * busy / (busy + idle);
    return pct > 100 ? 100 : pct; /* 100 * b / b can round above 100 */
}

enum { MK_TOTAL, MK_AVAIL, MK_FREE, MK_BUFFERS, MK_CACHED, MK_SRECLAIMABLE, MK_N };
static const char *const mem_keys[MK_N] = {"MemTotal", "MemAvailable", "MemFree",
                                           "Buffers",  "Cached",       "SReclaimable"};

static unsigned long long sat_add(unsigned long long a, unsigned long long b)
{
    return a > ~0ULL - b ? ~0ULL : a + b;
}

/* "Key:     1234 kB" lines (fs/proc/meminfo.c); the first line of each key counts. */
int metrics_parse_meminfo(const char *text, size_t len, struct mem_info *out)
{
    unsigned long long v[MK_N] = {0}, x;
    bool seen[MK_N] = {false};
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(le - p)), *q = colon ? colon + 1 : NULL;
        size_t kl = colon ? (size_t)(colon - p) : 0;
        for (int k = 0; colon && k < MK_N; k++) {
            if (strlen(mem_keys[k]) != kl || memcmp(p, mem_keys[k], kl))
                continue;
            if (!seen[k] && parse_ull(&q, le, &x) == 0) {
                v[k] = x;
                seen[k] = true;
            }
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    if (!seen[MK_TOTAL] || !v[MK_TOTAL] || (!seen[MK_AVAIL] && !seen[MK_FREE]))
        return -1;
    out->estimated = !seen[MK_AVAIL];
    if (out->estimated) /* kernels before 3.14 */
        v[MK_AVAIL] = sat_add(sat_add(v[MK_FREE], v[MK_BUFFERS]),
                              sat_add(v[MK_CACHED], v[MK_SRECLAIMABLE]));
    out->total_kb = v[MK_TOTAL];
    out->avail_kb = v[MK_AVAIL] > v[MK_TOTAL] ? v[MK_TOTAL] : v[MK_AVAIL];
    return 0;
}

double metrics_ram_percent(const struct mem_info *m)
{
    if (!m->total_kb)
        return 0;
    return 100.0 * (double)(m->total_kb - m->avail_kb) / (double)m->total_kb;
}

long metrics_ram_used_mb(const struct mem_info *m)
{
    return (long)((m->total_kb - m->avail_kb) / 1024);
}

long metrics_ram_total_mb(const struct mem_info *m) { return (long)(m->total_kb / 1024); }

/* "0.52 0.58 0.59 1/467 12345": three non-negative decimals, then anything. */
int metrics_parse_loadavg(const char *text, size_t len, struct loadavg *out)
{
    char tmp[96], *p = tmp, *end;
    double v[3];

    if (len >= sizeof(tmp))
        len = sizeof(tmp) - 1;
    memcpy(tmp, text, len);
    tmp[len] = '\0';
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return -1; /* no sign, no blanks first, no "inf", "nan" */
        v[i] = strtod(p, &end);
        if (end == p || !(v[i] >= 0 && v[i] <= 1e6))
            return -1;
        if (*end != ' ' && *end != '\t' && !(i == 2 && (*end == '\n' || *end == '\0')))
            return -1;
        p = end + (*end ? 1 : 0);
    }
    out->load1 = v[0];
    out->load5 = v[1];
    out->load15 = v[2];
    return 0;
}

/* drivers/firmware/raspberrypi.c prints "%x\n"; "0x" is accepted too (vcgencmd style). */
int metrics_parse_throttled(const char *text, size_t len, unsigned long *flags)
{
    const char *p = text, *end = text + len;
    unsigned long v = 0;
    int digits = 0;

    if (end - p >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    for (; p < end && *p != '\n'; p++) {
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                         : -1;
        if (d < 0 || ++digits > 8)
            return -1;
        v = v * 16 + (unsigned long)d;
    }
    if (!digits)
        return -1;
    *flags = v;
    return 0;
}

/* A signed decimal in millidegrees Celsius ("%d\n"), within what a sensor can mean. */
int metrics_parse_millideg(const char *text, size_t len, double *temp_c)
{
    const char *p = text, *end = text + len;
    bool neg = false;
    long v = 0;

    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > 500000)
            return -1; /* also keeps v far from overflow */
    }
    if (p < end && *p == '\n')
        p++;
    if (p != end || (neg && v > 273150))
        return -1;
    *temp_c = (double)(neg ? -v : v) / 1000.0;
    return 0;
}

static const struct {
    unsigned long bit;
    const char *what;
} throttle_names[] = {
    {THROTTLE_UNDERVOLT, "under-voltage now"},
    {THROTTLE_FREQ_CAPPED, "frequency capped now"},
    {THROTTLE_THROTTLED, "throttled now"},
    {THROTTLE_SOFT_TEMP, "soft temperature limit now"},
    {THROTTLE_UNDERVOLT_OCCURRED, "under-voltage has occurred"},
    {THROTTLE_FREQ_CAPPED_OCCURRED, "frequency capping has occurred"},
    {THROTTLE_THROTTLED_OCCURRED, "throttling has occurred"},
    {THROTTLE_SOFT_TEMP_OCCURRED, "soft temperature limit has occurred"},
};

void metrics_throttle_describe(unsigned long flags, char *out, size_t len)
{
    size_t n = 0, count = sizeof(throttle_names) / sizeof(throttle_names[0]);
    unsigned long known = THROTTLE_NOW_MASK | THROTTLE_OCCURRED_MASK;
    int w;

    if (!len)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < count && n < len; i++) {
        if (!(flags & throttle_names[i].bit))
            continue;
        w = snprintf(out + n, len - n, "%s%s", n ? ", " : "", throttle_names[i].what);
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < len && (flags & ~known))
        snprintf(out + n, len - n, "%sother bits 0x%lx", n ? ", " : "", flags & ~known);
    else if (!flags)
        snprintf(out, len, "none");
}

/* --- readers ------------------------------------------------------------------------- */

/* Read root/rel (up to cap - 1 bytes) into buf, NUL-terminated: the length, or -1. */
static long read_file(const char *root, const char *rel, char *buf, size_t cap)
{
    char path[1024];
    long n = 0;
    ssize_t r;
    int fd, saved;

    if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while ((size_t)n < cap - 1 && (r = read(fd, buf + n, cap - 1 - (size_t)n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) { /* sysfs passes on the sensor's error (EIO, EAGAIN) */
            saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        n += r;
    }
    close(fd);
    buf[n] = '\0';
    return n;
}

int metrics_read_cpu(const char *root, struct cpu_sample *out)
{
    char buf[4096]; /* the first line is what we need; the rest (intr) can be long */
    long n = read_file(root, "proc/stat", buf, sizeof(buf));

    return n < 0 ? -1 : metrics_parse_stat(buf, (size_t)n, out);
}

int metrics_read_mem(const char *root, struct mem_info *out)
{
    char buf[ORION_PROC_MAX_FILE];
    long n = read_file(root, "proc/meminfo", buf, sizeof(buf));

    return n < 0 ? -1 : metrics_parse_meminfo(buf, (size_t)n, out);
}

int metrics_read_loadavg(const char *root, struct loadavg *out)
{
    char buf[256];
    long n = read_file(root, "proc/loadavg", buf, sizeof(buf));

    return n < 0 ? -1 : metrics_parse_loadavg(buf, (size_t)n, out);
}

/* One family of sensors: directories dir/<prefix><N>, a name file, a millidegree file. */
struct sensor_kind {
    const char *dir, *prefix, *name_file, *value_file;
    const char *const *pref; /* preferred names, best first */
    int npref;
    const char *last; /* a name to take only when nothing else reads */
};

static int sensor_rank(const struct sensor_kind *k, const char *name)
{
    for (int i = 0; i < k->npref; i++)
        if (!strcmp(name, k->pref[i]))
            return i;
    return k->last && !strcmp(name, k->last) ? k->npref + 1 : k->npref;
}

/* The number N of "<prefix>N", or -1. */
static long entry_number(const char *name, const char *prefix)
{
    size_t pl = strlen(prefix);
    char *end;
    long v;

    if (strncmp(name, prefix, pl) || name[pl] < '0' || name[pl] > '9')
        return -1;
    errno = 0;
    v = strtol(name + pl, &end, 10);
    return *end || errno ? -1 : v;
}

/* Best sensor of a kind: lowest rank, then lowest number, among those whose value reads.
 * Deterministic whatever order readdir gives. */
static int pick_sensor(const char *root, const struct sensor_kind *k, double *c)
{
    char path[1024], rel[512], buf[64];
    long best_n = -1, num, n;
    int best_rank = 1 << 30, rank;
    double v;
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof(path), "%s/%s", root, k->dir);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        if ((num = entry_number(e->d_name, k->prefix)) < 0)
            continue;
        snprintf(rel, sizeof(rel), "%s/%s/%s", k->dir, e->d_name, k->name_file);
        n = read_file(root, rel, buf, sizeof(buf));
        buf[n < 0 ? 0 : strcspn(buf, "\n")] = '\0';
        rank = sensor_rank(k, buf);
        snprintf(rel, sizeof(rel), "%s/%s/%s", k->dir, e->d_name, k->value_file);
        n = read_file(root, rel, buf, sizeof(buf));
        if (n <= 0 || metrics_parse_millideg(buf, (size_t)n, &v) < 0)
            continue;
        if (rank < best_rank || (rank == best_rank && num < best_n)) {
            best_rank = rank;
            best_n = num;
            *c = v;
        }
    }
    closedir(d);
    return best_n < 0 ? -1 : 0;
}

int metrics_read_temp(const char *root, bool *has, double *temp_c)
{
    static const char *const zones[] = {"cpu-thermal", "cpu_thermal", "soc_thermal",
                                        "x86_pkg_temp"};
    static const char *const chips[] = {"cpu_thermal", "coretemp", "k10temp"};
    static const struct sensor_kind zone = {"sys/class/thermal", "thermal_zone", "type", "temp",
                                            zones, 4, NULL};
    static const struct sensor_kind hwmon = {"sys/class/hwmon", "hwmon", "name", "temp1_input",
                                             chips, 3, "rp1_adc"};

    *has = pick_sensor(root, &zone, temp_c) == 0 || pick_sensor(root, &hwmon, temp_c) == 0;
    return 0;
}

/* get_throttled in a "*firmware*" directory at most two levels under rel. */
static int find_throttled(const char *root, const char *rel, int depth, unsigned long *flags)
{
    char path[1024], sub[768], buf[64];
    struct dirent *e;
    int rc = -1;
    long n;
    DIR *d;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    d = opendir(path);
    if (!d)
        return -1;
    while (rc < 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name) >= (int)sizeof(sub))
            continue;
        if (strstr(e->d_name, "firmware")) {
            snprintf(path, sizeof(path), "%s/get_throttled", sub);
            n = read_file(root, path, buf, sizeof(buf));
            if (n > 0 && metrics_parse_throttled(buf, (size_t)n, flags) == 0)
                rc = 0;
        }
        if (rc < 0 && depth < 2)
            rc = find_throttled(root, sub, depth + 1, flags);
    }
    closedir(d);
    return rc;
}

/* The rpi_volt hwmon's in0_lcrit_alarm: 0, 1, or -1 when there is none. */
static int undervolt_alarm(const char *root)
{
    char path[1024], rel[512], buf[64];
    struct dirent *e;
    int rc = -1;
    long n;
    DIR *d;

    snprintf(path, sizeof(path), "%s/sys/class/hwmon", root);
    d = opendir(path);
    if (!d)
        return -1;
    while (rc < 0 && (e = readdir(d))) {
        if (entry_number(e->d_name, "hwmon") < 0)
            continue;
        snprintf(rel, sizeof(rel), "sys/class/hwmon/%s/name", e->d_name);
        if (read_file(root, rel, buf, sizeof(buf)) < 0 || strcmp(buf, "rpi_volt\n"))
            continue;
        snprintf(rel, sizeof(rel), "sys/class/hwmon/%s/in0_lcrit_alarm", e->d_name);
        n = read_file(root, rel, buf, sizeof(buf));
        if (n > 0 && (buf[0] == '0' || buf[0] == '1'))
            rc = buf[0] == '1';
    }
    closedir(d);
    return rc;
}

int metrics_read_throttled(const char *root, bool *has, unsigned long *flags)
{
    int alarm = undervolt_alarm(root);

    *flags = 0;
    *has = find_throttled(root, "sys/devices/platform", 1, flags) == 0;
    if (alarm >= 0) {
        *has = true;
        if (alarm)
            *flags |= THROTTLE_UNDERVOLT_OCCURRED;
    }
    return 0;
}
