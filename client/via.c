/*
 * via.c — upcase probe --via: reach the probe listener through a proxy
 * that needs an opening handshake, a SOCKS5 one (RFC 1928: no
 * authentication, CONNECT to an IPv4 or IPv6 address) or an HTTP one (RFC
 * 9110 9.3.6: CONNECT host:port, a 2xx answer). Every read and write is
 * bounded by the trial's deadline, and nothing past the handshake is read:
 * the bytes that follow are the probe's.
 */
#include "via.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"

/* Milliseconds left before limit, for poll; 0 once it has passed. */
static int
left_ms(double limit)
{
	double left = limit - net_now();

	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Exactly len bytes one way, before limit. Returns 0, or -1 with errno
 * (ETIMEDOUT at the limit, ECONNRESET for an EOF while reading). */
static int
move(int fd, void *buf, size_t len, bool out, double limit)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = fd, .events = out ? POLLOUT : POLLIN };
		ssize_t n;

		if (poll(&p, 1, left_ms(limit)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = out ? send(fd, (char *)buf + done, len - done,
		    MSG_NOSIGNAL | MSG_DONTWAIT) : recv(fd, (char *)buf + done,
		    len - done, MSG_DONTWAIT);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n > 0)
			done += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return 0;
}

static int
socks5(int fd, const struct addr *to, double limit, char *err, size_t len)
{
	static const char *const why[] = { "succeeded", "general failure",
	    "not allowed by its rules", "network unreachable",
	    "host unreachable", "connection refused", "TTL expired",
	    "command not supported", "address type not supported" };
	unsigned char req[22] = { 5, 1, 0 }, rep[260];	/* a name: 255 + 2 */
	size_t n = 4, rest;

	if (move(fd, req, 3, true, limit) == -1 ||
	    move(fd, rep, 2, false, limit) == -1)
		goto io;
	if (rep[0] != 5 || rep[1] != 0) {
		snprintf(err, len, "SOCKS5: the proxy accepts no method without "
		    "authentication (it answered %u %u)", rep[0], rep[1]);
		return -1;
	}
	req[0] = 5, req[1] = 1, req[2] = 0;
	if (to->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&to->ss;

		req[3] = 1;
		memcpy(req + n, &sin->sin_addr, 4);
		memcpy(req + n + 4, &sin->sin_port, 2);
		n += 6;
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)&to->ss;

		req[3] = 4;
		memcpy(req + n, &sin6->sin6_addr, 16);
		memcpy(req + n + 16, &sin6->sin6_port, 2);
		n += 18;
	}
	if (move(fd, req, n, true, limit) == -1 ||
	    move(fd, rep, 4, false, limit) == -1)
		goto io;
	if (rep[0] != 5 || rep[1] != 0) {
		snprintf(err, len, "SOCKS5: the proxy refused the CONNECT: %s",
		    rep[1] < sizeof(why) / sizeof(why[0]) ? why[rep[1]] :
		    "an unknown reply");
		return -1;
	}
	/* The address it bound, which the probe does not need. */
	rest = rep[3] == 1 ? 6 : rep[3] == 4 ? 18 : 0;
	if (rep[3] == 3) {
		if (move(fd, rep, 1, false, limit) == -1)
			goto io;
		rest = (size_t)rep[0] + 2;
	}
	if (rest == 0) {
		snprintf(err, len, "SOCKS5: a reply with address type %u",
		    rep[3]);
		return -1;
	}
	if (move(fd, rep, rest, false, limit) == -1)
		goto io;
	return 0;
io:
	snprintf(err, len, "SOCKS5 handshake: %s", errno == ECONNRESET ?
	    "the proxy closed the connection" : strerror(errno));
	return -1;
}

static int
http_connect(int fd, const struct addr *to, double limit, char *err,
    size_t len)
{
	char host[INET6_ADDRSTRLEN], req[256], head[1024];
	const struct sockaddr_in *sin = (const void *)&to->ss;
	const struct sockaddr_in6 *sin6 = (const void *)&to->ss;
	unsigned port;
	size_t n = 0;
	int status;

	if (to->ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\nHost: "
		    "%s:%u\r\n\r\n", host, port, host, port);
	} else {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(req, sizeof(req), "CONNECT [%s]:%u HTTP/1.1\r\nHost: "
		    "[%s]:%u\r\n\r\n", host, port, host, port);
	}
	if (move(fd, req, strlen(req), true, limit) == -1)
		goto io;
	/* A byte at a time to the blank line: what follows is the probe's. */
	while (n < 4 || memcmp(head + n - 4, "\r\n\r\n", 4) != 0) {
		if (n == sizeof(head) - 1) {
			snprintf(err, len, "HTTP CONNECT: an answer's head over "
			    "%zu bytes", n);
			return -1;
		}
		if (move(fd, head + n, 1, false, limit) == -1)
			goto io;
		n++;
	}
	head[n] = '\0';
	if (sscanf(head, "HTTP/1.%*1[01] %3d", &status) != 1 ||
	    status < 200 || status > 299) {
		snprintf(err, len, "HTTP CONNECT: the proxy answered \"%.*s\"",
		    (int)strcspn(head, "\r\n") < 80 ?
		    (int)strcspn(head, "\r\n") : 80, head);
		return -1;
	}
	return 0;
io:
	snprintf(err, len, "HTTP CONNECT: %s", errno == ECONNRESET ?
	    "the proxy closed the connection" : strerror(errno));
	return -1;
}

int
via_parse(const char *arg, struct via *v)
{
	static const char socks[] = "socks5://", http[] = "http-connect://";

	if (strncmp(arg, socks, sizeof(socks) - 1) == 0) {
		v->kind = VIA_SOCKS5;
		arg += sizeof(socks) - 1;
	} else if (strncmp(arg, http, sizeof(http) - 1) == 0) {
		v->kind = VIA_CONNECT;
		arg += sizeof(http) - 1;
	} else {
		return -1;
	}
	v->name = arg;
	return 0;
}

int
via_handshake(int fd, const struct via *v, const struct addr *to,
    double limit, char *err, size_t len)
{
	char what[160];
	int rc;

	rc = v->kind == VIA_SOCKS5 ? socks5(fd, to, limit, what,
	    sizeof(what)) : http_connect(fd, to, limit, what, sizeof(what));
	if (rc == -1)
		snprintf(err, len, "%s: %s", v->name, what);
	return rc;
}
