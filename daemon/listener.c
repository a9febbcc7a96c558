/*
 * listener.c — accepting. Each wakeup accepts at most LISTENER_BATCH
 * connections, then posts the listener to go on next turn: accept is
 * edge-triggered like everything else, so a queue left non-empty raises no
 * new event.
 *
 * Running out of descriptors (EMFILE, ENFILE) must neither spin nor strand
 * the queued clients, who would wait for an edge that never comes. The
 * listener keeps one spare descriptor: it frees it, accepts, closes the
 * connection at once (the client sees it refused, as over max_connections)
 * and takes the spare back. If even the spare cannot be had, the listener
 * pauses and retries on a timer, or sooner when a connection closes.
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

#define LISTENER_BATCH		64	/* accepts per listener per turn */
#define LISTENER_RETRY_MS	100	/* paused: try again this often */
#define LISTENER_WARN_MS	1000	/* at most one refusal warning per */

static unsigned max_connections = UINT32_MAX;
static int spare_fd = -1;		/* held for the out-of-fds case */
static struct listener_stats stats;
static uint64_t last_warning;		/* loop ms of the last refusal line */

static void listener_on_event(struct loop *loop, int fd, uint32_t events,
    void *data);
static void listener_on_retry(struct loop *loop, struct loop_timer *timer);

static int
listener_socket(const struct addr *addr)
{
	int fd, one = 1;

	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (addr->ss.ss_family == AF_UNIX)
		return fd;
	/* Rebind at once after a restart, whatever is in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit this: the echo of a request split over
	 * two reads must not wait for the peer's delayed ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	return fd;
}

/* A Unix socket file nobody accepts on is left over from a crash. */
static bool
listener_unix_stale(const struct addr *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool stale;

	if (fd == -1)
		return false;
	stale = connect(fd, (const struct sockaddr *)&addr->ss, addr->len) ==
	    -1 && errno == ECONNREFUSED;
	close(fd);
	return stale;
}

int
listener_open(struct listener *l, const struct addr *addr, int backlog,
    char *err, size_t errlen)
{
	char text[ADDR_TEXT_MAX];
	int rc;

	memset(l, 0, sizeof(*l));
	l->addr = *addr;
	l->fd = listener_socket(addr);
	addr_format((const struct sockaddr *)&addr->ss, addr->len, text,
	    sizeof(text));
	if (l->fd == -1) {
		snprintf(err, errlen, "listen %s: socket: %s", text,
		    strerror(errno));
		return -1;
	}
	rc = bind(l->fd, (const struct sockaddr *)&addr->ss, addr->len);
	if (rc == -1 && errno == EADDRINUSE && addr->ss.ss_family == AF_UNIX &&
	    listener_unix_stale(addr)) {
		unlink(((const struct sockaddr_un *)&addr->ss)->sun_path);
		rc = bind(l->fd, (const struct sockaddr *)&addr->ss, addr->len);
	}
	if (rc == -1 || listen(l->fd, backlog) == -1) {
		snprintf(err, errlen, "listen %s: %s", text, strerror(errno));
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	if (addr_local(l->fd, l->name, sizeof(l->name)) == -1)
		snprintf(l->name, sizeof(l->name), "%s", text);
	return 0;
}

int
listener_start(struct listener *l, struct loop *loop)
{
	if (spare_fd == -1)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	l->loop = loop;
	l->retry.fn = listener_on_retry;
	l->retry.data = l;
	return loop_add(loop, l->fd, EPOLLIN, listener_on_event, l);
}

void
listener_close(struct listener *l)
{
	if (l->fd == -1)
		return;
	if (l->loop != NULL) {
		loop_timer_cancel(l->loop, &l->retry);
		loop_del(l->loop, l->fd);
	}
	close(l->fd);
	l->fd = -1;
	if (l->addr.ss.ss_family == AF_UNIX &&
	    unlink(((struct sockaddr_un *)&l->addr.ss)->sun_path) == -1)
		log_debug("unlink %s: %s", l->name, strerror(errno));
}

void
listener_fini(void)
{
	if (spare_fd != -1)
		close(spare_fd);
	spare_fd = -1;
}

void
listener_set_limit(unsigned max)
{
	max_connections = max;
}

const struct listener_stats *
listener_stats(void)
{
	return &stats;
}

static void
listener_refuse(struct listener *l, int fd, const char *why)
{
	uint64_t now = loop_now(l->loop);

	close(fd);
	stats.refused++;
	if (last_warning == 0 || now - last_warning >= LISTENER_WARN_MS) {
		log_warnx("%s: refusing connections: %s (%llu refused so far)",
		    l->name, why, (unsigned long long)stats.refused);
		last_warning = now;
	}
}

/*
 * Out of descriptors: refuse one queued client with the spare. Returns true
 * if the caller may go on accepting.
 */
static bool
listener_out_of_fds(struct listener *l, int err)
{
	if (spare_fd != -1) {
		int fd, accept_err;

		close(spare_fd);
		fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		accept_err = errno;
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd != -1)
			listener_refuse(l, fd, strerror(err));
		if (spare_fd != -1) {
			/* Nothing queued: the next client raises an edge. */
			return fd != -1 || accept_err != EAGAIN;
		}
	}
	if (!l->paused)
		log_warnx("%s: %s: pausing accept", l->name, strerror(err));
	l->paused = true;
	loop_timer_set(l->loop, &l->retry, LISTENER_RETRY_MS);
	return false;
}

static void
listener_accept(struct listener *l)
{
	for (int i = 0; i < LISTENER_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd;

		fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
				return;		/* drained: the next client
						 * raises a new edge */
			case EINTR:
			case ECONNABORTED:	/* gone before we got to it */
			case EPROTO:
			case EPERM:		/* refused by a firewall rule */
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				if (!listener_out_of_fds(l, errno))
					return;
				continue;
			default:
				log_warn("%s: accept", l->name);
				l->paused = true;
				loop_timer_set(l->loop, &l->retry,
				    LISTENER_RETRY_MS);
				return;
			}
		}
		if (conn_count() >= max_connections) {
			listener_refuse(l, fd, "max_connections reached");
			continue;
		}
		if (conn_open(fd, (struct sockaddr *)&ss, len) == -1)
			log_warn("%s: cannot take connection", l->name);
	}
	loop_post(l->loop, l->fd);	/* batch spent: more may be queued */
}

static void
listener_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct listener *l = data;

	(void)loop;
	(void)fd;
	(void)events;
	if (!l->paused)
		listener_accept(l);
}

static void
listener_on_retry(struct loop *loop, struct loop_timer *timer)
{
	(void)loop;
	listener_resume(timer->data);
}

void
listener_resume(struct listener *l)
{
	if (!l->paused || l->fd == -1)
		return;
	l->paused = false;
	loop_timer_cancel(l->loop, &l->retry);
	if (spare_fd == -1)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	listener_accept(l);
}
