/*
 * listener.h — listening sockets and accepting: a bounded batch per wakeup,
 * and what to do when the process runs out of descriptors or the kernel out
 * of memory. Each accepted socket goes to the callback its owner gave; what
 * it becomes (a connection, a refusal) is the owner's business.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "addr.h"
#include "loop.h"

struct listener;

#define LISTENER_BATCH		64	/* accepts per listener per turn */

/*
 * What a listener's connections are, from `listen = ADDRESS [OPTION]...`.
 * The listener only carries them; whoever takes its sockets acts on them.
 */
enum listen_option {
	LISTEN_PROXY_PROTOCOL = 1 << 0,	/* a PROXY header precedes the echo */
	LISTEN_METRICS = 1 << 1,	/* HTTP GET /metrics, no echo */
	LISTEN_PROBE = 1 << 2,		/* a scenario line precedes the echo */
};

/* The value of `listen = ADDRESS [OPTION]...`, parsed. */
struct listen_spec {
	struct addr addr;
	unsigned options;		/* enum listen_option bits */
	char text[ADDR_TEXT_MAX];	/* the address as written */
};

/*
 * Parse "ADDRESS [OPTION]..." (the address has no white space; each option
 * once; metrics alone). Returns 0, or -1 with a reason in err.
 */
int listen_spec_parse(const char *value, struct listen_spec *out, char *err,
    size_t errlen);

/* Write s back as listen_spec_parse reads it, with a newline. */
void listen_spec_print(const struct listen_spec *s, FILE *out);

/* Takes over fd, an accepted non-blocking socket from peer. */
typedef void listener_accept_fn(struct listener *l, int fd,
    const struct sockaddr *peer, socklen_t peerlen);

struct listener {
	int fd;
	struct addr addr;		/* as configured */
	struct addr bound;		/* as bound: port 0 resolved */
	char name[ADDR_TEXT_MAX];	/* bound, formatted */
	unsigned options;		/* enum listen_option bits */
	uint64_t *accepted;		/* sockets handed to on_accept: a
					 * counters.h cell, or NULL */
	bool shared;			/* other processes hold the socket:
					 * see listener_drain */
	listener_accept_fn *on_accept;	/* given to listener_start */
	struct loop_timer retry;	/* armed while accepting is paused */
	struct loop *loop;		/* NULL until listener_start */
	struct listener *next;		/* the daemon's list of listeners */
};

struct listener_stats {
	uint64_t refused;	/* out of descriptors: closed at once */
	uint64_t paused;	/* accept failures that paused accepting */
};

/*
 * Create, bind and listen on addr; nothing is registered yet. A stale Unix
 * socket file (nobody accepting) is replaced. Returns 0, or -1 with a line
 * naming the address and the reason in err.
 */
int listener_open(struct listener *l, const struct addr *addr,
    unsigned options, int backlog, char *err, size_t errlen);

/*
 * Take over fd, a listening socket inherited from whoever started the
 * process (socket activation, a binary upgrade). Returns 0, or -1 with why
 * in err: fd is not a listening stream socket.
 */
int listener_adopt(struct listener *l, int fd, unsigned options, char *err,
    size_t errlen);

/* Is addr this listener's, as configured or as bound? (A reload that
 * names the port that port 0 got keeps the listener.) */
bool listener_is(const struct listener *l, const struct addr *addr);

/*
 * Register with loop and hand every accepted socket to on_accept from now
 * on. exclusive: several processes wait on this socket (workers), and the
 * kernel wakes one of them per connection (EPOLLEXCLUSIVE), not all.
 * Returns 0 or -1 with errno.
 */
int listener_start(struct listener *l, struct loop *loop,
    listener_accept_fn *on_accept, bool exclusive);

/* Stop watching l, which stays open, until listener_start again (a
 * worker with no room for more clients leaves them to the others). */
void listener_stop(struct listener *l);

/* Keep new handshakes from completing (a filter that drops every packet;
 * a client retries and then finds the port closed). */
void listener_block(struct listener *l);

/*
 * Stop taking clients gracefully: no handshake completes from now on
 * (listener_block), every client already queued goes to on_accept, then
 * listener_close. Closing alone would reset the queued ones, who believe
 * they are connected. A shared listener is not blocked: whoever owns the
 * socket (the master) decides whether it goes away, and blocks it first
 * if it does.
 */
void listener_drain(struct listener *l);

/* Stop accepting and close (once); removes a Unix socket's file unless the
 * listener is shared. */
void listener_close(struct listener *l);

/* Release the spare descriptor, once every listener is closed. */
void listener_fini(void);

const struct listener_stats *listener_stats(void);

#endif
