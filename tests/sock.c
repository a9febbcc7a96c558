/*
 * sock.c — talking to a server the way the tests do: connect, exchange
 * bytes both ways at once with a deadline, and many clients at once; see
 * sock.h.
 */
#include "sock.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
connect_to(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	cr_assert_eq(connect(fd, (const struct sockaddr *)ss, len), 0,
	    "connect: %s", strerror(errno));
	return fd;
}

int
connect_from(const char *src, const struct sockaddr_storage *ss,
    socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	bool v4 = ss->ss_family == AF_INET;

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	cr_assert_eq(inet_pton(ss->ss_family, src, v4 ? (void *)&sin.sin_addr :
	    (void *)&sin6.sin6_addr), 1, "bad source %s", src);
	cr_assert_eq(bind(fd, v4 ? (struct sockaddr *)&sin :
	    (struct sockaddr *)&sin6, v4 ? sizeof(sin) : sizeof(sin6)), 0,
	    "bind %s: %s", src, strerror(errno));
	cr_assert_eq(connect(fd, (const struct sockaddr *)ss, len), 0,
	    "connect from %s: %s", src, strerror(errno));
	return fd;
}

static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left = deadline - now_ms();
	int rc;

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	rc = poll(&pfd, 1, (int)left);
	if (rc == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

ssize_t
exchange(int fd, const void *out, size_t len, void *in, size_t cap,
    size_t chunk, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t sent = 0, got = 0;
	bool eof = false, shut = false;
	int flags = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	while (!eof) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (!shut && sent == len) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		if (!shut)
			pfd.events |= POLLOUT;
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			if (got == cap) {
				errno = ENOBUFS;
				return -1;
			}
			n = recv(fd, (char *)in + got, cap - got, 0);
			if (n == 0)
				eof = true;
			else if (n > 0)
				got += (size_t)n;
			else if (errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (!shut && (pfd.revents & POLLOUT)) {
			size_t want = len - sent < chunk ? len - sent : chunk;

			n = send(fd, (const char *)out + sent, want,
			    MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return (ssize_t)got;
}

void
expect_echo(int fd, const char *msg)
{
	size_t len = strlen(msg);
	unsigned char want[256], got[257];
	ssize_t n;

	cr_assert_lt(len, sizeof(want), "message too long");
	memcpy(want, msg, len);
	reference_upper(want, len);
	n = exchange(fd, msg, len, got, sizeof(got), len, DEADLINE_MS);
	cr_assert_eq(n, (ssize_t)len, "\"%s\": %zd of %zu bytes came back",
	    msg, n, len);
	cr_assert_eq(memcmp(got, want, len), 0, "\"%s\" came back as "
	    "\"%.*s\"", msg, (int)len, (const char *)got);
	close(fd);
}

ssize_t
read_all(int fd, void *in, size_t cap, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t got = 0;

	for (;;) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) == -1)
			return -1;
		if (got == cap) {
			char extra;

			n = recv(fd, &extra, 1, MSG_DONTWAIT);
			if (n == 0)
				return (ssize_t)got;
			errno = ENOBUFS;
			return -1;
		}
		n = recv(fd, (char *)in + got, cap - got, MSG_DONTWAIT);
		if (n == 0)
			return (ssize_t)got;
		if (n > 0)
			got += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
}

int
write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t sent = 0;

	while (sent < len) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline) == -1)
			return -1;
		n = send(fd, (const char *)buf + sent, len - sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return 0;
}

void
reference_upper(unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (unsigned char)(buf[i] - 'a' + 'A');
}

void
fill_pattern(unsigned char *buf, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
}

void
raise_fd_limit(unsigned n)
{
	struct rlimit rl;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur >= n)
		return;
	cr_assert_geq(rl.rlim_max, n, "the hard open-file limit %llu is "
	    "below the %u this test needs", (unsigned long long)rl.rlim_max,
	    n);
	rl.rlim_cur = n;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* One client of load_run. */
struct load_conn {
	int fd;
	size_t sent, got;
	bool shut, done;
};

static void
load_fail(unsigned *failed, unsigned k, const char *what)
{
	if ((*failed)++ == 0)
		fprintf(stderr, "connection %u: %s\n", k, what);
}

unsigned
load_run(const struct sockaddr_storage *ss, socklen_t sslen, unsigned n,
    size_t size, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	unsigned char *pattern = malloc(size + n), *expect = malloc(size + n);
	unsigned char *buf = malloc(65536);
	struct load_conn *c = calloc(n, sizeof(*c));
	struct epoll_event ev, events[256];
	unsigned failed = 0, open_left = n;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	cr_assert(pattern && expect && buf && c && ep >= 0);
	fill_pattern(pattern, size + n, 11);
	memcpy(expect, pattern, size + n);
	reference_upper(expect, size + n);
	raise_fd_limit(n + 64);

	for (unsigned k = 0; k < n; k++) {
		c[k].fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		cr_assert_geq(c[k].fd, 0, "socket: %s", strerror(errno));
		if (connect(c[k].fd, (const struct sockaddr *)ss, sslen) == -1
		    && errno != EINPROGRESS)
			cr_assert_fail("connect: %s", strerror(errno));
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
		ev.data.u32 = k;
		cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, c[k].fd, &ev), 0);
	}
	while (open_left > 0) {
		long long left = deadline - now_ms();
		int m;

		if (left <= 0) {
			load_fail(&failed, 0, "deadline passed");
			failed += open_left - 1;
			break;
		}
		m = epoll_wait(ep, events, 256, (int)left);
		for (int i = 0; i < m; i++) {
			unsigned k = events[i].data.u32;
			struct load_conn *lc = &c[k];
			ssize_t r;

			if (lc->done)
				continue;
			if (!lc->shut && (events[i].events & EPOLLOUT)) {
				r = send(lc->fd, pattern + k + lc->sent,
				    size - lc->sent, MSG_NOSIGNAL);
				if (r > 0)
					lc->sent += (size_t)r;
				if (lc->sent == size) {
					shutdown(lc->fd, SHUT_WR);
					lc->shut = true;
					/* A shut socket polls writable for
					 * ever: stop asking. */
					ev.events = EPOLLIN | EPOLLRDHUP;
					ev.data.u32 = k;
					epoll_ctl(ep, EPOLL_CTL_MOD, lc->fd,
					    &ev);
				}
			}
			while ((r = recv(lc->fd, buf, 65536, 0)) > 0) {
				if (lc->got + (size_t)r > size ||
				    memcmp(buf, expect + k + lc->got,
				    (size_t)r) != 0) {
					load_fail(&failed, k, "wrong bytes");
					r = -2;
					break;
				}
				lc->got += (size_t)r;
			}
			if (r == 0 && lc->got != size)
				load_fail(&failed, k, "short echo");
			else if (r == -1 && errno != EAGAIN)
				load_fail(&failed, k, strerror(errno));
			if (r == 0 || r == -2 || (r == -1 && errno != EAGAIN)) {
				lc->done = true;
				open_left--;
				close(lc->fd);
			}
		}
	}
	for (unsigned k = 0; k < n; k++)
		if (!c[k].done)
			close(c[k].fd);
	close(ep);
	free(pattern);
	free(expect);
	free(buf);
	free(c);
	return failed;
}

int
notify_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	cr_assert_lt(strlen(path), sizeof(sun.sun_path), "%s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	return fd;
}

void
expect_datagram(int fd, char *buf, size_t cap, const char *prefix)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	cr_assert_eq(poll(&p, 1, DEADLINE_MS), 1, "no '%s' datagram", prefix);
	n = recv(fd, buf, cap - 1, 0);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_eq(strncmp(buf, prefix, strlen(prefix)), 0,
	    "got '%s', expected '%s...'", buf, prefix);
}
