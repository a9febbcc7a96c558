/*
 * proxy.h — the PROXY protocol (HAProxy's, versions 1 and 2), by which a
 * load balancer tells a server who its client is: parsing the header that
 * opens a connection (the daemon), and writing one (the client). Nothing
 * here touches a socket; reasons go into the caller's buffer.
 */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "addr.h"

#define PROXY_V1_MAX		107	/* a whole v1 line, CRLF included */
#define PROXY_HEADER_MAX	4096	/* the longest header taken (v2 TLVs) */

struct proxy_header {
	int version;		/* 1 or 2 */
	struct addr source;	/* the client; len 0 when the header names
				 * none (UNKNOWN, LOCAL, another family) */
	struct addr dest;	/* the address it reached, likewise */
};

/*
 * Parse the header at the start of buf, of which len bytes have arrived.
 * Returns its length once it is whole, 0 while more bytes may complete it,
 * or -1 with a reason in err: not a PROXY header, a malformed one, or one
 * longer than PROXY_HEADER_MAX. Whatever follows the header is not looked
 * at.
 */
ssize_t proxy_parse(const void *buf, size_t len, struct proxy_header *out,
    char *err, size_t errlen);

/*
 * Write a version 1 or 2 header saying that source connected to dest (both
 * IPv4 or both IPv6) into buf, which holds PROXY_V1_MAX bytes at least.
 * Returns its length, or -1 with errno EAFNOSUPPORT for other addresses.
 */
ssize_t proxy_build(int version, const struct sockaddr *source,
    const struct sockaddr *dest, void *buf);

#endif
