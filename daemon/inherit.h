/*
 * inherit.h — listening sockets received at exec instead of bound: from
 * systemd's socket activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, the
 * sockets from fd 3 on), and from a running upcased handing over to a new
 * binary (upgrade.h), which passes them the same way. Each is matched to a
 * listen line by the address it is bound to; the line's options apply.
 */
#ifndef INHERIT_H
#define INHERIT_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

/*
 * Read the environment (once, at start; the variables are removed so that
 * no child sees them) and check each descriptor is a listening stream
 * socket. Returns how many were passed (0: none for this process), or -1
 * with a line naming the descriptor in err.
 */
int inherit_start(char *err, size_t errlen);

/*
 * The inherited socket bound to addr (a port 0 in addr takes any port on
 * the same host), now claimed; -1 if none.
 */
int inherit_claim(const struct addr *addr);

/* After every listen line had its turn: 0, or -1 with a line naming a
 * socket no line claimed. */
int inherit_check(char *err, size_t errlen);

/*
 * Whether the inherited socket at fd stays open after this process exits:
 * one from a service manager (systemd holds it for the next start, and an
 * upgrade hands it on as "held"), not one an upgrade handed over from the
 * daemon's own (named "upgrade").
 */
bool inherit_held(int fd);

#endif
