/* SPDX-License-Identifier: MIT */
/*
 * blackhole: a TCP port on 127.0.0.1 where a connect never completes, for testing connect
 * timeouts without a network. It listens with a backlog of 0, never accepts, and fills its
 * accept queue with connects of its own; Linux then drops every further SYN, so a client's
 * connect waits (SYN retransmits) until its own timeout. Prints the port, then sleeps until
 * killed. The caller checks that a connect does hang (curl --connect-timeout) before relying
 * on it.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FILLERS 8 /* more than the queue of a backlog-0 listener holds */

int main(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 0) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        perror("blackhole: listen");
        return 111;
    }
    for (int i = 0; i < FILLERS; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);

        if (c < 0 || fcntl(c, F_SETFL, O_NONBLOCK) < 0) {
            perror("blackhole: socket");
            return 111;
        }
        connect(c, (struct sockaddr *)&a, sizeof(a)); /* EINPROGRESS: kept open, never used */
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;)
        pause();
}
