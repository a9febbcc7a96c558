/*
 * stream.h — one connection to the daemon, sending and receiving at the
 * same time so that no size can deadlock it: the filter (inputs to the
 * daemon, the echo to an output) and the seed's check (a generated pattern
 * out, its uppercase verified on the way back). With naive set it does what
 * the seed client did instead: send everything, half-close, then read.
 */
#ifndef STREAM_H
#define STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "progress.h"

#define STREAM_OK	0	/* all sent came back, as it should */
#define STREAM_WRONG	1	/* the echo differs, or is short or long */
#define STREAM_LOCAL	2	/* an input or the output failed */
#define STREAM_NETWORK	3	/* connect, send or receive failed, or timed out */

/* The seed's payload, 16 bytes, repeated. */
#define STREAM_PATTERN		"capitalize this!"
#define STREAM_PATTERN_UPPER	"CAPITALIZE THIS!"
#define STREAM_PATTERN_LEN	16

struct stream_options {
	const char *name;		/* the address as written, for messages */
	struct addr addr;
	const int *inputs;		/* read in order to their EOF ... */
	const char *const *input_names;	/* ... named thus in messages */
	int ninputs;
	uint64_t generate;		/* or: this many pattern bytes */
	int output;			/* the echo goes here; -1: verify it */
	bool naive;			/* the seed's order: all out, then read */
	int proxy_version;		/* send a PROXY header first: 1 or 2;
					 * 0: none */
	uint64_t connect_timeout_ms;	/* give up connecting after this
					 * long; 0: never */
	uint64_t timeout_ms;		/* give up after this long without a
					 * byte moving; 0: never */
	struct progress *progress;
};

struct stream_result {
	uint64_t sent;			/* bytes sent */
	uint64_t received;		/* bytes echoed */
	double seconds;			/* from connected to the daemon's close */
	unsigned char first[32];	/* the first bytes echoed */
	size_t nfirst;
	char err[512];			/* what went wrong, when not STREAM_OK */
};

/* Run the exchange. Returns one of the STREAM_* statuses. */
int stream_run(const struct stream_options *o, struct stream_result *r);

#endif
