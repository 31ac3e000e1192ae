/* SPDX-License-Identifier: MIT */
/*
 * placement: a good file (the seeds' cluster), every error with its line, glob matching of
 * model names, node conditions, and loading from a file.
 */
#include "orion/buf.h"
#include "orion/placement.h"
#include "../t.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define L(...)                                                                                     \
    ((const char *const[]){__VA_ARGS__}),                                                          \
        (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static struct placement P; /* big: keep it off the stack */

static int parse(const char *text, char *err, size_t errlen)
{
    return placement_parse(&P, "p.conf", text, strlen(text), err, errlen);
}

static const char seeds[] =
    "# ORION placement for the seeds' cluster\r\n"
    "node robot exclude            # 4 GB robot node: no LLM work\n"
    "\n"
    "model *:27b* only min_ram_mb=15000\n"
    "\tmodel llava*   only labels=vision\n"
    "model Registry.Ollama.AI/Library/Gemma3 exclude node=worker*\n"
    "node * exclude labels=maintenance,manual\n"
    "model big exclude"; /* no final newline; no condition: runs nowhere */

static void test_good(void)
{
    char err[160] = "";

    ok(parse(seeds, err, sizeof(err)) == 0, "seeds file parses (%s)", err);
    is_int(P.n, 6, "six rules");
    is_int(P.rule[0].line, 2, "rule 1 line");
    is_int(P.rule[0].action, PLACEMENT_EXCLUDE, "node rule: exclude");
    is_str(P.rule[0].node, "robot", "node rule: node pattern");
    is_str(P.rule[0].model, "*", "node rule: every model");
    is_int(P.rule[1].line, 4, "rule 2 line (blank line skipped)");
    is_int(P.rule[1].action, PLACEMENT_ONLY, "only");
    is_int(P.rule[1].min_ram_mb, 15000, "min_ram_mb");
    is_str(P.rule[2].model, "llava*", "leading tab and blanks");
    is_int(P.rule[2].nlabels, 1, "one label");
    is_str(P.rule[2].labels[0], "vision", "label");
    is_str(P.rule[3].model, "gemma3", "model pattern: registry and library dropped, lower case");
    is_str(P.rule[3].node, "worker*", "node= condition");
    is_int(P.rule[4].nlabels, 2, "two labels");
    is_str(P.rule[4].labels[1], "manual", "second label");
    is_int(P.rule[5].line, 8, "last line without newline");
    ok(parse("", err, sizeof(err)) == 0 && P.n == 0, "empty file");
    ok(parse("# only a comment\n\n   \n", err, sizeof(err)) == 0 && P.n == 0, "comments only");
    ok(parse("model a#b exclude labels=x#y # comment\n", err, sizeof(err)) == 0 &&
           strcmp(P.rule[0].model, "a#b") == 0 && strcmp(P.rule[0].labels[0], "x#y") == 0,
       "'#' inside a word is not a comment");
}

static void test_allows(void)
{
    const struct {
        const char *node;
        const char *const *labels;
        size_t nlabels;
        unsigned long ram;
        const char *model;
        bool want;
        size_t rule;
    } cases[] = {
        {"robot", NULL, 0, 3800, "gemma3:latest", false, 0},
        {"robot", NULL, 0, 3800, "tinyllama:latest", false, 0},
        {"master", NULL, 0, 15800, "gemma3:27b", true, 0},
        {"worker", NULL, 0, 7800, "gemma3:27b", false, 1},
        {"master", NULL, 0, 0, "qwen3:27b-q4", false, 1},
        {"master", NULL, 0, 15800, "llava:latest", false, 2},
        {"master", L("gpu", "vision"), 15800, "llava:7b", true, 0},
        {"worker1", NULL, 0, 7800, "gemma3:latest", false, 3},
        {"worker1", NULL, 0, 7800, "gemma3:4b", true, 0},
        {"master", NULL, 0, 15800, "gemma3:latest", true, 0},
        {"master", L("maintenance", "manual"), 15800, "phi3:latest", false, 4},
        {"master", L("maintenance"), 15800, "phi3:latest", true, 0},
        {"master", NULL, 0, 15800, "phi3:latest", true, 0},
        {"master", NULL, 0, 15800, "big:latest", false, 5},
    };
    char err[160];
    size_t idx;
    bool got;

    parse(seeds, err, sizeof(err));
    for (size_t i = 0; i < ELEMS(cases); i++) {
        idx = 99;
        got = placement_allows(&P, cases[i].node, cases[i].labels, cases[i].nlabels,
                               cases[i].ram, cases[i].model, &idx);
        is_int(got, cases[i].want, "allows %s on %s", cases[i].model, cases[i].node);
        if (!cases[i].want)
            is_int(idx, cases[i].rule, "%s on %s: refusing rule", cases[i].model, cases[i].node);
    }
    ok(placement_allows(NULL, "robot", NULL, 0, 0, "gemma3:latest", NULL), "no rules: allowed");
    ok(!placement_allows(&P, "robot", NULL, 0, 0, "gemma3:latest", NULL), "rule_index optional");
}

static void test_globs(void)
{
    static const struct {
        const char *pattern, *key;
        bool match;
    } cases[] = {
        {"gemma3", "gemma3:latest", true},
        {"gemma3", "gemma3:4b", false},
        {"gemma3:latest", "gemma3:latest", true},
        {"gemma3*", "gemma3:4b", true},
        {"gemma3*", "gemma3n:e2b", true},
        {"gemma3:*", "gemma3:latest", true},
        {"gemma3:*", "gemma3n:e2b", false},
        {"*", "hf.co/u/m:q4_k_m", true},
        {"hf.co/*", "hf.co/u/m:q4_k_m", true},
        {"hf.co/u/m", "hf.co/u/m:latest", true},
        {"hf.co/u/m", "hf.co/u/m:q4", false},
        {"registry.ollama.ai/library/Gemma3", "gemma3:latest", true},
        {"library/llama3.2:3b", "llama3.2:3b", true},
        {"qwen3:[48]b", "qwen3:4b", true},
        {"qwen3:[48]b", "qwen3:14b", false},
        {"QWEN3:?B", "qwen3:8b", true},
        {"phi3", "phi3.5:latest", false},
    };
    char text[128], err[160];

    for (size_t i = 0; i < ELEMS(cases); i++) {
        snprintf(text, sizeof(text), "model %s exclude\n", cases[i].pattern);
        ok(parse(text, err, sizeof(err)) == 0, "glob '%s' parses", cases[i].pattern);
        is_int(!placement_allows(&P, "n", NULL, 0, 8000, cases[i].key, NULL), cases[i].match,
               "glob '%s' vs '%s'", cases[i].pattern, cases[i].key);
    }
}

static void test_errors(void)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"foo x only\n", "p.conf:1: unknown directive 'foo' (expected 'model' or 'node')"},
        {"\n# c\nmodel x only foo=1\n", "p.conf:3: unknown key 'foo'"},
        {"model x\n", "p.conf:1: expected 'model PATTERN only|exclude'"},
        {"node\n", "p.conf:1: expected 'node PATTERN exclude'"},
        {"model x maybe\n", "p.conf:1: unknown action 'maybe' (expected 'only' or 'exclude')"},
        {"node x only labels=a\n", "p.conf:1: unknown action 'only' (expected 'exclude')"},
        {"model x only\n", "p.conf:1: 'only' needs node=, labels= or min_ram_mb="},
        {"model x only labels\n", "p.conf:1: expected key=value, got 'labels'"},
        {"model x only labels=a labels=b\n", "p.conf:1: duplicate key 'labels'"},
        {"node x exclude node=y\n", "p.conf:1: node= is not allowed in a node rule"},
        {"model x only node=\n", "p.conf:1: empty node pattern"},
        {"model x only labels=a,,b\n", "p.conf:1: empty label"},
        {"model x only labels=\n", "p.conf:1: empty label"},
        {"model x only labels=a,\n", "p.conf:1: empty label"},
        {"model x only labels=1,2,3,4,5,6,7,8,9\n", "p.conf:1: too many labels (max 8)"},
        {"model x only labels=123456789012345678901234567890123\n",
         "p.conf:1: label too long (max 32 bytes)"},
        {"model x only min_ram_mb=abc\n", "p.conf:1: bad number 'abc' for min_ram_mb"},
        {"model x only min_ram_mb=0\n", "p.conf:1: bad number '0' for min_ram_mb"},
        {"model x only min_ram_mb=12x\n", "p.conf:1: bad number '12x' for min_ram_mb"},
        {"model x only min_ram_mb=\n", "p.conf:1: bad number '' for min_ram_mb"},
        {"model x only min_ram_mb=-5\n", "p.conf:1: bad number '-5' for min_ram_mb"},
        {"model x only min_ram_mb=99999999999999999999999\n",
         "p.conf:1: bad number '99999999999999999999999' for min_ram_mb"},
        {"model library/ only labels=a\n", "p.conf:1: empty model pattern"},
        {"model x exclude a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11 l=12 m=13 n=14\n",
         "p.conf:1: too many words (max 16)"},
        {"model x exclude\nmodel y only labels=a\nnode z exclude labels=b,c node=q\n",
         "p.conf:3: node= is not allowed in a node rule"},
    };
    char err[160], *big;
    size_t n;

    for (size_t i = 0; i < ELEMS(cases); i++) {
        err[0] = '\0';
        errno = 0;
        ok(parse(cases[i].text, err, sizeof(err)) == -1 && errno == EINVAL, "error %zu fails", i);
        is_str(err, cases[i].err, "error %zu message", i);
        is_int(P.n, 0, "error %zu leaves no rules", i);
    }
    ok(placement_parse(&P, "p.conf", "model x exclude\nmodel \0 exclude\n", 32, err,
                       sizeof(err)) == -1, "NUL byte fails");
    is_str(err, "p.conf:2: NUL byte", "NUL byte message");
    big = orion_malloc(80 * ORION_PLACEMENT_MAX_RULES + 4096);
    n = 0;
    for (int i = 0; i <= ORION_PLACEMENT_MAX_RULES; i++)
        n += (size_t)snprintf(big + n, 80, "model m%d exclude\n", i);
    ok(parse(big, err, sizeof(err)) == -1, "too many rules fails");
    is_str(err, "p.conf:65: too many rules (max 64)", "too many rules message");
    memset(big, 'x', ORION_PLACEMENT_MAX_LINE + 1);
    memcpy(big, "model ", 6);
    big[ORION_PLACEMENT_MAX_LINE + 1] = '\0';
    ok(parse(big, err, sizeof(err)) == -1, "long line fails");
    is_str(err, "p.conf:1: line too long (max 1024 bytes)", "long line message");
    memcpy(big + 6 + 300, " exclude", 9);
    ok(parse(big, err, sizeof(err)) == -1, "long pattern fails");
    is_str(err, "p.conf:1: too long a model pattern", "long pattern message");
    memcpy(big, "node ", 5);
    memset(big + 5, 'n', 80);
    memcpy(big + 85, " exclude", 9);
    ok(parse(big, err, sizeof(err)) == -1, "long node pattern fails");
    is_str(err, "p.conf:1: too long a node pattern", "long node pattern message");
    orion_free(big);
    ok(placement_parse(&P, NULL, "x\n", 2, err, sizeof(err)) == -1 &&
           strncmp(err, "placement:1: ", 13) == 0,
       "no name: 'placement'");
    ok(placement_parse(&P, "p", "x\n", 2, NULL, 0) == -1, "no error buffer");
}

static void test_load(void)
{
    char path[] = "/tmp/orion-placement-XXXXXX", err[256], want[256];
    char *big;
    int fd = mkstemp(path);
    FILE *f;

    ok(fd >= 0, "temp file");
    f = fdopen(fd, "w");
    fputs(seeds, f);
    fclose(f);
    ok(placement_load(&P, path, err, sizeof(err)) == 0 && P.n == 6, "load the seeds file");
    orion_alloc_fail_at(1);
    ok(placement_load(&P, path, err, sizeof(err)) == -1 && P.n == 0, "load: out of memory");
    orion_alloc_fail_at(0);
    big = orion_calloc(1, ORION_PLACEMENT_MAX_FILE + 1);
    memset(big, '\n', ORION_PLACEMENT_MAX_FILE + 1);
    f = fopen(path, "w");
    fwrite(big, 1, ORION_PLACEMENT_MAX_FILE + 1, f);
    fclose(f);
    orion_free(big);
    ok(placement_load(&P, path, err, sizeof(err)) == -1, "load: too large");
    snprintf(want, sizeof(want), "%s: too large (max 65536 bytes)", path);
    is_str(err, want, "load: too large message");
    f = fopen(path, "w");
    fputs("model x only\n", f);
    fclose(f);
    ok(placement_load(&P, path, err, sizeof(err)) == -1, "load: bad rule");
    snprintf(want, sizeof(want), "%s:1: 'only' needs node=, labels= or min_ram_mb=", path);
    is_str(err, want, "load: message names the file and line");
    unlink(path);
    ok(placement_load(&P, path, err, sizeof(err)) == -1, "load: missing file");
    snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
    is_str(err, want, "load: missing file message");
}

int main(void)
{
    test_good();
    test_allows();
    test_globs();
    test_errors();
    test_load();
    return done_testing();
}
