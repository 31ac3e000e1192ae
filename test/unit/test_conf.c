/* SPDX-License-Identifier: MIT */
/* Configuration: defaults < environment < flags, both flag forms, strict numbers. Errors
 * exit 100; those are checked in the integration suite (they end the process). */
#include "orion/conf.h"
#include "../t.h"

#include <stdlib.h>

int main(void)
{
    const char *addr = NULL, *url = NULL;
    long n = 0;
    double d = 0;
    bool b = false;
    struct conf_opt opts[] = {
        {"redis-addr", "T_ADDR", CONF_STR, "127.0.0.1:6379", "addr", 0, 0, &addr, NULL, false},
        {"parallel", "T_PAR", CONF_INT, "1", "n", 1, 64, &n, NULL, false},
        {"max-temp", "T_TEMP", CONF_DOUBLE, "75", "t", 0, 200, &d, NULL, false},
        {"drain", "T_DRAIN", CONF_BOOL, "false", "b", 0, 0, &b, NULL, false},
        {"ollama-url", "T_URL", CONF_STR, "http://127.0.0.1:11434", "u", 0, 0, &url, "T_HOST", false},
    };
    char a0[] = "prog", a1[] = "--parallel", a2[] = "4", a3[] = "--max-temp=70.5", a4[] = "--drain";
    char *argv1[] = {a0, NULL};
    char *argv2[] = {a0, a1, a2, a3, a4, NULL};

    conf_parse(opts, 5, 1, argv1, "prog", "test");
    is_str(addr, "127.0.0.1:6379", "default string");
    is_int(n, 1, "default int");
    ok(d == 75 && !b, "default double and bool");
    setenv("T_PAR", "8", 1);
    setenv("T_HOST", "10.0.0.5:11434", 1);
    conf_parse(opts, 5, 1, argv1, "prog", "test");
    is_int(n, 8, "environment over default");
    is_str(url, "10.0.0.5:11434", "second environment variable (OLLAMA_HOST style)");
    setenv("T_URL", "http://x:1", 1);
    conf_parse(opts, 5, 1, argv1, "prog", "test");
    is_str(url, "http://x:1", "first variable wins over the second");
    conf_parse(opts, 5, 5, argv2, "prog", "test");
    is_int(n, 4, "flag over environment");
    ok(d == 70.5, "--name=value form");
    ok(b, "bare boolean flag");
    ok(conf_parse_long("12", 0, 100, &n) == 0 && n == 12, "strict long");
    ok(conf_parse_long("12x", 0, 100, &n) < 0, "trailing junk rejected");
    ok(conf_parse_long("", 0, 100, &n) < 0, "empty rejected");
    ok(conf_parse_long("101", 0, 100, &n) < 0, "out of range rejected");
    ok(conf_parse_double("nan", 0, 100, &d) < 0, "nan rejected");
    ok(conf_parse_double("1e3", 0, 100, &d) < 0, "range checked for doubles");
    return done_testing();
}
