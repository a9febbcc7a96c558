/*
 * preamble.c — the one peek-until-whole step, and an echo connection's
 * parts in order, each acted on as it is taken; see preamble.h.
 */
#include "preamble.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "admit.h"
#include "log.h"
#include "probe.h"
#include "proxy.h"
#include "record.h"
#include "scenario.h"

enum preamble_status
preamble_read(int fd, bool fin, const struct preamble_kind *k, void *buf,
    void *out, char *why, size_t whylen)
{
	ssize_t n, len;

	do
		n = recv(fd, buf, k->max, MSG_PEEK);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? PREAMBLE_MORE : PREAMBLE_ERROR;
	len = n == 0 ? 0 : k->parse(buf, (size_t)n, out, why, whylen);
	if (len == 0 && (n == 0 || fin)) {
		snprintf(why, whylen, "closed before its %s was whole",
		    k->what);
		return n == 0 ? PREAMBLE_CLOSED : PREAMBLE_BAD;
	}
	if (len <= 0)
		return len == 0 ? PREAMBLE_MORE : PREAMBLE_BAD;
	/* The bytes are there: they were just seen. A socket that gives
	 * fewer than it showed has gone wrong underneath. */
	n = recv(fd, buf, (size_t)len, 0);
	if (n != len) {
		if (n >= 0)
			errno = EIO;
		return PREAMBLE_ERROR;
	}
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

static const struct preamble_kind proxy_kind = { "PROXY header",
    PROXY_HEADER_MAX, parse_proxy };
static const struct preamble_kind scenario_kind = { "probe line",
    SCENARIO_LINE_MAX, parse_scenario };

static const struct preamble_kind *
preamble_first(unsigned parts)
{
	return parts & PREAMBLE_PROXY ? &proxy_kind : &scenario_kind;
}

void
preamble_complain(const struct addr_packed *client, unsigned parts,
    const char *why)
{
	static uint64_t last_line;	/* for log_due */
	char text[ADDR_TEXT_MAX];

	if (log_due(&last_line))
		log_warnx("%s: bad %s: %s (%llu so far)",
		    addr_packed_format(client, text, sizeof(text)),
		    preamble_first(parts)->what, why, (unsigned long long)
		    record_stats()->ended[END_BAD_HEADER] + 1);
}

int
preamble_greet(int fd, unsigned *parts, bool fin, void *buf,
    struct addr_packed *client, bool *counted, uint64_t drain_timeout,
    char *why, size_t whylen)
{
	struct admit_ticket t = { .counted = false };
	union {
		struct proxy_header proxy;
		struct scenario scenario;
	} said;
	int st;

	while (*parts != 0) {
		const struct preamble_kind *k = preamble_first(*parts);

		st = preamble_read(fd, fin, k, buf, &said, why, whylen);
		if (st == PREAMBLE_CLOSED)
			st = PREAMBLE_BAD;
		if (st == PREAMBLE_BAD)
			preamble_complain(client, *parts, why);
		if (st != PREAMBLE_DONE)
			return st;
		*parts &= k == &proxy_kind ? ~PREAMBLE_PROXY :
		    ~PREAMBLE_SCENARIO;
		if (k == &scenario_kind) {
			if (probe_start(fd, &said.scenario, client,
			    drain_timeout, why, whylen) == 0)
				continue;
			*parts |= PREAMBLE_SCENARIO;	/* the culprit */
			preamble_complain(client, *parts, why);
			return PREAMBLE_BAD;
		}
		if (said.proxy.source.len != 0)
			addr_pack(client, (const struct sockaddr *)
			    &said.proxy.source.ss);
		log_debug("fd %d: PROXY v%d header, client %s", fd,
		    said.proxy.version, addr_packed_format(client, why,
		    whylen));
		if (!admit_named(client, &t))
			return PREAMBLE_REFUSED;
		*counted = t.counted;
	}
	return PREAMBLE_DONE;
}
