/* SPDX-License-Identifier: MIT */
/*
 * /proc and /sys readers. Every file is read whole (they are small) with one open/read/close,
 * and parsed from memory, so that tests and fuzzers call the same parsers the worker uses.
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

static int parse_ull(const char **pp, const char *end, unsigned long long *out)
{
    const char *p = skip_blank(*pp, end);
    unsigned long long v = 0;

    if (p >= end || *p < '0' || *p > '9')
        return -1;
    while (p < end && *p >= '0' && *p <= '9') {
        if (v > (~0ULL - 9) / 10)
            return -1;
        v = v * 10 + (unsigned)(*p++ - '0');
    }
    *pp = p;
    *out = v;
    return 0;
}

/* The first line: "cpu  user nice system idle [iowait irq softirq [steal [guest [guest_nice]]]]" */
int metrics_parse_stat(const char *text, size_t len, struct cpu_sample *out)
{
    const char *p = text, *end = text + len;
    unsigned long long f[10] = {0};
    int n = 0;

    if (len < 4 || memcmp(p, "cpu", 3) || (p[3] != ' ' && p[3] != '\t'))
        return -1;
    p += 3;
    while (n < 10) {
        const char *q = skip_blank(p, end);
        if (q >= end || *q == '\n')
            break;
        if (parse_ull(&p, end, &f[n]) < 0)
            return -1;
        n++;
    }
    if (n < 4)
        return -1;
    /* guest (f[8]) and guest_nice (f[9]) are already in user and nice */
    out->busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    out->total = out->busy + f[3] + f[4];
    return 0;
}

double metrics_cpu_percent(const struct cpu_sample *prev, const struct cpu_sample *cur)
{
    unsigned long long db, dt;
    double pct;

    if (cur->busy <= prev->busy)
        return 0;
    db = cur->busy - prev->busy;
    if (cur->total <= prev->total)
        return 100;
    dt = cur->total - prev->total;
    pct = 100.0 * (double)db / (double)dt;
    return pct > 100 ? 100 : pct;
}

/* Value of "Key:   1234 kB" lines; *found set when the key is there. */
static void meminfo_key(const char *text, size_t len, const char *key, unsigned long long *v,
                        bool *found)
{
    size_t kl = strlen(key);
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *q = p + kl;
        if ((size_t)(le - p) > kl && !memcmp(p, key, kl) && *q == ':') {
            q++;
            if (parse_ull(&q, le, v) == 0) {
                *found = true;
                return;
            }
        }
        p = le + 1;
    }
}

int metrics_parse_meminfo(const char *text, size_t len, struct mem_info *out)
{
    unsigned long long total = 0, avail = 0, nfree = 0, buffers = 0, cached = 0, srec = 0;
    bool has_total = false, has_avail = false, has_free = false, unused = false;

    meminfo_key(text, len, "MemTotal", &total, &has_total);
    meminfo_key(text, len, "MemAvailable", &avail, &has_avail);
    if (!has_total || !total)
        return -1;
    if (!has_avail) {
        meminfo_key(text, len, "MemFree", &nfree, &has_free);
        if (!has_free)
            return -1;
        meminfo_key(text, len, "Buffers", &buffers, &unused);
        meminfo_key(text, len, "Cached", &cached, &unused);
        meminfo_key(text, len, "SReclaimable", &srec, &unused);
        avail = nfree + buffers + cached + srec;
    }
    out->total_kb = total;
    out->avail_kb = avail > total ? total : avail;
    return 0;
}

int metrics_parse_loadavg(const char *text, size_t len, double *load1)
{
    char tmp[32], *end;
    size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;
    double v;

    memcpy(tmp, text, n);
    tmp[n] = '\0';
    v = strtod(tmp, &end);
    if (end == tmp || (*end != ' ' && *end != '\n' && *end != '\0') || v < 0 || v > 1e6)
        return -1;
    *load1 = v;
    return 0;
}

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

/* --- readers ------------------------------------------------------------------------- */

/* Read root/rel (whole, up to cap - 1 bytes) into buf, NUL-terminated: length, or -1. */
static long read_file(const char *root, const char *rel, char *buf, size_t cap)
{
    char path[1024];
    long n = 0;
    ssize_t r;
    int fd;

    if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while ((size_t)n < cap - 1 && (r = read(fd, buf + n, cap - 1 - (size_t)n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
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
    char *buf = orion_malloc(METRICS_MAX_FILE);
    long n = buf ? read_file(root, "proc/stat", buf, METRICS_MAX_FILE) : -1;
    int rc = n < 0 ? -1 : metrics_parse_stat(buf, (size_t)n, out);

    orion_free(buf);
    return rc;
}

int metrics_read_mem(const char *root, struct mem_info *out)
{
    char buf[8192];
    long n = read_file(root, "proc/meminfo", buf, sizeof(buf));

    return n < 0 ? -1 : metrics_parse_meminfo(buf, (size_t)n, out);
}

int metrics_read_loadavg(const char *root, double *load1)
{
    char buf[256];
    long n = read_file(root, "proc/loadavg", buf, sizeof(buf));

    return n < 0 ? -1 : metrics_parse_loadavg(buf, (size_t)n, load1);
}

static int read_milli(const char *root, const char *rel, double *c)
{
    char buf[64], *end;
    long n = read_file(root, rel, buf, sizeof(buf));
    long v;

    if (n <= 0)
        return -1;
    errno = 0;
    v = strtol(buf, &end, 10);
    if (errno || end == buf || (*end && *end != '\n') || v < -100000 || v > 300000)
        return -1;
    *c = (double)v / 1000.0;
    return 0;
}

static int rank_of(const char *type, const char *const *pref, int npref)
{
    for (int i = 0; i < npref; i++)
        if (!strcmp(type, pref[i]))
            return i;
    return npref;
}

/* Scan dir (relative to root) for entries "<prefix><N>"; for each, read <entry>/<name_file>
 * and rank it; best (lowest rank, then lowest N) whose value file reads wins. */
static int pick_sensor(const char *root, const char *dir, const char *prefix, const char *name_file,
                       const char *value_file, const char *const *pref, int npref, double *c)
{
    char path[1024], rel[512], type[64];
    int best_rank = 1 << 30;
    long best_n = -1, num;
    double v = 0, best_v = 0;
    size_t pl = strlen(prefix);
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof(path), "%s/%s", root, dir);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char *end;
        int rank;
        long tl;
        if (strncmp(e->d_name, prefix, pl) || !e->d_name[pl])
            continue;
        num = strtol(e->d_name + pl, &end, 10);
        if (*end)
            continue;
        snprintf(rel, sizeof(rel), "%s/%s/%s", dir, e->d_name, name_file);
        tl = read_file(root, rel, type, sizeof(type));
        if (tl < 0)
            continue;
        type[strcspn(type, "\n")] = '\0';
        rank = rank_of(type, pref, npref);
        snprintf(rel, sizeof(rel), "%s/%s/%s", dir, e->d_name, value_file);
        if (read_milli(root, rel, &v) < 0)
            continue;
        if (rank < best_rank || (rank == best_rank && num < best_n)) {
            best_rank = rank;
            best_n = num;
            best_v = v;
        }
    }
    closedir(d);
    if (best_n < 0)
        return -1;
    *c = best_v;
    return 0;
}

int metrics_read_temp(const char *root, bool *has, double *temp_c)
{
    static const char *const zones[] = {"cpu-thermal", "cpu_thermal", "soc_thermal",
                                        "x86_pkg_temp"};
    static const char *const chips[] = {"cpu_thermal", "coretemp", "k10temp", "rp1_adc"};

    *has = false;
    if (pick_sensor(root, "sys/class/thermal", "thermal_zone", "type", "temp", zones, 4,
                    temp_c) == 0 ||
        pick_sensor(root, "sys/class/hwmon", "hwmon", "name", "temp1_input", chips, 4,
                    temp_c) == 0)
        *has = true;
    return 0;
}

/* The firmware's get_throttled file sits under a platform node whose name differs between
 * the Pi 4 (soc/soc:firmware) and the Pi 5; look two levels down for "*firmware*". */
int metrics_read_throttled(const char *root, bool *has, unsigned long *flags)
{
    char path[1024], rel[600], buf[64];
    DIR *d, *d2;
    struct dirent *e, *e2;
    long n;

    *has = false;
    snprintf(path, sizeof(path), "%s/sys/devices/platform", root);
    d = opendir(path);
    if (!d)
        return 0;
    while (!*has && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/sys/devices/platform/%s", root, e->d_name);
        d2 = opendir(path);
        while (d2 && !*has && (e2 = readdir(d2))) {
            if (!strstr(e2->d_name, "firmware"))
                continue;
            snprintf(rel, sizeof(rel), "sys/devices/platform/%s/%s/get_throttled", e->d_name,
                     e2->d_name);
            n = read_file(root, rel, buf, sizeof(buf));
            if (n > 0 && metrics_parse_throttled(buf, (size_t)n, flags) == 0)
                *has = true;
        }
        if (d2)
            closedir(d2);
    }
    closedir(d);
    return 0;
}

int health_collect(struct health *h, const char *root, struct cpu_sample *prev, bool *have_prev)
{
    struct cpu_sample cur;
    struct mem_info m;
    int rc = 0;

    if (metrics_read_cpu(root, &cur) == 0) {
        h->cpu_percent = *have_prev ? metrics_cpu_percent(prev, &cur) : 0;
        *prev = cur;
        *have_prev = true;
    } else {
        rc = -1;
    }
    if (metrics_read_mem(root, &m) == 0) {
        h->ram_total_mb = (long)(m.total_kb / 1024);
        h->ram_used_mb = (long)((m.total_kb - m.avail_kb) / 1024);
        h->ram_percent = 100.0 * (double)(m.total_kb - m.avail_kb) / (double)m.total_kb;
    } else {
        rc = -1;
    }
    metrics_read_temp(root, &h->has_temp, &h->temp_c);
    if (metrics_read_loadavg(root, &h->load1) < 0)
        h->load1 = -1;
    metrics_read_throttled(root, &h->has_throttled, &h->throttled);
    return rc;
}
