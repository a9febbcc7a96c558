/*
 * master.h — workers = N (N > 1): a master process that holds the
 * listening sockets and supervises N single-threaded workers (master.c).
 */
#ifndef MASTER_H
#define MASTER_H

#include "config.h"
#include "server.h"

/* Like server_run, for a master: serve through workers until stopped.
 * Returns the process's exit status. */
int master_run(const struct config *config, running_reload_fn *reload,
    server_ready_fn *ready);

#endif
