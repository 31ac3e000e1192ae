/* SPDX-License-Identifier: MIT */
/*
 * Command line and environment, from one table. Values point into argv, the environment or
 * the table's defaults: nothing is allocated.
 */
#include "orion/conf.h"
#include "orion/log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int conf_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int conf_parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
        *out = true;
    else if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

static void usage_error(const char *prog, const char *fmt, ...) ORION_PRINTF(2, 3) ORION_NORETURN;

static void usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s: try '%s --help'\n", prog, prog);
    exit(ORION_EXIT_USAGE);
}

static void set_value(const struct conf_opt *o, const char *v, const char *prog, const char *from)
{
    long l;
    double d;

    switch (o->type) {
    case CONF_STR:
        *(const char **)o->dst = v;
        return;
    case CONF_INT:
        if (conf_parse_long(v, (long)o->min, (long)o->max, &l) < 0)
            usage_error(prog, "%s: not an integer in the allowed range: '%s'", from, v);
        *(long *)o->dst = l;
        return;
    case CONF_DOUBLE:
        if (conf_parse_double(v, o->min, o->max, &d) < 0)
            usage_error(prog, "%s: not a number in the allowed range: '%s'", from, v);
        *(double *)o->dst = d;
        return;
    case CONF_BOOL:
        if (parse_bool(v, (bool *)o->dst) < 0)
            usage_error(prog, "%s: not a boolean (true/false): '%s'", from, v);
        return;
    }
}

static void print_help(const struct conf_opt *opts, size_t n, const char *prog, const char *summary)
{
    printf("usage: %s [options]\n%s\n\noptions (each also from its environment variable; flags "
           "win):\n",
           prog, summary);
    for (size_t i = 0; i < n; i++) {
        const struct conf_opt *o = &opts[i];
        printf("  --%-20s %s%s%s\n", o->name, o->help, o->type == CONF_BOOL ? " (true/false)" : "",
               "");
        printf("  %-22s env %s%s%s, default: %s\n", "", o->env, o->env2 ? " or " : "",
               o->env2 ? o->env2 : "", o->def ? o->def : "(none)");
    }
    printf("  --%-20s %s\n  --%-20s %s\n  --%-20s %s\n", "help", "this text", "version",
           "version, git commit and target", "check-config", "print the resolved settings and exit");
}

static void print_config(const struct conf_opt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct conf_opt *o = &opts[i];
        switch (o->type) {
        case CONF_STR: {
            const char *v = *(const char **)o->dst;
            printf("%s=%s\n", o->name, !v ? "" : o->secret ? "(set)" : v);
            break;
        }
        case CONF_INT:
            printf("%s=%ld\n", o->name, *(long *)o->dst);
            break;
        case CONF_DOUBLE:
            printf("%s=%g\n", o->name, *(double *)o->dst);
            break;
        case CONF_BOOL:
            printf("%s=%s\n", o->name, *(bool *)o->dst ? "true" : "false");
            break;
        }
    }
}

static const struct conf_opt *find_opt(const struct conf_opt *opts, size_t n, const char *name,
                                       size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
            return &opts[i];
    return NULL;
}

void conf_parse(const struct conf_opt *opts, size_t n, int argc, char **argv, const char *prog,
                const char *summary)
{
    bool check = false;

    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(opts[i].env);
        if ((!v || !*v) && opts[i].env2)
            v = getenv(opts[i].env2);
        if (opts[i].def)
            set_value(&opts[i], opts[i].def, prog, opts[i].name);
        else if (opts[i].type == CONF_STR)
            *(const char **)opts[i].dst = NULL;
        if (v && *v)
            set_value(&opts[i], v, prog, opts[i].env2 && !getenv(opts[i].env) ? opts[i].env2 : opts[i].env);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *v;
        const struct conf_opt *o;
        size_t len;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_help(opts, n, prog, summary);
            exit(0);
        }
        if (!strcmp(a, "--version")) {
            printf("%s %s (commit %s, %s)\n", prog, ORION_VERSION, ORION_COMMIT, ORION_TRIPLE);
            exit(0);
        }
        if (!strcmp(a, "--check-config")) {
            check = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            usage_error(prog, "unexpected argument '%s'%s", a, "");
        a += 2;
        eq = strchr(a, '=');
        len = eq ? (size_t)(eq - a) : strlen(a);
        o = find_opt(opts, n, a, len);
        if (!o)
            usage_error(prog, "unknown option '--%s'%s", a, "");
        if (eq) {
            v = eq + 1;
        } else if (o->type == CONF_BOOL && (i + 1 >= argc || argv[i + 1][0] == '-')) {
            v = "true";
        } else {
            if (i + 1 >= argc)
                usage_error(prog, "option '--%s' needs a value%s", o->name, "");
            v = argv[++i];
        }
        set_value(o, v, prog, o->name);
    }
    if (check) {
        print_config(opts, n);
        exit(0);
    }
}

void conf_apply_log(const struct conf_common *c, const char *prog)
{
    int lvl = log_parse_level(c->log_level);

    if (lvl < 0)
        usage_error(prog, "log-level: want error, warning, info or debug, not '%s'%s", c->log_level,
                    "");
    if (strcmp(c->log_format, "text") && strcmp(c->log_format, "json"))
        usage_error(prog, "log-format: want text or json, not '%s'%s", c->log_format, "");
    log_init(prog, lvl, !strcmp(c->log_format, "json"));
}
