/* SPDX-License-Identifier: MIT */
/*
 * admit: requests in flight per model and the waiting list's bound (the rules are in
 * admit.h). Flights are a plain array: there are as many as the cluster has slots and queued
 * requests, a few hundred at most, and every operation is one pass.
 */
#include "orion/admit.h"
#include "orion/buf.h"

#include <math.h>
#include <string.h>

uint64_t admit_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint64_t hash_str(const char *s) { return admit_hash(s ? s : "", s ? strlen(s) : 0); }

void admit_init(struct admit *a) { memset(a, 0, sizeof(*a)); }

void admit_release(struct admit *a)
{
    orion_free(a->f);
    admit_init(a);
}

static void drop_at(struct admit *a, size_t i) { a->f[i] = a->f[--a->n]; }

int admit_flight_add(struct admit *a, const char *id, size_t idn, const char *model_key,
                     const char *node, double now)
{
    struct admit_flight f;

    f.id = admit_hash(id, idn);
    f.model = hash_str(model_key);
    f.node = hash_str(node);
    f.since = now;
    for (size_t i = 0; i < a->n; i++)
        if (a->f[i].id == f.id) {
            a->f[i] = f;
            return 0;
        }
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        struct admit_flight *nf = orion_realloc(a->f, nc * sizeof(*nf));
        if (!nf)
            return -1;
        a->f = nf;
        a->cap = nc;
    }
    a->f[a->n++] = f;
    return 0;
}

bool admit_flight_done(struct admit *a, const char *id, size_t idn)
{
    uint64_t h = admit_hash(id, idn);

    for (size_t i = 0; i < a->n; i++)
        if (a->f[i].id == h) {
            drop_at(a, i);
            return true;
        }
    return false;
}

size_t admit_flight_count(const struct admit *a, const char *model_key)
{
    uint64_t h = hash_str(model_key);
    size_t k = 0;

    for (size_t i = 0; i < a->n; i++)
        k += a->f[i].model == h;
    return k;
}

size_t admit_flight_node_idle(struct admit *a, const char *node)
{
    uint64_t h = hash_str(node);
    size_t k = 0;

    for (size_t i = 0; i < a->n;) {
        if (a->f[i].node == h) {
            drop_at(a, i);
            k++;
        } else {
            i++;
        }
    }
    return k;
}

size_t admit_flight_expire(struct admit *a, double before)
{
    size_t k = 0;

    for (size_t i = 0; i < a->n;) {
        if (a->f[i].since < before) {
            drop_at(a, i);
            k++;
        } else {
            i++;
        }
    }
    return k;
}

bool admit_full(size_t waiting, long max) { return max > 0 && waiting >= (size_t)max; }

long admit_retry_after_ms(size_t waiting, unsigned long capacity, double service_ms)
{
    double ms = (service_ms > 0 ? service_ms : 15000) * ((double)waiting + 1) /
                (double)(capacity ? capacity : 1);

    ms = ceil(ms / 1000) * 1000;
    return ms < 1000 ? 1000 : ms > 60000 ? 60000 : (long)ms;
}
