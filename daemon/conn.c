/*
 * conn.c — the data path. A connection is registered once, edge-triggered,
 * for reads, writes and the peer's FIN, and two flags remember what epoll
 * said: readable (the kernel may hold bytes for us) and writable (the socket
 * may take more). Bytes are read into one loop-wide scratch buffer,
 * uppercased in place and written straight back; only what the socket does
 * not take is copied to the connection's backlog. Nothing is allocated for a
 * connection that keeps up.
 *
 *   HEADER --PROXY header--> OPEN --peer's FIN--> HALF_CLOSED --read EOF-->
 *   DRAINING --flushed--> CLOSED; OPEN --read EOF--> DRAINING; and from any
 *   state: error, reset, timeout, shutdown --> CLOSED
 *
 * conn_set_state is the one place the state changes. It also moves the
 * connection to the timeout list of its new state: the header's (counted
 * from accept, never restarted), idle while OPEN, drain from the peer's FIN
 * on. conn_close is the one way out: it counts how the connection ended
 * and writes its access log line.
 */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "admit.h"
#include "backlog.h"
#include "log.h"
#include "loop.h"
#include "parse.h"
#include "preamble.h"
#include "probe.h"
#include "record.h"
#include "timeout.h"
#include "upper.h"

/*
 * One read takes at most CONN_READ_MAX bytes: large enough that the syscall
 * is a small fraction of the copy, small enough to stay in L2. A read that
 * fills the buffer means more is waiting: the connection is bulk, and from
 * then on it reads one buffer at a time, from its turn in the loop's
 * low-priority queue (loop_post_low), until a read comes up short. The
 * transfers take turns, one buffer a turn between them, and whatever reads
 * less than a buffer at a time (a request, a ping-pong round, a burst) is
 * served on its event at once: it waits for one buffer of other people's
 * copying at most, never for every transfer's.
 */
#define CONN_READ_MAX		(256 * 1024)

enum conn_state {
	CONN_CLOSED,		/* slot unused */
	CONN_HEADER,		/* waiting for the PROXY header */
	CONN_SCENARIO,		/* waiting for a probe's scenario line */
	CONN_OPEN,		/* reading and echoing */
	CONN_HALF_CLOSED,	/* peer's FIN seen: read on to EOF */
	CONN_DRAINING,		/* read EOF: flush what is owed, close */
};

/* The timeout lists, one per timeout; a state says which applies. */
enum { LIST_HEADER, LIST_IDLE, LIST_DRAIN, LISTS };

/* Reasons to stop reading, one bit each: lifting one never lifts another. */
#define PAUSE_BACKPRESSURE	0x1	/* backlog reached backlog_high */

struct conn {
	struct backlog out;		/* owed, not yet taken by the socket */
	struct timeout_link timeout;	/* on the list of its state */
	uint64_t bytes_in;		/* read from the peer; all but what is
					 * owed has been written */
	uint64_t opened;		/* loop ms of the accept */
	struct addr_packed peer;	/* the client (compact: an idle
					 * connection costs every byte) */
	uint8_t state;			/* enum conn_state */
	uint8_t read_paused;		/* PAUSE_* bits; 0: may read */
	uint8_t readable : 1;		/* kernel may hold unread bytes */
	uint8_t writable : 1;		/* socket may take more bytes */
	uint8_t probe : 1;		/* on a probe listener: probe.h says
					 * what it may do */
	uint8_t counted : 1;		/* admit_ticket's */
	uint8_t bulk : 1;		/* reads in its low-priority turns */
};

static inline struct conn *
conn_of(struct timeout_link *link)
{
	return (struct conn *)((char *)link - offsetof(struct conn, timeout));
}

static struct conn *conns;		/* indexed by fd */

/* The table is indexed by fd: a connection's is its index, not stored. */
static inline int
conn_fd(const struct conn *c)
{
	return (int)(c - conns);
}

static struct loop *conn_loop;
static unsigned char *scratch;		/* CONN_READ_MAX, shared by all */
static struct conn_config config;
static struct timeout_set timeouts;	/* lists[LIST_*], oldest first */
static struct conn_stats stats;
static uint64_t last_header_line;	/* loop ms, for log_due */
static void (*conn_on_close)(void);

static void conn_on_event(struct loop *loop, int fd, uint32_t events,
    void *data);
static void conn_on_timeout(struct loop *loop, struct loop_timer *timer);

int
conn_init(struct loop *loop, void (*on_close)(void))
{
	timeout_set_init(&timeouts, loop, conn_on_timeout);
	conn_loop = loop;
	conn_on_close = on_close;
	conns = calloc((size_t)loop_setsize(loop), sizeof(*conns));
	scratch = malloc(CONN_READ_MAX);
	if (conns == NULL || scratch == NULL || probe_init(loop) == -1) {
		conn_fini();
		return -1;
	}
	return 0;
}

void
conn_fini(void)
{
	if (conn_loop != NULL)
		loop_timer_cancel(conn_loop, &timeouts.timer);
	probe_fini();
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

/* Record progress: the deadline of c's state starts again from now. (In
 * HEADER nothing is progress: its deadline runs from the accept.) */
static void
conn_touch(struct conn *c)
{
	timeout_set_touch(&timeouts, c->state == CONN_HEADER ||
	    c->state == CONN_SCENARIO ? LIST_HEADER : c->state == CONN_OPEN ?
	    LIST_IDLE : LIST_DRAIN, &c->timeout);
}

void
conn_configure(const struct conn_config *cfg)
{
	config = *cfg;
	timeouts.lists[LIST_HEADER].ms = cfg->header_timeout;
	timeouts.lists[LIST_IDLE].ms = cfg->idle_timeout;
	timeouts.lists[LIST_DRAIN].ms = cfg->drain_timeout;
	if (conn_loop != NULL)
		timeout_set_rearm(&timeouts);
}

/*
 * The one place a connection changes state; it moves c to the timeout list
 * of the new one. CONN_CLOSED closes the socket and frees the backlog: only
 * conn_close asks for it, and c is free when it returns.
 */
static void
conn_set_state(struct conn *c, enum conn_state state)
{
	bool header_goes_on = c->state == CONN_HEADER &&
	    state == CONN_SCENARIO;

	if (state == CONN_DRAINING)
		stats.half_closes++;	/* the client's EOF read */
	c->state = state;
	if (header_goes_on)
		return;		/* one header_timeout, from the accept */
	timeout_remove(&c->timeout);
	if (state != CONN_CLOSED) {
		conn_touch(c);
		return;
	}
	loop_del(conn_loop, conn_fd(c));
	close(conn_fd(c));
	stats.owed -= backlog_len(&c->out);
	backlog_free(&c->out);
}

/*
 * The one way out: hand over c's record (counters, access log), close it,
 * log it (detail, if any, says more). c is free when it returns; callers
 * return at once.
 */
static void
conn_close(struct conn *c, enum conn_end end, const char *detail)
{
	struct record r = { end, loop_now(conn_loop) - c->opened,
	    c->bytes_in, c->probe ? probe_sent(conn_fd(c)) :
	    c->bytes_in - backlog_len(&c->out), &c->peer, conn_fd(c) };
	char client[ADDR_TEXT_MAX];

	if (c->probe)
		probe_end(conn_fd(c), end == END_DONE);
	admit_release(&c->peer, &(struct admit_ticket){ .counted =
	    c->counted });
	record_close(&r);
	stats.closed++;
	conn_set_state(c, CONN_CLOSED);
	/* Logged once done, so that the line is a fact for whoever reads
	 * it (c's fields outlive the close until the slot is reused). */
	log_debug("close fd %d from %s: %s%s%s, %llu bytes in, %llu bytes "
	    "out", conn_fd(c), addr_packed_format(&c->peer, client,
	    sizeof(client)), record_end_names[end], detail ? ": " : "",
	    detail ? detail : "", (unsigned long long)r.bytes_in,
	    (unsigned long long)r.bytes_out);
	if (conn_on_close != NULL)
		conn_on_close();
}

/* A failed read or write: resets and broken pipes are routine. */
static void
conn_fail(struct conn *c, const char *op)
{
	int err = errno;
	bool reset = err == ECONNRESET || err == EPIPE || err == ETIMEDOUT;

	if (!reset)
		log_warnx("fd %d: %s: %s", conn_fd(c), op, strerror(err));
	conn_close(c, reset ? END_RESET : END_ERROR, strerror(err));
}

/* May c's client, as a PROXY header named it, connect? If not, c is
 * closed. */
static bool
conn_admit(struct conn *c)
{
	struct admit_ticket t = { .counted = false };

	if (!admit_named(&c->peer, &t)) {
		conn_close(c, END_REFUSED, NULL);
		return false;
	}
	c->counted = t.counted;
	return true;
}

void
conn_accept(struct listener *l, int fd, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct addr_packed client;
	struct admit_ticket t;
	struct conn *c;

	addr_pack(&client, peer);
	if (!admit_accept(l, fd, &client, &t)) {
		close(fd);
		return;
	}
	c = &conns[fd];
	memset(c, 0, sizeof(*c));
	c->writable = true;	/* a new socket's send buffer is empty */
	if (loop_add(conn_loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP,
	    conn_on_event, c) == -1) {
		log_warn("%s: cannot take connection", l->name);
		admit_release(&client, &t);
		close(fd);
		return;
	}
	stats.accepted++;
	c->opened = loop_now(conn_loop);
	c->peer = client;
	c->counted = t.counted;
	c->probe = (l->options & LISTEN_PROBE) != 0;
	conn_set_state(c, l->options & LISTEN_PROXY_PROTOCOL ? CONN_HEADER :
	    c->probe ? CONN_SCENARIO : CONN_OPEN);
	if (log_level >= LOG_LEVEL_DEBUG) {
		char name[ADDR_TEXT_MAX];

		log_debug("accept fd %d from %s on %s", fd,
		    addr_format(peer, peerlen, name, sizeof(name)), l->name);
	}
}

/* A preamble that will never be right: the connection alone pays. */
static void
conn_bad_header(struct conn *c, const char *why)
{
	char client[ADDR_TEXT_MAX];

	if (log_due(&last_header_line, loop_now(conn_loop)))
		log_warnx("%s: bad %s: %s (%llu so far)",
		    addr_packed_format(&c->peer, client, sizeof(client)),
		    c->state == CONN_HEADER ? "PROXY header" : "probe line", why,
		    (unsigned long long)record_stats()->ended[END_BAD_HEADER] +
		    1);
	conn_close(c, END_BAD_HEADER, why);
}

/* The scenario line, which a delay must fit under drain_timeout. */
static int
conn_start_probe(struct conn *c, const struct scenario *sc, char *why,
    size_t whylen)
{
	char delay[32], drain[32];

	if (sc->hold && config.drain_timeout != 0 &&
	    sc->delay_ms >= config.drain_timeout) {
		snprintf(why, whylen, "delay %s is not below drain_timeout "
		    "%s", format_duration(sc->delay_ms, delay, sizeof(delay)),
		    format_duration(config.drain_timeout, drain,
		    sizeof(drain)));
		return -1;
	}
	probe_start(conn_fd(c), sc);
	log_debug("fd %d: probe line: %s", conn_fd(c), why);
	return 0;
}

/*
 * The preamble before any echo: the PROXY header, then a probe's scenario
 * line, as the listener asked (fin: the peer has half-closed). Returns 0,
 * or -1 if c was closed.
 */
static int
conn_read_preamble(struct conn *c, bool fin)
{
	struct proxy_header h;
	struct scenario sc;
	enum preamble_status st;
	char why[160];

	while (c->state == CONN_HEADER || c->state == CONN_SCENARIO) {
		st = c->state == CONN_HEADER ? preamble_proxy(conn_fd(c), fin,
		    scratch, &h, why, sizeof(why)) :
		    preamble_scenario(conn_fd(c), fin, scratch, &sc, why,
		    sizeof(why));
		if (st == PREAMBLE_MORE) {
			c->readable = false;
			return 0;
		}
		if (st == PREAMBLE_ERROR) {
			conn_fail(c, "read");
			return -1;
		}
		if (st == PREAMBLE_DONE && c->state == CONN_HEADER) {
			if (h.source.len != 0)
				addr_pack(&c->peer,
				    (struct sockaddr *)&h.source.ss);
			log_debug("fd %d: PROXY v%d header, client %s",
			    conn_fd(c), h.version, addr_packed_format(&c->peer,
			    why, sizeof(why)));
			if (!conn_admit(c))
				return -1;
			conn_set_state(c, c->probe ? CONN_SCENARIO : CONN_OPEN);
			continue;
		}
		if (st == PREAMBLE_DONE) {
			scenario_format(&sc, why);
			why[strcspn(why, "\n")] = '\0';
			if (conn_start_probe(c, &sc, why, sizeof(why)) == 0) {
				conn_set_state(c, CONN_OPEN);
				continue;
			}
		}
		conn_bad_header(c, why);
		return -1;
	}
	return 0;
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

	/* A probe's echo may have to wait (held, paced): not for the
	 * socket, which stays writable. */
	if (c->probe && (n = probe_allow(conn_fd(c), n)) == 0)
		return 0;
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
	stats.bytes_out += (size_t)k;
	if (c->probe)
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
	stats.owed -= (size_t)n;
	conn_touch(c);
	if ((c->read_paused & PAUSE_BACKPRESSURE) &&
	    backlog_len(&c->out) <= config.backlog_low) {
		log_debug("fd %d: %zu bytes owed, reading resumed", conn_fd(c),
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
		log_warn("fd %d: cannot queue %zu bytes", conn_fd(c), n);
		conn_close(c, END_ERROR, "out of memory");
		return -1;
	}
	stats.owed += n;
	return 0;
}

static bool
conn_may_read(const struct conn *c)
{
	return (c->state == CONN_OPEN || c->state == CONN_HALF_CLOSED) &&
	    c->readable && c->read_paused == 0;
}

/*
 * Read, transform and echo until the kernel has nothing more, the backlog
 * reaches backlog_high, or a read fills the buffer (then c is bulk: see
 * CONN_READ_MAX; turn: this run is its turn). A read takes no more than
 * fits under backlog_high, so that a connection never owes more than that.
 * Returns 0, or -1 if c was closed.
 */
static int
conn_read(struct conn *c, bool turn)
{
	uint64_t before = c->bytes_in;

	if (c->bulk && !turn)
		return 0;
	c->bulk = false;
	while (conn_may_read(c)) {
		size_t owed = backlog_len(&c->out), want = CONN_READ_MAX;
		ssize_t n;

		/* (A reload may have lowered the mark below what is owed.) */
		if (owed >= config.backlog_high) {
			log_debug("fd %d: %zu bytes owed, reading paused",
			    conn_fd(c), owed);
			c->read_paused |= PAUSE_BACKPRESSURE;
			stats.read_pauses++;
			break;
		}
		if (want > config.backlog_high - owed)
			want = config.backlog_high - owed;

		n = recv(conn_fd(c), scratch, want, 0);
		if (n > 0) {
			/* A short read emptied the socket; a new edge comes
			 * with the next byte. After the FIN, read on to 0. */
			if ((size_t)n < want && c->state == CONN_OPEN)
				c->readable = false;
			c->bytes_in += (size_t)n;
			stats.bytes_in += (size_t)n;
			upper_inplace(scratch, (size_t)n);
			if (conn_send(c, scratch, c->probe ?
			    probe_take(conn_fd(c), (size_t)n) : (size_t)n) == -1)
				return -1;
			if ((size_t)n == want) {
				log_debug("fd %d: bulk, taking turns",
				    conn_fd(c));
				c->bulk = true;
				loop_post_low(conn_loop, conn_fd(c));
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

/* Make all the progress the flags allow (turn: a posted run, a bulk
 * reader's turn). May close c. */
static void
conn_run(struct conn *c, bool turn)
{
	if (c->writable && backlog_len(&c->out) > 0 && conn_flush(c) == -1)
		return;
	if (conn_may_read(c) && conn_read(c, turn) == -1)
		return;
	if (c->probe && backlog_len(&c->out) == 0 &&
	    probe_fin_due(conn_fd(c)))
		shutdown(conn_fd(c), SHUT_WR);	/* fin_after: ours first */
	if (c->state == CONN_DRAINING && backlog_len(&c->out) == 0 &&
	    (!c->probe || probe_may_close(conn_fd(c))))
		conn_close(c, END_DONE, NULL);
}

static void
conn_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct conn *c = data;

	(void)loop;
	(void)fd;
	if (events & (EPOLLIN | EPOLLRDHUP))
		c->readable = true;
	if (events & EPOLLOUT)
		c->writable = true;
	if ((c->state == CONN_HEADER || c->state == CONN_SCENARIO) &&
	    (!c->readable || conn_read_preamble(c, events & EPOLLRDHUP) ==
	    -1 || c->state != CONN_OPEN))
		return;
	/* The peer's FIN (or a reset, which says so too: reading tells
	 * which): from now on read on to the end, as no new edge comes. */
	if ((events & EPOLLRDHUP) && c->state == CONN_OPEN)
		conn_set_state(c, CONN_HALF_CLOSED);
	conn_run(c, events == 0);
}

static void
conn_on_timeout(struct loop *loop, struct loop_timer *timer)
{
	static const enum conn_end ends[LISTS] = {
		[LIST_HEADER] = END_BAD_HEADER,
		[LIST_IDLE] = END_IDLE_TIMEOUT,
		[LIST_DRAIN] = END_DRAIN_TIMEOUT,
	};
	struct timeout_link *link;

	(void)timer;
	for (int i = 0; i < LISTS; i++) {
		while ((link = timeout_expired(&timeouts.lists[i],
		    loop_now(loop))) != NULL) {
			if (i == LIST_HEADER)
				conn_bad_header(conn_of(link), "not whole "
				    "within header_timeout");
			else
				conn_close(conn_of(link), ends[i], NULL);
		}
	}
	timeout_set_rearm(&timeouts);
}

void
conn_close_all(void)
{
	/* Every connection is on the list of its state, timeout or not. */
	for (int i = 0; i < LISTS; i++)
		while (timeouts.lists[i].head.next != &timeouts.lists[i].head)
			conn_close(conn_of(timeouts.lists[i].head.next),
			    END_SHUTDOWN, NULL);
}
