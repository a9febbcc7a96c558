/*
 * relay.h — a stand-in relay for upcase probe's tests, a process per
 * connection, to a daemon: it sends header (if any) upstream first, then
 * copies both ways, with one flaw of real relays at a time:
 *   FLAW_DROP      once the server has half-closed, it passes that on and
 *                  throws away what the client sends from then on (the way
 *                  some stream-pipe relays end), passing only the FIN;
 *   FLAW_HOLD_FIN  it passes the server's FIN on only once the client has
 *                  sent its own;
 *   FLAW_LEAK      at the client's FIN (or reset) it ends the client's
 *                  side and keeps the server's open for ever;
 *   FLAW_OVERFLOW  what does not fit at once into the socket it copies to
 *                  is thrown away, both ways;
 *   FLAW_CORRUPT   past the first 64 KiB to the client, it changes a byte
 *                  of each chunk;
 *   FLAW_DUPLICATE past the first 64 KiB to the client, it sends each
 *                  chunk twice;
 *   FLAW_RESET     it resets both sides at a point between 64 and 256 KiB
 *                  into the connection (both ways counted), chosen by its
 *                  pid: small exchanges pass, large ones are cut.
 * With slow_ms it waits that long before each copy to the server after
 * the server's FIN. A client's reset ends its side as a FIN would.
 */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

enum relay_flaw {
	FLAW_NONE, FLAW_DROP, FLAW_HOLD_FIN, FLAW_LEAK, FLAW_OVERFLOW,
	FLAW_CORRUPT, FLAW_DUPLICATE, FLAW_RESET
};

/* The relay, listening on 127.0.0.1 (its address into addr): its pid,
 * killed with the test process. */
pid_t stand_in_relay(const struct daemon *to, const char *header,
    enum relay_flaw flaw, int slow_ms, char *addr, size_t addrlen);

/* Kill it, and wait for its exit. */
void stop_relay(pid_t pid);

#endif
