/*
 * via.h — upcase probe --via: the opening handshake of a proxy in the
 * path, SOCKS5 or HTTP CONNECT, on a connection already made to it, so
 * that the probe's bytes then reach the probe listener through it.
 */
#ifndef VIA_H
#define VIA_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct via {
	enum { VIA_NONE, VIA_SOCKS5, VIA_CONNECT } kind;
	const char *name;	/* HOST:PORT, as given */
	struct addr proxy;
};

/* "socks5://HOST:PORT" or "http-connect://HOST:PORT" into v (its
 * address is still to resolve from v->name). Returns 0, or -1. */
int via_parse(const char *arg, struct via *v);

/* Ask the proxy on fd to connect to `to`, before limit (net_now()).
 * Returns 0, or -1 with a line in err naming the proxy. */
int via_handshake(int fd, const struct via *v, const struct addr *to,
    double limit, char *err, size_t len);

#endif
