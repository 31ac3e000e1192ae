/* SPDX-License-Identifier: MIT */
/* freeport: print a TCP port on 127.0.0.1 that was free a moment ago (for test scripts). */
#include "orion/net.h"

#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char err[128];
    int fd = net_listen("127.0.0.1:0", err, sizeof(err));

    if (fd < 0) {
        fprintf(stderr, "freeport: %s\n", err);
        return 111;
    }
    printf("%d\n", net_local_port(fd));
    close(fd);
    return 0;
}
