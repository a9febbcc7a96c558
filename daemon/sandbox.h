/*
 * sandbox.h — the syscall allow-list (seccomp-bpf) the daemon runs under once
 * it has started: what serving, reloading, reopening logs and stopping
 * need, and nothing else (no exec, no fork, no ptrace, no new executable
 * memory, no sockets but Unix, IPv4 and IPv6).
 *
 * A call off the list fails with EPERM rather than killing the daemon: the
 * caller's error path handles it as it handles any failure (one connection
 * or one reload fails, every other client is still served), and the next
 * loop turn logs it. A process on another architecture, or a call through
 * another ABI (x32), is killed outright: the list would not describe it.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Install the filter for good: a serving process's list, or with master
 * set, a master's wider one (fork, exec, wait: see sandbox.c). Returns 0,
 * or -1 with why in err.
 */
int sandbox_enter(bool master, char *err, size_t errlen);

/* Log the calls denied since the last report, if any (between turns). */
void sandbox_report(void);

#endif
