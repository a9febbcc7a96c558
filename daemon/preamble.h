/*
 * preamble.h — what a connection must say before its echo, on a listener
 * that expects it: a PROXY protocol header, a probe's scenario line, or
 * both in that order. The bytes are peeked at, not read, until the part is
 * whole, so that nothing is held for a connection whose preamble is still
 * on its way (each new segment raises an edge); then exactly that part is
 * read, and whatever came with it stays in the socket. Deadlines are the
 * caller's.
 */
#ifndef PREAMBLE_H
#define PREAMBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy.h"
#include "scenario.h"

enum preamble_status {
	PREAMBLE_MORE,		/* not whole yet: wait for the next edge */
	PREAMBLE_DONE,		/* read; the output says what it said */
	PREAMBLE_BAD,		/* will never be right: why says why */
	PREAMBLE_ERROR,		/* the socket failed: errno */
};

/*
 * Take fd's PROXY header (preamble_proxy) or scenario line
 * (preamble_scenario), peeking into buf (PROXY_HEADER_MAX bytes at least).
 * fin: the peer has half-closed, so nothing more will come.
 */
enum preamble_status preamble_proxy(int fd, bool fin, void *buf,
    struct proxy_header *h, char *why, size_t whylen);
enum preamble_status preamble_scenario(int fd, bool fin, void *buf,
    struct scenario *s, char *why, size_t whylen);

#endif
