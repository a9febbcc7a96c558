/*
 * notify.h — the systemd readiness protocol (sd_notify), written by hand: a
 * datagram of "KEY=VALUE" lines to the socket named by $NOTIFY_SOCKET. With
 * no such variable every call does nothing.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <sys/types.h>

/* Serving: READY=1 with MAINPID. */
void notify_ready(void);

/* A new binary took over (upgrade.h): MAINPID=pid, READY=1. The new
 * process is not the main one until systemd reads this. */
void notify_mainpid(pid_t pid);

/* Reading the configuration again: RELOADING=1 with MONOTONIC_USEC. */
void notify_reloading(void);

/* Shutting down: STOPPING=1. */
void notify_stopping(void);

#endif
