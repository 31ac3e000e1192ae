/* SPDX-License-Identifier: MIT */
/*
 * net: non-blocking sockets. An address is "HOST:PORT" (names resolved, "[v6]:PORT" for IPv6
 * literals) or a unix socket path (anything containing '/', or "unix:PATH").
 * Every descriptor returned is O_NONBLOCK | O_CLOEXEC. Errors go to err (a sentence).
 */
#ifndef ORION_NET_H
#define ORION_NET_H

#include <stddef.h>

/* Split "HOST:PORT" / "[HOST]:PORT"; 0 or -1. A unix path gives *port = -1. */
int net_split(const char *addr, char *host, size_t hostlen, int *port);

/* Start a connection. Returns fd >= 0; *pending is set when the connect is still in progress
 * (wait for POLLOUT, then call net_connect_done). -1 on error. */
int net_connect(const char *addr, int *pending, char *err, size_t errlen);
int net_connect_done(int fd, char *err, size_t errlen); /* 0, or -1 with SO_ERROR in err */

/* Listen on addr ("HOST:PORT", port 0 picks a free one). */
int net_listen(const char *addr, char *err, size_t errlen);
int net_local_port(int fd); /* port a listening socket got, or -1 */
int net_accept(int lfd);    /* -1 with errno EAGAIN when none is waiting */
int net_nonblock(int fd);

/* read/write that return bytes > 0, 0 for would-block, -1 for an error (EOF: errno = EPIPE
 * for write, and read returns -1 with errno 0). */
long net_read(int fd, void *p, size_t n);
long net_write(int fd, const void *p, size_t n);

#endif
