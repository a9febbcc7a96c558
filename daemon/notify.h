/*
 * notify.h — the systemd readiness protocol (sd_notify), written by hand: a
 * datagram of "KEY=VALUE" lines to the socket named by $NOTIFY_SOCKET. With
 * no such variable every call does nothing.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/* Serving: READY=1 with MAINPID. */
void notify_ready(void);

/* Reading the configuration again: RELOADING=1 with MONOTONIC_USEC. */
void notify_reloading(void);

/* Shutting down: STOPPING=1. */
void notify_stopping(void);

#endif
