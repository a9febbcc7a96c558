/*
 * conns.c — the connections as a whole: the table indexed by fd, taking an
 * accepted socket into it (once admit.h says yes) and reading its
 * preamble, the timeout lists that end connections, and closing them all. One connection's life is
 * conn.c's.
 */
#include "conn_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "log.h"
#include "parse.h"
#include "loop.h"
#include "preamble.h"
#include "probe.h"
#include "probe_log.h"

struct conns conns;

/* How each timeout ends a connection. */
static const enum conn_end timeout_end[LISTS] = {
	[LIST_HEADER] = END_BAD_HEADER,
	[LIST_IDLE] = END_IDLE_TIMEOUT,
	[LIST_DRAIN] = END_DRAIN_TIMEOUT,
};

static void conns_on_timeout(struct loop *loop, struct loop_timer *timer);

int
conn_init(struct loop *loop, void (*on_close)(void))
{
	timeout_set_init(&conns.timeouts, loop, conns_on_timeout);
	conns.loop = loop;
	conns.on_close = on_close;
	conns.table = calloc((size_t)loop_setsize(loop), sizeof(*conns.table));
	conns.scratch = malloc(CONN_READ_MAX);
	if (conns.table == NULL || conns.scratch == NULL ||
	    probe_init(loop) == -1) {
		conn_fini();
		return -1;
	}
	return 0;
}

void
conn_fini(void)
{
	if (conns.loop != NULL)
		loop_timer_cancel(conns.loop, &conns.timeouts.timer);
	probe_fini();
	free(conns.table);
	free(conns.scratch);
	conns.table = NULL;
	conns.scratch = NULL;
	conns.loop = NULL;
}

unsigned
conn_count(void)
{
	return (unsigned)(conns.stats.accepted - conns.stats.closed);
}

const struct conn_stats *
conn_stats(void)
{
	return &conns.stats;
}

void
conn_configure(const struct conn_config *cfg)
{
	conns.config = *cfg;
	conns.timeouts.lists[LIST_HEADER].ms = cfg->header_timeout;
	conns.timeouts.lists[LIST_IDLE].ms = cfg->idle_timeout;
	conns.timeouts.lists[LIST_DRAIN].ms = cfg->drain_timeout;
	if (conns.loop != NULL)
		timeout_set_rearm(&conns.timeouts);
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
	c = &conns.table[fd];
	memset(c, 0, sizeof(*c));
	c->writable = true;	/* a new socket's send buffer is empty */
	if (loop_add(conns.loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP,
	    conn_on_event, c) == -1) {
		log_warn("%s: cannot take connection", l->name);
		admit_release(&client, &t);
		close(fd);
		return;
	}
	conns.stats.accepted++;
	c->opened = loop_now(conns.loop);
	c->wrote = (uint32_t)c->opened;
	c->peer = client;
	c->counted = t.counted;
	c->probe = (l->options & LISTEN_PROBE) != 0;
	if (c->probe)
		probe_accept(fd, l->options & LISTEN_PROXY_PROTOCOL);
	c->parts = (l->options & LISTEN_PROXY_PROTOCOL ? PREAMBLE_PROXY : 0) |
	    (c->probe ? PREAMBLE_SCENARIO : 0);
	conn_set_state(c, c->parts != 0 ? CONN_PREAMBLE : CONN_OPEN);
	if (log_level >= LOG_LEVEL_DEBUG) {
		char name[ADDR_TEXT_MAX];

		log_debug("accept fd %d from %s on %s", fd,
		    addr_format(peer, peerlen, name, sizeof(name)), l->name);
	}
}

/* A probe's report= line: the report is all c is owed, and c closes once
 * it is written, reading nothing more. Returns 0, or -1 if c was closed. */
static int
conns_report(struct conn *c)
{
	_Static_assert(PROBE_LOG_REPORT_MAX <= CONN_READ_MAX,
	    "a report fits the scratch buffer");
	size_t n = probe_report(conn_fd(c), &conns.config,
	    (char *)conns.scratch);

	conn_set_state(c, CONN_DRAINING);
	return conn_echo(c, conns.scratch, n);
}

int
conns_greet(struct conn *c, bool fin)
{
	unsigned parts = c->parts;
	bool counted = c->counted;	/* a PROXY header read earlier */
	char why[160];
	int st;

	st = preamble_greet(conn_fd(c), &parts, fin, conns.scratch, &c->peer,
	    &counted, conns.config.drain_timeout, why, sizeof(why));
	c->parts = parts & 0x3;
	c->counted = counted;
	switch (st) {
	case PREAMBLE_MORE:
		c->readable = false;
		return 0;
	case PREAMBLE_DONE:
		if (c->probe && probe_reporting(conn_fd(c)))
			return conns_report(c);
		conn_set_state(c, CONN_OPEN);
		return 0;
	case PREAMBLE_ERROR:
		conn_fail(c, "read");
		return -1;
	case PREAMBLE_REFUSED:
		conn_close(c, END_REFUSED, NULL);
		return -1;
	default:
		conn_close(c, END_BAD_HEADER, why);
		return -1;
	}
}

static void
conns_on_timeout(struct loop *loop, struct loop_timer *timer)
{
	struct timeout_link *link;

	(void)timer;
	for (int i = 0; i < LISTS; i++) {
		while ((link = timeout_expired(&conns.timeouts.lists[i],
		    loop_now(loop))) != NULL) {
			struct conn *c = conn_of(link);
			const char *why = i == LIST_HEADER ? "not whole "
			    "within header_timeout" : NULL;

			if (why != NULL)
				preamble_complain(&c->peer, c->parts, why);
			conn_close(c, timeout_end[i], why);
		}
	}
	timeout_set_rearm(&conns.timeouts);
}

void
conn_close_all(void)
{
	struct timeout_list *lists = conns.timeouts.lists;

	/* Every connection is on the list of its state, timeout or not. */
	for (int i = 0; i < LISTS; i++)
		while (lists[i].head.next != &lists[i].head)
			conn_close(conn_of(lists[i].head.next), END_SHUTDOWN,
			    NULL);
}

static struct conn *
owe_at(uint32_t fd1)
{
	return fd1 != 0 ? &conns.table[fd1 - 1] : NULL;
}

static void
owe_remove(struct conn *c)
{
	struct conn *prev = owe_at(c->owe_prev), *next = owe_at(c->owe_next);

	if (prev != NULL)
		prev->owe_next = c->owe_next;
	else
		conns.owe_head = c->owe_next;
	if (next != NULL)
		next->owe_prev = c->owe_prev;
	else
		conns.owe_tail = c->owe_prev;
	c->owe_prev = c->owe_next = 0;
	c->owing = false;
}

void
conns_owing(struct conn *c)
{
	uint32_t self = (uint32_t)conn_fd(c) + 1;

	if (c->owing)
		owe_remove(c);
	if (backlog_len(&c->out) == 0)
		return;
	c->owe_prev = conns.owe_tail;
	if (conns.owe_tail != 0)
		owe_at(conns.owe_tail)->owe_next = self;
	else
		conns.owe_head = self;
	conns.owe_tail = self;
	c->owing = true;
}

void
conns_shed(const struct conn *keep)
{
	static uint64_t shed, last_line;
	uint32_t now = (uint32_t)loop_now(conns.loop);

	while (conns.stats.owed > conns.config.backlog_total) {
		struct conn *victim = owe_at(conns.owe_head);

		if (victim == keep)
			victim = owe_at(victim->owe_next);
		if (victim == NULL)
			return;
		shed++;
		if (log_due(&last_line)) {
			char client[ADDR_TEXT_MAX], total[32];

			log_warnx("backlog_total %s reached: closing %s, which "
			    "owes %zu bytes and has taken none for %.1f s (%llu "
			    "so far)", format_size(conns.config.backlog_total,
			    total, sizeof(total)), addr_packed_format(
			    &victim->peer, client, sizeof(client)),
			    backlog_len(&victim->out),
			    (double)(now - victim->wrote) / 1000,
			    (unsigned long long)shed);
		}
		conn_close(victim, END_BACKLOG_TOTAL, NULL);
	}
}
