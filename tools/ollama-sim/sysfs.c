/* SPDX-License-Identifier: MIT */
/*
 * sysfs: a fake Raspberry Pi under --sysfs-root, rewritten every 500 ms, each file through a
 * temporary name and rename() so readers never see half a file: proc/meminfo (used RAM grows
 * with the loaded models), proc/stat (4 CPUs; busy while loading or generating), proc/loadavg,
 * and sys/class/thermal/thermal_zone0/{type,temp} (heats while busy, cools when idle, each
 * tick a step of 1 - e^(-0.5 s / tau) of the way to --temp-busy or --temp-idle; the defaults,
 * 78 and 45 C with tau 6 s, heat an uncooled node past 75 C within 15 s of work; POST
 * /sim/temp pins it).
 */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#define TICK_MS 500
#define NCPU 4

static int mkdirs(const char *root, const char *rel)
{
    char p[4096];
    size_t i, n = (size_t)snprintf(p, sizeof p, "%s/%s", root, rel);

    for (i = 1; i <= n && i < sizeof p; i++)
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];

            p[i] = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -1;
            p[i] = c;
        }
    return 0;
}

static int put(const struct sim *s, const char *rel, const char *text)
{
    char path[4096], tmp[4200];
    FILE *f;
    int rc;

    snprintf(path, sizeof path, "%s/%s", s->sysfs_root, rel);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!(f = fopen(tmp, "w")))
        return -1;
    rc = fputs(text, f) < 0;
    rc |= fclose(f) != 0;
    return rc ? -1 : rename(tmp, path);
}

static void write_meminfo(const struct sim *s)
{
    char t[512];
    long long total = s->ram_mb * 1024LL, used = 350 * 1024LL + sim_ram_used(s) / 1024;
    long long avail = used < total ? total - used : 0;

    snprintf(t, sizeof t,
             "MemTotal:       %8lld kB\nMemFree:        %8lld kB\nMemAvailable:   %8lld kB\n"
             "Buffers:        %8lld kB\nCached:         %8lld kB\nSwapCached:            0 kB\n"
             "SwapTotal:       102384 kB\nSwapFree:        102384 kB\n",
             total, avail * 3 / 4, avail, 20480LL, avail / 4);
    put(s, "proc/meminfo", t);
}

static void write_stat(struct sim *s)
{
    char t[1024];
    int n, i, busy = sim_busy(s) > 0;
    unsigned long long u, idle;

    s->cpu_busy += busy ? NCPU * 45 : NCPU * 1;
    s->cpu_idle += busy ? NCPU * 5 : NCPU * 49;
    u = s->cpu_busy;
    idle = s->cpu_idle;
    n = snprintf(t, sizeof t, "cpu  %llu 0 %llu %llu 0 0 %llu 0 0 0\n", u * 9 / 10, u / 10 - u / 100, idle,
                 u / 100);
    for (i = 0; i < NCPU && n < (int)sizeof t; i++)
        n += snprintf(t + n, sizeof t - (size_t)n, "cpu%d %llu 0 %llu %llu 0 0 %llu 0 0 0\n", i,
                      u * 9 / 10 / NCPU, (u / 10 - u / 100) / NCPU, idle / NCPU, u / 100 / NCPU);
    if (n < (int)sizeof t)
        snprintf(t + n, sizeof t - (size_t)n, "intr 0\nctxt %llu\nbtime 1755500000\nprocesses 1000\n"
                                             "procs_running %d\nprocs_blocked 0\n", u * 7, busy ? 5 : 1);
    put(s, "proc/stat", t);
}

static void write_thermal_load(struct sim *s)
{
    char t[128];
    int busy = sim_busy(s) > 0;

    s->temp_c += ((busy ? s->temp_busy : s->temp_idle) - s->temp_c) *
                 (1 - exp(-TICK_MS / 1000.0 / s->temp_tau));
    s->load1 += ((busy ? 4.0 : 0.05) - s->load1) * 0.08; /* ~ 1-minute decay at 2 Hz */
    snprintf(t, sizeof t, "%.2f %.2f %.2f %d/180 4242\n", s->load1, s->load1 * 0.8, s->load1 * 0.6,
             busy ? 5 : 1);
    put(s, "proc/loadavg", t);
    snprintf(t, sizeof t, "%ld\n", (long)((s->temp_forced ? s->forced_c : s->temp_c) * 1000));
    put(s, "sys/class/thermal/thermal_zone0/temp", t);
}

static long tick(struct loop *l, void *arg)
{
    struct sim *s = arg;

    (void)l;
    write_meminfo(s);
    write_stat(s);
    write_thermal_load(s);
    return TICK_MS;
}

int sysfs_start(struct sim *s)
{
    if (mkdirs(s->sysfs_root, "proc") < 0 || mkdirs(s->sysfs_root, "sys/class/thermal/thermal_zone0") < 0)
        return -1;
    s->temp_c = s->temp_idle;
    s->cpu_idle = 100000;
    s->cpu_busy = 10000;
    if (put(s, "sys/class/thermal/thermal_zone0/type", "cpu-thermal\n") < 0)
        return -1;
    tick(s->l, s);
    return loop_timer(s->l, TICK_MS, tick, s) ? 0 : -1;
}
