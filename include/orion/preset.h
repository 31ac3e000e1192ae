/* SPDX-License-Identifier: MIT */
/*
 * preset: named sets of models (the seed's S/D/T/Q/P configurations and the user's own), and
 * where their models go when one is made active. Pure: the presets file is parsed by the
 * orion layer (svcconf.h); the router passes the nodes in.
 *
 * A preset: its models (at most PRESET_MAX_MODELS), its orchestration mode (single,
 * critique, debate, ensemble, pipeline: recorded and reported, multi-model orchestration is
 * not done here), the memory each model needs when the file says it, role assignments, and a
 * note (the seed's stage assignments, "llama=drafter, phi-4=validator").
 *
 * Placement (preset_place), for the models that must be loaded:
 *   1. a model loaded now on an eligible node stays there (the first such node by id);
 *   2. the others, largest need first (ties by name), each go to the eligible node that has
 *      it installed (or does not say what it has) with the most free memory, if its need fits
 *      in that node's free memory; the need is then taken from that node's free memory. A
 *      node whose free memory is unknown takes any model, after every node with known room;
 *   3. a model no node can take is unplaced, with the reason.
 * Free memory is the caller's: what a node may still fill before its --max-ram threshold.
 * So a Dual preset of 9 GB + 5 GB that one 16 GB machine would hold goes 9 GB to a 16 GB Pi
 * and 5 GB to an 8 GB Pi (the most room first), and two 4.7 GB models on two 8 GB Pis go one
 * to each (after the first, the other Pi has more room).
 */
#ifndef ORION_PRESET_H
#define ORION_PRESET_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/roles.h"

#define PRESET_MAX_MODELS 8
#define PRESET_NAME_MAX 32
#define PRESET_WHY_MAX 160

struct preset {
    char name[PRESET_NAME_MAX + 1];
    char mode[16];
    size_t n;
    char *models[PRESET_MAX_MODELS]; /* heap, owned */
    long memory_mb[PRESET_MAX_MODELS]; /* 0: unknown */
    struct role_map roles;
    char *note; /* heap, owned, may be NULL */
};

struct preset_set {
    struct preset *p;
    size_t n, cap;
};

/* Is mode one of single, critique, debate, ensemble, pipeline? */
bool preset_mode_ok(const char *mode);

void preset_set_init(struct preset_set *s);
void preset_set_release(struct preset_set *s);
/* A new preset named name (replacing one of the same name, any case), empty: NULL (ENOMEM,
 * or EINVAL for a name that is empty, too long or not letters, digits, '-', '_', '.'). */
struct preset *preset_set_add(struct preset_set *s, const char *name);
/* Add a model to p: 0, or -1 (EINVAL: too many, empty or too long; ENOMEM). */
int preset_add_model(struct preset *p, const char *model, long memory_mb);
/* By name, any case; NULL when none. */
const struct preset *preset_find(const struct preset_set *s, const char *name);

/* --- placement ------------------------------------------------------------------------------ */

struct place_model {
    const char *name;      /* as installed (or the preset's name when installed nowhere) */
    unsigned long need_mb; /* 0: unknown (fits anywhere) */
};

struct place_node {
    const char *id;
    bool eligible;
    long free_mb;                 /* room before the node's memory threshold; < 0: unknown */
    const char *const *installed; /* 0 entries: unknown */
    size_t ninstalled;
    const char *const *loaded;
    size_t nloaded;
};

struct place_result {
    int node[PRESET_MAX_MODELS];   /* index into the nodes, -1 unplaced */
    bool loaded[PRESET_MAX_MODELS]; /* already loaded there */
    char why[PRESET_MAX_MODELS][PRESET_WHY_MAX]; /* unplaced: why */
};

/* Place m[0..nm) (nm <= PRESET_MAX_MODELS) over the nodes. Returns how many were placed. */
size_t preset_place(const struct place_model *m, size_t nm, const struct place_node *nodes,
                    size_t nn, struct place_result *out);

#endif
