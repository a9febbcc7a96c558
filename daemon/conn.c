/*
 * conn.c — the data path. A connection is registered once, edge-triggered,
 * for reads, writes and the peer's FIN, and two flags remember what epoll
 * said: readable (the kernel may hold bytes for us) and writable (the socket
 * may take more). Bytes are read into one loop-wide scratch buffer,
 * uppercased in place and written straight back; only what the socket does
 * not take is copied to the connection's backlog. Nothing is allocated for a
 * connection that keeps up.
 *
 *   OPEN --peer's FIN--> HALF_CLOSED --read EOF--> DRAINING --flushed--> CLOSED
 *     |                                               ^
 *     +-----------------read EOF----------------------+
 *     +--error, reset, timeout, shutdown (from any state)--------------> CLOSED
 *
 * conn_set_state is the one place the state changes. It also moves the
 * connection to the timeout list of its new state (idle while OPEN, drain
 * from the peer's FIN on), and for CLOSED keeps the counters and the log.
 */
#include "conn.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "backlog.h"
#include "log.h"
#include "loop.h"
#include "timeout.h"
#include "upper.h"

/*
 * One read takes at most CONN_READ_MAX bytes: large enough that the syscall
 * is a small fraction of the copy, small enough to stay in L2. A connection
 * reads at most CONN_READ_BUDGET bytes per turn before yielding to the others.
 */
#define CONN_READ_MAX		(256 * 1024)
#define CONN_READ_BUDGET	(4 * CONN_READ_MAX)

enum conn_state {
	CONN_CLOSED,		/* slot unused */
	CONN_OPEN,		/* reading and echoing */
	CONN_HALF_CLOSED,	/* peer's FIN seen: read on to EOF */
	CONN_DRAINING,		/* read EOF: flush what is owed, close */
};

/* Reasons to stop reading, one bit each: lifting one never lifts another. */
#define PAUSE_BACKPRESSURE	0x1	/* backlog reached backlog_high */

struct conn {
	struct backlog out;		/* owed, not yet taken by the socket */
	struct timeout_link timeout;	/* on the list of its state */
	uint64_t bytes_in;		/* read from the peer */
	uint64_t bytes_out;		/* written to the peer */
	int fd;
	uint8_t state;			/* enum conn_state */
	uint8_t read_paused;		/* PAUSE_* bits; 0: may read */
	bool readable;			/* kernel may hold unread bytes */
	bool writable;			/* socket may take more bytes */
};

static inline struct conn *
conn_of(struct timeout_link *link)
{
	return (struct conn *)((char *)link - offsetof(struct conn, timeout));
}

static struct loop *conn_loop;
static struct conn *conns;		/* indexed by fd */
static unsigned char *scratch;		/* CONN_READ_MAX, shared by all */
static struct conn_config config;
static struct timeout_list idle_list;	/* CONN_OPEN, oldest first */
static struct timeout_list drain_list;	/* the other states, oldest 1st */
static struct loop_timer timeout_timer;	/* at the earliest deadline */
static struct conn_stats stats;
static uint64_t last_refusal_line;	/* loop ms, for log_due */
static void (*conn_on_close)(void);

static void conn_on_event(struct loop *loop, int fd, uint32_t events,
    void *data);
static void conn_on_timeout(struct loop *loop, struct loop_timer *timer);

int
conn_init(struct loop *loop, const struct conn_config *cfg,
    void (*on_close)(void))
{
	timeout_init(&idle_list, 0);
	timeout_init(&drain_list, 0);
	conn_loop = loop;
	conn_on_close = on_close;
	conns = calloc((size_t)loop_setsize(loop), sizeof(*conns));
	scratch = malloc(CONN_READ_MAX);
	if (conns == NULL || scratch == NULL) {
		conn_fini();
		return -1;
	}
	timeout_timer.fn = conn_on_timeout;
	conn_configure(cfg);
	return 0;
}

void
conn_fini(void)
{
	if (conn_loop != NULL)
		loop_timer_cancel(conn_loop, &timeout_timer);
	free(conns);
	free(scratch);
	conns = NULL;
	scratch = NULL;
	conn_loop = NULL;
}

unsigned
conn_count(void)
{
	return (unsigned)(stats.accepted - stats.closed);
}

const struct conn_stats *
conn_stats(void)
{
	return &stats;
}

/* The timer follows the earliest deadline of the two lists. Touches only
 * move deadlines later, so it is re-armed when a deadline comes earlier
 * (a first entry, a shorter list) and otherwise fires early and re-arms. */
static void
conn_timer_update(void)
{
	uint64_t idle = timeout_next(&idle_list);
	uint64_t drain = timeout_next(&drain_list);
	uint64_t when = idle < drain ? idle : drain;
	uint64_t now = loop_now(conn_loop);

	if (when == UINT64_MAX) {
		loop_timer_cancel(conn_loop, &timeout_timer);
		return;
	}
	if (timeout_timer.armed && timeout_timer.when <= when)
		return;
	loop_timer_set(conn_loop, &timeout_timer, when > now ? when - now : 0);
}

/* Record progress: the deadline of c's state starts again from now. */
static void
conn_touch(struct conn *c)
{
	struct timeout_list *list = c->state == CONN_OPEN ? &idle_list :
	    &drain_list;
	bool was_first = list->head.next == &list->head;

	timeout_touch(list, &c->timeout, loop_now(conn_loop));
	if (was_first)
		conn_timer_update();
}

void
conn_configure(const struct conn_config *cfg)
{
	config = *cfg;
	idle_list.ms = cfg->idle_timeout;
	drain_list.ms = cfg->drain_timeout;
	if (conn_loop != NULL) {
		loop_timer_cancel(conn_loop, &timeout_timer);
		conn_timer_update();
	}
}

/*
 * The one place a connection changes state; it moves c to the timeout list
 * of the new one. CONN_CLOSED closes the socket and logs why (reason):
 * c is free when it returns, and callers return at once.
 */
static void
conn_set_state(struct conn *c, enum conn_state state, const char *reason)
{
	c->state = state;
	timeout_remove(&c->timeout);
	if (state != CONN_CLOSED) {
		conn_touch(c);
		return;
	}
	loop_del(conn_loop, c->fd);
	close(c->fd);
	backlog_free(&c->out);
	stats.closed++;
	/* Logged once done, so that the line is a fact for whoever reads it. */
	log_debug("close fd %d: %s, %llu bytes in, %llu bytes out", c->fd,
	    reason, (unsigned long long)c->bytes_in,
	    (unsigned long long)c->bytes_out);
	if (conn_on_close != NULL)
		conn_on_close();
}

/* A failed read or write: resets and broken pipes are routine. */
static void
conn_fail(struct conn *c, const char *op)
{
	int err = errno;

	stats.failed++;
	if (err != ECONNRESET && err != EPIPE && err != ETIMEDOUT)
		log_warnx("fd %d: %s: %s", c->fd, op, strerror(err));
	conn_set_state(c, CONN_CLOSED, strerror(err));
}

void
conn_accept(struct listener *l, int fd, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct conn *c;

	/* The table holds fds below the limit the loop was sized for: one
	 * past it means someone raised the limit under the running daemon. */
	if (conn_count() >= config.max_connections ||
	    fd >= loop_setsize(conn_loop)) {
		close(fd);
		stats.refused++;
		if (log_due(&last_refusal_line, loop_now(conn_loop)))
			log_warnx("%s: refusing connections: %s (%llu so far)",
			    l->name, fd >= loop_setsize(conn_loop) ?
			    "descriptor past the event table" :
			    "max_connections reached",
			    (unsigned long long)stats.refused);
		return;
	}
	c = &conns[fd];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->writable = true;	/* a new socket's send buffer is empty */
	if (loop_add(conn_loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP,
	    conn_on_event, c) == -1) {
		log_warn("%s: cannot take connection", l->name);
		close(fd);
		return;
	}
	stats.accepted++;
	conn_set_state(c, CONN_OPEN, NULL);
	if (log_level >= LOG_LEVEL_DEBUG) {
		char name[ADDR_TEXT_MAX];

		log_debug("accept fd %d from %s", fd,
		    addr_format(peer, peerlen, name, sizeof(name)));
	}
}

/*
 * Write up to n bytes: every send goes through here. Returns the bytes the
 * socket took, 0 when it is full (writable is then cleared: EPOLLOUT says
 * when to go on), or -1 if c was closed.
 */
static ssize_t
conn_write(struct conn *c, const void *buf, size_t n)
{
	ssize_t k;

	do
		k = send(c->fd, buf, n, MSG_NOSIGNAL);
	while (k == -1 && errno == EINTR);
	if (k == -1) {
		if (errno != EAGAIN) {
			conn_fail(c, "write");
			return -1;
		}
		k = 0;
	}
	/* A short write means the buffer is full: the edge comes when it
	 * drains. */
	if ((size_t)k < n)
		c->writable = false;
	c->bytes_out += (size_t)k;
	stats.bytes_out += (size_t)k;
	return k;
}

/*
 * Write what the backlog holds, as far as the socket takes it, and resume
 * reading at backlog_low. Returns 0, or -1 if c was closed.
 */
static int
conn_flush(struct conn *c)
{
	ssize_t n = conn_write(c, backlog_data(&c->out), backlog_len(&c->out));

	if (n <= 0)
		return (int)n;
	backlog_consume(&c->out, (size_t)n);
	conn_touch(c);
	if ((c->read_paused & PAUSE_BACKPRESSURE) &&
	    backlog_len(&c->out) <= config.backlog_low) {
		log_debug("fd %d: %zu bytes owed, reading resumed", c->fd,
		    backlog_len(&c->out));
		c->read_paused &= (uint8_t)~PAUSE_BACKPRESSURE;
	}
	return 0;
}

/*
 * Echo n transformed bytes: straight to the socket while nothing is owed,
 * the rest behind what is. Returns 0, or -1 if c was closed.
 */
static int
conn_send(struct conn *c, const unsigned char *buf, size_t n)
{
	if (backlog_len(&c->out) == 0 && c->writable) {
		ssize_t k = conn_write(c, buf, n);

		if (k == -1)
			return -1;
		buf += k;
		n -= (size_t)k;
	}
	if (n > 0 && backlog_append(&c->out, buf, n) == -1) {
		log_warn("fd %d: cannot queue %zu bytes", c->fd, n);
		stats.failed++;
		conn_set_state(c, CONN_CLOSED, "out of memory");
		return -1;
	}
	return 0;
}

static bool
conn_may_read(const struct conn *c)
{
	return c->state != CONN_DRAINING && c->readable && c->read_paused == 0;
}

/*
 * Read, transform and echo until the kernel has nothing more, the backlog
 * reaches backlog_high, or the turn's budget is spent (then run again next
 * turn: with edge triggering no new event would come for bytes already
 * waiting). A read takes no more than fits under backlog_high, so that a
 * connection never owes more than that. Returns 0, or -1 if c was closed.
 */
static int
conn_read(struct conn *c)
{
	size_t budget = CONN_READ_BUDGET;
	uint64_t before = c->bytes_in;

	while (conn_may_read(c)) {
		size_t owed = backlog_len(&c->out), want = CONN_READ_MAX;
		ssize_t n;

		/* (A reload may have lowered the mark below what is owed.) */
		if (owed >= config.backlog_high) {
			log_debug("fd %d: %zu bytes owed, reading paused",
			    c->fd, owed);
			c->read_paused |= PAUSE_BACKPRESSURE;
			break;
		}
		if (budget == 0) {
			log_debug("fd %d: read budget spent, yielding", c->fd);
			loop_post(conn_loop, c->fd);
			break;
		}
		if (want > budget)
			want = budget;
		if (want > config.backlog_high - owed)
			want = config.backlog_high - owed;

		n = recv(c->fd, scratch, want, 0);
		if (n > 0) {
			/* A short read emptied the socket; a new edge comes
			 * with the next byte. After the FIN, read on to 0. */
			if ((size_t)n < want && c->state == CONN_OPEN)
				c->readable = false;
			c->bytes_in += (size_t)n;
			stats.bytes_in += (size_t)n;
			budget -= (size_t)n;
			upper_inplace(scratch, (size_t)n);
			if (conn_send(c, scratch, (size_t)n) == -1)
				return -1;
		} else if (n == 0) {
			log_debug("eof fd %d after %llu bytes, %zu owed", c->fd,
			    (unsigned long long)c->bytes_in,
			    backlog_len(&c->out));
			conn_set_state(c, CONN_DRAINING, NULL);
		} else if (errno == EAGAIN) {
			c->readable = false;
		} else if (errno != EINTR) {
			conn_fail(c, "read");
			return -1;
		}
	}
	if (c->bytes_in != before)
		conn_touch(c);
	return 0;
}

/* Make all the progress the flags allow. May close c. */
static void
conn_run(struct conn *c)
{
	if (c->writable && backlog_len(&c->out) > 0 && conn_flush(c) == -1)
		return;
	if (conn_may_read(c) && conn_read(c) == -1)
		return;
	if (c->state == CONN_DRAINING && backlog_len(&c->out) == 0)
		conn_set_state(c, CONN_CLOSED, "done");
}

static void
conn_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct conn *c = data;

	(void)loop;
	(void)fd;
	if ((events & EPOLLRDHUP) && c->state == CONN_OPEN)
		conn_set_state(c, CONN_HALF_CLOSED, NULL);
	if (events & (EPOLLIN | EPOLLRDHUP))
		c->readable = true;
	if (events & EPOLLOUT)
		c->writable = true;
	conn_run(c);
}

static void
conn_expire(struct timeout_list *list, const char *reason)
{
	struct timeout_link *link;

	while ((link = timeout_expired(list, loop_now(conn_loop))) != NULL) {
		stats.timed_out++;
		conn_set_state(conn_of(link), CONN_CLOSED, reason);
	}
}

static void
conn_on_timeout(struct loop *loop, struct loop_timer *timer)
{
	(void)loop;
	(void)timer;
	conn_expire(&idle_list, "idle timeout");
	conn_expire(&drain_list, "drain timeout");
	conn_timer_update();
}

void
conn_close_all(const char *reason)
{
	struct timeout_list *lists[] = { &idle_list, &drain_list };

	/* Every connection is on the list of its state, timeout or not. */
	for (size_t i = 0; i < 2; i++)
		while (lists[i]->head.next != &lists[i]->head)
			conn_set_state(conn_of(lists[i]->head.next),
			    CONN_CLOSED, reason);
}
