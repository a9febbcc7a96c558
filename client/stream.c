/*
 * stream.c — one poll loop over the socket, the current input and the
 * output. Two fixed buffers bound the memory whatever the size: input is
 * read only once the bytes before it are sent, and the socket is read only
 * while the output buffer has room. Every descriptor is polled before it is
 * read or written, and none inherited is switched to non-blocking: stdin
 * and stdout share their open file with the shell and other processes. A
 * write to a pipe is cut to the room the pipe has, so it cannot block.
 *
 * The timeout counts only while the network owes us something: bytes the
 * socket has not taken, an echo not yet back, or the close after the
 * half-close. Waiting for a slow producer on stdin is not a hang.
 */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net.h"
#include "proxy.h"

#define STREAM_BUF	(256 * 1024)	/* each way; a multiple of 16 */
#define STREAM_PIPE_SIZE (1024 * 1024)	/* asked of an output pipe */

struct stream {
	const struct stream_options *o;
	struct stream_result *r;
	int sock;
	int input;			/* index of the current input */
	bool input_done;		/* every input read to EOF */
	bool shut;			/* half-closed after the last byte */
	bool eof;			/* the daemon closed */
	bool longer;			/* more came back than was sent */
	unsigned char *up;		/* read from the input, to send */
	size_t up_off, up_len;
	unsigned char *down;		/* echoed, to write to the output */
	size_t down_off, down_len;
	unsigned char *pattern;		/* generate/verify: STREAM_BUF + 16 */
	int pipe_room;			/* output's pipe capacity; 0: no pipe */
	double last_progress;		/* net_now() when a byte last moved
					 * or the network last owed nothing */
};

static int
stream_fail(struct stream *s, int status, const char *fmt, const char *what)
{
	char msg[384];

	snprintf(msg, sizeof(msg), fmt, what);
	snprintf(s->r->err, sizeof(s->r->err), "%s: %s", s->o->name, msg);
	return status;
}

/* Fill the empty up buffer: the next input bytes, or the pattern. */
static int
stream_fill(struct stream *s)
{
	const struct stream_options *o = s->o;
	ssize_t n;

	s->up_off = 0;
	if (o->ninputs == 0) {
		uint64_t left = o->generate - s->r->sent;

		s->up_len = left < STREAM_BUF ? (size_t)left : STREAM_BUF;
		/* The buffer holds whole patterns: sent is a multiple of
		 * STREAM_BUF here, so the copy starts on a pattern. */
		memcpy(s->up, s->pattern, s->up_len);
		if (s->r->sent + s->up_len == o->generate)
			s->input_done = true;
		return STREAM_OK;
	}
	n = read(o->inputs[s->input], s->up, STREAM_BUF);
	if (n > 0) {
		s->up_len = (size_t)n;
	} else if (n == 0) {
		if (++s->input == o->ninputs)
			s->input_done = true;
	} else if (errno != EINTR && errno != EAGAIN) {
		snprintf(s->r->err, sizeof(s->r->err), "%s: %s",
		    o->input_names[s->input], strerror(errno));
		return STREAM_LOCAL;
	}
	return STREAM_OK;
}

/* Check n echoed bytes at offset off against the uppercase pattern. */
static int
stream_verify(struct stream *s, const unsigned char *buf, size_t n,
    uint64_t off)
{
	const unsigned char *want = s->pattern + STREAM_BUF +
	    off % STREAM_PATTERN_LEN;

	/* pattern + STREAM_BUF holds STREAM_BUF + 16 uppercase bytes. */
	if (memcmp(buf, want, n) == 0)
		return STREAM_OK;
	for (size_t i = 0; i < n; i++)
		if (buf[i] != want[i]) {
			snprintf(s->r->err, sizeof(s->r->err), "%s: echo "
			    "differs at byte %llu: got 0x%02x, expected 0x%02x "
			    "('%c')", s->o->name,
			    (unsigned long long)(off + i), buf[i], want[i],
			    want[i]);
			break;
		}
	return STREAM_WRONG;
}

static int
stream_recv(struct stream *s)
{
	unsigned char *at = s->down + s->down_len;
	size_t room = STREAM_BUF - s->down_len;
	ssize_t n = recv(s->sock, at, room, 0);

	if (n == 0) {
		s->eof = true;
		return STREAM_OK;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return STREAM_OK;
		return stream_fail(s, STREAM_NETWORK, "receive: %s",
		    strerror(errno));
	}
	if (s->r->nfirst < sizeof(s->r->first)) {
		size_t k = sizeof(s->r->first) - s->r->nfirst;

		k = k < (size_t)n ? k : (size_t)n;
		memcpy(s->r->first + s->r->nfirst, at, k);
		s->r->nfirst += k;
	}
	/* A byte back before it was sent is not an echo: from the first,
	 * the rest is only counted, to the daemon's close, so the summary
	 * and the message say how much came back. */
	if (s->longer || s->r->received + (size_t)n > s->r->sent) {
		s->longer = true;
		s->r->received += (size_t)n;
		return STREAM_OK;
	}
	if (s->o->output == -1) {
		int rc = stream_verify(s, at, (size_t)n, s->r->received);

		s->r->received += (size_t)n;
		return rc;	/* verified bytes need not be kept */
	}
	s->r->received += (size_t)n;
	s->down_len += (size_t)n;
	return STREAM_OK;
}

static int
stream_send(struct stream *s)
{
	ssize_t n = send(s->sock, s->up + s->up_off, s->up_len,
	    MSG_NOSIGNAL);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return STREAM_OK;
		return stream_fail(s, STREAM_NETWORK, "send: %s",
		    strerror(errno));
	}
	s->r->sent += (size_t)n;
	s->up_off += (size_t)n;
	s->up_len -= (size_t)n;
	return STREAM_OK;
}

/* Write what the output takes without blocking. SIGPIPE, if its reader
 * left, ends the process quietly, as it does cat. */
static int
stream_write(struct stream *s)
{
	size_t len = s->down_len - s->down_off;
	ssize_t n;

	if (s->pipe_room > 0) {
		int queued = 0;

		ioctl(s->o->output, FIONREAD, &queued);
		if (queued >= s->pipe_room)
			return STREAM_OK;	/* no room after all */
		if (len > (size_t)(s->pipe_room - queued))
			len = (size_t)(s->pipe_room - queued);
	}
	n = write(s->o->output, s->down + s->down_off, len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return STREAM_OK;
		snprintf(s->r->err, sizeof(s->r->err), "output: %s",
		    strerror(errno));
		return STREAM_LOCAL;
	}
	s->down_off += (size_t)n;
	if (s->down_off == s->down_len)
		s->down_off = s->down_len = 0;
	return STREAM_OK;
}

/* True while the network owes us progress (see the file comment). While
 * the echo waits for the output, the stall is ours, not the network's. */
static bool
stream_waiting_on_network(const struct stream *s)
{
	return !s->eof && s->down_len < STREAM_BUF && (s->up_len > 0 ||
	    s->shut || s->r->received < s->r->sent);
}

static int
stream_timed_out(struct stream *s)
{
	const struct stream_options *o = s->o;
	char total[48] = "";

	if (o->ninputs == 0)
		snprintf(total, sizeof(total), " of %llu",
		    (unsigned long long)o->generate);
	snprintf(s->r->err, sizeof(s->r->err), "%s: timed out: no byte moved "
	    "for %.1f s (sent %llu%s bytes, received %llu)%s", o->name,
	    (double)o->timeout_ms / 1000, (unsigned long long)s->r->sent,
	    total, (unsigned long long)s->r->received,
	    o->naive && !s->shut ? "; --naive reads nothing before it has "
	    "sent everything, and both sides' buffers are full: deadlock" :
	    "");
	return STREAM_NETWORK;
}

static int
stream_loop(struct stream *s)
{
	const struct stream_options *o = s->o;
	int rc = STREAM_OK;

	while (rc == STREAM_OK) {
		struct pollfd p[3] = { { .fd = s->sock }, { .fd = -1 },
		    { .fd = -1 } };
		uint64_t before = s->r->sent + s->r->received;
		int wait = -1, n;
		bool waiting;

		if (s->up_len == 0 && !s->input_done && o->ninputs == 0)
			rc = stream_fill(s);	/* the pattern: no fd */
		if (s->up_len == 0 && s->input_done && !s->shut) {
			shutdown(s->sock, SHUT_WR);
			s->shut = true;
		}
		/* The daemon closes after our EOF: before it, it refused us
		 * or gave up on us, and what is left of the input is lost. */
		if (s->eof && s->down_len == 0 && !s->shut)
			rc = stream_fail(s, STREAM_WRONG, "%s", "closed by the "
			    "daemon before the input ended");
		if (s->eof && s->down_len == 0)
			break;
		if (rc != STREAM_OK)
			break;

		if (s->up_len > 0)
			p[0].events |= POLLOUT;
		/* The seed's order: not a byte read before the half-close. */
		if (!s->eof && s->down_len < STREAM_BUF &&
		    (!o->naive || s->shut))
			p[0].events |= POLLIN;
		/* Nothing wanted of the socket: leave it out, or a hangup
		 * (always reported) would wake every poll at once. */
		if (p[0].events == 0)
			p[0].fd = -1;
		if (s->up_len == 0 && !s->input_done) {
			p[1].fd = o->inputs[s->input];
			p[1].events = POLLIN;
		}
		if (s->down_len > s->down_off) {
			p[2].fd = o->output;
			p[2].events = POLLOUT;
		}
		waiting = stream_waiting_on_network(s);
		if (o->timeout_ms > 0 && waiting) {
			double left = s->last_progress +
			    (double)o->timeout_ms / 1000 - net_now();

			if (left <= 0)
				return stream_timed_out(s);
			wait = (int)(left * 1000) + 1;
		}
		if (o->progress->on && (wait == -1 || wait > 250))
			wait = 250;
		n = poll(p, 3, wait);
		if (n == -1 && errno != EINTR)
			return stream_fail(s, STREAM_LOCAL, "poll: %s",
			    strerror(errno));

		if (p[0].revents & (POLLIN | POLLHUP | POLLERR) &&
		    p[0].events & POLLIN)
			rc = stream_recv(s);
		if (rc == STREAM_OK && p[0].revents & (POLLOUT | POLLERR) &&
		    s->up_len > 0)
			rc = stream_send(s);
		if (rc == STREAM_OK && p[1].revents)
			rc = stream_fill(s);
		if (rc == STREAM_OK && p[2].revents)
			rc = stream_write(s);
		/* The timeout's clock runs only while the network owes us
		 * something: time spent on a slow input or output is not a
		 * stall of the network's. */
		if (s->r->sent + s->r->received != before || !waiting)
			s->last_progress = net_now();
		progress_update(o->progress, s->r->sent, s->r->received);
	}
	return rc;
}

/*
 * The PROXY header, with the connection's real addresses, before any byte
 * of the stream. A fresh socket's buffer takes its few dozen bytes at
 * once. Returns 0, or -1 with r->err set.
 */
static int
stream_send_proxy_header(struct stream *s)
{
	unsigned char header[PROXY_V1_MAX + 1];
	ssize_t len, n;

	if ((len = net_proxy_header(s->sock, s->o->proxy_version,
	    header)) == -1) {
		stream_fail(s, STREAM_NETWORK, "PROXY header: %s",
		    errno == EAFNOSUPPORT ? "needs an IPv4 or IPv6 address" :
		    strerror(errno));
		return -1;
	}
	n = send(s->sock, header, (size_t)len, MSG_NOSIGNAL);
	if (n != len) {
		stream_fail(s, STREAM_NETWORK, "send: %s", n == -1 ?
		    strerror(errno) : "PROXY header cut short");
		return -1;
	}
	return 0;
}

int
stream_run(const struct stream_options *o, struct stream_result *r)
{
	struct stream s = { .o = o, .r = r, .sock = -1 };
	struct stat st;
	double start;
	int rc;

	memset(r, 0, sizeof(*r));
	s.up = malloc(STREAM_BUF);
	s.down = malloc(STREAM_BUF);
	s.pattern = malloc(2 * STREAM_BUF + STREAM_PATTERN_LEN);
	if (s.up == NULL || s.down == NULL || s.pattern == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		rc = STREAM_LOCAL;
		goto out;
	}
	/* STREAM_BUF bytes of the pattern, then STREAM_BUF + 16 of its
	 * uppercase, so any echo offset has a contiguous expectation. */
	for (size_t i = 0; i < 2 * STREAM_BUF + STREAM_PATTERN_LEN; i++)
		s.pattern[i] = (unsigned char)(i < STREAM_BUF ?
		    STREAM_PATTERN[i % 16] : STREAM_PATTERN_UPPER[i % 16]);
	s.input_done = o->ninputs == 0 && o->generate == 0;
	if (o->output >= 0 && fstat(o->output, &st) == 0 &&
	    S_ISFIFO(st.st_mode)) {
		/* A larger pipe takes the echo in fewer, larger writes
		 * (1 MiB is what an unprivileged process may ask for). */
		fcntl(o->output, F_SETPIPE_SZ, STREAM_PIPE_SIZE);
		s.pipe_room = fcntl(o->output, F_GETPIPE_SZ);
	}
	if (s.pipe_room < 0)
		s.pipe_room = 0;

	s.sock = net_connect(&o->addr, o->name, o->connect_timeout_ms, r->err,
	    sizeof(r->err));
	if (s.sock == -1) {
		rc = STREAM_NETWORK;
		goto out;
	}
	if (o->proxy_version != 0 && stream_send_proxy_header(&s) == -1) {
		rc = STREAM_NETWORK;
		goto out;
	}
	start = s.last_progress = net_now();
	o->progress->start = o->progress->last = start;
	rc = stream_loop(&s);
	r->seconds = net_now() - start;
	progress_finish(o->progress, r->sent, r->received, r->seconds);
	if (rc == STREAM_OK && s.longer) {
		snprintf(r->err, sizeof(r->err), "%s: echo longer than what "
		    "was sent: received %llu bytes for %llu sent", o->name,
		    (unsigned long long)r->received,
		    (unsigned long long)r->sent);
		rc = STREAM_WRONG;
	} else if (rc == STREAM_OK && r->received < r->sent) {
		snprintf(r->err, sizeof(r->err), "%s: short echo: received "
		    "%llu of %llu bytes", o->name,
		    (unsigned long long)r->received,
		    (unsigned long long)r->sent);
		rc = STREAM_WRONG;
	}
out:
	if (s.sock != -1)
		close(s.sock);
	free(s.up);
	free(s.down);
	free(s.pattern);
	return rc;
}
