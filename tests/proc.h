/*
 * proc.h — what /proc says of a process: its open descriptors, resident
 * memory, CPU time, status and children. Shared by the test harness and the benchmark driver, so it uses
 * nothing beyond libc.
 */
#ifndef PROC_H
#define PROC_H

#include <sys/types.h>

/* Open descriptors of pid, or -1. */
int fd_count(pid_t pid);

/* Resident memory of pid in KiB, or -1. */
long rss_kib(pid_t pid);

/* CPU time pid has used (user and system), in ms, or -1. */
long cpu_ms(pid_t pid);

/* The number in field ("Seccomp") of /proc/pid/status, or -1. */
long status_field(pid_t pid, const char *field);

/* pid's children into out (at most max); returns how many. */
int proc_children(pid_t pid, pid_t *out, int max);

#endif
