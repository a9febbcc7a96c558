/*
 * preamble.h — what a client must say before it is served, read one way
 * for every listener that expects something: a PROXY protocol header, a
 * probe's scenario line, or both in that order (echo connections), an
 * HTTP request (metrics). The bytes are peeked at, not read, until the
 * part is whole, so that nothing is held for a client whose preamble is
 * still on its way (each new segment raises an edge); then exactly that
 * part is read, and whatever came with it stays in the socket. The
 * client's FIN ends an incomplete part at once. Deadlines, and what a bad
 * part costs, are the caller's.
 */
#ifndef PREAMBLE_H
#define PREAMBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

enum preamble_status {
	PREAMBLE_MORE,		/* not whole yet: wait for the next edge */
	PREAMBLE_DONE,		/* read; the output says what it said */
	PREAMBLE_BAD,		/* will never be right: why says why */
	PREAMBLE_CLOSED,	/* the client half-closed before a byte
				 * of it (why says so too) */
	PREAMBLE_ERROR,		/* the socket failed: errno */
};

/* A part's parser: its length once whole, 0 while more bytes may complete
 * it, or -1 with why. */
typedef ssize_t preamble_parse_fn(const void *buf, size_t len, void *out,
    char *why, size_t whylen);

struct preamble_kind {
	const char *what;		/* "PROXY header", for messages */
	size_t max;			/* bytes a whole one takes at most */
	preamble_parse_fn *parse;
};

/*
 * Take fd's next part of kind k into out, peeking into buf (k->max bytes
 * at least). fin: the client has half-closed, so nothing more will come.
 */
enum preamble_status preamble_read(int fd, bool fin,
    const struct preamble_kind *k, void *buf, void *out, char *why,
    size_t whylen);

/* An echo connection's parts, in the order they come. */
#define PREAMBLE_PROXY		0x1
#define PREAMBLE_SCENARIO	0x2

/* The outcomes of preamble_greet beyond preamble_read's. */
#define PREAMBLE_REFUSED	(PREAMBLE_ERROR + 1)

/*
 * An echo connection's preamble, as far as it has come: the parts still
 * set in *parts, in order, each bit cleared as its part is taken. A PROXY
 * header's client replaces *client, and must be admitted (admit_named;
 * *counted as its ticket says); a scenario starts fd's probe, whose delay
 * must fit under drain_timeout. Returns PREAMBLE_MORE, PREAMBLE_DONE once
 * every part is taken, PREAMBLE_ERROR (errno), PREAMBLE_BAD (logged, and
 * why says why) or PREAMBLE_REFUSED: then the caller closes.
 */
int preamble_greet(int fd, unsigned *parts, bool fin, void *buf,
    struct addr_packed *client, bool *counted, uint64_t drain_timeout,
    char *why, size_t whylen);

/* Log (once a second at most) why client's preamble will never be right:
 * its first part still set in parts is the culprit. */
void preamble_complain(const struct addr_packed *client, unsigned parts,
    const char *why);

#endif
