/* SPDX-License-Identifier: MIT */
/* route_union: each model once over many lists of names, by sorting their keys.
 */
#include "orion/route_union.h"

#include "orion/buf.h"
#include "orion/route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct item {
  const char
      *key;   /* the normalised name, or the name itself when it has none */
  size_t pos; /* where it stood: ties keep the first */
};

static int item_cmp(const void *pa, const void *pb) {
  const struct item *a = pa, *b = pb;
  int c = strcmp(a->key, b->key);

  return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

int route_union(const char **names, size_t *n) {
  size_t cnt = *n, k = 0;
  struct item *it;
  char *keys;
  unsigned char *dup;

  if (cnt < 2)
    return 0;
  it = orion_malloc(cnt * sizeof(*it));
  keys = orion_malloc(cnt * (ORION_MODEL_MAX + 1));
  dup = orion_malloc(cnt);
  if (!it || !keys || !dup) {
    free(it);
    free(keys);
    free(dup);
    errno = ENOMEM;
    return -1;
  }
  for (size_t i = 0; i < cnt; i++) {
    char *kb = keys + i * (ORION_MODEL_MAX + 1);

    it[i].key =
        route_model_norm(names[i], kb, ORION_MODEL_MAX + 1) < 0 ? names[i] : kb;
    it[i].pos = i;
    dup[i] = 0;
  }
  qsort(it, cnt, sizeof(*it), item_cmp);
  for (size_t i = 1; i < cnt; i++)
    if (strcmp(it[i].key, it[i - 1].key) == 0)
      dup[it[i].pos] = 1;
  for (size_t i = 0; i < cnt; i++)
    if (!dup[i])
      names[k++] = names[i];
  *n = k;
  free(it);
  free(keys);
  free(dup);
  return 0;
}
