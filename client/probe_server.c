/*
 * probe_server.c — what the daemon saw: its report of the run (report=KEY,
 * on a connection of its own through the same path as the trials; the
 * format is the daemon's probe_log.h), read and parsed. A report is a few
 * lines a connection, read in one exchange bounded by --timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "proxy.h"
#include "probe_int.h"

#define REPORT_MAX	(300 * 1024)	/* the daemon's, with room */
#define REPORT_POLL_MS	20		/* a side still open: look again */

struct report {
	unsigned records, open;
	uint64_t idle_timeout, drain_timeout;
	bool proxied;
	char *lines;			/* after the head, up to "END" */
};

/* The whole report into buf, NUL-terminated: its length, or -1 (none, or
 * not whole, before p->step). */
static ssize_t
fetch(const struct probe *p, char *buf, size_t len)
{
	double limit = net_now() + p->step;
	struct scenario s;
	char line[PROXY_V1_MAX + SCENARIO_LINE_MAX], err[160];
	size_t have = 0;
	ssize_t head = 0;
	int fd;

	scenario_init(&s);
	s.report = true;
	s.run = p->run;
	if (p->reports_direct)
		fd = trial_connect(&p->direct, p->direct_name, NULL, limit, err,
		    sizeof(err));
	else
		fd = trial_connect(&p->addr, p->name, &p->via, limit, err,
		    sizeof(err));
	if (fd == -1)
		return -1;
	if ((p->reports_direct || p->at_direct) && p->direct_proxied)
		head = trial_proxy_header(fd, TRIAL_PROXY_SELF, line);
	if (head == -1 || send(fd, line, (size_t)head +
	    scenario_format(&s, line + head), MSG_NOSIGNAL) == -1) {
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		double left = limit - net_now();
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, (int)(left * 1000) + 1) == 0)
			break;
		n = recv(fd, buf + have, len - 1 - have, MSG_DONTWAIT);
		if (n > 0 && (have += (size_t)n) < len - 1)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		close(fd);
		buf[have] = '\0';
		return n == 0 ? (ssize_t)have : -1;
	}
	close(fd);
	return -1;
}

/* Parse buf's head into rep: 0, or -1 if it is not a whole report. */
static int
parse_head(char *buf, struct report *rep)
{
	unsigned long long idle, drain;
	char proxied[8];
	size_t n = strlen(buf);

	if (n < 4 || strcmp(buf + n - 4, "END\n") != 0 ||
	    sscanf(buf, "UPCASE-PROBE/1 REPORT run=%*x records=%u open=%u "
	    "idle_timeout=%llu drain_timeout=%llu proxy_protocol=%7s",
	    &rep->records, &rep->open, &idle, &drain, proxied) != 5)
		return -1;
	rep->idle_timeout = idle;
	rep->drain_timeout = drain;
	rep->proxied = strcmp(proxied, "yes") == 0;
	rep->lines = strchr(buf, '\n') + 1;
	return 0;
}

/* "12.5" or "-": ms, or -1. */
static double
ms_of(const char *text)
{
	return strcmp(text, "-") == 0 ? -1 : strtod(text, NULL);
}

/* conn's line in rep into out: found or not. */
static void
find(const struct report *rep, uint32_t conn, struct trial_seen *out)
{
	const char *at = rep->lines;
	unsigned long id;
	unsigned long long received, digest, sent;
	char eof[16], end[16];

	for (; *at != '\0' && strncmp(at, "END\n", 4) != 0;
	    at = strchr(at, '\n') + 1) {
		if (sscanf(at, "conn=%lu state=%23s received=%llu "
		    "digest=%llx sent=%llu eof_ms=%15s end_ms=%15s "
		    "source=%63s", &id, out->state, &received, &digest, &sent,
		    eof, end, out->source) != 8 || id != conn)
			continue;
		out->found = true;
		out->open = strcmp(out->state, "open") == 0;
		out->received = received;
		out->digest = digest;
		out->sent = sent;
		out->eof_ms = ms_of(eof);
		out->end_ms = ms_of(end);
		return;
	}
}

int
probe_hello(struct probe *p, bool direct)
{
	struct report rep;
	char *buf = malloc(REPORT_MAX);
	bool got;

	p->reports_direct = direct;
	got = buf != NULL && fetch(p, buf, REPORT_MAX) != -1 &&
	    parse_head(buf, &rep) == 0;
	if (got) {
		p->reports = true;
		p->idle_timeout_ms = rep.idle_timeout;
		p->drain_timeout_ms = rep.drain_timeout;
		p->proxied = rep.proxied;
	} else {
		p->reports_direct = false;
	}
	free(buf);
	return got ? 0 : -1;
}

/* How many of conns first to last the report has open. */
static unsigned
count_open(const struct report *rep, uint32_t first, uint32_t last)
{
	const char *at = rep->lines;
	unsigned long id;
	char state[24];
	unsigned n = 0;

	for (; *at != '\0' && strncmp(at, "END\n", 4) != 0;
	    at = strchr(at, '\n') + 1)
		if (sscanf(at, "conn=%lu state=%23s", &id, state) == 2 &&
		    id >= first && id <= last && strcmp(state, "open") == 0)
			n++;
	return n;
}

/*
 * Ask until done(out, open) or until wait has passed (asking once at
 * least): out is conn's record, open the count of conns first to last
 * still open. Returns open as last told.
 */
static unsigned
ask(const struct probe *p, uint32_t conn, uint32_t first, uint32_t last,
    double wait, bool (*done)(const struct trial_seen *s, unsigned open),
    struct trial_seen *out)
{
	double until = net_now() + wait;
	struct report rep;
	char *buf = malloc(REPORT_MAX);
	unsigned open = 0;

	*out = (struct trial_seen){ .eof_ms = -1, .end_ms = -1 };
	while (p->reports && buf != NULL) {
		*out = (struct trial_seen){ .eof_ms = -1, .end_ms = -1 };
		if (fetch(p, buf, REPORT_MAX) == -1 ||
		    parse_head(buf, &rep) == -1)
			break;
		out->asked = true;
		open = count_open(&rep, first, last);
		find(&rep, conn, out);
		if (done(out, open) ||
		    net_now() + REPORT_POLL_MS / 1000.0 >= until)
			break;
		poll(NULL, 0, REPORT_POLL_MS);
	}
	free(buf);
	return open;
}

static bool
closed(const struct trial_seen *s, unsigned open)
{
	(void)open;
	return s->found && !s->open;
}

static bool
got_fin(const struct trial_seen *s, unsigned open)
{
	(void)open;
	return s->found && (s->eof_ms >= 0 || !s->open);
}

static bool
none_open(const struct trial_seen *s, unsigned open)
{
	(void)s;
	return open == 0;
}

void
probe_server(const struct probe *p, struct trial *t, double wait)
{
	ask(p, t->scenario.conn, 0, 0, wait, closed, &t->srv);
}

bool
probe_fin_seen(void *arg, const struct trial *t)
{
	struct trial_seen s;

	ask(arg, t->scenario.conn, 0, 0, ((const struct probe *)arg)->step,
	    got_fin, &s);
	return s.found && s.eof_ms >= 0;
}

unsigned
probe_server_open(const struct probe *p, uint32_t first, uint32_t last,
    double wait)
{
	struct trial_seen s;

	return ask(p, 0, first, last, wait, none_open, &s);
}
