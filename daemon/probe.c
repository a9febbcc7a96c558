/*
 * probe.c — a probe connection's scenario, step by step; see probe.h.
 */
#include "probe.h"

#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "loop.h"
#include "parse.h"
#include "probe_log.h"

#define PROBE_ACK_POLL_MS	10	/* close=rst: look again this often */
#define PROBE_SLOT_MS		10	/* rate: what goes at once */

struct probe {
	struct scenario s;
	struct loop_timer timer;	/* a delay's end, a rate's next slot,
					 * the next look at the unacked */
	uint64_t start;			/* loop ms the echo began */
	uint64_t taken;			/* bytes read into the echo */
	uint64_t sent;			/* bytes of echo written */
	bool eof;			/* the client's EOF was read */
	bool released;			/* the hold is over */
	bool fin_sent;
	bool proxied;			/* its listener reads PROXY headers */
	bool logged;			/* run=: seen is in probe_log's */
	uint32_t index;			/* ... record */
	uint64_t line_ns;		/* CLOCK_MONOTONIC of the probe line */
	struct probe_seen seen;
};

static struct loop *probe_loop;
static struct probe *probes;		/* indexed by fd */

/* Held, the only timer is the delay after the EOF: its end releases the
 * echo. Otherwise it says that the connection may go on. */
static void
probe_on_timer(struct loop *loop, struct loop_timer *timer)
{
	struct probe *p = timer->data;

	if (p->eof)
		p->released = true;
	loop_post(loop, (int)(p - probes));
}

int
probe_init(struct loop *loop)
{
	/* Pages of the table are touched only by probe connections. */
	probes = calloc((size_t)loop_setsize(loop), sizeof(*probes));
	probe_loop = loop;
	return probes == NULL ? -1 : 0;
}

void
probe_fini(void)
{
	free(probes);
	probes = NULL;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* 0.1 ms since p's probe line, for its record. */
static uint32_t
tenths(const struct probe *p)
{
	uint64_t t = (now_ns() - p->line_ns) / 100000;

	return t < UINT32_MAX ? (uint32_t)t : UINT32_MAX - 1;
}

static void
publish(struct probe *p)
{
	if (p->logged)
		probe_log_write(p->index, &p->seen);
}

void
probe_accept(int fd, bool proxied)
{
	probes[fd] = (struct probe){ .proxied = proxied };
}

int
probe_start(int fd, const struct scenario *s,
    const struct addr_packed *client, uint64_t drain_timeout, char *why,
    size_t whylen)
{
	struct probe *p = &probes[fd];
	char delay[32], drain[32], line[SCENARIO_LINE_MAX];
	bool proxied = p->proxied;

	if (s->hold && drain_timeout != 0 && s->delay_ms >= drain_timeout) {
		snprintf(why, whylen, "delay %s is not below drain_timeout "
		    "%s", format_duration(s->delay_ms, delay, sizeof(delay)),
		    format_duration(drain_timeout, drain, sizeof(drain)));
		return -1;
	}
	*p = (struct probe){ .s = *s, .start = loop_now(probe_loop),
	    .proxied = proxied, .line_ns = now_ns() };
	p->timer.fn = probe_on_timer;
	p->timer.data = p;
	if (s->run != 0 && !s->report) {
		p->seen = (struct probe_seen){ .run = s->run, .conn = s->conn,
		    .proxied = proxied, .digest = SCENARIO_DIGEST_INIT,
		    .eof_tenths = UINT32_MAX, .end_tenths = UINT32_MAX,
		    .source = *client };
		p->index = probe_log_claim(&p->seen);
		p->logged = true;
	}
	if (log_level >= LOG_LEVEL_DEBUG) {
		scenario_format(s, line);
		log_debug("fd %d: probe line: %.*s", fd,
		    (int)strcspn(line, "\n"), line);
	}
	return 0;
}

size_t
probe_take(int fd, const void *buf, size_t n)
{
	struct probe *p = &probes[fd];
	uint64_t room = p->s.fin_after - p->taken;

	if (p->logged) {
		p->seen.received += n;
		p->seen.digest = scenario_digest(p->seen.digest, buf, n);
		publish(p);
	}
	if (n > room)
		n = (size_t)room;
	p->taken += n;
	return n;
}

size_t
probe_allow(int fd, size_t n)
{
	struct probe *p = &probes[fd];
	double ms, allowed;

	if (p->s.hold && !p->released)
		return 0;
	if (p->s.rate == 0)
		return n;
	/* So much a second from the start, in slots of PROBE_SLOT_MS (or of
	 * one byte, when that takes longer). */
	ms = (double)(loop_now(probe_loop) - p->start);
	allowed = (double)p->s.rate * (ms + PROBE_SLOT_MS) / 1000 -
	    (double)p->sent;
	if (allowed >= (double)n)
		return n;
	loop_timer_set(probe_loop, &p->timer, PROBE_SLOT_MS +
	    1000 / p->s.rate);
	return allowed >= 1 ? (size_t)allowed : 0;
}

void
probe_wrote(int fd, size_t k)
{
	struct probe *p = &probes[fd];

	p->sent += k;
	p->seen.sent = p->sent;
	publish(p);
}

uint64_t
probe_sent(int fd)
{
	return probes[fd].sent;
}

void
probe_eof(int fd)
{
	struct probe *p = &probes[fd];

	p->eof = true;
	p->seen.eof_tenths = tenths(p);
	publish(p);
	if (p->s.hold)
		loop_timer_set(probe_loop, &p->timer, p->s.delay_ms);
}

bool
probe_fin_due(int fd)
{
	struct probe *p = &probes[fd];

	if (p->fin_sent || p->taken < p->s.fin_after)
		return false;
	p->fin_sent = true;
	return true;
}

bool
probe_may_close(int fd)
{
	struct probe *p = &probes[fd];
	int unacked = 0;

	if (p->s.hold && !p->released)
		return false;
	if (!p->s.close_rst)
		return true;
	/* Not knowing what the peer lacks, a reset could take it: end with
	 * a FIN instead, which delivers every byte. */
	if (ioctl(fd, SIOCOUTQ, &unacked) == -1) {
		p->s.close_rst = false;
		return true;
	}
	if (unacked == 0)
		return true;
	loop_timer_set(probe_loop, &p->timer, PROBE_ACK_POLL_MS);
	return false;
}

void
probe_end(int fd, enum conn_end end)
{
	struct probe *p = &probes[fd];
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	loop_timer_cancel(probe_loop, &p->timer);
	if (end == END_DONE && p->s.close_rst)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	p->seen.end = (uint8_t)(end + 1);
	p->seen.end_tenths = tenths(p);
	publish(p);
	p->logged = false;
}

bool
probe_reporting(int fd)
{
	return probes[fd].s.report;
}

size_t
probe_report(int fd, const struct conn_config *config, char *buf)
{
	return probe_log_report(probes[fd].s.run, config, probes[fd].proxied,
	    buf);
}
