/* SPDX-License-Identifier: MIT */
/* Readiness notification for systemd (sd_notify protocol) and s6 (notification-fd). */
#include "orion/notify.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void sd_send(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun;
    socklen_t len;
    int fd;

    if (!path || !*path || strlen(path) >= sizeof(sun.sun_path))
        return;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    if (sun.sun_path[0] == '@') /* abstract namespace */
        sun.sun_path[0] = '\0';
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0)
        return;
    if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun, len) < 0) {
        /* the manager went away: nothing to do */
    }
    close(fd);
}

void notify_ready(void)
{
    const char *fdstr = getenv("ORION_NOTIFY_FD");

    sd_send("READY=1");
    if (fdstr && *fdstr) {
        char *end;
        long fd = strtol(fdstr, &end, 10);
        if (!*end && fd > 2 && fd < 1024) {
            if (write((int)fd, "\n", 1) < 0) {
                /* ignored */
            }
            close((int)fd);
        }
        unsetenv("ORION_NOTIFY_FD");
    }
}

void notify_stopping(void) { sd_send("STOPPING=1"); }
