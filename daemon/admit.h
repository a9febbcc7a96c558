/*
 * admit.h — whether to take a client, decided in one place (admit.c). Room
 * is asked for before accept4: each listener takes at most what its kind
 * has left (echo connections under max_connections and the event table,
 * metrics requests in their slots), and a listener with none stops
 * watching its socket until a close makes room, so its clients wait in the
 * kernel's queue (HAProxy's full listener) instead of being taken and
 * closed. A client is refused only by a rule that needs its address: a
 * deny, the per-address limit, a descriptor past the event table; at
 * accept, or once a PROXY header names it. What a client becomes is the
 * connection side's (conn.h, http.h); the rules' mechanics are acl.h's.
 */
#ifndef ADMIT_H
#define ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "acl.h"
#include "addr.h"
#include "listener.h"

struct admit_config {
	unsigned max_connections;	/* echo connections open at once */
	unsigned max_connections_per_ip;	/* the same per client; 0:
					 * none */
	const struct acl_rule *rules;	/* allow and deny (copied) */
	unsigned nrules;
};

struct admit_stats {
	uint64_t denied;	/* refused by a deny rule */
	uint64_t per_ip;	/* refused: max_connections_per_ip reached */
	uint64_t fd_table;	/* refused: a descriptor past the event table */
	uint64_t full;		/* times a listener stopped: no room left */
};

/* A client taken: what admit_release needs back. */
struct admit_ticket {
	bool metrics;		/* a metrics request, not an echo */
	bool counted;		/* against max_connections_per_ip */
};

struct loop;

/*
 * For the clients of loop, and at most capacity echo connections whatever
 * max_connections says (what the descriptor limit leaves). Returns 0, or
 * -1 with errno.
 */
int admit_init(struct loop *loop, unsigned capacity);
void admit_fini(void);

/* The limits and rules for the next clients (reload). */
void admit_configure(const struct admit_config *config);

/* How many clients l may accept now (listener.h's room). */
unsigned admit_room(const struct listener *l);

/*
 * Take fd, just accepted on l from client, or refuse it (counted, logged
 * at most once a second a reason; the caller closes fd). Behind a PROXY
 * header the address rules wait for admit_named.
 */
bool admit_accept(const struct listener *l, int fd,
    const struct addr_packed *client, struct admit_ticket *ticket);

/* A PROXY header named client: may it connect? If not, the caller
 * closes, and calls admit_release all the same. */
bool admit_named(const struct addr_packed *client,
    struct admit_ticket *ticket);

/* A client taken has gone: its room is free. */
void admit_release(const struct addr_packed *client,
    const struct admit_ticket *ticket);

/*
 * Before the loop waits: stop watching each listener that has no room
 * (before sleeping, so that no exclusive wakeup is taken by a process
 * that would not accept), and watch again each one that has.
 */
void admit_before_wait(struct listener *listeners);

const struct admit_stats *admit_stats(void);

#endif
