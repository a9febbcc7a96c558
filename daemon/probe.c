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

#include "log.h"
#include "loop.h"
#include "parse.h"

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

int
probe_start(int fd, const struct scenario *s, uint64_t drain_timeout,
    char *why, size_t whylen)
{
	struct probe *p = &probes[fd];
	char delay[32], drain[32], line[SCENARIO_LINE_MAX];

	if (s->hold && drain_timeout != 0 && s->delay_ms >= drain_timeout) {
		snprintf(why, whylen, "delay %s is not below drain_timeout "
		    "%s", format_duration(s->delay_ms, delay, sizeof(delay)),
		    format_duration(drain_timeout, drain, sizeof(drain)));
		return -1;
	}
	*p = (struct probe){ .s = *s, .start = loop_now(probe_loop) };
	p->timer.fn = probe_on_timer;
	p->timer.data = p;
	if (log_level >= LOG_LEVEL_DEBUG) {
		scenario_format(s, line);
		log_debug("fd %d: probe line: %.*s", fd,
		    (int)strcspn(line, "\n"), line);
	}
	return 0;
}

size_t
probe_take(int fd, size_t n)
{
	struct probe *p = &probes[fd];
	uint64_t room = p->s.fin_after - p->taken;

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
	probes[fd].sent += k;
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
probe_end(int fd, bool done)
{
	struct probe *p = &probes[fd];
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	loop_timer_cancel(probe_loop, &p->timer);
	if (done && p->s.close_rst)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
}
