/*
 * preamble.h — what a connection must say before its echo, on a listener
 * that expects it: a PROXY protocol header. The bytes are peeked at, not
 * read, until the preamble is whole, so that nothing is held for a
 * connection whose preamble is still on its way (each new segment raises an
 * edge); then exactly the preamble is read, and whatever came with it stays
 * in the socket for the echo. Deadlines are the caller's.
 */
#ifndef PREAMBLE_H
#define PREAMBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy.h"

enum preamble_status {
	PREAMBLE_MORE,		/* not whole yet: wait for the next edge */
	PREAMBLE_DONE,		/* read; *h says what it said */
	PREAMBLE_BAD,		/* will never be right: why says why */
	PREAMBLE_ERROR,		/* the socket failed: errno */
};

/*
 * Take fd's PROXY header, peeking into buf (PROXY_HEADER_MAX bytes at
 * least). fin: the peer has half-closed, so nothing more will come.
 */
enum preamble_status preamble_read(int fd, bool fin, void *buf,
    struct proxy_header *h, char *why, size_t whylen);

#endif
