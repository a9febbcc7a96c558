/*
 * control.h — upcased -s ACTION: signal the daemon that holds the
 * configured pidfile. stop is SIGTERM, reload SIGHUP, reopen SIGUSR1 and
 * upgrade SIGUSR2, as upcased(8) describes each.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <stddef.h>

/* The action's index for control_send, or -1 for a name that is none. */
int control_action(const char *name);

/* Send action's signal to the daemon holding pidfile. Returns 0 once the
 * signal is delivered, or -1 with why in err (no pidfile set, none there,
 * nobody holding it, no pid in it, or kill failed). */
int control_send(const char *pidfile, int action, char *err, size_t errlen);

#endif
