/*
 * metrics.h — what the daemon says of itself on a metrics listener, in
 * Prometheus's text exposition format (0.0.4): the counters the modules
 * keep, and the standard process_* metrics. It reads counters; it keeps
 * none of its own beyond the process's start time.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "listener.h"

/* What the server knows: its listeners, and the counts (every worker's). */
struct metrics_server {
	const struct listener *listeners;	/* the open ones */
	const struct counters *counters;
};

/* Note the start time (process_start_time_seconds). */
void metrics_init(void);

void metrics_write(FILE *out, const struct metrics_server *server);

#endif
