/*
 * bench.c — the load generator's loop. Connections (bench_conn.c) are
 * non-blocking and polled with one level-triggered epoll instance; each
 * sends windows of a shared pattern (connection k starts at offset k, so
 * no two send the same bytes) and checks the echo against the pattern's
 * uppercase, so nothing per connection is allocated beyond its state.
 * Latencies are kept as samples in microseconds; report.c prints them.
 *
 * With --rate, slots are taken from a free list as exchanges fall due: one
 * due while every slot is busy starts as soon as one frees, and is still
 * timed from when it was due (counted as late).
 */
#include "bench_conn.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "upper.h"

/* --rate: when exchange i is due. From its index, not by adding 1/R up:
 * the sum's rounding error would let one more in before the end. */
static double
bench_due_at(const struct bench *b, uint64_t i)
{
	return b->start + (double)i / b->o->rate;
}

/* --rate: start every exchange now due, while slots are free. */
static void
bench_schedule(struct bench *b, double now)
{
	while (b->n.started < b->due && b->nfree > 0) {
		double at = bench_due_at(b, b->n.started);

		if (at > now)
			break;
		if (now - at > 0.001)
			b->n.late++;
		b->n.started++;
		bench_reopen(b, &b->c[b->free[--b->nfree]], at);
	}
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

/* SIGUSR1 during --hold: send now, whatever the time. */
static volatile sig_atomic_t hold_ended;

static void
bench_end_hold(int signo)
{
	(void)signo;
	hold_ended = 1;
}

/* --hold: once every connection is open and the time has come, or
 * SIGUSR1 came, send; any still connecting send once connected. */
static void
bench_release(struct bench *b, double now)
{
	if (!hold_ended && (b->connected + b->n.errors < b->o->connections ||
	    now < b->start + (double)b->o->hold_ms / 1000))
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

/* Shorten *wait (ms; -1: none) to wake by at. */
static void
wake_by(int *wait, double at, double now)
{
	int ms = at > now ? (int)((at - now) * 1000) + 1 : 0;

	if (*wait == -1 || ms < *wait)
		*wait = ms;
}

static int
bench_loop(struct bench *b)
{
	const struct bench_options *o = b->o;
	struct epoll_event ev[256];

	while (b->open > 0 || (o->rate > 0 && b->n.started < b->due)) {
		double now = net_now(), due;
		uint64_t before = b->n.bytes + b->connected + b->n.started;
		int wait = -1, n;

		if (o->rate > 0)
			bench_schedule(b, now);
		report_tick(&b->report, &b->n, b->open, now);
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
				b->n.errors += b->open;
				return -1;
			}
			wait = (int)(left * 1000) + 1;
		}
		if (b->held)	/* the release is due by time */
			wake_by(&wait, now + 0.1, now);
		/* Rounds end on time: wake at the deadline if idle. */
		if (o->pingpong && b->stop_at > now)
			wake_by(&wait, b->stop_at, now);
		if (o->connect_timeout_ms > 0 && b->connecting[0] != NONE)
			wake_by(&wait, b->c[b->connecting[0]].connect_at +
			    (double)o->connect_timeout_ms / 1000, now);
		if ((due = report_due(&b->report)) != 0)
			wake_by(&wait, due, now);
		/* The next exchange due, if a slot can take it: to the
		 * microsecond, or the wait itself would make it late. */
		if (o->rate > 0 && b->nfree > 0 && b->n.started < b->due) {
			struct timespec ts = { 0, 0 };

			due = bench_due_at(b, b->n.started) - net_now();

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
		/* Last: the loop's condition sees the connections it ends. */
		if (o->connect_timeout_ms > 0)
			bench_expire_connects(b, now);
		if (b->n.bytes + b->connected + b->n.started != before)
			b->last_progress = now;
	}
	return 0;
}

int
bench_run(const struct bench_options *o)
{
	struct bench b = { .o = o, .ep = -1, .connecting = { NONE, NONE } };
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
	if (b.held) {	/* no SA_RESTART: epoll_wait returns at once */
		struct sigaction sa = { .sa_handler = bench_end_hold };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
	}
	b.stop_at = b.start + (double)o->duration_ms / 1000;
	/* R a second for D: floor(R x D) exchanges, due at i / R. */
	b.due = (uint64_t)o->rate * o->duration_ms / 1000;
	report_init(&b.report, o, b.start);
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
	report_finish(&b.report, &b.n, net_now());
	report_free(&b.report);
	status = b.connected == 0 ? 3 : b.n.errors > 0 ? 1 : 0;
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
	free(b.n.lat);
	return status;
}
