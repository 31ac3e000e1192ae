/* SPDX-License-Identifier: MIT */
/* lgio: loadgen's clock, socket and prompt helpers. */
#ifndef LGIO_H
#define LGIO_H

#include <signal.h>
#include <stddef.h>
#include <time.h>

long long now_ms(void); /* wall clock, ms */
/* Sleep until t0 (CLOCK_MONOTONIC) + ms, or until *stop is set by a signal. */
void sleep_until(const struct timespec *t0, long ms, const volatile sig_atomic_t *stop);
/* A prompt of n - 1 chars of words, the same for the same id. */
void prompt_text(char *p, int n, int id);
int tcp_connect(int port);                   /* to 127.0.0.1:port; -1 on failure */
int write_all(int fd, const char *p, size_t n); /* 0, or -1 */

#endif
