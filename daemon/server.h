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
#include "counters.h"

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
 * The running configuration and how to read the next; server_run does
 * this itself, the master (master.c) calls it instead.
 */
void server_adopt(const struct config *config, server_reload_fn *reload);
const struct config *server_config(void);

/* The listeners, bound by server_listen (and kept across reloads). */
struct listener *server_listeners(void);

/*
 * SIGHUP: read the configuration again and commit it whole (listeners,
 * logs, keys), or log why not and change nothing. Returns whether it did.
 */
bool server_reconfigure(void);

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
int server_run(const struct config *config, server_reload_fn *reload,
    server_ready_fn *ready);

#endif
