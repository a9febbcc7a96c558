/*
 * conn.h — client connections: the uppercase echo with its write backlog and
 * watermarks, the read budget that keeps one client from starving the rest,
 * half-close, and the idle and drain timeouts. The listener accepts; this
 * module owns a connection from conn_open to its close.
 */
#ifndef CONN_H
#define CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct loop;

struct conn_config {
	size_t backlog_high;	/* bytes owed at which reading stops */
	size_t backlog_low;	/* bytes owed at which reading resumes */
	uint64_t idle_timeout;	/* ms without traffic before an open
				 * connection is closed; 0: never */
	uint64_t drain_timeout;	/* ms without write progress before a
				 * half-closed one is; 0: never */
};

struct conn_stats {
	uint64_t accepted;	/* connections taken by conn_open */
	uint64_t closed;	/* ... and closed since */
	uint64_t timed_out;	/* closed by idle or drain timeout */
	uint64_t errors;	/* closed by a socket error or reset */
	uint64_t bytes_in;	/* bytes read from clients */
	uint64_t bytes_out;	/* bytes written to clients */
};

/*
 * Set up for fds below loop_setsize(loop). on_close, if set, runs after each
 * close (the listener resumes accepting there, shutdown checks for the last
 * one). Returns 0, or -1 with errno.
 */
int conn_init(struct loop *loop, const struct conn_config *config,
    void (*on_close)(void));
void conn_fini(void);

/* Apply new watermarks and timeouts to every connection (reload). */
void conn_configure(const struct conn_config *config);

/*
 * Take over fd, an accepted non-blocking socket from peer. On failure fd is
 * closed and -1 returned with errno.
 */
int conn_open(int fd, const struct sockaddr *peer, socklen_t peerlen);

/* Open connections (in either state). */
unsigned conn_count(void);

/* Close every connection at once, unread or unsent bytes lost. */
void conn_close_all(const char *reason);

const struct conn_stats *conn_stats(void);

#endif
