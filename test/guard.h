/* SPDX-License-Identifier: MIT */
/*
 * guard.h: place test input right before a PROT_NONE page, so that a parser reading one byte
 * too far faults at once. Uses a /dev/zero mapping (POSIX has no MAP_ANONYMOUS).
 */
#ifndef ORION_GUARD_H
#define ORION_GUARD_H

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard {
    char *map;
    size_t maplen;
};

/* Returns a pointer to n bytes equal to data, ending exactly at a PROT_NONE page. */
static inline const char *guard_place(struct guard *g, const void *data, size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), pages = (n + pg - 1) / pg + 1;
    int fd = open("/dev/zero", O_RDWR);
    char *m;

    g->map = NULL;
    if (fd < 0)
        return NULL;
    m = mmap(NULL, (pages + 1) * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return NULL;
    mprotect(m + pages * pg, pg, PROT_NONE);
    g->map = m;
    g->maplen = (pages + 1) * pg;
    if (n)
        memcpy(m + pages * pg - n, data, n);
    return m + pages * pg - n;
}

static inline void guard_free(struct guard *g)
{
    if (g->map)
        munmap(g->map, g->maplen);
    g->map = NULL;
}

#endif
