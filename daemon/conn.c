/*
 * conn.c — the data path, and the states a connection goes through (the
 * table they live in, accepting, timeouts: conns.c). A connection is
 * registered once, edge-triggered,
 * for reads, writes and the peer's FIN, and two flags remember what epoll
 * said: readable (the kernel may hold bytes for us) and writable (the socket
 * may take more). Bytes are read into one loop-wide scratch buffer,
 * uppercased in place and written straight back; only what the socket does
 * not take is copied to the connection's backlog. Nothing is allocated for a
 * connection that keeps up.
 *
 *   PREAMBLE --parts read--> OPEN --peer's FIN--> HALF_CLOSED --read EOF-->
 *   DRAINING --flushed--> CLOSED; OPEN --read EOF--> DRAINING; and from any
 *   state: error, reset, timeout, shutdown --> CLOSED
 *
 * conn_set_state is the one place the state changes, and it moves the
 * connection to the timeout list its new state names (timeout_of). conn_close
 * is the one way out: it counts how the connection ended and writes its
 * access log line. What the preamble says is preamble.h's to read; a probe
 * connection's behaviour is probe.h's, asked at each step behind one branch.
 */
#include "conn_int.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "log.h"
#include "loop.h"
#include "probe.h"
#include "upper.h"

static const uint8_t timeout_of[] = {	/* the list of each state */
	[CONN_PREAMBLE] = LIST_HEADER,	/* from the accept, never restarted */
	[CONN_OPEN] = LIST_IDLE,
	[CONN_HALF_CLOSED] = LIST_DRAIN,	/* from the peer's FIN on */
	[CONN_DRAINING] = LIST_DRAIN,
};

/* Reasons to stop reading, one bit each: lifting one never lifts another. */
#define PAUSE_BACKPRESSURE	0x1	/* backlog reached backlog_high */
#define PAUSE_TOTAL		0x2	/* owed when all reached backlog_total:
					 * until its backlog is empty */

static uint64_t last_error_line;	/* for log_due */

/* Record progress: the deadline of c's state starts again from now. (In
 * PREAMBLE nothing is: its deadline runs from the accept.) */
static void
conn_touch(struct conn *c)
{
	timeout_set_touch(&conns.timeouts, timeout_of[c->state], &c->timeout);
}

/*
 * The one place a connection changes state; it moves c to the timeout list
 * of the new one. CONN_CLOSED closes the socket and frees the backlog: only
 * conn_close asks for it, and c is free when it returns.
 */
void
conn_set_state(struct conn *c, enum conn_state state)
{
	/* The client's EOF read (a probe's report drains straight from its
	 * preamble: no EOF). */
	if (state == CONN_DRAINING && c->state != CONN_PREAMBLE)
		conns.stats.half_closes++;
	c->state = state;
	timeout_remove(&c->timeout);
	if (state != CONN_CLOSED) {
		conn_touch(c);
		return;
	}
	loop_del(conns.loop, conn_fd(c));
	close(conn_fd(c));
	conns.stats.owed -= backlog_len(&c->out);
	backlog_free(&c->out);
	conns_owing(c);		/* off the owing list */
}

/*
 * The one way out: hand over c's record (counters, access log), close it,
 * log it (detail, if any, says more). c is free when it returns; callers
 * return at once.
 */
void
conn_close(struct conn *c, enum conn_end end, const char *detail)
{
	struct record r = { end, loop_now(conns.loop) - c->opened,
	    c->bytes_in, c->probe ? probe_sent(conn_fd(c)) :
	    c->bytes_in - backlog_len(&c->out), &c->peer, conn_fd(c) };
	char client[ADDR_TEXT_MAX];

	if (c->probe)
		probe_end(conn_fd(c), end);
	admit_release(&c->peer, &(struct admit_ticket){ .counted =
	    c->counted });
	record_close(&r);
	conns.stats.closed++;
	conn_set_state(c, CONN_CLOSED);
	/* Logged once done, so that the line is a fact for whoever reads
	 * it (c's fields outlive the close until the slot is reused). */
	log_debug("close fd %d from %s: %s%s%s, %llu bytes in, %llu bytes "
	    "out", conn_fd(c), addr_packed_format(&c->peer, client,
	    sizeof(client)), record_end_names[end], detail ? ": " : "",
	    detail ? detail : "", (unsigned long long)r.bytes_in,
	    (unsigned long long)r.bytes_out);
	if (conns.on_close != NULL)
		conns.on_close();
}

/* A failed read or write: resets and broken pipes are routine; anything
 * else is worth a line, one a second at most (it can be every client). */
void
conn_fail(struct conn *c, const char *op)
{
	int err = errno;
	bool reset = err == ECONNRESET || err == EPIPE || err == ETIMEDOUT;

	if (!reset && log_due(&last_error_line))
		log_warnx("fd %d: %s: %s", conn_fd(c), op, strerror(err));
	conn_close(c, reset ? END_RESET : END_ERROR, strerror(err));
}

/* The socket's pending error, if any, ends c. Returns 0, or -1 if c was
 * closed. */
static int
conn_error(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(conn_fd(c), SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err == 0)
		return 0;
	errno = err;
	conn_fail(c, "socket");
	return -1;
}

/* Send up to n bytes as the socket takes them. Returns the bytes taken,
 * 0 when it is full (writable is then cleared: EPOLLOUT says when to go
 * on), or -1 if c was closed. */
static ssize_t
conn_send_now(struct conn *c, const void *buf, size_t n)
{
	ssize_t k;

	do
		k = send(conn_fd(c), buf, n, MSG_NOSIGNAL);
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
	if (k > 0)
		c->wrote = (uint32_t)loop_now(conns.loop);
	conns.stats.bytes_out += (size_t)k;
	return k;
}

/* Every write goes through here: a probe's echo may have to wait (held,
 * paced), not for the socket, which stays writable. As conn_send_now. */
static ssize_t
conn_write(struct conn *c, const void *buf, size_t n)
{
	ssize_t k;

	if (!c->probe)
		return conn_send_now(c, buf, n);
	if ((n = probe_allow(conn_fd(c), n)) == 0)
		return 0;
	if ((k = conn_send_now(c, buf, n)) > 0)
		probe_wrote(conn_fd(c), (size_t)k);
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
	conns.stats.owed -= (size_t)n;
	conns_owing(c);		/* progress: last on the list, or off it */
	conn_touch(c);
	if ((c->read_paused & PAUSE_BACKPRESSURE) &&
	    backlog_len(&c->out) <= conns.config.backlog_low) {
		log_debug("fd %d: %zu bytes owed, reading resumed", conn_fd(c),
		    backlog_len(&c->out));
		c->read_paused &= (uint8_t)~PAUSE_BACKPRESSURE;
	}
	if (backlog_len(&c->out) == 0)
		c->read_paused &= (uint8_t)~PAUSE_TOTAL;
	return 0;
}

/*
 * Echo n transformed bytes: straight to the socket while nothing is owed,
 * the rest behind what is. Returns 0, or -1 if c was closed.
 */
int
conn_echo(struct conn *c, const unsigned char *buf, size_t n)
{
	if (backlog_len(&c->out) == 0 && c->writable) {
		ssize_t k = conn_write(c, buf, n);

		if (k == -1)
			return -1;
		buf += k;
		n -= (size_t)k;
	}
	if (n > 0 && backlog_append(&c->out, buf, n) == -1) {
		log_warn("fd %d: cannot queue %zu bytes", conn_fd(c), n);
		conn_close(c, END_ERROR, "out of memory");
		return -1;
	}
	conns.stats.owed += n;
	if (n > 0 && !c->owing)		/* owes from now on */
		conns_owing(c);
	if (conns.stats.owed > conns.config.backlog_total)
		conns_shed(c);
	return 0;
}

static bool
conn_may_read(const struct conn *c)
{
	return (c->state == CONN_OPEN || c->state == CONN_HALF_CLOSED) &&
	    c->readable && c->read_paused == 0 && !c->bulk;
}

/*
 * Read, transform and echo until the kernel has nothing more, the backlog
 * reaches backlog_high, or a read fills the buffer (then c is bulk, and
 * waits for its turn: see CONN_READ_MAX). A read takes no more than fits
 * under backlog_high, so that a connection never owes more than that.
 * Returns 0, or -1 if c was closed.
 */
static int
conn_read(struct conn *c)
{
	uint64_t before = c->bytes_in;

	while (conn_may_read(c)) {
		size_t owed = backlog_len(&c->out), want = CONN_READ_MAX, echo;
		ssize_t n;

		/* All together owe too much: who owes stops reading until it
		 * has taken its bytes; who keeps up reads on. */
		if (owed > 0 && conns.stats.owed >= conns.config.backlog_total) {
			log_debug("fd %d: %zu bytes owed, reading paused "
			    "(backlog_total)", conn_fd(c), owed);
			c->read_paused |= PAUSE_TOTAL;
			conns.stats.read_pauses++;
			break;
		}
		/* (A reload may have lowered the mark below what is owed.) */
		if (owed >= conns.config.backlog_high) {
			log_debug("fd %d: %zu bytes owed, reading paused",
			    conn_fd(c), owed);
			c->read_paused |= PAUSE_BACKPRESSURE;
			conns.stats.read_pauses++;
			break;
		}
		if (want > conns.config.backlog_high - owed)
			want = conns.config.backlog_high - owed;

		n = recv(conn_fd(c), conns.scratch, want, 0);
		if (n > 0) {
			/* A short read emptied the socket; a new edge comes
			 * with the next byte. After the FIN, read on to 0. */
			if ((size_t)n < want && c->state == CONN_OPEN)
				c->readable = false;
			c->bytes_in += (size_t)n;
			conns.stats.bytes_in += (size_t)n;
			echo = c->probe ? probe_take(conn_fd(c), conns.scratch,
			    (size_t)n) : (size_t)n;
			upper_inplace(conns.scratch, echo);
			if (conn_echo(c, conns.scratch, echo) == -1)
				return -1;
			if ((size_t)n == want) {
				log_debug("fd %d: bulk, taking turns",
				    conn_fd(c));
				c->bulk = true;
				loop_post_low(conns.loop, conn_fd(c));
				break;
			}
		} else if (n == 0) {
			log_debug("eof fd %d after %llu bytes, %zu owed",
			    conn_fd(c), (unsigned long long)c->bytes_in,
			    backlog_len(&c->out));
			conn_set_state(c, CONN_DRAINING);
			if (c->probe)
				probe_eof(conn_fd(c));
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

/* Make all the progress the flags allow (turn: a posted run, which is a
 * bulk reader's turn). May close c. */
static void
conn_run(struct conn *c, bool turn)
{
	/* A bulk reader queues again only if its turn's read fills the
	 * buffer again. */
	if (turn)
		c->bulk = false;
	if (c->writable && backlog_len(&c->out) > 0 && conn_flush(c) == -1)
		return;
	if (conn_may_read(c) && conn_read(c) == -1)
		return;
	if (backlog_len(&c->out) > 0)
		return;
	if (c->probe && probe_fin_due(conn_fd(c)))
		shutdown(conn_fd(c), SHUT_WR);	/* fin_after: ours first */
	if (c->state == CONN_DRAINING && (!c->probe ||
	    probe_may_close(conn_fd(c))))
		conn_close(c, END_DONE, NULL);
}

void
conn_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct conn *c = data;

	(void)loop;
	(void)fd;
	if (events & (EPOLLIN | EPOLLRDHUP))
		c->readable = true;
	if (events & EPOLLOUT)
		c->writable = true;
	if (c->state == CONN_PREAMBLE && (!c->readable ||
	    conns_greet(c, events & EPOLLRDHUP) == -1 ||
	    c->state == CONN_PREAMBLE))
		return;
	/* A reset after the client's EOF: nothing is read any more, and
	 * the echo may be held (a probe's), so no write would learn of it
	 * before the drain timeout. */
	if ((events & EPOLLERR) && c->state == CONN_DRAINING &&
	    conn_error(c) == -1)
		return;
	/* The peer's FIN (or a reset, which says so too: reading tells
	 * which): from now on read on to the end, as no new edge comes. */
	if ((events & EPOLLRDHUP) && c->state == CONN_OPEN)
		conn_set_state(c, CONN_HALF_CLOSED);
	conn_run(c, events == 0);
}
