/*
 * server.h — one process serving: its loop, what the signals mean (stop,
 * reload, reopen the log, upgrade) and the graceful shutdown. The
 * configuration in force and its listeners are running.h's; reading the
 * file, detaching and privileges are main's; the data path is conn's.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

#include "config.h"
#include "counters.h"
#include "running.h"

/* Called once, when every listener accepts and signals are handled. */
typedef void server_ready_fn(void);

/* In a worker, before server_run: lines say "worker N", listeners are the
 * master's (shared), SIGHUP and SIGINT are left to the master, and the
 * counts go to the shared area. */
void server_become_worker(unsigned number);

/* "exiting: connections served ..." for t. */
void server_log_summary(const struct counters *t);

/*
 * Serve until SIGTERM or SIGINT and the shutdown that follows. Returns the
 * process's exit status.
 */
int server_run(const struct config *config, running_reload_fn *reload,
    server_ready_fn *ready);

#endif
