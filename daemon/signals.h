/*
 * signals.h — signals as loop events. The daemon's signals are blocked from
 * the start and read from a signalfd, so their handling runs between events,
 * never in the middle of one. SIGPIPE is ignored: a write to a reset peer
 * fails with EPIPE instead of killing the daemon.
 */
#ifndef SIGNALS_H
#define SIGNALS_H

struct loop;

typedef void signals_fn(int signo);

/* Block SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 and SIGCHLD and ignore
 * SIGPIPE; call first, before anything can be interrupted. Returns 0 or -1
 * with errno. */
int signals_block(void);

/* Deliver the blocked signals to fn from loop. Returns 0 or -1 with errno. */
int signals_start(struct loop *loop, signals_fn *fn);

void signals_stop(struct loop *loop);

#endif
