/*
 * bench.c — the load generator. Connections are non-blocking and polled
 * with one level-triggered epoll instance; each sends windows of a shared
 * pattern (connection k starts at offset k, so no two send the same bytes)
 * and checks the echo against the pattern's uppercase, so nothing per
 * connection is allocated beyond its state. Latencies are kept as samples
 * in microseconds and the percentiles taken exactly, by sorting.
 *
 * With --rate, slots are taken from a free list as exchanges fall due: one
 * due while every slot is busy starts as soon as one frees, and is still
 * timed from when it was due (counted as late).
 */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "upper.h"

#define PATTERN		(256 * 1024)	/* window; bytes per syscall */
#define ERRORS_SHOWN	5

enum phase { CONNECTING, HOLDING, RUNNING, CLOSING, DONE };

struct bconn {
	int fd;
	uint8_t phase;		/* enum phase */
	bool failed;
	uint32_t events;	/* what epoll watches now */
	uint64_t sent, got;	/* this transfer, or this round */
	uint64_t base;		/* pattern offset of this round */
	double started;		/* net_now() at connect or round start */
};

struct bench {
	const struct bench_options *o;
	struct bconn *c;
	int ep;
	unsigned char *out;	/* 2 * PATTERN: any window is contiguous */
	unsigned char *want;	/* the same, uppercased */
	unsigned char *buf;	/* receive buffer */
	uint32_t *lat;		/* latency samples, microseconds */
	size_t nlat, caplat;
	unsigned open;		/* connections not DONE */
	bool held;		/* --hold: not released yet */
	unsigned errors, connected;
	unsigned *free, nfree;	/* --rate: slots not in use */
	double next_start;	/* --rate: when the next exchange is due */
	unsigned long late;	/* --rate: started past due, no free slot */
	unsigned long rounds_started;	/* --rate: exchanges started */
	uint64_t rounds, bytes;
	double start, stop_at, last_progress;
};

static void bench_reopen(struct bench *b, struct bconn *c, double now);

static void
bench_error(struct bench *b, struct bconn *c, const char *what)
{
	if (b->errors++ < ERRORS_SHOWN)
		fprintf(stderr, "upcase: %s: connection %zu: %s\n", b->o->name,
		    (size_t)(c - b->c), what);
	else if (b->errors == ERRORS_SHOWN + 1)
		fprintf(stderr, "upcase: %s: more errors follow, counted "
		    "only\n", b->o->name);
	c->failed = true;
}

static void
bench_finish(struct bench *b, struct bconn *c)
{
	close(c->fd);
	c->phase = DONE;
	b->open--;
	if (b->o->rate > 0)
		b->free[b->nfree++] = (unsigned)(c - b->c);
}

static void
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
	if (b->nlat == b->caplat) {
		size_t cap = b->caplat ? 2 * b->caplat : 4096;
		uint32_t *lat = realloc(b->lat, cap * sizeof(*lat));

		if (lat == NULL)
			return;		/* fewer samples, not a failure */
		b->lat = lat;
		b->caplat = cap;
	}
	b->lat[b->nlat++] = (uint32_t)(seconds * 1e6);
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
				b->rounds++;
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
		b->bytes += (size_t)n;
		if (b->o->pingpong == 0 || c->got < b->o->pingpong)
			continue;
		/* A round is complete. */
		b->rounds++;
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

static int
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
	return epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* A new connection on c's slot, timed from start. */
static void
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

/* --rate: start every exchange now due, while slots are free. */
static void
bench_schedule(struct bench *b, double now)
{
	while (b->next_start < b->stop_at && b->next_start <= now &&
	    b->nfree > 0) {
		if (now - b->next_start > 0.001)
			b->late++;
		b->rounds_started++;
		bench_reopen(b, &b->c[b->free[--b->nfree]], b->next_start);
		b->next_start += 1 / b->o->rate;
	}
}

static int
compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double
percentile_ms(const struct bench *b, double q)
{
	size_t i;

	if (b->nlat == 0)
		return 0;
	i = (size_t)(q * (double)(b->nlat - 1) + 0.5);
	return b->lat[i] / 1000.0;
}

static void
bench_report(struct bench *b, double seconds)
{
	const struct bench_options *o = b->o;
	double mbps = seconds > 0 ? (double)b->bytes / seconds / 1e6 : 0;
	double rps = seconds > 0 ? (double)b->rounds / seconds : 0;
	double p50, p99, max;

	if (b->nlat > 0)
		qsort(b->lat, b->nlat, sizeof(*b->lat), compare_u32);
	p50 = percentile_ms(b, 0.50);
	p99 = percentile_ms(b, 0.99);
	max = percentile_ms(b, 1.0);
	if (o->rate > 0)
		printf("%.0f exchanges/s of %llu bytes offered for %.2f s: %lu "
		    "started (%lu over 1 ms late), %llu done, %.0f/s, "
		    "latency from the scheduled start p50 %.3f ms p99 %.3f ms "
		    "max %.3f ms, %u errors\n", o->rate,
		    (unsigned long long)o->bytes, seconds, b->rounds_started,
		    b->late, (unsigned long long)b->rounds, rps, p50, p99, max,
		    b->errors);
	else if (o->churn)
		printf("%u slots, %llu-byte connections for %.2f s: %llu "
		    "connections, %.0f connections/s, latency p50 %.3f ms p99 "
		    "%.3f ms max %.3f ms, %u errors\n", o->connections,
		    (unsigned long long)o->bytes, seconds,
		    (unsigned long long)b->rounds, rps, p50, p99, max,
		    b->errors);
	else if (o->pingpong)
		printf("%u connections, %u-byte rounds for %.2f s: %llu rounds, "
		    "%.0f rounds/s, %.1f MB/s, latency p50 %.3f ms p99 %.3f "
		    "ms max %.3f ms, %u errors\n", o->connections, o->pingpong,
		    seconds, (unsigned long long)b->rounds, rps, mbps, p50,
		    p99, max, b->errors);
	else
		printf("%u connections x %llu bytes in %.3f s: %.1f MB/s, "
		    "latency p50 %.3f ms p99 %.3f ms max %.3f ms, %u errors\n",
		    o->connections, (unsigned long long)o->bytes, seconds,
		    mbps, p50, p99, max, b->errors);
	if (o->json)
		printf("{\"mode\":\"%s\",\"connections\":%u,\"bytes\":%llu,"
		    "\"seconds\":%.6f,\"mb_per_s\":%.3f,\"rounds\":%llu,"
		    "\"rounds_per_s\":%.1f,\"latency_ms\":{\"p50\":%.3f,"
		    "\"p99\":%.3f,\"max\":%.3f},\"offered_per_s\":%.1f,"
		    "\"late\":%lu,\"errors\":%u}\n",
		    o->rate > 0 ? "rate" : o->churn ? "churn" :
		    o->pingpong ? "pingpong" : "transfer",
		    o->connections,
		    (unsigned long long)b->bytes, seconds, mbps,
		    (unsigned long long)b->rounds, rps, p50, p99, max,
		    o->rate, b->late, b->errors);
}

/* Raise the open-file limit for n connections, or say why not. */
static int
bench_fd_limit(unsigned n)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need) {
		fprintf(stderr, "upcase: bench: %u connections need %llu open "
		    "files; the limit is %llu (ulimit -n)\n", n,
		    (unsigned long long)need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

static void
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

/* --hold: once every connection is open and the time has come, send. */
static void
bench_release(struct bench *b, double now)
{
	if (b->connected + b->errors < b->o->connections ||
	    now < b->start + (double)b->o->hold_ms / 1000)
		return;
	for (unsigned k = 0; k < b->o->connections; k++) {
		struct bconn *c = &b->c[k];

		if (c->phase != HOLDING)
			continue;
		c->phase = RUNNING;
		c->started = now;
		bench_watch(b, c, EPOLLIN | EPOLLOUT);
	}
	b->held = false;
}

static int
bench_loop(struct bench *b)
{
	const struct bench_options *o = b->o;
	struct epoll_event ev[256];

	while (b->open > 0 || (o->rate > 0 && b->next_start < b->stop_at)) {
		double now = net_now();
		uint64_t before = b->bytes + b->connected + b->rounds_started;
		int wait = -1, n;

		if (o->rate > 0)
			bench_schedule(b, now);
		if (b->held) {
			bench_release(b, now);
			b->last_progress = now;	/* holding is not a stall */
		}

		if (o->timeout_ms > 0) {
			double left = b->last_progress +
			    (double)o->timeout_ms / 1000 - now;

			if (left <= 0) {
				fprintf(stderr, "upcase: %s: timed out: no "
				    "byte moved for %.1f s, %u connections "
				    "unfinished\n", o->name,
				    (double)o->timeout_ms / 1000, b->open);
				b->errors += b->open;
				return -1;
			}
			wait = (int)(left * 1000) + 1;
		}
		if (b->held)
			wait = 100;	/* the release is due by time */
		/* Rounds end on time: wake at the deadline if idle. */
		if (o->pingpong && b->stop_at > now &&
		    (wait == -1 || wait > (b->stop_at - now) * 1000 + 1))
			wait = (int)((b->stop_at - now) * 1000) + 1;
		/* The next exchange due, if a slot can take it: to the
		 * microsecond, or the wait itself would make it late. */
		if (o->rate > 0 && b->nfree > 0 && b->next_start < b->stop_at) {
			double due = b->next_start - net_now();
			struct timespec ts = { 0, 0 };

			if (due > 0) {
				ts.tv_sec = (time_t)due;
				ts.tv_nsec = (long)((due - (double)ts.tv_sec) *
				    1e9);
			}
			if (wait != -1 && wait < due * 1000) {
				ts.tv_sec = wait / 1000;
				ts.tv_nsec = (long)(wait % 1000) * 1000000;
			}
			n = epoll_pwait2(b->ep, ev, 256, &ts, NULL);
		} else {
			n = epoll_wait(b->ep, ev, 256, wait);
		}
		now = net_now();
		for (int i = 0; i < n; i++)
			bench_event(b, &b->c[ev[i].data.u32], ev[i].events,
			    now);
		if (b->bytes + b->connected + b->rounds_started != before)
			b->last_progress = now;
	}
	return 0;
}

int
bench_run(const struct bench_options *o)
{
	struct bench b = { .o = o, .ep = -1 };
	double seconds;
	int status = 0;

	if (bench_fd_limit(o->connections) == -1)
		return 2;
	b.c = calloc(o->connections, sizeof(*b.c));
	b.out = malloc(2 * PATTERN);
	b.want = malloc(2 * PATTERN);
	b.buf = malloc(PATTERN);
	b.free = calloc(o->connections, sizeof(*b.free));
	b.ep = epoll_create1(EPOLL_CLOEXEC);
	if (b.c == NULL || b.out == NULL || b.want == NULL || b.buf == NULL ||
	    b.free == NULL || b.ep == -1) {
		fprintf(stderr, "upcase: bench: %s\n", strerror(errno));
		status = 3;
		goto out;
	}
	/* Every byte value, letters included, in a pseudo-random order. */
	for (uint32_t i = 0, x = 1; i < PATTERN; i++) {
		x = x * 1103515245u + 12345u;
		b.out[i] = b.out[i + PATTERN] = (unsigned char)(x >> 16);
	}
	memcpy(b.want, b.out, 2 * PATTERN);
	upper_inplace(b.want, 2 * PATTERN);

	b.start = b.last_progress = net_now();
	b.held = o->hold_ms > 0;
	b.stop_at = b.start + (double)o->duration_ms / 1000;
	b.next_start = b.start;
	for (unsigned k = 0; o->rate > 0 && k < o->connections; k++) {
		b.c[k].fd = -1;
		b.c[k].phase = DONE;
		b.free[b.nfree++] = o->connections - 1 - k;
	}
	for (unsigned k = 0; o->rate == 0 && k < o->connections; k++) {
		b.c[k].fd = -1;
		b.c[k].started = b.start;
		b.open++;
		if (bench_open(&b, &b.c[k], k) == -1) {
			bench_error(&b, &b.c[k], strerror(errno));
			if (b.c[k].fd != -1)
				close(b.c[k].fd);
			b.c[k].phase = DONE;
			b.open--;
		}
	}
	bench_loop(&b);
	seconds = net_now() - b.start;
	bench_report(&b, seconds);
	status = b.connected == 0 ? 3 : b.errors > 0 ? 1 : 0;
out:
	for (unsigned k = 0; b.c != NULL && k < o->connections; k++)
		if (b.c[k].phase != DONE && b.c[k].fd != -1)
			close(b.c[k].fd);
	if (b.ep != -1)
		close(b.ep);
	free(b.c);
	free(b.out);
	free(b.want);
	free(b.buf);
	free(b.free);
	free(b.lat);
	return status;
}
