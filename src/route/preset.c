/* SPDX-License-Identifier: MIT */
/*
 * preset: the presets in memory and the placement of a preset's models over the nodes (the
 * rules are in preset.h). Placement is first-fit decreasing into the roomiest node: the
 * largest model has the fewest places it fits, so it chooses first, and each goes where the
 * most room is left, which spreads a preset over the cluster instead of filling one node.
 */
#include "orion/preset.h"
#include "orion/buf.h"
#include "orion/route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const modes[] = {"single", "critique", "debate", "ensemble", "pipeline"};

bool preset_mode_ok(const char *mode)
{
    for (size_t i = 0; mode && i < sizeof(modes) / sizeof(modes[0]); i++)
        if (!strcmp(modes[i], mode))
            return true;
    return false;
}

void preset_set_init(struct preset_set *s) { memset(s, 0, sizeof(*s)); }

static void preset_release(struct preset *p)
{
    for (size_t i = 0; i < p->n; i++)
        orion_free(p->models[i]);
    role_map_release(&p->roles);
    orion_free(p->note);
    memset(p, 0, sizeof(*p));
}

void preset_set_release(struct preset_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        preset_release(&s->p[i]);
    orion_free(s->p);
    preset_set_init(s);
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return false;
    return !*a && !*b;
}

static bool name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (!n || n > PRESET_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        int c = lower((unsigned char)name[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}

const struct preset *preset_find(const struct preset_set *s, const char *name)
{
    for (size_t i = 0; name && i < s->n; i++)
        if (same_name(s->p[i].name, name))
            return &s->p[i];
    return NULL;
}

struct preset *preset_set_add(struct preset_set *s, const char *name)
{
    struct preset *p = (struct preset *)preset_find(s, name);

    if (!name_ok(name)) {
        errno = EINVAL;
        return NULL;
    }
    if (p) {
        preset_release(p);
    } else {
        if (s->n == s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 64;
            struct preset *np = orion_realloc(s->p, nc * sizeof(*np));
            if (!np)
                return NULL;
            s->p = np;
            s->cap = nc;
        }
        p = &s->p[s->n++];
        memset(p, 0, sizeof(*p));
    }
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->mode, sizeof(p->mode), "single");
    return p;
}

int preset_add_model(struct preset *p, const char *model, long memory_mb)
{
    size_t n = model ? strlen(model) : 0;

    if (p->n >= PRESET_MAX_MODELS || !n || n > ORION_MODEL_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (!(p->models[p->n] = orion_strdup(model)))
        return -1;
    p->memory_mb[p->n++] = memory_mb > 0 ? memory_mb : 0;
    return 0;
}

/* --- placement ------------------------------------------------------------------------------ */

static bool has(const char *const *names, size_t n, const char *model)
{
    for (size_t i = 0; i < n; i++)
        if (route_model_eq(names[i], model))
            return true;
    return false;
}

/* The eligible node with the model loaded, first by id; -1 none. */
static int loaded_on(const struct place_node *nodes, size_t nn, const char *model)
{
    int best = -1;

    for (size_t i = 0; i < nn; i++)
        if (nodes[i].eligible && has(nodes[i].loaded, nodes[i].nloaded, model) &&
            (best < 0 || strcmp(nodes[i].id, nodes[best].id) < 0))
            best = (int)i;
    return best;
}

size_t preset_place(const struct place_model *m, size_t nm, const struct place_node *nodes,
                    size_t nn, struct place_result *out)
{
    long room[ORION_ROUTE_MAX_NODES];
    size_t order[PRESET_MAX_MODELS], placed = 0;

    if (nm > PRESET_MAX_MODELS)
        nm = PRESET_MAX_MODELS;
    if (nn > ORION_ROUTE_MAX_NODES)
        nn = ORION_ROUTE_MAX_NODES;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < nn; i++)
        room[i] = nodes[i].free_mb;
    for (size_t i = 0; i < nm; i++) {
        order[i] = i;
        out->node[i] = loaded_on(nodes, nn, m[i].name);
        out->loaded[i] = out->node[i] >= 0;
        placed += out->loaded[i];
    }
    /* largest need first, ties by name (insertion sort: at most 8) */
    for (size_t i = 1; i < nm; i++) {
        size_t k = order[i], j = i;
        while (j > 0 && (m[order[j - 1]].need_mb < m[k].need_mb ||
                         (m[order[j - 1]].need_mb == m[k].need_mb &&
                          strcmp(m[order[j - 1]].name, m[k].name) > 0))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    for (size_t o = 0; o < nm; o++) {
        size_t i = order[o];
        int best = -1;
        bool somewhere = false;

        if (out->loaded[i])
            continue;
        for (size_t k = 0; k < nn; k++) {
            if (!nodes[k].eligible ||
                (nodes[k].ninstalled && !has(nodes[k].installed, nodes[k].ninstalled, m[i].name)))
                continue;
            somewhere = true;
            if (room[k] >= 0 && room[k] < (long)m[i].need_mb)
                continue;
            if (best < 0 || room[k] > room[best] ||
                (room[k] == room[best] && strcmp(nodes[k].id, nodes[best].id) < 0))
                best = (int)k;
        }
        out->node[i] = best;
        if (best < 0) {
            snprintf(out->why[i], PRESET_WHY_MAX, "%s", somewhere
                     ? "no eligible node that has it has room for it"
                     : "installed on no eligible node");
            continue;
        }
        if (room[best] >= 0)
            room[best] -= (long)m[i].need_mb;
        placed++;
    }
    return placed;
}
