/*
 * running.h — the configuration in force and the listeners it names
 * (running.c): bound at start, changed whole on reload. Serving them is
 * server.h's (one process) or master.h's (workers).
 */
#ifndef RUNNING_H
#define RUNNING_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "listener.h"
#include "loop.h"

/* Read the configuration afresh (for SIGHUP). 0, or -1 with err set. */
typedef int running_reload_fn(struct config *out, char *err, size_t errlen);

/*
 * Bind every listen address of config, or take the socket passed for it
 * (inherit.h); nothing is accepted yet. On failure none stays open and
 * err names the address.
 */
int running_listen(const struct config *config, char *err, size_t errlen);

/* Close what running_listen and reloads opened; drain: take the clients
 * the kernel queued on them first (a daemon that stops serving). */
void running_unlisten(bool drain);

/* Take config as the one in force, and reload as how to read the next. */
void running_adopt(const struct config *config, running_reload_fn *reload);
const struct config *running_config(void);

/* The listeners, in the configuration's order. */
struct listener *running_listeners(void);

/* Who takes a listener's sockets, as its options say. */
listener_accept_fn *running_acceptor(unsigned options);

/*
 * SIGHUP: read the configuration again and commit it whole (listeners,
 * logs, keys), or log why not and change nothing. loop: where a new
 * listener is watched at once; NULL in a master, whose next workers watch
 * it, and where a listener that goes is blocked first so that the old
 * workers take its queue. Returns whether it committed.
 */
bool running_reconfigure(struct loop *loop);

/* SIGUSR1: reopen the error and access logs at their paths (after a
 * rotation), or log why not and keep writing where they were. */
void running_reopen_logs(void);

#endif
