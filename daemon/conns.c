/*
 * conns.c — the connections as a whole: the table indexed by fd, taking an
 * accepted socket into it (once admit.h says yes), the timeout lists that
 * end connections, and closing them all. One connection's life is
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
	if (fd >= conns.top)
		conns.top = fd + 1;
	c->opened = loop_now(conns.loop);
	c->wrote = (uint32_t)c->opened;
	c->peer = client;
	c->counted = t.counted;
	c->probe = (l->options & LISTEN_PROBE) != 0;
	c->parts = (l->options & LISTEN_PROXY_PROTOCOL ? PREAMBLE_PROXY : 0) |
	    (c->probe ? PREAMBLE_SCENARIO : 0);
	conn_set_state(c, c->parts != 0 ? CONN_PREAMBLE : CONN_OPEN);
	if (log_level >= LOG_LEVEL_DEBUG) {
		char name[ADDR_TEXT_MAX];

		log_debug("accept fd %d from %s on %s", fd,
		    addr_format(peer, peerlen, name, sizeof(name)), l->name);
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

void
conns_shed(const struct conn *keep)
{
	static uint64_t shed, last_line;
	uint32_t now = (uint32_t)loop_now(conns.loop);
	int n = conns.top;

	while (conns.stats.owed > conns.config.backlog_total) {
		struct conn *victim = NULL;
		uint32_t stalled = 0;
		size_t owed = 0;

		for (int fd = 0; fd < n; fd++) {
			struct conn *c = &conns.table[fd];
			size_t o = backlog_len(&c->out);

			if (c->state == CONN_CLOSED || c == keep || o == 0)
				continue;
			if (victim == NULL || now - c->wrote > stalled ||
			    (now - c->wrote == stalled && o > owed)) {
				victim = c;
				stalled = now - c->wrote;
				owed = o;
			}
		}
		if (victim == NULL)
			return;
		shed++;
		if (log_due(&last_line)) {
			char client[ADDR_TEXT_MAX], total[32];

			log_warnx("backlog_total %s reached: closing %s, which "
			    "owes %zu bytes and has taken none for %.1f s (%llu "
			    "so far)", format_size(conns.config.backlog_total,
			    total, sizeof(total)), addr_packed_format(
			    &victim->peer, client, sizeof(client)), owed,
			    (double)stalled / 1000, (unsigned long long)shed);
		}
		conn_close(victim, END_BACKLOG_TOTAL, NULL);
	}
}
