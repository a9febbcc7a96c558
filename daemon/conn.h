/*
 * conn.h — client connections: the PROXY header of a listener that expects
 * one, the uppercase echo with its write backlog and watermarks, the turns
 * that keep a transfer from starving the rest, half-close, and the header,
 * idle and drain timeouts. This module owns a connection from conn_accept
 * to its close, when it hands its record over (record.h); whether to take
 * one at all is admit.h's.
 */
#ifndef CONN_H
#define CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "listener.h"
#include "record.h"

struct loop;

struct conn_config {
	size_t backlog_high;	/* bytes owed at which reading stops; a
				 * connection never owes more */
	size_t backlog_low;	/* bytes owed at which reading resumes */
	uint64_t backlog_total;	/* bytes owed by every connection: at it,
				 * one that owes stops reading, and above
				 * it the one stalled longest is closed */
	uint64_t header_timeout;	/* ms from accept for the PROXY
				 * header to be whole */
	uint64_t idle_timeout;	/* ms without traffic before an open
				 * connection is closed; 0: never */
	uint64_t drain_timeout;	/* ms without write progress before a
				 * half-closed one is; 0: never */
};

struct conn_stats {
	uint64_t accepted;	/* connections taken */
	uint64_t closed;	/* ... and closed since (by how: record.h) */
	uint64_t bytes_in;	/* bytes read from clients */
	uint64_t bytes_out;	/* bytes written to clients */
	uint64_t owed;		/* bytes in backlogs now */
	uint64_t read_pauses;	/* times a backlog reached backlog_high */
	uint64_t half_closes;	/* clients' EOFs read */
};

/*
 * Set up for fds below loop_setsize(loop); conn_configure before the first
 * client. on_close, if set, runs after each close (shutdown waits there
 * for the last one). Returns 0, or -1 with errno.
 */
int conn_init(struct loop *loop, void (*on_close)(void));
void conn_fini(void);

/* Apply watermarks and timeouts to every connection (start, reload). */
void conn_configure(const struct conn_config *config);

/* The listener's callback: take over fd as a connection, unless admit.h
 * refuses it. */
void conn_accept(struct listener *l, int fd, const struct sockaddr *peer,
    socklen_t peerlen);

/* Open connections (in any state). */
unsigned conn_count(void);

/* Close every connection at once, unread or unsent bytes lost. */
void conn_close_all(void);

const struct conn_stats *conn_stats(void);

#endif
