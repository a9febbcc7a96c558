/*
 * progress.h — a transfer's progress on stderr: bytes sent and received,
 * rate, and percent and ETA when the total is known. On a terminal, one
 * line redrawn in place at most four times a second; elsewhere (forced by
 * --progress), a plain line once a second. Either way it ends with a
 * summary line that stays, as pv's does. Sizes are 1024-based (KiB, MiB),
 * rates MiB/s.
 */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool on;		/* show it at all */
	bool terminal;		/* redraw one line; else print lines */
	uint64_t total;		/* bytes each way; 0: unknown */
	double start;		/* net_now() when the transfer began */
	double last;		/* net_now() at the last line */
	bool drawn;		/* a redrawn line is on the screen */
};

void progress_init(struct progress *p, bool on, bool terminal,
    uint64_t total);

/* A new line if its period has passed since the last. */
void progress_update(struct progress *p, uint64_t sent, uint64_t received);

/* The summary line, in place of the redrawn one: "sent 1.0 MiB, received
 * 1.0 MiB in 0.12 s, 8.3 MiB/s". */
void progress_finish(struct progress *p, uint64_t sent, uint64_t received,
    double seconds);

#endif
