/* SPDX-License-Identifier: MIT */
/*
 * route_union: tables of name lists (spellings of one model, order of first
 * appearance, names that cannot be normalised), and 60 000 names from 100
 * nodes, whose union a quadratic scan would take minutes to find.
 */
#include "../t.h"
#include "orion/route_union.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 8

static const struct {
  const char *in[MAXN];
  const char *want; /* the kept names joined by ' ' */
  const char *what;
} cases[] = {
    {{NULL}, "", "no names"},
    {{"gemma3:1b"}, "gemma3:1b", "one name"},
    {{"gemma3:1b", "gemma3:1b"}, "gemma3:1b", "the same name twice"},
    {{"llama3", "Llama3:latest", "library/llama3"},
     "llama3",
     "three spellings of one model"},
    {{"b:1", "a:1", "b:1", "c:1", "a:1"},
     "b:1 a:1 c:1",
     "first appearance keeps its place"},
    {{"qwen2.5:0.5b", "qwen2.5:1.5b", "QWEN2.5:0.5B"},
     "qwen2.5:0.5b qwen2.5:1.5b",
     "tags differ: two models"},
    {{"", "x", ""}, " x", "an empty name is kept once"},
    {{"registry.ollama.ai/library/phi3:mini", "phi3:mini", "phi3"},
     "registry.ollama.ai/library/phi3:mini phi3",
     "the registry's spelling is the same model, another tag is not"},
};

static void test_table(void) {
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    const char *names[MAXN];
    char got[512] = "";
    size_t n = 0;

    while (n < MAXN && cases[c].in[n])
      n++;
    memcpy(names, cases[c].in, n * sizeof(*names));
    ok(route_union(names, &n) == 0, "%s: returns 0", cases[c].what);
    for (size_t i = 0; i < n; i++) {
      if (i)
        strcat(got, " ");
      strcat(got, names[i]);
    }
    is_str(got, cases[c].want, "%s", cases[c].what);
  }
}

/* 100 nodes, each with 600 names of which 300 are shared by all and 300 its own
 */
static void test_many(void) {
  enum { NODES = 100, SHARED = 300, OWN = 300 };
  size_t n = (size_t)NODES * (SHARED + OWN), k = 0, bad = 0;
  char *text = malloc(n * 24);
  const char **names = malloc(n * sizeof(*names));

  if (!text || !names) {
    ok(0, "memory for the big case");
    free(text);
    free(names);
    return;
  }
  for (int node = 0; node < NODES; node++) {
    for (int m = 0; m < SHARED + OWN; m++, k++) {
      char *s = text + k * 24;

      if (m < SHARED)
        snprintf(s, 24, node % 2 ? "Shared%d" : "shared%d:latest", m);
      else
        snprintf(s, 24, "own%d-%d:q4", node, m);
      names[k] = s;
    }
  }
  ok(route_union(names, &n) == 0, "60000 names: returns 0");
  is_int(n, SHARED + (size_t)NODES * OWN,
         "60000 names: the shared ones once, every own one");
  for (size_t i = 0; i < SHARED && i < n; i++) {
    char want[24];

    snprintf(want, sizeof(want), "shared%zu:latest", i);
    bad += strcmp(names[i], want) != 0;
  }
  is_int(bad, 0,
         "60000 names: the shared names first, as node 0 spelt them, in its "
         "order");
  free(text);
  free(names);
}

int main(void) {
  test_table();
  test_many();
  return done_testing();
}
