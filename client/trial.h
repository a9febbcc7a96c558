/*
 * trial.h — one connection of upcase probe, as a check describes it: the
 * scenario line asking the daemon for a behaviour, so many bytes sent
 * (read back at the same time), a half-close or not, and what was seen:
 * bytes back and whether they were right, how the connection ended, when.
 * Every wait is bounded by the trial's deadline.
 */
#ifndef TRIAL_H
#define TRIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "scenario.h"
#include "via.h"

enum trial_end {
	TRIAL_EOF,		/* a clean end of stream */
	TRIAL_RESET,		/* a reset */
	TRIAL_TIMEOUT,		/* nothing ended it before the deadline */
	TRIAL_REFUSED,		/* could not connect */
	TRIAL_DONE,		/* all back, and the client closed */
};

/* A PROXY header the trial sends before its probe line, as a relay would:
 * for a probe listener that reads one, reached without a relay. */
enum trial_proxy {
	TRIAL_PROXY_NONE,
	TRIAL_PROXY_SELF,	/* version 1, naming this connection's ends */
	TRIAL_PROXY_LOCAL,	/* version 2 LOCAL: a relay's own check */
};

/* What the daemon saw of a trial's connection, from its report
 * (probe_log.h in the daemon): asked for after the trial ends. */
struct trial_seen {
	bool asked;			/* a whole report was read */
	bool found;			/* ... and this connection was in it */
	bool open;			/* the daemon's side has not closed */
	char state[24];			/* how it closed: "done", "reset" */
	uint64_t received, digest, sent;
	double eof_ms, end_ms;		/* from the probe line; -1: none */
	char source[64];		/* the client, as the daemon knows it */
};

struct trial {
	/* What to do. */
	struct scenario scenario;	/* the line sent first */
	size_t send;			/* bytes to send, reading meanwhile */
	bool shut;			/* half-close once they are sent ... */
	bool shut_echoed;		/* ... or once they are all back */
	bool write_first;		/* read nothing until all is sent */
	bool close_unread;		/* once all is sent and echo waits
					 * unread, close: a reset, says
					 * RFC 1122 4.2.2.13 */
	uint64_t read_rate;		/* bytes a second read at most;
					 * 0: no limit */
	enum trial_proxy proxy;
	bool may_refuse;		/* a refused connect is an outcome to
					 * judge, not a run that failed */
	bool bare;			/* no probe line: nothing is there */
	bool stop_echoed;		/* close once they are all back ... */
	bool abort;			/* ... with a reset, not a FIN; or
					 * with shut: a reset once the
					 * daemon has seen our FIN */
	uint64_t idle_ms;		/* wait this long before sending */
	size_t after_eof;		/* send this much more after the
					 * daemon's EOF, then half-close */
	double deadline;		/* seconds the whole trial may take */
	double stall;			/* seconds without a byte moving that
					 * end it, stalled; 0: only the
					 * deadline */
	double server_wait;		/* seconds the daemon's side may take
					 * to close after ours; 0: the
					 * default; below 0: its record is
					 * not asked for */
	bool (*fin_seen)(void *arg, const struct trial *t);
	void *arg;			/* abort with shut: polls whether
					 * the daemon has seen our FIN */
	/* What was seen. */
	size_t sent, received;
	uint64_t digest;		/* scenario_digest of what was sent */
	char local[64];			/* our address, as text */
	size_t wrong_at;		/* first byte not the echo; SIZE_MAX */
	char first[24];			/* the first bytes back, as text */
	enum trial_end end;
	bool after_eof_ok;		/* the bytes after the EOF went out */
	bool closed_clean;		/* and the end was no reset */
	bool stalled;			/* TRIAL_TIMEOUT: by t->stall */
	double t_end;			/* seconds from connect to the end */
	double t_shut;			/* ... to the half-close */
	double t_last;			/* ... to the last byte back */
	char err[160];			/* what failed, when refused */
	struct trial_seen srv;		/* filled in by upcase probe */
};

/* Run t against a, through via unless it is NULL or VIA_NONE, filling in
 * what was seen. */
void trial_run(const struct addr *a, const char *name, const struct via *via,
    struct trial *t);

/* A connection to a, through via unless it is NULL or VIA_NONE, made
 * before limit (net_now()). Returns the socket, or -1 with err. */
int trial_connect(const struct addr *a, const char *name,
    const struct via *via, double limit, char *err, size_t errlen);

/* t's PROXY header for the connection fd into buf (PROXY_V1_MAX bytes):
 * its length, 0 for none, -1 when fd's addresses cannot be named. */
ssize_t trial_proxy_header(int fd, enum trial_proxy proxy, void *buf);

/* How t ended, in words: "EOF", "a reset", "nothing (timed out)". */
const char *trial_end_text(enum trial_end end);

#endif
