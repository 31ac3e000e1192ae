/* SPDX-License-Identifier: MIT */
/*
 * notify: tell the service manager the daemon is ready. With $NOTIFY_SOCKET (systemd
 * Type=notify) it sends "READY=1" (or "STOPPING=1") as one datagram, written by hand without
 * libsystemd; with $ORION_NOTIFY_FD (s6 notification-fd) it writes "\n" to that fd and closes
 * it. Neither set: nothing. Errors are ignored: readiness is a courtesy, not a dependency.
 */
#ifndef ORION_NOTIFY_H
#define ORION_NOTIFY_H

void notify_ready(void);
void notify_stopping(void);

#endif
