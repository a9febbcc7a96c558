/*
 * probe_log.h — what the daemon saw of each probe connection that named a
 * run (run=KEY in its probe line), kept so that upcase probe can ask for
 * it: the bytes it received and their digest, when the FIN or the reset
 * came, how the connection ended, the client a PROXY header named.
 *
 * The records live in a ring of PROBE_LOG_RING in a single process, or,
 * with workers, in one of PROBE_LOG_WORKER_RING per worker slot, in an
 * area the master maps before it forks (as counters.h does), so that a
 * report read in any worker sees them all. Each record is a sequence lock with one writer, its worker. The
 * oldest records are overwritten: a run asks for its own soon after.
 *
 * A report is asked for with "UPCASE-PROBE/1 report=KEY" on a connection
 * of its own, on any probe listener; it is the key, nothing else, that
 * chooses the records. The answer, then the daemon's close:
 *
 *   UPCASE-PROBE/1 REPORT run=KEY records=N open=N idle_timeout=MS
 *       drain_timeout=MS proxy_protocol=yes|no
 *   conn=N state=open|done|reset|... received=N digest=HEX16 sent=N
 *       eof_ms=MS|- end_ms=MS|- source=ADDRESS
 *   ...
 *   END
 *
 * one line each (wrapped here); times in ms, to 0.1, from the probe line.
 */
#ifndef PROBE_LOG_H
#define PROBE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conn.h"
#include "record.h"

#define PROBE_LOG_REPORT_RECORDS 1000	/* a report's records, at most,
					 * newest first ... */
#define PROBE_LOG_RING		PROBE_LOG_REPORT_RECORDS /* ... all that
					 * a single process keeps */
#define PROBE_LOG_WORKER_RING	256	/* records each worker slot keeps */
#define PROBE_LOG_LINE_MAX	256	/* a line of the report, at most */
#define PROBE_LOG_REPORT_MAX	(PROBE_LOG_LINE_MAX * \
				    (PROBE_LOG_REPORT_RECORDS + 2))

/* One connection, as it stands. */
struct probe_seen {
	uint64_t run;
	uint32_t conn;
	uint8_t end;			/* enum conn_end + 1; 0: open */
	uint8_t proxied;		/* the listener reads PROXY headers */
	uint64_t received;		/* bytes after the probe line */
	uint64_t digest;		/* scenario_digest of them */
	uint64_t sent;			/* bytes of echo written */
	uint32_t eof_tenths;		/* 0.1 ms from the probe line to the
					 * EOF; UINT32_MAX: none yet */
	uint32_t end_tenths;		/* ... to the close */
	struct addr_packed source;	/* the client, as the daemon knows it */
};

/* The master, before it forks: map the shared area. Returns 0, or -1
 * with errno. */
int probe_log_share(void);
void probe_log_unshare(void);

/* A worker: write into slot's ring from now on. */
void probe_log_attach(unsigned slot);

/* A new record for s: its index, for probe_log_write. */
uint32_t probe_log_claim(const struct probe_seen *s);

/* s, as it now stands, into the record claimed at index. */
void probe_log_write(uint32_t index, const struct probe_seen *s);

/* The report for run into buf (PROBE_LOG_REPORT_MAX bytes), the
 * listener's limits from config. Returns its length. */
size_t probe_log_report(uint64_t run, const struct conn_config *config,
    bool proxied, char *buf);

#endif
