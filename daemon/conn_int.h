/*
 * conn_int.h — a connection's record and what every connection shares,
 * for the two halves of conn.h: conn.c (the data path and the states)
 * and conns.c (the fd-indexed table, taking a socket into it, and the
 * timeouts that end connections). Nothing else includes it.
 */
#ifndef CONN_INT_H
#define CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "backlog.h"
#include "conn.h"
#include "record.h"
#include "timeout.h"

enum conn_state {
	CONN_CLOSED,		/* slot unused */
	CONN_PREAMBLE,		/* reading the PROXY header, the probe line */
	CONN_OPEN,		/* reading and echoing */
	CONN_HALF_CLOSED,	/* peer's FIN seen: read on to EOF */
	CONN_DRAINING,		/* read EOF: flush what is owed, close */
};

/* The timeout lists, one per timeout; a state names its own. */
enum { LIST_HEADER, LIST_IDLE, LIST_DRAIN, LISTS };

struct conn {
	struct backlog out;		/* owed, not yet taken by the socket */
	struct timeout_link timeout;	/* on the list of its state */
	uint64_t bytes_in;		/* read from the peer; all but what is
					 * owed has been written */
	uint64_t opened;		/* loop ms of the accept */
	uint32_t wrote;			/* loop ms (low bits) of the last
					 * write that took a byte, or the
					 * accept */
	uint32_t owe_prev, owe_next;	/* on the owing list: fd + 1 of
					 * the neighbours, 0 for none */
	struct addr_packed peer;	/* the client (compact: an idle
					 * connection costs every byte) */
	uint8_t state;			/* enum conn_state */
	uint8_t read_paused;		/* PAUSE_* bits (conn.c); 0: may read */
	uint8_t parts : 2;		/* of the preamble, still to read */
	uint8_t readable : 1;		/* kernel may hold unread bytes */
	uint8_t writable : 1;		/* socket may take more bytes */
	uint8_t probe : 1;		/* on a probe listener: probe.h says
					 * what it may do */
	uint8_t counted : 1;		/* admit_ticket's */
	uint8_t bulk : 1;		/* reads in its low-priority turns */
	uint8_t owing : 1;		/* on the owing list */
};

/* What every connection shares: conns.c sets it up. */
struct conns {
	struct conn *table;		/* indexed by fd */
	uint32_t owe_head, owe_tail;	/* the owing list, by fd + 1: who
					 * owes, the longest without write
					 * progress first */
	struct loop *loop;
	unsigned char *scratch;		/* CONN_READ_MAX (conn.c), for all */
	struct conn_config config;
	struct timeout_set timeouts;	/* lists[LIST_*], oldest first */
	struct conn_stats stats;
	void (*on_close)(void);		/* after each close, or NULL */
};

extern struct conns conns;

/* The table is indexed by fd: a connection's is its index, not stored. */
static inline int
conn_fd(const struct conn *c)
{
	return (int)(c - conns.table);
}

static inline struct conn *
conn_of(struct timeout_link *link)
{
	return (struct conn *)((char *)link - offsetof(struct conn, timeout));
}

/*
 * One read takes at most CONN_READ_MAX bytes: large enough
 * that the syscall is a small fraction of the copy, small enough to stay
 * in L2. A read that fills the buffer means more is waiting: the
 * connection is bulk, and from then on it reads one buffer at a time, from
 * its turn in the loop's low-priority queue (loop_post_low), until a read
 * comes up short. The transfers take turns, one buffer a turn between
 * them, and whatever reads less than a buffer at a time (a request, a
 * ping-pong round, a burst) is served on its event at once: it waits for
 * one buffer of other people's copying at most, never for every
 * transfer's.
 */

#define CONN_READ_MAX		(256 * 1024)

/* conn.c: the one place the state changes, the one way out (and the way
 * out of a failed read or write, errno saying why), the echo of n bytes
 * (0, or -1 if c was closed), and the loop's handler. */
void conn_set_state(struct conn *c, enum conn_state state);
void conn_close(struct conn *c, enum conn_end end, const char *detail);
void conn_fail(struct conn *c, const char *op);
int conn_echo(struct conn *c, const unsigned char *buf, size_t n);
void conn_on_event(struct loop *loop, int fd, uint32_t events, void *data);

/* conns.c: read c's preamble as far as it has come (fin: the client has
 * half-closed). Returns 0, or -1 if c was closed. */
int conns_greet(struct conn *c, bool fin);

/* conns.c: c's backlog or its write progress changed: c goes to the end
 * of the owing list while it owes, off it when it does not. O(1). */
void conns_owing(struct conn *c);

/* conns.c: while every connection owes more than backlog_total, close
 * the one that has taken nothing for the longest (the owing list's
 * first), never keep. */
void conns_shed(const struct conn *keep);

#endif
