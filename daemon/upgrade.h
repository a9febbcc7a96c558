/*
 * upgrade.h — SIGUSR2: replace the running binary without refusing a
 * client. The running process (the master, or the only process) starts the
 * binary found at the path it was itself started from, with the same
 * options, handing it every listening socket as socket activation would
 * (inherit.h) and the pidfile's locked descriptor. The new one starts as
 * usual, but binds only what it did not inherit, and once it serves it
 * writes the pidfile and says so on a pipe. Only then does the old one let
 * go: it stops accepting and finishes its connections, as on a stop but
 * without blocking a socket the new one now serves. If the new binary
 * fails first (a bad configuration, a crash, no binary), the old one logs
 * one line saying why and carries on as if nothing had happened.
 */
#ifndef UPGRADE_H
#define UPGRADE_H

#include <stdbool.h>
#include <sys/types.h>

#include "listener.h"
#include "loop.h"

/* At start: how to run this binary again. exe: the path it was started
 * from; argv: the options to give it (NULL-terminated, kept). */
void upgrade_init(const char *exe, char *const argv[]);

/*
 * Start the new binary with listeners. done runs once it is ready (the
 * caller then lets go of its clients). A failure, now or later, is logged
 * and changes nothing.
 */
void upgrade_start(struct loop *loop, struct listener *listeners,
    void (*done)(void));

/* pid was reaped: true if it was the new binary (a failure is logged). */
bool upgrade_reaped(pid_t pid, int status);

/* SIGCHLD in a process that has no other children: reap them all. */
void upgrade_reap(void);

/* Stopping: a new binary still starting is left to itself. */
void upgrade_abandon(void);

/* In a forked worker: close what belongs to the upgrade. */
void upgrade_forget(void);

/*
 * In the new binary, at start: whether it was started by an upgrade
 * (UPCASED_UPGRADE names the pipe and the pidfile's descriptor, which is
 * returned in *pidfile_fd, -1 if none). The variable is removed.
 */
bool upgrade_child_start(int *pidfile_fd);

/* In the new binary: ready (true), or failed with why. */
void upgrade_child_report(bool ready, const char *why);

#endif
