/*
 * sink.h — where a log's lines go, written without ever waiting: stderr, the
 * local syslog socket, or a file. A line the target cannot take at once (a
 * full pipe, a stalled syslog, a full disk) is dropped and counted, never
 * retried, so that a slow log never slows the clients; a line is one write,
 * under PIPE_BUF, whole or not at all. What a line says is the caller's.
 */
#ifndef SINK_H
#define SINK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum sink_kind {
	SINK_OFF,
	SINK_FD,		/* a file, a pipe, a terminal: write(2) */
	SINK_SOCKET,		/* stderr as a socket (the journal's) */
	SINK_SYSLOG,		/* /dev/log: RFC 3164 datagrams */
};

struct sink {
	enum sink_kind kind;
	int fd;			/* -1 when off */
	char path[PATH_MAX];	/* a file target, for sink_reopen; or "" */
	uint64_t dropped;	/* lines the target could not take */
	time_t retry_at;	/* syslog gone: when to connect again
				 * (CLOCK_MONOTONIC seconds) */
};

#define SINK_INIT	{ SINK_OFF, -1, "", 0, 0 }

/* Where "syslog" sends: syslog_socket, /dev/log unless set. */
void sink_syslog_at(const char *path);
const char *sink_syslog_path(void);

/* Whether sink_open could open target, without keeping it: only a syslog
 * socket can be missing once the configuration is read. */
int sink_check(const char *target, char *err, size_t errlen);

/*
 * Point s at target: "off", "stderr", "syslog" (the syslog socket) or an
 * absolute path, opened for appending. A pipe or a terminal on stderr is
 * opened again non-blocking (its own open file: stderr's flags stay as they
 * are for whoever shares it). On failure s is unchanged and err says why,
 * naming what (the log's name, for the message).
 */
int sink_open(struct sink *s, const char *what, const char *target,
    char *err, size_t errlen);

/* Reopen a file target at its path (after logrotate moved it), under the
 * same descriptor; no-op for the others. */
int sink_reopen(struct sink *s, const char *what, char *err, size_t errlen);

/* Write line (len bytes, its newline included but for syslog), or drop
 * and count it. A syslog that went away (restarted, its socket made
 * anew) is connected to again, at most once a second, under the same
 * descriptor. */
void sink_write(struct sink *s, const char *line, size_t len);

/* The "<PRI>Mmm dd hh:mm:ss upcased[PID]: " that starts a syslog line at
 * priority (facility | severity); returns its length. */
size_t sink_syslog_prefix(int priority, char *buf, size_t buflen);

void sink_close(struct sink *s);

#endif
