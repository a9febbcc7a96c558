/*
 * supervise.h — a master's workers as processes (supervise.c): forked a
 * generation at a time, each known by its number in its generation; one
 * that dies unasked is replaced, after a delay that grows while the
 * replacements die at once; signalled together; killed when, told to
 * stop, it outlives shutdown_timeout. What the master's signals mean is
 * master.c's.
 */
#ifndef SUPERVISE_H
#define SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

/* For a master running loop. */
void supervise_init(struct loop *loop);

/* Start a generation of workers with the configuration in force; those
 * already running become the old generation. */
void supervise_start(void);

/*
 * Send signo to the workers (only the old generations': old_only). A
 * worker told to stop (SIGTERM) is killed if it still runs timeout (its
 * shutdown_timeout) and a grace later; a second SIGTERM, which makes it
 * close its connections at once, reaches one already stopping only when
 * again says so.
 */
void supervise_signal(int signo, bool old_only, bool again,
    uint64_t timeout);

/* SIGCHLD: reap every worker that exited, and replace the current
 * generation's, unless supervise_stop. */
void supervise_reap(void);

/* The master stops: no worker is replaced from now on. */
void supervise_stop(void);

/* Workers alive, of every generation; and how many the current one has. */
unsigned supervise_alive(void);
unsigned supervise_generation_size(void);

void supervise_fini(void);

#endif
