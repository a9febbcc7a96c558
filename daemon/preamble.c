/*
 * preamble.c — the PROXY header and the probe line before the echo; see
 * preamble.h.
 */
#include "preamble.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

/* A parser of a part: its length once whole, 0 for more, -1 and why. */
typedef ssize_t preamble_parse_fn(const void *buf, size_t len, void *out,
    char *why, size_t whylen);

static enum preamble_status
preamble_take(int fd, bool fin, void *buf, size_t max,
    preamble_parse_fn *parse, void *out, const char *what, char *why,
    size_t whylen)
{
	ssize_t n = recv(fd, buf, max, MSG_PEEK), len;

	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? PREAMBLE_MORE :
		    PREAMBLE_ERROR;
	len = parse(buf, (size_t)n, out, why, whylen);
	if (len == 0 && (n == 0 || fin)) {
		snprintf(why, whylen, "closed before its %s was whole", what);
		return PREAMBLE_BAD;
	}
	if (len == 0)
		return PREAMBLE_MORE;
	if (len < 0)
		return PREAMBLE_BAD;
	/* The bytes are there: they were just seen. */
	if (recv(fd, buf, (size_t)len, 0) != len)
		return PREAMBLE_ERROR;
	return PREAMBLE_DONE;
}

static ssize_t
parse_proxy(const void *buf, size_t len, void *out, char *why, size_t whylen)
{
	return proxy_parse(buf, len, out, why, whylen);
}

static ssize_t
parse_scenario(const void *buf, size_t len, void *out, char *why,
    size_t whylen)
{
	return scenario_parse(buf, len, out, why, whylen);
}

enum preamble_status
preamble_proxy(int fd, bool fin, void *buf, struct proxy_header *h,
    char *why, size_t whylen)
{
	return preamble_take(fd, fin, buf, PROXY_HEADER_MAX, parse_proxy, h,
	    "PROXY header", why, whylen);
}

enum preamble_status
preamble_scenario(int fd, bool fin, void *buf, struct scenario *s,
    char *why, size_t whylen)
{
	return preamble_take(fd, fin, buf, SCENARIO_LINE_MAX, parse_scenario,
	    s, "probe line", why, whylen);
}
