/*
 * progress.h — a live one-line display of a transfer on stderr: bytes sent
 * and received, rate, and percent and ETA when the total is known. Redrawn
 * at most four times a second, whatever the I/O rate; cleared at the end.
 */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool on;		/* draw at all */
	uint64_t total;		/* bytes each way; 0: unknown */
	double start;		/* net_now() at the first update */
	double last;		/* net_now() at the last draw */
	bool drawn;		/* a line is on the screen */
};

void progress_init(struct progress *p, bool on, uint64_t total);

/* Redraw if a quarter second has passed since the last draw. */
void progress_update(struct progress *p, uint64_t sent, uint64_t received);

/* Erase the line, if any. */
void progress_clear(struct progress *p);

#endif
