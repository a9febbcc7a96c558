/*
 * bench.h — upcase bench: load the daemon from many connections at once and
 * verify every echoed byte. Three shapes: each connection sends a size and
 * half-closes (throughput, time to completion); the same over and over on
 * each slot for a duration, a new connection each time (churn: connections
 * per second, latency from connect to EOF); or request/response rounds for
 * a duration (rounds per second, latency per round); or, open loop, new
 * connections started at a fixed rate whether or not earlier ones finished,
 * each timed from its scheduled start, so a stalled server cannot hide its
 * stall (no coordinated omission).
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct bench_options {
	const char *name;		/* the address as written */
	struct addr addr;
	unsigned connections;
	uint64_t bytes;			/* per connection, transfer mode */
	uint32_t pingpong;		/* round size; 0: transfer mode */
	uint64_t duration_ms;		/* pingpong, churn: how long */
	bool churn;			/* transfer mode, again and again */
	double rate;			/* open loop: exchanges started per
					 * second, on schedule; 0: not */
	unsigned sources;		/* spread over 127.0.0.1..N; 0: don't */
	uint64_t hold_ms;		/* transfer mode: every connection
					 * waits, connected, until all are
					 * and this long from the start */
	uint64_t timeout_ms;		/* give up when nothing moves */
	uint64_t connect_timeout_ms;	/* fail a connect this old; 0: never */
	uint64_t interval_ms;		/* a line per interval; 0: none */
	bool json;			/* stdout: the JSON object alone */
};

/* Run it, print the results; returns the exit status (0, 1 or 3). */
int bench_run(const struct bench_options *o);

#endif
