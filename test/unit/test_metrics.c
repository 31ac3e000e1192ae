/* SPDX-License-Identifier: MIT */
/*
 * /proc and /sys readers. The parsers run table-driven over inline texts (what kernels write,
 * old kernels' short lines, garbage), each against a guard page and cut at every length; the
 * readers run over the fixture trees under test/data/proc/ (a Pi 4, a Pi 5, a VM without
 * sensors, an old kernel, machines with odd sensors, garbage files).
 */
#include "orion/health.h"
#include "orion/metrics.h"
#include "../guard.h"
#include "../t.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char root[1024];

static const char *fx(const char *name)
{
    const char *top = getenv("ORION_TOP");

    snprintf(root, sizeof(root), "%s/test/data/proc/%s", top ? top : ".", name);
    return root;
}

static bool near(double a, double b) { return fabs(a - b) < 1e-6; }

/* Every prefix of text, each ending at a guard page: no parser may read past its input. */
static void cut_everywhere(const char *text, int (*parse)(const char *, size_t, void *),
                           void *out)
{
    size_t len = strlen(text);
    struct guard g;

    for (size_t n = 0; n <= len; n++) {
        const char *p = guard_place(&g, text, n);
        if (p)
            parse(p, n, out);
        guard_free(&g);
    }
}

static int stat_cb(const char *t, size_t n, void *o) { return metrics_parse_stat(t, n, o); }
static int mem_cb(const char *t, size_t n, void *o) { return metrics_parse_meminfo(t, n, o); }
static int load_cb(const char *t, size_t n, void *o) { return metrics_parse_loadavg(t, n, o); }
static int thr_cb(const char *t, size_t n, void *o) { return metrics_parse_throttled(t, n, o); }
static int milli_cb(const char *t, size_t n, void *o) { return metrics_parse_millideg(t, n, o); }

/* Parse text placed against a guard page, whole. */
static int guarded(int (*parse)(const char *, size_t, void *), const char *text, void *out)
{
    struct guard g;
    const char *p = guard_place(&g, text, strlen(text));
    int rc = p ? parse(p, strlen(text), out) : -99;

    guard_free(&g);
    cut_everywhere(text, parse, out);
    return rc;
}

static const struct {
    const char *name, *text;
    int rc;
    unsigned long long busy, idle;
} stats[] = {
    {"kernel's two-space line", "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0\n",
     0, 10132153ULL + 290696 + 3084719 + 25195, 46828483ULL + 16683},
    {"tabs", "cpu\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\n", 0, 27, 9},
    {"no newline at the end", "cpu 1 2 3 4 5 6 7 8 9 10", 0, 27, 9},
    {"before 2.5.41: 4 fields", "cpu  1 2 3 4\n", 0, 6, 4},
    {"2.5.41: iowait", "cpu  1 2 3 4 5\n", 0, 6, 9},
    {"2.6.0: irq softirq", "cpu  1 2 3 4 5 6 7\n", 0, 19, 9},
    {"2.6.11: steal is busy", "cpu  1 2 3 4 5 6 7 8\n", 0, 27, 9},
    {"guest not counted twice", "cpu  1 2 3 4 5 6 7 8 1000 1000\n", 0, 27, 9},
    {"a future 11th field ignored", "cpu  1 2 3 4 5 6 7 8 9 10 11\n", 0, 27, 9},
    {"only the first line", "cpu  1 2 3 4\ncpu0 9 9 9 9\nintr 5 5\n", 0, 6, 4},
    {"largest counter", "cpu  18446744073709551615 0 0 0\n", 0, 18446744073709551615ULL, 0},
    {"2^64 overflows", "cpu  18446744073709551616 0 0 0\n", -1, 0, 0},
    {"empty", "", -1, 0, 0},
    {"just cpu", "cpu", -1, 0, 0},
    {"blanks up to the end", "cpu  ", -1, 0, 0},
    {"three fields", "cpu  1 2 3\n", -1, 0, 0},
    {"per-CPU line", "cpu0 1 2 3 4\n", -1, 0, 0},
    {"not the cpu line", "cpux 1 2 3 4\n", -1, 0, 0},
    {"cpu line not first", "intr 1\ncpu  1 2 3 4\n", -1, 0, 0},
    {"letters", "cpu  1 2 x 4\n", -1, 0, 0},
    {"glued garbage", "cpu  1 2 3 4x\n", -1, 0, 0},
    {"negative", "cpu  -1 2 3 4\n", -1, 0, 0},
    {"CRLF", "cpu  1 2 3 4\r\n", -1, 0, 0},
    {"blank line first", "\ncpu  1 2 3 4\n", -1, 0, 0},
};

static void test_stat(void)
{
    for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
        struct cpu_sample s;
        int rc = guarded(stat_cb, stats[i].text, &s);
        if (stats[i].rc < 0)
            ok(rc < 0, "stat: %s: refused", stats[i].name);
        else
            ok(rc == 0 && metrics_cpu_busy(&s) == stats[i].busy &&
                   metrics_cpu_idle(&s) == stats[i].idle,
               "stat: %s: busy %llu idle %llu", stats[i].name, stats[i].busy, stats[i].idle);
    }
}

static const struct {
    const char *name;
    struct cpu_sample prev, cur;
    double want;
} pcts[] = {
    {"busy 100 of 200 ticks", {.user = 100, .system = 100, .idle = 800},
     {.user = 150, .system = 150, .idle = 900}, 50},
    {"counters going backwards", {.user = 150, .system = 150, .idle = 900},
     {.user = 100, .system = 100, .idle = 800}, 0},
    {"iowait decreasing does not make it 100 %", {.user = 100, .idle = 800, .iowait = 200},
     {.user = 150, .idle = 810, .iowait = 0}, 100.0 * 50 / 60},
    {"no tick in between", {.user = 5, .idle = 5}, {.user = 5, .idle = 5}, 0},
    {"only idle", {.idle = 5}, {.idle = 500}, 0},
    {"only busy", {.user = 5}, {.user = 50, .irq = 5}, 100},
    {"steal is busy", {0}, {.steal = 10, .idle = 10}, 50},
    {"iowait is idle", {0}, {.user = 10, .iowait = 30}, 25},
    {"guest is inside user", {0}, {.user = 10, .guest = 10, .idle = 10}, 50},
    {"one counter reset, others grow", {.user = 1000}, {.system = 10, .idle = 10}, 50},
    {"huge counters", {0}, {.user = 18446744073709551615ULL, .nice = 18446744073709551615ULL},
     100},
};

static void test_cpu_percent(void)
{
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        double p = metrics_cpu_percent(&pcts[i].prev, &pcts[i].cur);
        ok(fabs(p - pcts[i].want) < 1e-9 && p >= 0 && p <= 100, "cpu %%: %s: %.3f", pcts[i].name,
           p);
    }
}

static const char pi4_meminfo[] = "MemTotal:        7998340 kB\nMemFree:          812344 kB\n"
                                   "MemAvailable:    4799004 kB\nBuffers:          102400 kB\n"
                                   "Cached:          3400000 kB\nSwapCached:         1024 kB\n"
                                   "Active(file):     402180 kB\nSReclaimable:      90000 kB\n";

static const struct {
    const char *name, *text;
    int rc;
    unsigned long long total, avail;
    bool estimated;
} mems[] = {
    {"Pi 4", pi4_meminfo, 0, 7998340, 4799004, false},
    {"no unit, no final newline", "MemTotal: 1000\nMemAvailable: 250", 0, 1000, 250, false},
    {"old kernel: free + buffers + cached + sreclaimable",
     "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 100 kB\nSReclaimable: 25 kB\n",
     0, 1000, 275, true},
    {"old kernel without SReclaimable", "MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 100 kB\n", 0,
     1000, 200, true},
    {"SwapCached is not Cached", "MemTotal: 1000 kB\nMemFree: 100 kB\nSwapCached: 500 kB\n", 0,
     1000, 100, true},
    {"first of a repeated key", "MemTotal: 1000 kB\nMemAvailable: 10 kB\nMemAvailable: 20 kB\n",
     0, 1000, 10, false},
    {"available capped at total", "MemTotal: 10 kB\nMemAvailable: 99 kB\n", 0, 10, 10, false},
    {"saturating sum", "MemTotal: 10 kB\nMemFree: 18446744073709551615 kB\nCached: 5 kB\n", 0, 10,
     10, true},
    {"no MemTotal", "MemFree: 1 kB\nMemAvailable: 1 kB\n", -1, 0, 0, false},
    {"zero total", "MemTotal: 0 kB\nMemAvailable: 0 kB\n", -1, 0, 0, false},
    {"nothing to compute available from", "MemTotal: 10 kB\nBuffers: 1 kB\n", -1, 0, 0, false},
    {"garbage value", "MemTotal: lots kB\nMemAvailable: 1 kB\n", -1, 0, 0, false},
    {"key without colon", "MemTotal 1000 kB\nMemAvailable: 1 kB\n", -1, 0, 0, false},
    {"empty", "", -1, 0, 0, false},
    {"garbage", "\n\n:::\n\xff\xfe", -1, 0, 0, false},
};

static void test_meminfo(void)
{
    struct mem_info m;

    for (size_t i = 0; i < sizeof(mems) / sizeof(mems[0]); i++) {
        int rc = guarded(mem_cb, mems[i].text, &m);
        if (mems[i].rc < 0)
            ok(rc < 0, "meminfo: %s: refused", mems[i].name);
        else
            ok(rc == 0 && m.total_kb == mems[i].total && m.avail_kb == mems[i].avail &&
                   m.estimated == mems[i].estimated,
               "meminfo: %s", mems[i].name);
    }
    metrics_parse_meminfo(pi4_meminfo, strlen(pi4_meminfo), &m);
    is_int(metrics_ram_total_mb(&m), 7810, "Pi 4: total MiB (kB / 1024)");
    is_int(metrics_ram_used_mb(&m), 3124, "Pi 4: used MiB = (total - available) / 1024");
    ok(near(metrics_ram_percent(&m), 100.0 * (7998340 - 4799004) / 7998340.0),
       "Pi 4: ram %% = (total - available) / total * 100");
}

static const struct {
    const char *text;
    int rc;
    double l1, l5, l15;
} loads[] = {
    {"1.52 1.10 0.87 2/312 12345\n", 0, 1.52, 1.10, 0.87},
    {"0.00 0.02 0.00 1/82 30679", 0, 0, 0.02, 0},
    {"12.50 8.25 4.00\n", 0, 12.5, 8.25, 4},
    {"1 2 3", 0, 1, 2, 3},
    {"x 1 2\n", -1, 0, 0, 0},
    {"", -1, 0, 0, 0},
    {"1.0 2.0\n", -1, 0, 0, 0},
    {"-1 2 3\n", -1, 0, 0, 0},
    {"nan 1 2\n", -1, 0, 0, 0},
    {"1 inf 2\n", -1, 0, 0, 0},
    {" 1 2 3\n", -1, 0, 0, 0},
    {"1e7 1 1\n", -1, 0, 0, 0},
    {"1,5 1 1\n", -1, 0, 0, 0},
    {"1 2 3x\n", -1, 0, 0, 0},
};

static const struct {
    const char *text;
    int rc;
    unsigned long flags;
} thrs[] = {
    {"50005\n", 0, 0x50005},     {"0\n", 0, 0},          {"0x50000", 0, 0x50000},
    {"80008\n", 0, 0x80008},     {"eF\n", 0, 0xef},      {"ffffffff\n", 0, 0xffffffffUL},
    {"zz\n", -1, 0},             {"\n", -1, 0},          {"", -1, 0},
    {"123456789\n", -1, 0},      {"0x", -1, 0},          {"5 0005\n", -1, 0},
    {"-1\n", -1, 0},             {"throttled=0x0\n", -1, 0},
};

static const struct {
    const char *text;
    int rc;
    double c;
} millis[] = {
    {"61234\n", 0, 61.234}, {"48750\n", 0, 48.75}, {"-1500\n", 0, -1.5}, {"0", 0, 0},
    {"", -1, 0},            {"hot\n", -1, 0},      {"N/A\n", -1, 0},     {"61234 \n", -1, 0},
    {"-\n", -1, 0},         {"61234\n\n", -1, 0},  {"999999999999999999999\n", -1, 0},
    {"-300000\n", -1, 0},   {"+5\n", -1, 0},
};

static void test_small(void)
{
    struct loadavg l;
    unsigned long f;
    double c;
    char s[200];

    for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
        int rc = guarded(load_cb, loads[i].text, &l);
        ok(loads[i].rc < 0 ? rc < 0
                           : rc == 0 && near(l.load1, loads[i].l1) && near(l.load5, loads[i].l5) &&
                                 near(l.load15, loads[i].l15),
           "loadavg '%.12s': %s", loads[i].text, loads[i].rc < 0 ? "refused" : "three values");
    }
    for (size_t i = 0; i < sizeof(thrs) / sizeof(thrs[0]); i++) {
        int rc = guarded(thr_cb, thrs[i].text, &f);
        ok(thrs[i].rc < 0 ? rc < 0 : rc == 0 && f == thrs[i].flags, "get_throttled '%.10s': %s",
           thrs[i].text, thrs[i].rc < 0 ? "refused" : "read");
    }
    for (size_t i = 0; i < sizeof(millis) / sizeof(millis[0]); i++) {
        int rc = guarded(milli_cb, millis[i].text, &c);
        ok(millis[i].rc < 0 ? rc < 0 : rc == 0 && near(c, millis[i].c), "millidegrees '%.10s': %s",
           millis[i].text, millis[i].rc < 0 ? "refused" : "read");
    }
    metrics_throttle_describe(0x50005, s, sizeof(s));
    is_str(s, "under-voltage now, throttled now, under-voltage has occurred, "
              "throttling has occurred", "0x50005 decoded");
    metrics_throttle_describe(0xa000a | 0x100000, s, sizeof(s));
    is_str(s, "frequency capped now, soft temperature limit now, frequency capping has occurred, "
              "soft temperature limit has occurred, other bits 0x100000", "0xa000a and a new bit");
    metrics_throttle_describe(0, s, sizeof(s));
    is_str(s, "none", "0 is none");
    metrics_throttle_describe(0xf000f, s, 12);
    is_str(s, "under-volta", "truncated to the buffer");
}

static void test_fixtures(void)
{
    struct health h;
    struct cpu_sample prev;
    bool have = false, has;
    double t;
    unsigned long f;
    struct loadavg l;

    health_init(&h);
    ok(health_collect(&h, fx("pi4"), &prev, &have) == 0, "pi4: collect");
    ok(h.has_temp && near(h.temp_c, 61.234), "pi4: cpu-thermal zone, 61234 -> 61.234");
    is_int(h.ram_total_mb, 7810, "pi4: 8 GB in MiB");
    is_int(h.ram_used_mb, 3124, "pi4: used MiB");
    ok(near(h.ram_percent, 100.0 * (7998340 - 4799004) / 7998340.0), "pi4: ram %%");
    ok(near(h.cpu_percent, 100.0 * 13532763 / (13532763 + 46845166.0)),
       "pi4: the first figure is since boot (%.2f)", h.cpu_percent);
    ok(h.has_throttled && h.throttled == 0x50005, "pi4: get_throttled under soc/soc:firmware");
    ok(h.has_load && near(h.load1, 1.52), "pi4: load average");
    health_release(&h);
    ok(metrics_read_loadavg(fx("pi4"), &l) == 0 && near(l.load5, 1.10) && near(l.load15, 0.87),
       "pi4: 5 and 15 minute loads");

    ok(metrics_read_temp(fx("pi5"), &has, &t) == 0 && has && near(t, 48.75),
       "pi5: the CPU zone, not the RP1 chip");
    ok(metrics_read_throttled(fx("pi5"), &has, &f) == 0 && has && f == 0,
       "pi5: firmware node under soc@107c000000 found by search");
    health_init(&h);
    have = false;
    ok(health_collect(&h, fx("pi5"), &prev, &have) == 0 && h.ram_total_mb == 16219,
       "pi5: 16 GB in MiB");
    health_release(&h);

    ok(metrics_read_temp(fx("vm-nosensor"), &has, &t) == 0 && !has,
       "vm: no thermal zone, no hwmon: unknown, not an error");
    ok(metrics_read_throttled(fx("vm-nosensor"), &has, &f) == 0 && !has && f == 0,
       "vm: no throttle flags");
    health_init(&h);
    have = false;
    ok(health_collect(&h, fx("vm-nosensor"), &prev, &have) == 0 && !h.has_temp &&
           !h.has_throttled && h.ram_total_mb == 3921,
       "vm: collect without sensors succeeds");
    health_release(&h);

    ok(metrics_read_temp(fx("hwmon-only"), &has, &t) == 0 && has && near(t, 55.0),
       "hwmon only: coretemp before nvme and rp1_adc");
    ok(metrics_read_temp(fx("rp1-only"), &has, &t) == 0 && has && near(t, -1.5),
       "cpu_thermal unreadable: rp1_adc as the last resort, negative values kept");
    ok(metrics_read_temp(fx("generic-zones"), &has, &t) == 0 && has && near(t, 27.8),
       "unknown zone types: the lowest number that reads (2 before 10), zones before hwmon");
    ok(metrics_read_throttled(fx("throttle-alarm"), &has, &f) == 0 && has &&
           f == THROTTLE_UNDERVOLT_OCCURRED,
       "no get_throttled: rpi_volt in0_lcrit_alarm gives under-voltage occurred");
    ok(metrics_read_throttled(fx("pi4"), &has, &f) == 0 && f == 0x50005,
       "pi4: a quiet alarm adds nothing");

    health_init(&h);
    have = false;
    ok(health_collect(&h, fx("old-kernel"), &prev, &have) == 0 && h.ram_total_mb == 976 &&
           h.ram_used_mb == (1000000 - 400000) / 1024,
       "old kernel: 4-field stat, no MemAvailable");
    ok(!h.has_temp && !h.has_load && h.load1 < 0, "old kernel: no sensor, no loadavg file");
    health_release(&h);
}

static void test_failures(void)
{
    struct health h;
    struct cpu_sample s, prev;
    struct mem_info m;
    struct loadavg l;
    bool have = false, has;
    double t;

    ok(metrics_read_cpu(fx("does-not-exist"), &s) < 0, "missing /proc/stat: an error");
    ok(metrics_read_mem(fx("does-not-exist"), &m) < 0, "missing /proc/meminfo: an error");
    ok(metrics_read_loadavg(fx("old-kernel"), &l) < 0, "missing /proc/loadavg: an error");
    ok(metrics_read_temp(fx("does-not-exist"), &has, &t) == 0 && !has, "missing /sys: unknown");
    health_init(&h);
    ok(health_collect(&h, fx("does-not-exist"), &prev, &have) < 0 && !have,
       "missing /proc: collect fails");
    ok(h.cpu_percent < 0 && h.ram_percent < 0 && h.ram_total_mb == 0 && !h.has_temp,
       "missing /proc: cpu and ram unknown");
    health_release(&h);
    health_init(&h);
    ok(health_collect(&h, fx("garbage"), &prev, &have) < 0 && h.cpu_percent < 0 &&
           h.ram_percent < 0 && !h.has_temp && !h.has_load,
       "garbage files: an error, nothing made up");
    health_release(&h);
}

static int write_file(const char *dir, const char *rel, const char *text)
{
    char path[1200];
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "w");
    if (!f)
        return -1;
    rc = fputs(text, f) < 0 ? -1 : 0;
    return fclose(f) < 0 ? -1 : rc;
}

/* A fixture file's text (static buffer). */
static const char *slurp(const char *name, const char *rel)
{
    static char text[8192];
    char path[1200];
    FILE *f;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/%s", fx(name), rel);
    f = fopen(path, "r");
    if (f) {
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
    }
    text[n] = '\0';
    return text;
}

static void remove_tree(const char *tmp)
{
    char path[200];

    snprintf(path, sizeof(path), "%s/proc/stat", tmp);
    remove(path);
    snprintf(path, sizeof(path), "%s/proc/meminfo", tmp);
    remove(path);
    snprintf(path, sizeof(path), "%s/proc", tmp);
    ok(rmdir(path) == 0 && rmdir(tmp) == 0, "cleanup");
}

/* Two samples make a percentage: the Pi 4's stat, then its stat.2 five seconds later. */
static void test_cpu_over_interval(void)
{
    char tmp[] = "/tmp/orion-metrics-XXXXXX", proc[64];
    struct cpu_sample prev;
    bool have = false;
    struct health h;

    if (!mkdtemp(tmp)) {
        ok(0, "mkdtemp: %s", strerror(errno));
        return;
    }
    snprintf(proc, sizeof(proc), "%s/proc", tmp);
    mkdir(proc, 0700);
    health_init(&h);
    ok(write_file(tmp, "proc/meminfo", pi4_meminfo) == 0 &&
           write_file(tmp, "proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\n") == 0,
       "first sample written");
    health_collect(&h, tmp, &prev, &have);
    ok(have && near(h.cpu_percent, 20), "first: since boot, 200 of 1000 ticks");
    write_file(tmp, "proc/stat", "cpu  200 0 200 1000 0 0 0 0 0 0\n");
    health_collect(&h, tmp, &prev, &have);
    ok(near(h.cpu_percent, 50), "second: 200 busy of 400 ticks in the interval");
    health_collect(&h, tmp, &prev, &have);
    ok(near(h.cpu_percent, 0), "no tick since: 0, no division by zero");
    write_file(tmp, "proc/stat", slurp("pi4", "proc/stat"));
    health_collect(&h, tmp, &prev, &have);
    write_file(tmp, "proc/stat", slurp("pi4", "proc/stat.2"));
    health_collect(&h, tmp, &prev, &have);
    ok(near(h.cpu_percent, 50), "pi4 stat -> stat.2: 300 busy of 600 ticks");
    health_release(&h);
    remove_tree(tmp);
}

int main(void)
{
    test_stat();
    test_cpu_percent();
    test_meminfo();
    test_small();
    test_fixtures();
    test_failures();
    test_cpu_over_interval();
    return done_testing();
}
