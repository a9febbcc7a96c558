/*
 * listener.h — listening sockets and the accept policy: a bounded batch per
 * wakeup, max_connections, and what to do when the process runs out of file
 * descriptors. What happens to an accepted socket is conn's business.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "loop.h"

struct listener {
	int fd;				/* -1 when closed */
	struct addr addr;		/* as configured */
	char name[ADDR_TEXT_MAX];	/* as bound: port 0 resolved */
	bool paused;			/* out of fds: retry timer armed */
	struct loop_timer retry;	/* resumes accepting when paused */
	struct loop *loop;		/* NULL until listener_start */
	struct listener *next;		/* the daemon's list of listeners */
};

struct listener_stats {
	uint64_t refused;		/* accepted and closed at once */
};

/*
 * Create, bind and listen on addr; nothing is registered yet. A stale Unix
 * socket file (nobody accepting) is replaced. Returns 0, or -1 with a line
 * naming the address and the reason in err.
 */
int listener_open(struct listener *l, const struct addr *addr, int backlog,
    char *err, size_t errlen);

/* Register with loop and accept from now on. Returns 0 or -1 with errno. */
int listener_start(struct listener *l, struct loop *loop);

/* Stop accepting and close; removes a Unix socket's file. */
void listener_close(struct listener *l);

/* Release the spare descriptor, once every listener is closed. */
void listener_fini(void);

/* At most this many connections at once; more are accepted and closed. */
void listener_set_limit(unsigned max_connections);

/* A connection closed: a paused listener may accept again. */
void listener_resume(struct listener *l);

const struct listener_stats *listener_stats(void);

#endif
