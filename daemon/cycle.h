/*
 * cycle.h — the configuration in force and the listeners it names, what
 * nginx calls the cycle (cycle.c): bound at start, changed whole on
 * reload. Serving them is worker.h's (one process, or each worker) and
 * master.h's (the master of workers).
 */
#ifndef CYCLE_H
#define CYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "listener.h"
#include "loop.h"

/* Read the configuration afresh (for SIGHUP). 0, or -1 with err set. */
typedef int cycle_reload_fn(struct config *out, char *err, size_t errlen);

/*
 * Bind every listen address of config, or take the socket passed for it
 * (inherit.h); nothing is accepted yet. On failure none stays open and
 * err names the address.
 */
int cycle_listen(const struct config *config, char *err, size_t errlen);

/* A process that stops serving: take the clients the kernel queued on
 * every listener, as far as there is room, and close them; the records
 * stay, for the metrics it answers while it finishes. */
void cycle_drain(void);

/* Close what cycle_listen and reloads opened, and free the records. */
void cycle_unlisten(void);

/* Take config as the one in force, and reload as how to read the next. */
void cycle_adopt(const struct config *config, cycle_reload_fn *reload);
const struct config *cycle_config(void);

/* The listeners, in the configuration's order. */
struct listener *cycle_listeners(void);

/* Who takes a listener's sockets, as its options say. */
listener_accept_fn *cycle_acceptor(unsigned options);

/*
 * SIGHUP: read the configuration again and commit it whole (listeners,
 * logs, keys), or log why not and change nothing. loop: where a new
 * listener is watched at once; NULL in a master, whose next workers watch
 * it, and where a listener that goes is blocked first so that the old
 * workers take its queue. Returns whether it committed.
 */
bool cycle_reconfigure(struct loop *loop);

/* Whether c's log targets can be opened, as far as reading it could not
 * tell: a syslog target needs syslog_socket (in the background, bg, a
 * stderr target is syslog). -t and the start ask. Returns 0, or -1 with
 * a line naming the key in err. */
int cycle_check_logs(const struct config *c, bool bg, char *err,
    size_t errlen);

/* SIGUSR1: reopen the error and access logs at their paths (after a
 * rotation), or log why not and keep writing where they were. */
void cycle_reopen_logs(void);

#endif
