/*
 * scenario.h — the line that opens each connection on a probe listener and
 * chooses how the daemon behaves on it, for upcase probe:
 *
 *   UPCASE-PROBE/1 [delay=DURATION] [fin_after=SIZE] [close=rst|fin]
 *                  [rate=SIZE] [run=KEY [conn=N]]\n
 *   UPCASE-PROBE/1 report=KEY\n
 *
 * KEY is 1 to 16 hex digits naming one probe run: the daemon keeps what
 * it saw of each connection that gave it (probe_log.h), and answers a
 * report= line with those records, then closes.
 *
 * Parsing (the daemon) and writing (the client); nothing here touches a
 * socket.
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SCENARIO_MAGIC		"UPCASE-PROBE/1"
#define SCENARIO_LINE_MAX	256	/* bytes, the newline included */

struct scenario {
	bool hold;		/* echo nothing before the client's EOF ... */
	uint64_t delay_ms;	/* ... and this long after it */
	uint64_t fin_after;	/* echo this many bytes, then half-close
				 * and discard the rest; UINT64_MAX: no */
	bool close_rst;		/* end with a reset once all is delivered */
	uint64_t rate;		/* echo bytes per second; 0: no limit */
	uint64_t run;		/* the probe run's key; 0: none */
	uint32_t conn;		/* the connection's number in the run */
	bool report;		/* report=run: the records, not an echo */
};

/* No behaviour: the plain echo. */
void scenario_init(struct scenario *s);

/*
 * Parse the line at the start of buf, of which len bytes have arrived.
 * Returns its length once it is whole (its newline read), 0 while more
 * bytes may complete it, or -1 with a reason in err.
 */
ssize_t scenario_parse(const void *buf, size_t len, struct scenario *out,
    char *err, size_t errlen);

/* Write s as a line (newline included) into buf, which holds
 * SCENARIO_LINE_MAX bytes. Returns its length. */
size_t scenario_format(const struct scenario *s, char *buf);

/* FNV-1a 64 of n more bytes, from the digest so far (begin with
 * SCENARIO_DIGEST_INIT): what a report says of the bytes received. */
#define SCENARIO_DIGEST_INIT	0xcbf29ce484222325ull
uint64_t scenario_digest(uint64_t digest, const void *buf, size_t n);

#endif
