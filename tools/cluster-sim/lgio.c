/* SPDX-License-Identifier: MIT */
/* loadgen's clock, socket and prompt helpers (both of its modes use them). */
#include "lgio.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_until(const struct timespec *t0, long ms, const volatile sig_atomic_t *stop)
{
    struct timespec t = *t0;

    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR && !*stop)
        ;
}

void prompt_text(char *p, int n, int id)
{
    static const char *const words[] = {"why", "is", "the", "sky", "blue", "tell", "me", "about",
                                        "raspberry", "pi", "cluster", "heat", "model", "a", "story"};
    int i = 0, k = id;

    while (i < n - 1) {
        const char *w = words[(unsigned)(k * 7 + i) % 15u];
        size_t l = strlen(w);

        if (i + (int)l + 1 >= n)
            break;
        memcpy(p + i, w, l);
        i += (int)l;
        p[i++] = ' ';
        k += 3;
    }
    p[i] = '\0';
}

int tcp_connect(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
