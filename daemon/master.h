/*
 * master.h — workers = N (N > 1): a master process that holds the
 * listening sockets and supervises N single-threaded workers (master.c).
 */
#ifndef MASTER_H
#define MASTER_H

#include "config.h"
#include "worker.h"

/* Like worker_run, for a master: serve through workers until stopped.
 * Returns the process's exit status. */
int master_run(const struct config *config, cycle_reload_fn *reload,
    worker_ready_fn *ready);

#endif
