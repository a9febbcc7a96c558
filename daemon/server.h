/*
 * server.h — the running daemon: its listeners, what the signals mean
 * (stop, reload, reopen the log) and the graceful shutdown. Reading the
 * configuration, detaching and privileges are main's; the data path is
 * conn's.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

#include "config.h"

/* Read the configuration afresh (for SIGHUP). 0, or -1 with err set. */
typedef int server_reload_fn(struct config *out, char *err, size_t errlen);

/* Called once, when every listener accepts and signals are handled. */
typedef void server_ready_fn(void);

/*
 * Bind every listen address of config; nothing is accepted before
 * server_run. On failure none stays open and err names the address.
 */
int server_listen(const struct config *config, char *err, size_t errlen);

/* Close what server_listen opened (a start-up failure after it). */
void server_unlisten(void);

/*
 * Serve until SIGTERM or SIGINT and the shutdown that follows. Returns the
 * process's exit status.
 */
int server_run(const struct config *config, server_reload_fn *reload,
    server_ready_fn *ready);

#endif
