/*
 * report.h — what upcase bench prints: the summary line, the JSON object,
 * a line per --interval, and on a terminal a live status line. The bench
 * counts; this module only formats. Human rates are MiB/s (1024-based, as
 * the sizes are); JSON numbers are in base units (bytes, bytes per second,
 * seconds), but for latency_ms.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench.h"

/* What a run has counted so far; an interval is the difference of two. */
struct report_counts {
	uint64_t rounds;		/* transfers, connections or rounds
					 * done, or exchanges (--rate) */
	uint64_t bytes;			/* echoed and checked */
	unsigned long started;		/* --rate: exchanges started */
	unsigned long late;		/* --rate: started past due */
	unsigned errors;
	uint32_t *lat;			/* latency samples, microseconds, in
					 * the order taken (owned by bench) */
	size_t nlat;
};

/* One --interval, kept for the JSON. */
struct report_interval {
	double from, to;		/* seconds from the start */
	uint64_t rounds, bytes;
	unsigned errors;
	double p50, p99;		/* ms; 0 without a sample */
};

struct report {
	const struct bench_options *o;
	FILE *lines;			/* intervals and the summary line:
					 * stdout, or stderr under --json */
	bool live;			/* the status line (stderr a tty) */
	bool drawn;			/* ... is on the screen */
	double start;			/* net_now() at the start */
	double mark_at;			/* the interval's start */
	double next_line;		/* ... and its end; 0: no intervals */
	double next_status;		/* the next redraw of the status */
	struct report_counts mark;	/* the counts at the interval's start */
	struct report_interval *kept;	/* --json: every interval */
	size_t nkept, capkept;
};

void report_init(struct report *r, const struct bench_options *o,
    double start);

/* When report_tick next has something to do (net_now() time); 0: never. */
double report_due(const struct report *r);

/* Print the interval lines and redraw the status due by now. open: the
 * connections not done. May sort the samples taken since the last. */
void report_tick(struct report *r, struct report_counts *c, unsigned open,
    double now);

/* The last interval (if anything happened in it), then the summary line
 * and the JSON, the status erased first. Sorts every sample. */
void report_finish(struct report *r, struct report_counts *c, double now);

void report_free(struct report *r);

#endif
