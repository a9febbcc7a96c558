/*
 * proc.h — what /proc says of a process: its open descriptors and resident
 * memory. Shared by the test harness and the benchmark driver, so it uses
 * nothing beyond libc.
 */
#ifndef PROC_H
#define PROC_H

#include <sys/types.h>

/* Open descriptors of pid, or -1. */
int fd_count(pid_t pid);

/* Resident memory of pid in KiB, or -1. */
long rss_kib(pid_t pid);

#endif
