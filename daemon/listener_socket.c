/*
 * listener_socket.c — the listening sockets themselves: made from a listen
 * line (bound, a unix socket file given its mode and owner, a stale one
 * left by a crash replaced), or adopted from systemd or an older binary
 * and checked. What accepted sockets inherit is set here, once, on the
 * listener. Accepting is listener.c's.
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* Unsent bytes a TCP connection's send queue may hold past what its
 * peer's window lets go: enough to keep a fast reader's stream fed between
 * two writes (one read's worth is 256 KiB), little beside backlog_high. */
#define NOTSENT_LOWAT	(128 * 1024)

/* What accepted TCP sockets inherit from their listener; on a unix
 * socket the calls fail, harmlessly. */
static void
listener_tcp_options(int fd)
{
	int one = 1, lowat = NOTSENT_LOWAT;

	/* The echo of a request split over two reads must not wait for the
	 * peer's delayed ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* What a client does not read is owed in its backlog, where
	 * backlog_high and backlog_total count it, and not in a send queue
	 * that autotuning grows to megabytes for a stalled client (3 MB
	 * here), out of the TCP memory every socket shares. */
	setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
}

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
	listener_tcp_options(fd);
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

/* The socket file takes its mode and owner between bind and listen:
 * until listen, a connect is refused, so nobody gets in under the old. */
static int
listener_perms(const struct addr *addr, const struct listen_perms *p)
{
	const char *path = ((const struct sockaddr_un *)&addr->ss)->sun_path;

	if (addr->ss.ss_family != AF_UNIX)
		return 0;
	/* lchown: the path is the socket bind just made, and a symlink put
	 * in its place (by whoever may write the directory) is not
	 * followed. The mode came with the bind (listener_bind). */
	if ((*p->owner != '\0' || *p->group != '\0') && lchown(path,
	    *p->owner != '\0' ? p->uid : (uid_t)-1, *p->group != '\0' ?
	    p->gid : (gid_t)-1) == -1)
		return -1;
	return 0;
}

/* bind, and a unix socket file made with its mode= (a umask for the
 * bind alone: never a chmod through a path someone could swap). */
static int
listener_bind(int fd, const struct listen_spec *s)
{
	mode_t old = 0;
	int rc;

	if (s->addr.ss.ss_family == AF_UNIX && s->perms.mode != 0)
		old = umask((mode_t)~s->perms.mode & 0777);
	rc = bind(fd, (const struct sockaddr *)&s->addr.ss, s->addr.len);
	if (s->addr.ss.ss_family == AF_UNIX && s->perms.mode != 0)
		umask(old);
	return rc;
}

int
listener_open(struct listener *l, const struct listen_spec *s, int backlog,
    char *err, size_t errlen)
{
	const struct addr *addr = &s->addr;
	char text[ADDR_TEXT_MAX];
	int rc;

	memset(l, 0, sizeof(*l));
	l->addr = *addr;
	l->options = s->options;
	l->fd = listener_socket(addr);
	addr_format((const struct sockaddr *)&addr->ss, addr->len, text,
	    sizeof(text));
	if (l->fd == -1) {
		snprintf(err, errlen, "listen %s: socket: %s", text,
		    strerror(errno));
		return -1;
	}
	rc = listener_bind(l->fd, s);
	if (rc == -1 && errno == EADDRINUSE && addr->ss.ss_family == AF_UNIX &&
	    listener_unix_stale(addr)) {
		unlink(((const struct sockaddr_un *)&addr->ss)->sun_path);
		rc = listener_bind(l->fd, s);
	}
	if (rc == 0 && listener_perms(addr, &s->perms) == -1) {
		snprintf(err, errlen, "listen %s: setting mode and owner: %s",
		    text, strerror(errno));
		unlink(((const struct sockaddr_un *)&addr->ss)->sun_path);
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	if (rc == -1 || listen(l->fd, backlog) == -1) {
		snprintf(err, errlen, "listen %s: %s", text, strerror(errno));
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	l->bound.len = sizeof(l->bound.ss);
	if (getsockname(l->fd, (struct sockaddr *)&l->bound.ss,
	    &l->bound.len) == -1)
		l->bound = *addr;
	addr_format((struct sockaddr *)&l->bound.ss, l->bound.len, l->name,
	    sizeof(l->name));
	return 0;
}

bool
listener_is(const struct listener *l, const struct addr *addr)
{
	return addr_equal(&l->addr, addr) || addr_equal(&l->bound, addr);
}

int
listener_adopt(struct listener *l, int fd, unsigned options, char *err,
    size_t errlen)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	memset(l, 0, sizeof(*l));
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM || (len = sizeof(listening),
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len)) ==
	    -1 || !listening) {
		snprintf(err, errlen, "fd %d is not a listening stream socket",
		    fd);
		return -1;
	}
	/* A socket that outlived an instance (systemd's, or one an older
	 * binary stopped on) may still carry its listener_block filter,
	 * which would drop every handshake meant for us. */
	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, NULL, 0) == -1 &&
	    errno != ENOENT)
		log_debug("fd %d: cannot detach a socket filter: %s", fd,
		    strerror(errno));
	/* A socket systemd or an older binary made gets what ours get. */
	listener_tcp_options(fd);
	l->fd = fd;
	l->options = options;
	l->bound.len = sizeof(l->bound.ss);
	if (getsockname(fd, (struct sockaddr *)&l->bound.ss, &l->bound.len) ==
	    -1) {
		snprintf(err, errlen, "fd %d: getsockname: %s", fd,
		    strerror(errno));
		return -1;
	}
	l->addr = l->bound;
	addr_format((struct sockaddr *)&l->bound.ss, l->bound.len, l->name,
	    sizeof(l->name));
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return 0;
}
