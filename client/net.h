/*
 * net.h — the client's connection to the daemon: connect with a deadline,
 * and say what failed in a line that names the address.
 */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

/*
 * Connect to a (named name in messages) within timeout_ms (0: no limit).
 * Returns a non-blocking connected socket, or -1 with a line in err.
 */
int net_connect(const struct addr *a, const char *name, uint64_t timeout_ms,
    char *err, size_t errlen);

/* A PROXY header of version 1 or 2 naming fd's own ends (the client's
 * address, then the daemon's) into buf, PROXY_V1_MAX bytes at least.
 * Returns its length, or -1 with errno (EAFNOSUPPORT: not IPv4 or IPv6). */
ssize_t net_proxy_header(int fd, int version, void *buf);

/* Monotonic seconds. */
double net_now(void);

#endif
