/* SPDX-License-Identifier: MIT */
/* The router's own requests in flight, by id (router_flight.h). */
#include "router_flight.h"

#include "orion/buf.h"

#include <errno.h>
#include <string.h>

void rflights_init(struct rflights *t) { memset(t, 0, sizeof(*t)); }

void rflights_release(struct rflights *t)
{
    orion_free(t->slot);
    rflights_init(t);
}

static unsigned long long key(unsigned long long id) { return id ? id : 1; }

static size_t home(const struct rflights *t, unsigned long long id)
{
    id ^= id >> 29; /* the ids are FNV hashes: mix the high bits into the low ones */
    id *= 0xbf58476d1ce4e5b9ULL;
    return (size_t)(id ^ (id >> 32)) & (t->cap - 1);
}

static struct rflight *slot_of(const struct rflights *t, unsigned long long id)
{
    size_t i;

    if (!t->cap)
        return NULL;
    for (i = home(t, id); t->slot[i].id; i = (i + 1) & (t->cap - 1))
        if (t->slot[i].id == id)
            return &t->slot[i];
    return &t->slot[i]; /* the empty slot where it would go */
}

static int grow(struct rflights *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    struct rflight *old = t->slot, *s;
    size_t ocap = t->cap;

    t->slot = orion_calloc(ncap, sizeof(*t->slot));
    if (!t->slot) {
        t->slot = old;
        errno = ENOMEM;
        return -1;
    }
    t->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].id)
            continue;
        s = slot_of(t, old[i].id);
        *s = old[i];
    }
    orion_free(old);
    return 0;
}

int rflights_put(struct rflights *t, const struct rflight *f, struct rflight *replaced, bool *had)
{
    unsigned long long id = key(f->id);
    struct rflight *s;

    if (had)
        *had = false;
    if ((t->n + 1) * 4 > t->cap * 3 && grow(t) < 0)
        return -1;
    s = slot_of(t, id);
    if (s->id) {
        if (replaced)
            *replaced = *s;
        if (had)
            *had = true;
    } else {
        t->n++;
    }
    *s = *f;
    s->id = id;
    return 0;
}

struct rflight *rflights_find(const struct rflights *t, unsigned long long id)
{
    struct rflight *s = slot_of(t, key(id));

    return s && s->id ? s : NULL;
}

/* Is home h cyclically within (i, j]? Then an entry at j may not move to i. */
static bool between(size_t i, size_t h, size_t j)
{
    return i <= j ? (i < h && h <= j) : (i < h || h <= j);
}

bool rflights_del(struct rflights *t, unsigned long long id, struct rflight *out)
{
    struct rflight *s = rflights_find(t, id);
    size_t i, j;

    if (!s)
        return false;
    if (out)
        *out = *s;
    i = (size_t)(s - t->slot);
    t->slot[i].id = 0;
    t->n--;
    for (j = (i + 1) & (t->cap - 1); t->slot[j].id; j = (j + 1) & (t->cap - 1)) {
        if (between(i, home(t, t->slot[j].id), j))
            continue;
        t->slot[i] = t->slot[j];
        t->slot[j].id = 0;
        i = j;
    }
    return true;
}

size_t rflights_of_node(const struct rflights *t, size_t node, unsigned long before,
                        unsigned long long *ids, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < t->cap; i++) {
        const struct rflight *f = &t->slot[i];
        if (!f->id || f->node != node || (before && f->seq >= before))
            continue;
        if (k < max)
            ids[k] = f->id;
        k++;
    }
    return k;
}
