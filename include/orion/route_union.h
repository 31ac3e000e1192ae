/* SPDX-License-Identifier: MIT */
/*
 * route_union: the set of model names over many lists (every node's installed
 * and loaded models), each model once whatever its spelling ("llama3" and
 * "Llama3:latest" are one), in the order of first appearance. O(n log n) in the
 * number of names, so a /api/tags over 100 nodes of 50 models each costs no
 * more than a sort.
 */
#ifndef ORION_ROUTE_UNION_H
#define ORION_ROUTE_UNION_H

#include <stddef.h>

/*
 * Keeps in names[0..*n) the first name of each model (route_model_eq's sense),
 * in their original order; the names are not copied, only the pointers moved. A
 * name that cannot be normalised (empty, too long) is kept unless the same
 * string came before. Returns 0, or -1 (ENOMEM) with names and *n unchanged.
 */
int route_union(const char **names, size_t *n);

#endif
