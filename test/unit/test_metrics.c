/* SPDX-License-Identifier: MIT */
/* /proc and /sys readers: parsers on inline texts (good, old kernels, garbage) and the fixture
 * trees of a Pi 4, a Pi 5, a VM without sensors, an old kernel and a hwmon-only machine. */
#include "orion/metrics.h"
#include "../t.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static char root[1024];

static const char *fx(const char *name)
{
    const char *top = getenv("ORION_TOP");

    snprintf(root, sizeof(root), "%s/test/data/proc/%s", top ? top : ".", name);
    return root;
}

static bool near(double a, double b) { return fabs(a - b) < 1e-6; }

static void test_stat(void)
{
    struct cpu_sample a, b;
    const char *l1 = "cpu  100 0 100 800 0 0 0 0 0 0\n", *l2 = "cpu  150 0 150 900 0 0 0 0 0 0\n";

    ok(metrics_parse_stat(l1, strlen(l1), &a) == 0, "two-space cpu line parses");
    ok(metrics_parse_stat(l2, strlen(l2), &b) == 0, "second sample");
    ok(near(metrics_cpu_percent(&a, &b), 50.0), "busy 100 of 200 ticks: 50 %%");
    ok(near(metrics_cpu_percent(&b, &a), 0.0), "counters going backwards: 0 %%");
    ok(metrics_parse_stat("cpu 1 2 3 4\n", 12, &a) == 0 && a.busy == 6 && a.total == 10,
       "old kernel: four fields");
    ok(metrics_parse_stat("cpu 1 2 3 4 5 6 7 8 9 10\n", 25, &a) == 0 && a.busy == 1 + 2 + 3 + 6 + 7 + 8,
       "guest and guest_nice not counted twice, steal busy, iowait idle");
    ok(metrics_parse_stat("cpu 1 2\n", 8, &a) < 0, "too few fields");
    ok(metrics_parse_stat("cpux 1 2 3 4\n", 13, &a) < 0, "not the cpu line");
    ok(metrics_parse_stat("cpu 1 2 x 4\n", 12, &a) < 0, "garbage number");
    ok(metrics_parse_stat("", 0, &a) < 0, "empty");
    ok(metrics_parse_stat("cpu  ", 5, &a) < 0, "blanks up to the end of input (found by fuzzing)");
    ok(metrics_parse_stat("cpu 99999999999999999999999 1 1 1\n", 34, &a) < 0, "overflow");
}

static void test_meminfo(void)
{
    struct mem_info m;
    const char *t = "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n";
    const char *old = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 100 kB\nSReclaimable: 25 kB\n";

    ok(metrics_parse_meminfo(t, strlen(t), &m) == 0 && m.total_kb == 1000 && m.avail_kb == 250,
       "MemAvailable used");
    ok(metrics_parse_meminfo(old, strlen(old), &m) == 0 && m.avail_kb == 275,
       "without MemAvailable: free + buffers + cached + sreclaimable");
    ok(metrics_parse_meminfo("MemFree: 1 kB\n", 14, &m) < 0, "no MemTotal");
    ok(metrics_parse_meminfo("MemTotal: 0 kB\nMemAvailable: 0 kB\n", 33, &m) < 0, "zero total");
    ok(metrics_parse_meminfo("MemTotal: 10 kB\n", 16, &m) < 0, "nothing to compute available");
    ok(metrics_parse_meminfo("MemTotal: 10 kB\nMemAvailable: 99 kB\n", 36, &m) == 0 &&
           m.avail_kb == 10, "available capped at total");
}

static void test_small(void)
{
    double l;
    unsigned long f;

    ok(metrics_parse_loadavg("1.52 1.10 0.87 2/312 12345\n", 27, &l) == 0 && near(l, 1.52), "loadavg");
    ok(metrics_parse_loadavg("x 1 2\n", 6, &l) < 0, "bad loadavg");
    ok(metrics_parse_throttled("50005\n", 6, &f) == 0 && f == 0x50005, "throttled bare hex");
    ok(metrics_parse_throttled("0x50000", 7, &f) == 0 && f == 0x50000, "throttled with 0x");
    ok(metrics_parse_throttled("zz\n", 3, &f) < 0, "bad throttled");
    ok(metrics_parse_throttled("\n", 1, &f) < 0, "empty throttled");
    ok(metrics_parse_throttled("123456789", 9, &f) < 0, "too many digits");
}

static void test_fixtures(void)
{
    struct health h;
    struct cpu_sample prev;
    bool have = false, has;
    double t;
    unsigned long f;

    health_init(&h);
    ok(health_collect(&h, fx("pi4"), &prev, &have) == 0, "pi4: collect");
    ok(h.has_temp && near(h.temp_c, 61.234), "pi4: cpu-thermal zone, millidegrees -> 61.234");
    is_int(h.ram_total_mb, 7810, "pi4: total MiB");
    ok(near(h.ram_percent, 100.0 * (7998340 - 4799004) / 7998340.0), "pi4: ram %% = (total - available) / total");
    ok(near(h.cpu_percent, 0), "pi4: first sample reports 0 %% cpu");
    ok(h.has_throttled && h.throttled == 0x50005, "pi4: get_throttled found under soc:firmware");
    ok(near(h.load1, 1.52), "pi4: load average");
    health_release(&h);

    ok(metrics_read_temp(fx("pi5"), &has, &t) == 0 && has && near(t, 48.75),
       "pi5: the CPU zone, not the RP1 chip");
    ok(metrics_read_throttled(fx("pi5"), &has, &f) == 0 && has && f == 0, "pi5: firmware node found by search");
    ok(metrics_read_temp(fx("vm-nosensor"), &has, &t) == 0 && !has, "vm: no sensor is not an error");
    ok(metrics_read_throttled(fx("vm-nosensor"), &has, &f) == 0 && !has, "vm: no throttle flags");
    ok(metrics_read_temp(fx("hwmon-only"), &has, &t) == 0 && has && near(t, 55.0),
       "hwmon only: a CPU chip before rp1_adc");
    health_init(&h);
    have = false;
    ok(health_collect(&h, fx("old-kernel"), &prev, &have) == 0 && h.ram_total_mb == 976,
       "old kernel without MemAvailable");
    ok(!h.has_temp && h.load1 < 0, "old kernel: no temperature, no loadavg file");
    health_release(&h);
    health_init(&h);
    have = false;
    ok(health_collect(&h, fx("does-not-exist"), &prev, &have) < 0, "missing /proc: an error");
    health_release(&h);
}

static void test_cpu_over_interval(void)
{
    char cmd[2200], tmp[] = "/tmp/orion-metrics-XXXXXX";
    struct cpu_sample prev;
    bool have = false;
    struct health h;

    if (!mkdtemp(tmp)) {
        ok(0, "mkdtemp");
        return;
    }
    snprintf(cmd, sizeof(cmd), "cp -r '%s/proc' '%s/'", fx("pi4"), tmp);
    ok(system(cmd) == 0, "copy fixture");
    health_init(&h);
    health_collect(&h, tmp, &prev, &have);
    snprintf(cmd, sizeof(cmd), "cp '%s/proc/stat.2' '%s/proc/stat'", fx("pi4"), tmp);
    ok(system(cmd) == 0, "second sample");
    health_collect(&h, tmp, &prev, &have);
    ok(near(h.cpu_percent, 100.0 * 300 / 600), "cpu %% over the interval: 300 busy of 600 ticks");
    health_release(&h);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    ok(system(cmd) == 0, "cleanup");
}

int main(void)
{
    test_stat();
    test_meminfo();
    test_small();
    test_fixtures();
    test_cpu_over_interval();
    return done_testing();
}
