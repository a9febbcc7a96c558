/*
 * proc.h — what /proc says of a process: its open descriptors, resident
 * memory and CPU time. Shared by the test harness and the benchmark driver, so it uses
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

#endif
