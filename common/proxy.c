/*
 * proxy.c — the PROXY protocol's two encodings, after HAProxy's
 * doc/proxy-protocol.txt. Version 1 is one text line:
 *
 *   PROXY TCP4 192.0.2.1 198.51.100.7 56324 1060\r\n     (or TCP6, or UNKNOWN)
 *
 * Version 2 is a 12-byte signature, a version and command byte, a family
 * and transport byte, a 16-bit length, then the addresses and optional
 * TLVs (skipped here). A receiver must know a header is coming: nothing in
 * it may be guessed at.
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v2_signature[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

#define V1_PREFIX	"PROXY "
#define V2_FIXED	16	/* signature, two bytes, the length */

/* Does buf (len bytes) agree with what has arrived of prefix? */
static int
starts_like(const unsigned char *buf, size_t len, const void *prefix,
    size_t plen)
{
	return memcmp(buf, prefix, len < plen ? len : plen) == 0;
}

/* A port: 1 to 5 digits, at most 65535. */
static int
parse_port(const char *s, in_port_t *port)
{
	unsigned long v = 0;
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 5 || s[n] != '\0')
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v > 65535)
		return -1;
	*port = htons((uint16_t)v);
	return 0;
}

/* One IPv4 or IPv6 address and port, as text, into a. */
static int
v1_address(int family, const char *host, const char *port, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		sin->sin_family = AF_INET;
		a->len = sizeof(*sin);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		return parse_port(port, &sin->sin_port);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

	sin6->sin6_family = AF_INET6;
	a->len = sizeof(*sin6);
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -1;
	return parse_port(port, &sin6->sin6_port);
}

static ssize_t
parse_v1(const unsigned char *buf, size_t len, struct proxy_header *out,
    char *err, size_t errlen)
{
	char line[PROXY_V1_MAX + 1], *field[6], *save;
	const unsigned char *lf = memchr(buf, '\n', len);
	size_t n, nfields = 0;
	int family;

	if (lf == NULL) {
		if (len >= PROXY_V1_MAX) {
			snprintf(err, errlen, "v1 header without CRLF in its "
			    "first %d bytes", PROXY_V1_MAX);
			return -1;
		}
		return 0;
	}
	n = (size_t)(lf - buf) + 1;
	if (n > PROXY_V1_MAX || n < 2 || lf[-1] != '\r') {
		snprintf(err, errlen, n > PROXY_V1_MAX ? "v1 header longer "
		    "than %d bytes" : "v1 header not ended by CRLF",
		    PROXY_V1_MAX);
		return -1;
	}
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(err, errlen, "v1 header holds a NUL byte");
		return -1;
	}
	memcpy(line, buf, n - 2);
	line[n - 2] = '\0';
	out->version = 1;
	if (strncmp(line, V1_PREFIX "UNKNOWN", strlen(V1_PREFIX "UNKNOWN")) ==
	    0 && (line[13] == '\0' || line[13] == ' '))
		return (ssize_t)n;	/* addresses, if any, are ignored */
	/* Exactly one space between fields, none at the end. */
	if (strstr(line, "  ") != NULL || line[n - 3] == ' ') {
		snprintf(err, errlen, "v1 header with extra spaces");
		return -1;
	}
	for (char *f = strtok_r(line, " ", &save); f != NULL;
	    f = strtok_r(NULL, " ", &save))
		if (nfields++ < 6)
			field[nfields - 1] = f;
	if (nfields != 6) {
		snprintf(err, errlen, "v1 header does not have six fields");
		return -1;
	}
	if (strcmp(field[1], "TCP4") == 0) {
		family = AF_INET;
	} else if (strcmp(field[1], "TCP6") == 0) {
		family = AF_INET6;
	} else {
		snprintf(err, errlen, "v1 protocol '%.8s' is not TCP4, TCP6 or "
		    "UNKNOWN", field[1]);
		return -1;
	}
	if (v1_address(family, field[2], field[4], &out->source) == -1 ||
	    v1_address(family, field[3], field[5], &out->dest) == -1) {
		snprintf(err, errlen, "v1 header has a bad %s address or port",
		    field[1]);
		return -1;
	}
	return (ssize_t)n;
}

static void
v2_address(struct addr *a, int family, const unsigned char *host,
    const unsigned char *port)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, host, 4);
		memcpy(&sin->sin_port, port, 2);
		a->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, host, 16);
		memcpy(&sin6->sin6_port, port, 2);
		a->len = sizeof(*sin6);
	}
}

static ssize_t
parse_v2(const unsigned char *buf, size_t len, struct proxy_header *out,
    char *err, size_t errlen)
{
	unsigned command, family, transport;
	size_t body, need;

	if (len < V2_FIXED)
		return 0;
	command = buf[12] & 0x0f;
	family = buf[13] >> 4;
	transport = buf[13] & 0x0f;
	body = (size_t)buf[14] << 8 | buf[15];
	if (buf[12] >> 4 != 2 || command > 1) {
		snprintf(err, errlen, "v2 header with version %u, command %u",
		    buf[12] >> 4, command);
		return -1;
	}
	if (family > 3 || transport > 2) {
		snprintf(err, errlen, "v2 header with family %u, transport "
		    "%u", family, transport);
		return -1;
	}
	if (V2_FIXED + body > PROXY_HEADER_MAX) {
		snprintf(err, errlen, "v2 header of %zu bytes, more than %d",
		    V2_FIXED + body, PROXY_HEADER_MAX);
		return -1;
	}
	/* The addresses' size for each family: unspecified, IPv4, IPv6,
	 * Unix. */
	need = (const size_t[]){ 0, 12, 36, 216 }[family];
	if (body < need) {
		snprintf(err, errlen, "v2 header of %zu bytes is too short for "
		    "its addresses", V2_FIXED + body);
		return -1;
	}
	if (len < V2_FIXED + body)
		return 0;
	out->version = 2;
	/* LOCAL: the balancer speaking for itself (a health check): the
	 * connection's own addresses stand. So do Unix and unspecified. */
	if (command == 1 && family == 1) {
		v2_address(&out->source, AF_INET, buf + 16, buf + 24);
		v2_address(&out->dest, AF_INET, buf + 20, buf + 26);
	} else if (command == 1 && family == 2) {
		v2_address(&out->source, AF_INET6, buf + 16, buf + 48);
		v2_address(&out->dest, AF_INET6, buf + 32, buf + 50);
	}
	return (ssize_t)(V2_FIXED + body);
}

ssize_t
proxy_parse(const void *data, size_t len, struct proxy_header *out,
    char *err, size_t errlen)
{
	const unsigned char *buf = data;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	if (starts_like(buf, len, v2_signature, sizeof(v2_signature)))
		return len < sizeof(v2_signature) ? 0 :
		    parse_v2(buf, len, out, err, errlen);
	if (starts_like(buf, len, V1_PREFIX, strlen(V1_PREFIX)))
		return len < strlen(V1_PREFIX) ? 0 :
		    parse_v1(buf, len, out, err, errlen);
	snprintf(err, errlen, "no PROXY header");
	return -1;
}

ssize_t
proxy_build(int version, const struct sockaddr *source,
    const struct sockaddr *dest, void *buf)
{
	const struct sockaddr_in *s4 = (const void *)source;
	const struct sockaddr_in *d4 = (const void *)dest;
	const struct sockaddr_in6 *s6 = (const void *)source;
	const struct sockaddr_in6 *d6 = (const void *)dest;
	unsigned char *b = buf;
	bool v4 = source->sa_family == AF_INET;
	char from[INET6_ADDRSTRLEN], to[INET6_ADDRSTRLEN];

	if (source->sa_family != dest->sa_family ||
	    (!v4 && source->sa_family != AF_INET6)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (version == 1) {
		inet_ntop(source->sa_family, v4 ? (const void *)&s4->sin_addr :
		    (const void *)&s6->sin6_addr, from, sizeof(from));
		inet_ntop(dest->sa_family, v4 ? (const void *)&d4->sin_addr :
		    (const void *)&d6->sin6_addr, to, sizeof(to));
		return snprintf(buf, PROXY_V1_MAX + 1, "PROXY %s %s %s %u %u\r\n",
		    v4 ? "TCP4" : "TCP6", from, to,
		    ntohs(v4 ? s4->sin_port : s6->sin6_port),
		    ntohs(v4 ? d4->sin_port : d6->sin6_port));
	}
	memcpy(b, v2_signature, sizeof(v2_signature));
	b[12] = 0x21;				/* version 2, PROXY */
	b[13] = v4 ? 0x11 : 0x21;		/* IPv4 or IPv6, stream */
	b[14] = 0;
	b[15] = v4 ? 12 : 36;
	if (v4) {
		memcpy(b + 16, &s4->sin_addr, 4);
		memcpy(b + 20, &d4->sin_addr, 4);
		memcpy(b + 24, &s4->sin_port, 2);
		memcpy(b + 26, &d4->sin_port, 2);
		return V2_FIXED + 12;
	}
	memcpy(b + 16, &s6->sin6_addr, 16);
	memcpy(b + 32, &d6->sin6_addr, 16);
	memcpy(b + 48, &s6->sin6_port, 2);
	memcpy(b + 50, &d6->sin6_port, 2);
	return V2_FIXED + 36;
}
