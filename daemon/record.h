/*
 * record.h — what is kept of a connection once it closes: how it ended and
 * how long it lived, counted for the metrics, and its access log line. The
 * connection side hands the facts over as it closes; nothing here knows a
 * connection's insides.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stdint.h>

#include "addr.h"

/* How a connection ended: the metrics' reason, the access log's end=. */
enum conn_end {
	END_DONE,		/* everything echoed after the client's EOF */
	END_RESET,		/* the client reset or left while owed */
	END_IDLE_TIMEOUT,
	END_DRAIN_TIMEOUT,
	END_BACKLOG_TOTAL,	/* owed, stalled, when all owed too much */
	END_BAD_HEADER,		/* no, a malformed, or a late preamble (a
				 * PROXY header, a probe line) */
	END_REFUSED,		/* the client a PROXY header named may not
				 * connect (admit.h): logged, but counted
				 * with the refusals, not here */
	END_SHUTDOWN,		/* closed by the daemon's stop */
	END_ERROR,		/* any other failure, out of memory too */
	END_COUNT
};

extern const char *const record_end_names[END_COUNT];

/* Upper bounds of the lifetime histogram's buckets, in seconds. */
#define RECORD_BUCKETS	9
extern const double record_bucket_bounds[RECORD_BUCKETS];

struct record {
	enum conn_end end;
	uint64_t duration_ms;		/* from accept to close */
	uint64_t bytes_in, bytes_out;
	const struct addr_packed *client;	/* behind a PROXY header: the
					 * one it named */
	int fd;				/* still open: its local address is
					 * the one the client reached */
};

struct record_stats {
	uint64_t ended[END_COUNT];	/* closed, by how (END_REFUSED: 0) */
	uint64_t lifetimes[RECORD_BUCKETS + 1];	/* by bucket; last +Inf */
	uint64_t lifetime_ms;		/* their sum */
};

void record_close(const struct record *r);

const struct record_stats *record_stats(void);

#endif
