/*
 * trial.c — one probe connection, driven by poll against one deadline; see
 * trial.h. The bytes sent are the seed's pattern, so that every byte back
 * is checked against its uppercase.
 */
#include "trial.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "proxy.h"
#include "stream.h"

#define TRIAL_CHUNK	65536

const char *
trial_end_text(enum trial_end end)
{
	static const char *const text[] = { "EOF", "a reset",
	    "nothing (timed out)", "no connection", "our close" };

	return text[end];
}

/* Milliseconds left before limit, for poll; 0 once it has passed. */
static int
left_ms(double limit)
{
	double left = limit - net_now();

	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* The pattern from offset off on, TRIAL_CHUNK bytes of it at least. */
static const char *
pattern_at(size_t off)
{
	static char pattern[TRIAL_CHUNK + STREAM_PATTERN_LEN];

	if (pattern[0] == '\0')
		for (size_t i = 0; i < sizeof(pattern); i++)
			pattern[i] = STREAM_PATTERN[i % STREAM_PATTERN_LEN];
	return pattern + off % STREAM_PATTERN_LEN;
}

/* Send what the socket takes now of len pattern bytes from off, adding
 * them to the digest. */
static ssize_t
send_some(int fd, size_t off, size_t len, uint64_t *digest)
{
	const char *at = pattern_at(off);
	ssize_t k = send(fd, at, len < TRIAL_CHUNK ? len : TRIAL_CHUNK,
	    MSG_NOSIGNAL | MSG_DONTWAIT);

	if (k > 0)
		*digest = scenario_digest(*digest, at, (size_t)k);
	return k;
}

/* Send len pattern bytes from off, waiting for room until limit. Returns
 * 0, or -1 with errno (ETIMEDOUT at the limit). */
static int
send_pattern(int fd, size_t off, size_t len, double limit, uint64_t *digest)
{
	while (len > 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t k;

		if (poll(&p, 1, left_ms(limit)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		k = send_some(fd, off, len, digest);
		if (k == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (k > 0) {
			off += (size_t)k;
			len -= (size_t)k;
		}
	}
	return 0;
}

/* Check n bytes back at offset t->received against the uppercase. */
static void
take_echo(struct trial *t, const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t at = t->received + i;

		if (at < sizeof(t->first) - 1)
			t->first[at] = buf[i] >= 0x20 && buf[i] < 0x7f ?
			    (char)buf[i] : '.';
		if (t->wrong_at == SIZE_MAX &&
		    buf[i] != STREAM_PATTERN_UPPER[at % STREAM_PATTERN_LEN])
			t->wrong_at = at;
	}
	t->received += n;
}

/* After both sides' FINs: did the connection end without a reset? Waits
 * for our FIN's acknowledgement (the state CLOSE) until limit. */
static bool
closed_clean(int fd, double limit)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int err = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = 0 };

		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
			return false;
		if (ti.tcpi_state == TCP_CLOSE || net_now() >= limit)
			break;
		poll(&p, 1, 20);	/* wakes at once on an error */
	}
	len = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return ti.tcpi_state == TCP_CLOSE && err == 0;
}

/* The daemon's EOF came first: send more, half-close, see how it ends. */
static void
after_eof(int fd, struct trial *t, double start, double limit)
{
	t->after_eof_ok = send_pattern(fd, t->sent, t->after_eof, limit,
	    &t->digest) == 0;
	if (t->after_eof_ok) {
		t->sent += t->after_eof;
		shutdown(fd, SHUT_WR);
		t->t_shut = net_now() - start;
		t->closed_clean = closed_clean(fd, limit);
	}
}

static void
exchange(int fd, struct trial *t, double start, double limit)
{
	unsigned char buf[TRIAL_CHUNK];
	bool shut = false;
	double moved = net_now();

	for (;;) {
		struct pollfd p = { .fd = fd, .events = (t->write_first ||
		    t->close_unread) && t->sent < t->send ? 0 : POLLIN };
		double until = limit, due = 0;
		ssize_t n;

		if (t->stall > 0 && moved + t->stall < until)
			until = moved + t->stall;
		/* A slow reader: the next byte is due at its rate. */
		if (t->read_rate > 0 && (due = start + (double)t->received /
		    (double)t->read_rate) > net_now() && due < until)
			p.events &= ~POLLIN;
		else
			due = 0;

		if (!shut && t->sent == t->send && (t->shut ||
		    (t->shut_echoed && t->received >= t->sent))) {
			shutdown(fd, SHUT_WR);
			shut = true;
			t->t_shut = net_now() - start;
			/* A reset on a half-closed connection, once the
			 * daemon has the FIN. */
			if (t->abort && (t->fin_seen == NULL ||
			    t->fin_seen(t->arg, t))) {
				t->end = TRIAL_DONE;
				return;
			}
		}
		if (t->stop_echoed && t->sent == t->send &&
		    t->received >= t->sent) {
			t->end = TRIAL_DONE;
			return;
		}
		if (t->close_unread && t->sent == t->send) {
			t->end = poll(&p, 1, left_ms(until)) == 1 ?
			    TRIAL_DONE : TRIAL_TIMEOUT;
			return;
		}
		if (t->sent < t->send)
			p.events |= POLLOUT;
		if (poll(&p, 1, left_ms(due > 0 ? due : until)) == 0) {
			if (due > 0)
				continue;
			t->end = TRIAL_TIMEOUT;
			t->stalled = until < limit;
			return;
		}
		if (p.revents & POLLOUT) {
			ssize_t k;

			/* The last chunk goes out with the half-close: corked
			 * until the shutdown, so a path that closes both ways
			 * at the client's FIN cannot have echoed it first,
			 * however this client is scheduled. */
			if (t->shut && t->send - t->sent <= TRIAL_CHUNK)
				setsockopt(fd, IPPROTO_TCP, TCP_CORK,
				    &(int){ 1 }, sizeof(int));
			k = send_some(fd, t->sent, t->send - t->sent,
			    &t->digest);

			if (k > 0) {
				t->sent += (size_t)k;
				moved = net_now();
			} else if (k == -1 && (errno == ECONNRESET ||
			    errno == EPIPE)) {
				/* The reset, told to send once: recv would
				 * say EOF after it. */
				t->end = TRIAL_RESET;
				return;
			}
		}
		if (!(p.revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		n = recv(fd, buf, t->read_rate > 0 && t->read_rate / 10 <
		    sizeof(buf) ? t->read_rate / 10 + 1 : sizeof(buf),
		    MSG_DONTWAIT);
		if (n > 0) {
			take_echo(t, buf, (size_t)n);
			moved = net_now();
			t->t_last = moved - start;
		} else if (n == 0) {
			t->end = TRIAL_EOF;
			if (t->after_eof > 0)
				after_eof(fd, t, start, limit);
			return;
		} else if (errno != EAGAIN && errno != EINTR) {
			t->end = errno == ECONNRESET ? TRIAL_RESET :
			    TRIAL_TIMEOUT;
			return;
		}
	}
}

ssize_t
trial_proxy_header(int fd, enum trial_proxy proxy, void *buf)
{
	/* Version 2's signature, then LOCAL, UNSPEC, no addresses. */
	static const unsigned char local[16] = { '\r', '\n', '\r', '\n',
	    '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n', 0x20, 0x00, 0, 0 };

	if (proxy == TRIAL_PROXY_NONE)
		return 0;
	if (proxy == TRIAL_PROXY_LOCAL) {
		memcpy(buf, local, sizeof(local));
		return sizeof(local);
	}
	return net_proxy_header(fd, 1, buf);
}

int
trial_connect(const struct addr *a, const char *name, const struct via *via,
    double limit, char *err, size_t errlen)
{
	uint64_t ms = (uint64_t)((limit - net_now()) * 1000);
	int fd;

	if (via == NULL || via->kind == VIA_NONE)
		return net_connect(a, name, ms, err, errlen);
	fd = net_connect(&via->proxy, via->name, ms, err, errlen);
	if (fd != -1 && via_handshake(fd, via, a, limit, err, errlen) == -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void
trial_run(const struct addr *a, const char *name, const struct via *via,
    struct trial *t)
{
	char line[PROXY_V1_MAX + SCENARIO_LINE_MAX];
	double start = net_now(), limit = start + t->deadline;
	ssize_t head;
	int fd;

	t->sent = t->received = 0;
	t->digest = SCENARIO_DIGEST_INIT;
	t->local[0] = '\0';
	t->wrong_at = SIZE_MAX;
	memset(t->first, 0, sizeof(t->first));
	t->after_eof_ok = t->closed_clean = t->stalled = false;
	t->t_end = t->t_shut = t->t_last = 0;
	t->err[0] = '\0';
	if ((fd = trial_connect(a, name, via, limit, t->err,
	    sizeof(t->err))) == -1) {
		t->end = TRIAL_REFUSED;
		return;
	}
	addr_local(fd, t->local, sizeof(t->local));
	start = net_now();
	if ((head = trial_proxy_header(fd, t->proxy, line)) == -1) {
		snprintf(t->err, sizeof(t->err), "%s: no PROXY header names "
		    "this connection's addresses", name);
		t->end = TRIAL_REFUSED;
		close(fd);
		return;
	}
	if (!t->bare && send(fd, line, (size_t)head + scenario_format(
	    &t->scenario, line + head), MSG_NOSIGNAL) == -1) {
		t->end = errno == ECONNRESET ? TRIAL_RESET : TRIAL_TIMEOUT;
	} else if (t->idle_ms > 0) {
		/* Idle: the only thing that may happen is an end. */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, (int)t->idle_ms) == 0)
			exchange(fd, t, start, limit);
		else
			exchange(fd, t, start, net_now());
	} else {
		exchange(fd, t, start, limit);
	}
	t->t_end = net_now() - start;
	if (t->abort)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){
		    .l_onoff = 1, .l_linger = 0 }, sizeof(struct linger));
	close(fd);
}
