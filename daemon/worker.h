/*
 * worker.h — one process serving clients: the only process, or one worker
 * of a master's. Its loop, what the signals mean (stop, reload, reopen the
 * log, upgrade) and the graceful shutdown. The
 * configuration in force and its listeners are cycle.h's; reading the
 * file, detaching and privileges are main's; the data path is conn's.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stddef.h>

#include "config.h"
#include "counters.h"
#include "cycle.h"

/* Called once, when every listener accepts and signals are handled. */
typedef void worker_ready_fn(void);

/* In a worker, before worker_run: lines say "worker N", listeners are the
 * master's (shared), SIGHUP and SIGINT are left to the master, and the
 * counts go to the shared area. */
void worker_become(unsigned number);

/* "exiting: connections served ..." for t. */
void worker_log_summary(const struct counters *t);

/*
 * Raise the soft open-file limit as far as the hard one allows, and return
 * it; when max_connections needs more, say so in warn ("" otherwise): the
 * start logs it, -t prints it.
 */
int worker_fd_limit(unsigned max_connections, char *warn, size_t warnlen);

/*
 * Serve until SIGTERM or SIGINT and the shutdown that follows. Returns the
 * process's exit status.
 */
int worker_run(const struct config *config, cycle_reload_fn *reload,
    worker_ready_fn *ready);

#endif
