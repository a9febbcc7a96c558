/*
 * pidfile.h — the pidfile as a lock: held (flock) for the daemon's whole
 * life, so a second instance learns at once who runs, and a file left by a
 * crash (nobody holds the lock) is simply taken over.
 */
#ifndef PIDFILE_H
#define PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Open and lock path. Returns 0, or -1 with a line in err: who holds it, or
 * why it cannot be opened. Nothing is written yet: the pid may change when
 * the daemon detaches.
 */
int pidfile_lock(const char *path, char *err, size_t errlen);

/* Write pid into the locked file, replacing what was there. */
int pidfile_write(pid_t pid, char *err, size_t errlen);

/* Remove the file and release the lock (no-op when none is held). */
void pidfile_remove(void);

#endif
