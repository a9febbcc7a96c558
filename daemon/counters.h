/*
 * counters.h — what the daemon counts, as one snapshot: every module's
 * statistics side by side. A single process reads its own modules. With
 * workers, the master maps a shared area before forking; each worker
 * copies its modules into its own slot once a loop turn (a few hundred
 * bytes), and whoever reports (the metrics endpoint in any worker, the
 * master's exit line) adds the slots up. A worker that exits leaves its
 * counts behind: the master folds its slot into a retired total, so no
 * counter ever goes down.
 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stdint.h>

#include "admit.h"
#include "conn.h"
#include "http.h"
#include "listener.h"
#include "record.h"

#define COUNTERS_SLOTS		256	/* workers alive at once, at most */
#define COUNTERS_CELLS		64	/* listeners' accept counts */

/* Every field a uint64_t: folding adds them as an array. */
struct counters {
	struct conn_stats conn;
	struct record_stats record;
	struct listener_stats listener;
	struct admit_stats admit;
	struct http_stats http;
	uint64_t access_dropped;	/* access log lines lost */
	uint64_t log_dropped;		/* error log lines lost */
	uint64_t open;			/* connections open now (a gauge) */
	uint64_t reloads_ok;		/* the master's or the process's */
	uint64_t reloads_failed;
};

/* This process's modules, now. */
void counters_collect(struct counters *out);

/*
 * Map the shared area (the master, before it forks). Returns 0, or -1
 * with errno.
 */
int counters_share(void);
void counters_unshare(void);

/* In a worker: publish into slot from now on (counters_publish). */
void counters_attach(unsigned slot);

/* In a worker, once a turn: copy the modules into its slot. */
void counters_publish(void);

/* The master, when slot's worker has exited: add its counts to the
 * retired total (gauges excepted) and clear it for the next. */
void counters_retire(unsigned slot);

/* The master's own counts (reloads), kept in the shared area. */
void counters_reloads(uint64_t ok, uint64_t failed);

/* The total over every slot and the retired ones: the shared area if
 * there is one, else this process's modules. */
void counters_total(struct counters *out);

/*
 * A listener's accept count, in a cell every process can add to (atomic:
 * the workers share the socket). Without the shared area, a process-local
 * cell. Returns NULL when all cells are taken (the count is then not kept).
 */
uint64_t *counters_cell(void);
void counters_cell_free(uint64_t *cell);

#endif
