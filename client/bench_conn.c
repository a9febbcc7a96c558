/*
 * bench_conn.c — one connection of upcase bench, from connect(2) to close:
 * the connect and its timeout, the windows of the pattern out, the echo
 * checked against its uppercase on the way back, a round or a transfer
 * done, and the next one on the slot (churn). bench.c decides when
 * connections start and when the run ends.
 */
#include "bench_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "parse.h"

#define ERRORS_SHOWN	5

void
bench_error(struct bench *b, struct bconn *c, const char *what)
{
	if (b->n.errors++ < ERRORS_SHOWN)
		fprintf(stderr, "upcase: %s: connection %zu: %s\n", b->o->name,
		    (size_t)(c - b->c), what);
	else if (b->n.errors == ERRORS_SHOWN + 1)
		fprintf(stderr, "upcase: %s: more errors follow, counted "
		    "only\n", b->o->name);
	c->failed = true;
}

/* The connections still connecting, oldest first: connects start in
 * time order, so the list stays sorted by connect_at by appending, and
 * only its head can time out next (libev's fourth strategy). */
static void
connecting_add(struct bench *b, struct bconn *c, double now)
{
	unsigned k = (unsigned)(c - b->c), tail = b->connecting[1];

	c->connect_at = now;
	c->prev = tail;
	c->next = NONE;
	if (tail == NONE)
		b->connecting[0] = k;
	else
		b->c[tail].next = k;
	b->connecting[1] = k;
}

static void
connecting_remove(struct bench *b, struct bconn *c)
{
	if (c->prev == NONE)
		b->connecting[0] = c->next;
	else
		b->c[c->prev].next = c->next;
	if (c->next == NONE)
		b->connecting[1] = c->prev;
	else
		b->c[c->next].prev = c->prev;
}

void
bench_finish(struct bench *b, struct bconn *c)
{
	if (c->phase == CONNECTING)
		connecting_remove(b, c);
	close(c->fd);
	c->phase = DONE;
	b->open--;
	if (b->o->rate > 0)
		b->free[b->nfree++] = (unsigned)(c - b->c);
}

void
bench_watch(struct bench *b, struct bconn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events,
	    .data.u32 = (uint32_t)(c - b->c) };

	if (events != c->events) {
		epoll_ctl(b->ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->events = events;
	}
}

static void
bench_sample(struct bench *b, double seconds)
{
	if (b->n.nlat == b->caplat) {
		size_t cap = b->caplat ? 2 * b->caplat : 4096;
		uint32_t *lat = realloc(b->n.lat, cap * sizeof(*lat));

		if (lat == NULL)
			return;		/* fewer samples, not a failure */
		b->n.lat = lat;
		b->caplat = cap;
	}
	b->n.lat[b->n.nlat++] = (uint32_t)(seconds * 1e6);
}

/* Bytes this connection should send in its current transfer or round. */
static uint64_t
bench_size(const struct bench *b)
{
	return b->o->pingpong ? b->o->pingpong : b->o->bytes;
}

static void
bench_start_round(struct bench *b, struct bconn *c, double now)
{
	c->sent = c->got = 0;
	c->base = (c->base + 1) % PATTERN;
	c->started = now;
	bench_watch(b, c, EPOLLIN | EPOLLOUT);
}

static void
bench_send(struct bench *b, struct bconn *c)
{
	uint64_t left = bench_size(b) - c->sent;
	size_t n = left < PATTERN ? (size_t)left : PATTERN;
	ssize_t k = send(c->fd, b->out + (c->base + c->sent) % PATTERN, n,
	    MSG_NOSIGNAL);

	if (k < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			bench_error(b, c, strerror(errno));
			bench_finish(b, c);
		}
		return;
	}
	c->sent += (size_t)k;
	if (c->sent < bench_size(b))
		return;
	if (b->o->pingpong == 0) {
		shutdown(c->fd, SHUT_WR);
		c->phase = CLOSING;
	}
	bench_watch(b, c, EPOLLIN);
}

/* Take what the socket has; check it; move the connection on. */
static void
bench_recv(struct bench *b, struct bconn *c, double now)
{
	for (;;) {
		ssize_t n = recv(c->fd, b->buf, PATTERN, 0);
		size_t off;

		if (n == 0) {
			/* After the half-close all is owed back (a round
			 * counter restarts at 0 for the close). */
			uint64_t owed = b->o->pingpong ? 0 : b->o->bytes;

			if (c->phase != CLOSING || c->got != owed) {
				bench_error(b, c, "closed early: short echo");
			} else if (b->o->pingpong == 0) {
				bench_sample(b, now - c->started);
				b->n.rounds++;
			}
			bench_finish(b, c);
			if (b->o->churn && !c->failed && now < b->stop_at)
				bench_reopen(b, c, now);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			bench_error(b, c, strerror(errno));
			bench_finish(b, c);
			return;
		}
		off = (size_t)((c->base + c->got) % PATTERN);
		if (c->got + (size_t)n > c->sent ||
		    memcmp(b->buf, b->want + off, (size_t)n) != 0) {
			bench_error(b, c, c->got + (size_t)n > c->sent ?
			    "echo longer than sent" : "echo differs");
			bench_finish(b, c);
			return;
		}
		c->got += (size_t)n;
		b->n.bytes += (size_t)n;
		if (b->o->pingpong == 0 || c->got < b->o->pingpong)
			continue;
		/* A round is complete. */
		b->n.rounds++;
		bench_sample(b, now - c->started);
		if (now >= b->stop_at) {
			shutdown(c->fd, SHUT_WR);
			c->phase = CLOSING;
			c->got = 0;
			bench_watch(b, c, EPOLLIN);
			continue;
		}
		bench_start_round(b, c, now);
		return;
	}
}

static void
bench_connected(struct bench *b, struct bconn *c, double now)
{
	socklen_t len = sizeof(int);
	int err = 0, one = 1;

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		bench_error(b, c, strerror(err));
		bench_finish(b, c);
		return;
	}
	if (b->o->addr.ss.ss_family != AF_UNIX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	b->connected++;
	connecting_remove(b, c);
	c->phase = RUNNING;
	if (b->o->hold_ms > 0) {	/* nothing to watch until released */
		c->phase = HOLDING;
		bench_watch(b, c, 0);
		return;
	}
	if (!b->o->churn && b->o->rate == 0)	/* those count from the
						 * connect, or when due */
		c->started = now;
	c->base = (size_t)(c - b->c) % PATTERN;
}

int
bench_open(struct bench *b, struct bconn *c, unsigned k)
{
	const struct bench_options *o = b->o;
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = k };

	c->fd = socket(o->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		return -1;
	if (o->sources > 0) {
		struct sockaddr_in src = { .sin_family = AF_INET };
		int one = 1;

		/* Let the kernel pick the port per 4-tuple at connect, not
		 * per source address at bind: that is what multiplies the
		 * ephemeral range by the number of sources. */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		src.sin_addr.s_addr = htonl(0x7f000001u + k % o->sources);
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) == -1)
			return -1;
	}
	if (connect(c->fd, (const struct sockaddr *)&o->addr.ss,
	    o->addr.len) == -1 && errno != EINPROGRESS && errno != EAGAIN)
		return -1;
	c->events = EPOLLOUT;
	if (epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		return -1;
	connecting_add(b, c, net_now());
	return 0;
}

/* Fail the connections that have tried to connect for too long. */
void
bench_expire_connects(struct bench *b, double now)
{
	double limit = (double)b->o->connect_timeout_ms / 1000;
	char what[64], after[32];

	snprintf(what, sizeof(what), "connect: timed out after %s",
	    format_duration(b->o->connect_timeout_ms, after, sizeof(after)));
	while (b->connecting[0] != NONE &&
	    now >= b->c[b->connecting[0]].connect_at + limit) {
		struct bconn *c = &b->c[b->connecting[0]];

		bench_error(b, c, what);
		bench_finish(b, c);
	}
}

/* A new connection on c's slot, timed from start. */
void
bench_reopen(struct bench *b, struct bconn *c, double start)
{
	unsigned k = (unsigned)(c - b->c);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->started = start;
	b->open++;
	if (bench_open(b, c, k) == -1) {
		bench_error(b, c, strerror(errno));
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
		c->phase = DONE;
		b->open--;
		if (b->o->rate > 0)
			b->free[b->nfree++] = k;
	}
}

void
bench_event(struct bench *b, struct bconn *c, uint32_t events, double now)
{
	if (c->phase == DONE)
		return;
	if (c->phase == CONNECTING) {
		bench_connected(b, c, now);
		if (c->phase != RUNNING)
			return;
		bench_watch(b, c, EPOLLIN | EPOLLOUT);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		bench_recv(b, c, now);
	if (c->phase == RUNNING && c->sent < bench_size(b) &&
	    (events & (EPOLLOUT | EPOLLERR)))
		bench_send(b, c);
}
