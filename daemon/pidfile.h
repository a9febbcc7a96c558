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

/* Once privileges are dropped to user: warn if the pidfile's directory
 * will not let the daemon remove it at exit. */
void pidfile_check_removable(const char *user);

/* Remove the file and release the lock (no-op when none is held); a file
 * that cannot be removed is emptied, with a warning. */
void pidfile_remove(void);

/* The locked descriptor, to hand to a new binary; -1: no pidfile. */
int pidfile_fd(void);

/* Take over fd, path's descriptor locked by the process that started this
 * one (a binary upgrade): the lock comes with it. */
void pidfile_adopt(int fd, const char *path);

/* Close without removing: the file is someone else's now (a worker's
 * copy, or the old binary once the new one has written its pid). */
void pidfile_forget(void);

#endif
