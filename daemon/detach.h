/*
 * detach.h — going to the background without lying about it: the command
 * that starts the daemon returns only once the daemon is ready (exit 0), or
 * once it has failed (exit 1, its own error already on stderr).
 */
#ifndef DETACH_H
#define DETACH_H

#include <stddef.h>

/*
 * fork, setsid, fork. Returns 0 in the daemon; the starting process waits
 * for detach_ready (exit 0) or for the daemon to die first (exit 1), and
 * never returns. -1 with err if the first fork fails.
 */
int detach_start(char *err, size_t errlen);

/* In the daemon, once it serves: stdio to /dev/null, then release the
 * starting process with exit 0. No-op when not detached. */
void detach_ready(void);

#endif
