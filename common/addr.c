/*
 * addr.c — parsing and formatting of the addresses upcased and upcase accept.
 * Strict: a port with trailing junk, a missing port or an empty host is an
 * error, never a default.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define UNIX_PREFIX "unix:"

static int
addr_parse_port(const char *s, unsigned *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

static int
addr_parse_unix(const char *path, struct addr *out, char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	size_t n = strlen(path);

	if (n == 0) {
		snprintf(err, errlen, "empty path after 'unix:'");
		return -1;
	}
	if (n >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "unix socket path longer than %zu bytes",
		    sizeof(sun->sun_path) - 1);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static int
addr_resolve(const char *host, unsigned port, struct addr *out, char *err,
    size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int rc;

	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	if (res->ai_family == AF_INET6)
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
	freeaddrinfo(res);
	return 0;
}

int
addr_parse(const char *text, struct addr *out, char *err, size_t errlen)
{
	char host[ADDR_TEXT_MAX];
	const char *colon, *hstart, *hend;
	unsigned port;

	if (strncmp(text, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		return addr_parse_unix(text + strlen(UNIX_PREFIX), out, err,
		    errlen);

	if (text[0] == '[') {
		hstart = text + 1;
		hend = strchr(hstart, ']');
		if (hend == NULL || hend[1] != ':') {
			snprintf(err, errlen, "invalid address '%s': expected "
			    "[IPV6]:PORT", text);
			return -1;
		}
		colon = hend + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', (size_t)(colon - text))) {
			snprintf(err, errlen, "invalid address '%s': expected "
			    "HOST:PORT, [IPV6]:PORT or unix:PATH", text);
			return -1;
		}
		hstart = text;
		hend = colon;
	}
	if (hend == hstart) {
		snprintf(err, errlen, "invalid address '%s': empty host", text);
		return -1;
	}
	if ((size_t)(hend - hstart) >= sizeof(host)) {
		snprintf(err, errlen, "invalid address '%s': host too long",
		    text);
		return -1;
	}
	if (addr_parse_port(colon + 1, &port) == -1) {
		snprintf(err, errlen, "invalid port '%s' in '%s': expected "
		    "0..65535", colon + 1, text);
		return -1;
	}
	memcpy(host, hstart, (size_t)(hend - hstart));
	host[hend - hstart] = '\0';

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			snprintf(err, errlen, "invalid IPv6 address '%s' in "
			    "'%s'", host, text);
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
		return 0;
	}

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

	if (strcmp(host, "*") == 0) {
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		if (addr_resolve(host, port, out, err, errlen) == -1)
			return -1;
		return 0;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	out->len = sizeof(*sin);
	return 0;
}

char *
addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char ip[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, buflen, "%s:%u", ip, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, buflen, "[%s]:%u", ip, ntohs(sin6->sin6_port));
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
		size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
		    len - offsetof(struct sockaddr_un, sun_path) : 0;

		snprintf(buf, buflen, UNIX_PREFIX "%.*s",
		    (int)strnlen(sun->sun_path, n), sun->sun_path);
		break;
	}
	default:
		snprintf(buf, buflen, "(family %d)", sa->sa_family);
	}
	return buf;
}

int
addr_local(int fd, char *buf, size_t buflen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	addr_format((struct sockaddr *)&ss, len, buf, buflen);
	return 0;
}

void
addr_pack(struct addr_packed *p, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	memset(p, 0, sizeof(*p));
	p->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		p->port = sin->sin_port;
		memcpy(p->addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		p->port = sin6->sin6_port;
		memcpy(p->addr, &sin6->sin6_addr, 16);
	}
}

char *
addr_packed_format(const struct addr_packed *p, char *buf, size_t buflen)
{
	struct sockaddr_storage ss = { .ss_family = p->family };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (p->family == AF_INET) {
		sin->sin_port = p->port;
		memcpy(&sin->sin_addr, p->addr, 4);
		return addr_format((struct sockaddr *)sin, sizeof(*sin), buf,
		    buflen);
	}
	if (p->family == AF_INET6) {
		sin6->sin6_port = p->port;
		memcpy(&sin6->sin6_addr, p->addr, 16);
		return addr_format((struct sockaddr *)sin6, sizeof(*sin6), buf,
		    buflen);
	}
	snprintf(buf, buflen, p->family == AF_UNIX ? "unix" : "-");
	return buf;
}
