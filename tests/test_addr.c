/*
 * test_addr.c — the address syntax: what parses, what each mistake says, and
 * that formatting reads back.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"

struct good {
	const char *text;
	int family;
	unsigned port;
	const char *formatted;
};

static const struct good good_cases[] = {
	{ "127.0.0.1:1060", AF_INET, 1060, "127.0.0.1:1060" },
	{ "0.0.0.0:0", AF_INET, 0, "0.0.0.0:0" },
	{ "*:80", AF_INET, 80, "0.0.0.0:80" },
	{ "[::1]:1060", AF_INET6, 1060, "[::1]:1060" },
	{ "[::]:65535", AF_INET6, 65535, "[::]:65535" },
	{ "localhost:7", 0, 7, NULL },
	{ "unix:/run/upcased.sock", AF_UNIX, 0, "unix:/run/upcased.sock" },
};

static unsigned
port_of(const struct addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

Test(addr, parses)
{
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]);
	    i++) {
		const struct good *g = &good_cases[i];
		char err[256] = "", out[ADDR_TEXT_MAX];
		struct addr a;

		cr_assert_eq(addr_parse(g->text, &a, err, sizeof(err)), 0,
		    "%s: %s", g->text, err);
		if (g->family != 0)
			cr_assert_eq(a.ss.ss_family, g->family, "%s", g->text);
		cr_assert_eq(port_of(&a), g->port, "%s", g->text);
		if (g->formatted != NULL) {
			addr_format((struct sockaddr *)&a.ss, a.len, out,
			    sizeof(out));
			cr_assert_str_eq(out, g->formatted);
		}
	}
}

struct bad {
	const char *text;
	const char *reason;	/* must appear in the message */
};

static const struct bad bad_cases[] = {
	{ "127.0.0.1", "expected HOST:PORT" },
	{ "127.0.0.1:", "invalid port ''" },
	{ "127.0.0.1:65536", "invalid port '65536'" },
	{ "127.0.0.1:80x", "invalid port '80x'" },
	{ "127.0.0.1:-1", "invalid port '-1'" },
	{ ":80", "empty host" },
	{ "::1:80", "expected HOST:PORT" },
	{ "[::1]80", "expected [IPV6]:PORT" },
	{ "[::1:80", "expected [IPV6]:PORT" },
	{ "[zz::1]:80", "invalid IPv6 address 'zz::1'" },
	{ "[]:80", "empty host" },
	{ "unix:", "empty path" },
};

Test(addr, rejects)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad *b = &bad_cases[i];
		struct addr a;
		char err[256] = "";

		cr_assert_eq(addr_parse(b->text, &a, err, sizeof(err)), -1,
		    "'%s' was accepted", b->text);
		cr_assert_not_null(strstr(err, b->reason), "'%s': message "
		    "'%s' lacks '%s'", b->text, err, b->reason);
	}
}

Test(addr, unix_path_too_long)
{
	char text[200], err[256];
	struct addr a;

	memset(text, 'x', sizeof(text));
	memcpy(text, "unix:/", 6);
	text[sizeof(text) - 1] = '\0';
	cr_assert_eq(addr_parse(text, &a, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "longer than"), "%s", err);
}
