/*
 * net.c — connect without blocking forever: a non-blocking connect, then
 * poll for its completion against the deadline.
 */
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"
#include "proxy.h"

double
net_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
net_connect(const struct addr *a, const char *name, uint64_t timeout_ms,
    char *err, size_t errlen)
{
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int fd, soerr = 0, one = 1, rc;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "%s: socket: %s", name, strerror(errno));
		return -1;
	}
	if (a->ss.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		snprintf(err, errlen, "%s: connect: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	do
		rc = poll(&pfd, 1, timeout_ms ? (int)timeout_ms : -1);
	while (rc == -1 && errno == EINTR);
	if (rc == 0) {
		char after[32];

		snprintf(err, errlen, "%s: connect: timed out after %s", name,
		    format_duration(timeout_ms, after, sizeof(after)));
		close(fd);
		return -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	if (soerr != 0) {
		snprintf(err, errlen, "%s: connect: %s", name, strerror(soerr));
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t
net_proxy_header(int fd, int version, void *buf)
{
	struct sockaddr_storage local, remote;
	socklen_t llen = sizeof(local), rlen = sizeof(remote);

	if (getsockname(fd, (struct sockaddr *)&local, &llen) == -1 ||
	    getpeername(fd, (struct sockaddr *)&remote, &rlen) == -1)
		return -1;
	return proxy_build(version, (struct sockaddr *)&local,
	    (struct sockaddr *)&remote, buf);
}
