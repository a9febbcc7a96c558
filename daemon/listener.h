/*
 * listener.h — listening sockets and accepting: at most as many clients as
 * the owner says there is room for, in bounded batches, and what to do when
 * the process runs out of descriptors or the kernel out of memory. Each
 * accepted socket goes to the callback its owner gave; what it becomes (a
 * connection, a refusal) is the owner's business, and so is the room: the
 * listener knows no limit but the number it is told.
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

/*
 * What a listener's connections are, from `listen = ADDRESS [OPTION]...`.
 * The listener only carries them; whoever takes its sockets acts on them.
 */
enum listen_option {
	LISTEN_PROXY_PROTOCOL = 1 << 0,	/* a PROXY header precedes the echo */
	LISTEN_METRICS = 1 << 1,	/* HTTP GET /metrics, no echo */
	LISTEN_PROBE = 1 << 2,		/* a scenario line precedes the echo */
};

/* A unix socket file's mode and owner (mode=, owner=, group=), set
 * before the socket listens: no client connects in between. Zeroed, it
 * sets nothing. */
struct listen_perms {
	unsigned mode;			/* 0: as the umask leaves it */
	uid_t uid;			/* with owner */
	gid_t gid;			/* with group */
	char owner[32], group[32];	/* as written; "": not set */
};

/* The value of `listen = ADDRESS [OPTION]...`, parsed (config.h). */
struct listen_spec {
	struct addr addr;
	unsigned options;		/* enum listen_option bits */
	struct listen_perms perms;
	char text[ADDR_TEXT_MAX];	/* the address as written */
};

/* Takes over fd, an accepted non-blocking socket from peer. */
typedef void listener_accept_fn(struct listener *l, int fd,
    const struct sockaddr *peer, socklen_t peerlen);

/* How many clients l may take now (admit.h's answer). */
typedef unsigned listener_room_fn(const struct listener *l);

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
	bool exclusive;			/* watched with EPOLLEXCLUSIVE */
	bool watching;			/* registered with the loop */
	listener_accept_fn *on_accept;	/* given to listener_start */
	listener_room_fn *room;		/* the same */
	struct loop_timer retry;	/* armed while accepting is paused */
	struct loop *loop;		/* NULL until listener_start */
	struct listener *next;		/* the daemon's list of listeners */
};

struct listener_stats {
	uint64_t refused;	/* out of descriptors: closed at once */
	uint64_t paused;	/* accept failures that paused accepting */
};

/*
 * Create, bind and listen on s's address; nothing is registered yet. A
 * stale Unix socket file (nobody accepting) is replaced, and takes s's
 * mode and owner before it listens. Returns 0, or -1 with a line naming
 * the address and the reason in err.
 */
int listener_open(struct listener *l, const struct listen_spec *s,
    int backlog, char *err, size_t errlen);

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
 * Register with loop and hand accepted sockets to on_accept from now on, as
 * many as room says each time. exclusive: several processes wait on this
 * socket (workers), and the kernel wakes one of them per connection
 * (EPOLLEXCLUSIVE), not all. Returns 0 or -1 with errno.
 */
int listener_start(struct listener *l, struct loop *loop,
    listener_accept_fn *on_accept, listener_room_fn *room, bool exclusive);

/* Stop watching l, which stays open, until listener_resume (a process
 * with no room for more clients leaves them in the queue, or to the other
 * workers). */
void listener_stop(struct listener *l);

/* Watch l again; what is queued already is taken on the next turn.
 * Returns 0 or -1 with errno. */
int listener_resume(struct listener *l);

/* Keep new handshakes from completing (a filter that drops every packet;
 * a client retries and then finds the port closed). */
void listener_block(struct listener *l);

/*
 * Stop taking clients gracefully: no handshake completes from now on
 * (listener_block), the clients already queued go to on_accept as far as
 * there is room, then listener_close. A shared listener is not blocked,
 * and what it has no room for stays queued for the other processes that
 * hold the socket (a new generation of workers, a new binary): whoever
 * owns the socket (the master) decides whether it goes away, and blocks
 * it first if it does. Only the last close resets the clients still
 * queued, who believe they are connected.
 */
void listener_drain(struct listener *l);

/* Stop accepting and close (once); removes a Unix socket's file unless the
 * listener is shared. */
void listener_close(struct listener *l);

/* Release the spare descriptor, once every listener is closed. */
void listener_fini(void);

const struct listener_stats *listener_stats(void);

#endif
