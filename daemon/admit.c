/*
 * admit.c — the room each kind of client has left, the rules that need a
 * client's address, and the listeners' watching that follows the room;
 * see admit.h.
 */
#include "admit.h"

#include <inttypes.h>

#include "http.h"
#include "log.h"
#include "loop.h"

static struct loop *admit_loop;
static struct admit_config config;
static unsigned capacity;		/* echo connections the fds allow */
static unsigned open_echo, open_metrics;
static struct admit_stats stats;
static uint64_t last_deny_line, last_per_ip_line, last_table_line;
static uint64_t last_full_line;		/* for log_due */

int
admit_init(struct loop *loop, unsigned cap)
{
	admit_loop = loop;
	capacity = cap;
	open_echo = open_metrics = 0;
	return acl_init(loop_setsize(loop));
}

void
admit_fini(void)
{
	acl_fini();
}

void
admit_configure(const struct admit_config *c)
{
	config = *c;
	acl_configure(c->rules, c->nrules);
	config.rules = NULL;	/* acl.c has its copy */
}

const struct admit_stats *
admit_stats(void)
{
	return &stats;
}

unsigned
admit_room(const struct listener *l)
{
	unsigned max = config.max_connections < capacity ?
	    config.max_connections : capacity;

	if (l->options & LISTEN_METRICS)
		return open_metrics < HTTP_CONNS_MAX ?
		    HTTP_CONNS_MAX - open_metrics : 0;
	/* (A reload may have lowered max_connections below what is open.) */
	return open_echo < max ? max - open_echo : 0;
}

/* The rules that need the client's address; where: what names it. */
static bool
admit_rules(const struct addr_packed *client, const char *where,
    struct admit_ticket *ticket)
{
	const struct acl_rule *deny = acl_denies(client);
	char text[ADDR_TEXT_MAX], rule[64];

	if (deny != NULL) {
		stats.denied++;
		if (log_due(&last_deny_line))
			log_warnx("%s: refusing %s: denied by 'deny %s' "
			    "(%" PRIu64 " so far)", where,
			    addr_packed_format(client, text, sizeof(text)),
			    acl_rule_format(deny, rule, sizeof(rule)),
			    stats.denied);
		return false;
	}
	/* The per-address limit is for echo connections: HTTP_CONNS_MAX
	 * bounds the metrics requests. */
	if (ticket->metrics || acl_take(client,
	    config.max_connections_per_ip, &ticket->counted))
		return true;
	stats.per_ip++;
	if (log_due(&last_per_ip_line))
		log_warnx("%s: refusing %s: max_connections_per_ip %u reached "
		    "(%" PRIu64 " so far)", where, addr_packed_format(client,
		    text, sizeof(text)), config.max_connections_per_ip,
		    stats.per_ip);
	return false;
}

bool
admit_accept(const struct listener *l, int fd,
    const struct addr_packed *client, struct admit_ticket *ticket)
{
	*ticket = (struct admit_ticket){ .metrics = (l->options &
	    LISTEN_METRICS) != 0 };
	/* The table holds fds below the limit the loop was sized for: one
	 * past it means someone raised the limit under the running daemon. */
	if (fd >= loop_setsize(admit_loop)) {
		stats.fd_table++;
		if (log_due(&last_table_line))
			log_warnx("%s: refusing connections: descriptor past "
			    "the event table (%" PRIu64 " so far)", l->name,
			    stats.fd_table);
		return false;
	}
	/* The client is known now, before any byte is read, unless a PROXY
	 * header will name it. */
	if (!(l->options & LISTEN_PROXY_PROTOCOL) &&
	    !admit_rules(client, l->name, ticket))
		return false;
	if (ticket->metrics)
		open_metrics++;
	else
		open_echo++;
	return true;
}

bool
admit_named(const struct addr_packed *client, struct admit_ticket *ticket)
{
	return admit_rules(client, "PROXY header", ticket);
}

void
admit_release(const struct addr_packed *client,
    const struct admit_ticket *ticket)
{
	if (ticket->counted)
		acl_release(client);
	if (ticket->metrics)
		open_metrics--;
	else
		open_echo--;
}

void
admit_before_wait(struct listener *listeners)
{
	for (struct listener *l = listeners; l != NULL; l = l->next) {
		unsigned room;

		if (l->loop == NULL)
			continue;	/* not served here (a master's) */
		room = admit_room(l);
		if (room == 0 && l->watching) {
			listener_stop(l);
			stats.full++;
			if (log_due(&last_full_line))
				log_info("%s: %s reached: accepting paused, "
				    "new clients wait in the queue (%" PRIu64
				    " times so far)", l->name, l->options &
				    LISTEN_METRICS ? "the metrics requests' "
				    "limit" : "max_connections", stats.full);
		} else if (room > 0 && !l->watching &&
		    listener_resume(l) == -1 &&
		    log_due(&last_full_line)) {
			log_warn("cannot watch %s", l->name);
		}
	}
}
