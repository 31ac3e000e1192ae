/* SPDX-License-Identifier: MIT */
/*
 * Socket helpers. Name resolution uses getaddrinfo(), which blocks; daemons resolve only at
 * (re)connect time to addresses given on their command line, usually numeric.
 */
#include "orion/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int is_unix(const char *addr) { return strncmp(addr, "unix:", 5) == 0 || strchr(addr, '/'); }

static const char *unix_path(const char *addr)
{
    return strncmp(addr, "unix:", 5) == 0 ? addr + 5 : addr;
}

int net_split(const char *addr, char *host, size_t hostlen, int *port)
{
    const char *colon, *h = addr;
    size_t hl;
    char *end;
    long p;

    if (is_unix(addr)) {
        if (strlen(unix_path(addr)) >= hostlen)
            return -1;
        snprintf(host, hostlen, "%s", unix_path(addr));
        *port = -1;
        return 0;
    }
    if (*addr == '[') {
        colon = strstr(addr, "]:");
        if (!colon)
            return -1;
        h = addr + 1;
        hl = (size_t)(colon - h);
        colon++;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - addr);
    }
    if (hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

int net_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int sock_open(int family, int type)
{
    int fd = socket(family, type, 0);

    if (fd < 0)
        return -1;
    if (net_nonblock(fd) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_unix(const char *path, int *pending, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "unix socket path too long");
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path));
    fd = sock_open(AF_UNIX, SOCK_STREAM);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno != EINPROGRESS &&
        errno != EAGAIN) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    *pending = errno == EINPROGRESS || errno == EAGAIN;
    return fd;
}

int net_connect(const char *addr, int *pending, char *err, size_t errlen)
{
    char host[256], portstr[16];
    struct addrinfo hints, *res, *ai;
    int port, fd = -1, rc, one = 1;

    *pending = 0;
    *err = '\0';
    if (net_split(addr, host, sizeof(host), &port) < 0) {
        snprintf(err, errlen, "bad address (want HOST:PORT or a socket path)");
        return -1;
    }
    if (port < 0)
        return connect_unix(host, pending, err, errlen);
    snprintf(portstr, sizeof(portstr), "%d", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "resolve: %s", gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = sock_open(ai->ai_family, ai->ai_socktype);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            *pending = errno == EINPROGRESS;
            break;
        }
        snprintf(err, errlen, "connect: %s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (!ai && !*err)
            snprintf(err, errlen, "connect: no usable address");
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int net_connect_done(int fd, char *err, size_t errlen)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr) {
        snprintf(err, errlen, "connect: %s", strerror(soerr));
        errno = soerr;
        return -1;
    }
    return 0;
}

int net_listen(const char *addr, char *err, size_t errlen)
{
    char host[256], portstr[16];
    struct addrinfo hints, *res;
    int port, fd, rc, one = 1;

    if (net_split(addr, host, sizeof(host), &port) < 0 || port < 0) {
        snprintf(err, errlen, "bad listen address (want HOST:PORT)");
        return -1;
    }
    snprintf(portstr, sizeof(portstr), "%d", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    rc = getaddrinfo(*host ? host : NULL, portstr, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "resolve: %s", gai_strerror(rc));
        return -1;
    }
    fd = sock_open(res->ai_family, SOCK_STREAM);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "%s: %s", "bind", strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

int net_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int net_accept(int lfd)
{
    int fd = accept(lfd, NULL, NULL), one = 1;

    if (fd < 0)
        return -1;
    if (net_nonblock(fd) < 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

long net_read(int fd, void *p, size_t n)
{
    ssize_t r;

    do
        r = read(fd, p, n);
    while (r < 0 && errno == EINTR);
    if (r > 0)
        return (long)r;
    if (r == 0) {
        errno = 0;
        return -1;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}

long net_write(int fd, const void *p, size_t n)
{
    ssize_t r;

    do
        r = write(fd, p, n);
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        return (long)r;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}
