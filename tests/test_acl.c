/*
 * test_acl.c — who may connect: allow and deny lines decide at accept,
 * first match wins, before a byte is read; max_connections_per_ip counts
 * open connections per client address; on a proxy_protocol listener both
 * apply to the client the header names. Every refusal is counted in the
 * metrics and logged with its reason; a reload applies new rules to new
 * clients only. Clients come from 127.0.0.2, 127.0.0.3 ...: the whole of
 * 127.0.0.0/8 is loopback.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "scrape.h"

TestSuite(acl, .timeout = 120);

/* A daemon with a metrics listener on 127.0.0.9, scraped from 127.0.0.1
 * (the rules apply to metrics listeners too). */
struct guarded {
	struct daemon d;
	struct sockaddr_storage mss;
	socklen_t msslen;
	char samples[1 << 16];
};

static void
start_guarded(struct guarded *g, const char *const *extra)
{
	const char *args[24] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", "listen=127.0.0.9:0 metrics" };
	size_t n = 7;
	char addr[128];
	const char *line;

	for (; *extra != NULL && n < 23; extra++)
		args[n++] = *extra;
	daemon_start_args(&g->d, args);
	line = daemon_wait_log(&g->d, "listening on 127.0.0.9:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&g->d));
	parse_listen_line(line, addr, sizeof(addr), &g->mss, &g->msslen);
}

static double
refusals(struct guarded *g, const char *reason)
{
	char name[128];

	snprintf(name, sizeof(name), "upcased_connections_refused_total"
	    "{reason=\"%s\"}", reason);
	scrape(&g->mss, g->msslen, g->d.dir, g->samples, sizeof(g->samples));
	return sample(g->samples, name);
}

/* One byte each way on a connection that stays open. */
static void
still_served(int fd)
{
	char got;

	cr_assert_eq(write_all(fd, "q", 1, DEADLINE_MS), 0);
	cr_assert_eq(read(fd, &got, 1), 1);
	cr_assert_eq(got, 'Q');
}

Test(acl, first_match_decides_before_a_byte_is_read)
{
	static struct guarded g;
	const char *rules[] = { "-o", "allow=127.0.0.1", "-o",
	    "allow=127.0.0.2", "-o",
	    "deny=127.0.0.0/29", "-o", "allow=127.0.0.0/8", NULL };
	const char *line;
	int fd;

	start_guarded(&g, rules);
	/* 127.0.0.2 matches the allow before the deny that covers it. */
	expect_echo(connect_from("127.0.0.2", &g.d.ss, g.d.sslen), "first");
	/* 127.0.0.3 meets the deny first: closed at accept, with our bytes
	 * still unread. */
	fd = connect_from("127.0.0.3", &g.d.ss, g.d.sslen);
	(void)write_all(fd, "never read", 10, DEADLINE_MS);
	expect_unanswered(fd, "127.0.0.3");
	line = daemon_wait_log(&g.d, "denied by 'deny 127.0.0.0/29' (1 so far)",
	    DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&g.d));
	cr_assert_not_null(strstr(line, ": refusing 127.0.0.3:"), "%s", line);
	/* 127.0.0.8 is past the /29: the last allow. */
	expect_echo(connect_from("127.0.0.8", &g.d.ss, g.d.sslen), "third");
	expect_unanswered(connect_from("127.0.0.4", &g.d.ss, g.d.sslen),
	    "127.0.0.4");
	cr_assert_eq(refusals(&g, "denied"), 2, "%s", g.samples);
	daemon_stop(&g.d);
}

Test(acl, ipv6_rules_and_prefixes)
{
	struct daemon d = { 0 };
	const char *args[] = { "-f", "-c", "/dev/null", "-o", "listen=[::1]:0",
	    "-o", "allow=::2", "-o", "deny=::/127", NULL };
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&d.ss;
	const char *line;
	unsigned port;

	daemon_spawn(&d, args);
	line = daemon_wait_log(&d, "listening on [::1]:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_eq(sscanf(strstr(line, "]:"), "]:%u", &port), 1);
	memset(&d.ss, 0, sizeof(d.ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_addr = in6addr_loopback;
	d.sslen = sizeof(*sin6);
	line = NULL;
	expect_unanswered(connect_from("::1", &d.ss, d.sslen), "::1");
	line = daemon_wait_log(&d, "denied by 'deny ::/127' (1 so far)",
	    DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_not_null(strstr(line, "refusing [::1]:"), "%s", line);
	daemon_stop(&d);
}

Test(acl, max_connections_per_ip_counts_open_connections)
{
	static struct guarded g;
	const char *limit[] = { "-o", "max_connections_per_ip=2", NULL };
	const char *line;
	int a, b, fd;

	start_guarded(&g, limit);
	a = connect_from("127.0.0.2", &g.d.ss, g.d.sslen);
	b = connect_from("127.0.0.2", &g.d.ss, g.d.sslen);
	still_served(a);
	still_served(b);
	expect_unanswered(connect_from("127.0.0.2", &g.d.ss, g.d.sslen),
	    "a third from 127.0.0.2");
	line = daemon_wait_log(&g.d, "max_connections_per_ip 2 reached (1 so "
	    "far)", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&g.d));
	cr_assert_not_null(strstr(line, ": refusing 127.0.0.2:"), "%s", line);
	/* Another address has its own count. */
	expect_echo(connect_from("127.0.0.3", &g.d.ss, g.d.sslen), "other");
	still_served(a);

	/* One leaves: once the daemon has closed it, its place is free. */
	expect_echo(a, "bye");
	fd = connect_from("127.0.0.2", &g.d.ss, g.d.sslen);
	still_served(fd);
	cr_assert_eq(refusals(&g, "max_connections_per_ip"), 1, "%s",
	    g.samples);
	close(fd);
	close(b);
	daemon_stop(&g.d);
}

/* The access log so far. */
static const char *
access_log(struct daemon *d)
{
	return read_text(daemon_file(d, "access.log"));
}

/* The access log's line containing needle, its newline kept (a static
 * copy); "" if none. */
static const char *
access_line(const char *needle, struct daemon *d)
{
	static char line[512];
	const char *p = strstr(access_log(d), needle);

	snprintf(line, sizeof(line), "%.*s", p == NULL ? 0 :
	    (int)(strcspn(p, "\n") + 1), p == NULL ? "" : p);
	return line;
}

Test(acl, behind_a_balancer_the_header_names_the_client)
{
	struct daemon d = { 0 };
	char access[160];
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0 proxy_protocol", "-o", "deny=192.0.2.0/24",
	    "-o", "max_connections_per_ip=1", "-o", access, NULL };
	static const char denied[] = "PROXY TCP4 192.0.2.1 127.0.0.1 5 6\r\n";
	static const char mapped[] = "PROXY TCP6 ::ffff:192.0.2.7 ::1 5 6\r\n";
	static const char other[] = "PROXY TCP4 198.51.100.7 127.0.0.1 5 6\r\n";
	int fd, held;

	daemon_init(&d);
	snprintf(access, sizeof(access), "access_log=%s",
	    daemon_file(&d, "access.log"));
	daemon_start_args(&d, args);

	/* The balancer itself (127.0.0.1) is not what the rules see. */
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, denied, strlen(denied), DEADLINE_MS), 0);
	expect_unanswered(fd, "192.0.2.1 by its header");
	cr_assert_not_null(daemon_wait_log(&d, "PROXY header: refusing "
	    "192.0.2.1:5: denied by 'deny 192.0.2.0/24' (1 so far)",
	    DEADLINE_MS), "%s", daemon_log(&d));

	/* An IPv4 address written as IPv6 is the same client. */
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, mapped, strlen(mapped), DEADLINE_MS), 0);
	expect_unanswered(fd, "::ffff:192.0.2.7 by its header");
	cr_assert_not_null(strstr(access_line("client=[::ffff:192.0.2.7]:5 ",
	    &d), " end=refused\n"), "%s", access_log(&d));

	/* Per-IP counts the named client, whatever connection carries it. */
	held = daemon_connect(&d);
	cr_assert_eq(write_all(held, other, strlen(other), DEADLINE_MS), 0);
	still_served(held);
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, other, strlen(other), DEADLINE_MS), 0);
	expect_unanswered(fd, "a second 198.51.100.7");
	cr_assert_not_null(daemon_wait_log(&d, "refusing 198.51.100.7:5: "
	    "max_connections_per_ip 1 reached", DEADLINE_MS), "%s",
	    daemon_log(&d));
	expect_echo(held, "kept");
	/* The access log has the refusals, under the named client. */
	cr_assert_not_null(strstr(access_log(&d), "client=192.0.2.1:5 "
	    "listener=127.0.0.1:"), "%s", access_log(&d));
	cr_assert_eq(count_in(access_log(&d), "end=refused\n"), 3, "%s",
	    access_log(&d));
	/* Each refused once: with the refusals, not the connections served
	 * (the one held). */
	const char *log = daemon_stop_log(&d);

	cr_assert_not_null(strstr(log, "exiting: connections served 1 (done "
	    "1), refused 3;"), "%s", log);
}

Test(acl, reload_applies_rules_to_new_clients_only)
{
	struct daemon d = { 0 };
	static char path[PATH_MAX];
	const char *args[] = { "-f", "-c", path, NULL };
	int held;

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "u.conf"));
	write_file(path, "listen = 127.0.0.1:0\ndeny = 127.0.0.3\n");
	daemon_start_args(&d, args);
	expect_unanswered(connect_from("127.0.0.3", &d.ss, d.sslen), "before");
	held = connect_from("127.0.0.2", &d.ss, d.sslen);
	still_served(held);

	write_file(path, "listen = 127.0.0.1:0\ndeny = 127.0.0.2\n");
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
	    DEADLINE_MS), "%s", daemon_log(&d));
	still_served(held);
	expect_unanswered(connect_from("127.0.0.2", &d.ss, d.sslen), "after");
	expect_echo(connect_from("127.0.0.3", &d.ss, d.sslen), "let in");

	/* A bad rule: the reload fails and the running list stays. */
	write_file(path, "listen = 127.0.0.1:0\ndeny = 127.0.0.300\n");
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert_not_null(daemon_wait_log(&d, "reload failed", DEADLINE_MS),
	    "%s", daemon_log(&d));
	expect_unanswered(connect_from("127.0.0.2", &d.ss, d.sslen), "kept");
	expect_echo(held, "held");
	daemon_stop(&d);
}

/* On a listener with both, the header and the probe line may come in two
 * reads: the client the header named stays counted until it closes, and
 * then makes room for the next one from the same address. */
Test(acl, a_header_then_a_probe_line_count_the_named_client_once)
{
	static const char header[] = "PROXY TCP4 198.51.100.7 127.0.0.1 5 6\r\n";
	struct daemon d = { 0 };
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[128], got[8];
	const char *line;

	daemon_start(&d, "-o", "listen=127.0.0.2:0 proxy_protocol probe", "-o",
	    "max_connections_per_ip=1", "-o", "log_level=debug", NULL);
	line = daemon_wait_log(&d, "listening on 127.0.0.2:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, addr, sizeof(addr), &ss, &sslen);
	for (int i = 1; i <= 2; i++) {
		int fd = connect_to(&ss, sslen);

		cr_assert_eq(write_all(fd, header, strlen(header),
		    DEADLINE_MS), 0);
		/* The header taken alone (no counter says so; its line). */
		cr_assert(daemon_wait_count(&d, "PROXY v1 header, client "
		    "198.51.100.7", i, DEADLINE_MS), "%s", daemon_log(&d));
		cr_assert_eq(write_all(fd, "UPCASE-PROBE/1\nab", 17,
		    DEADLINE_MS), 0);
		shutdown(fd, SHUT_WR);
		cr_assert_eq(read_all(fd, got, sizeof(got), DEADLINE_MS), 2,
		    "client %d: %s", i, daemon_log(&d));
		cr_assert_eq(memcmp(got, "AB", 2), 0);
		close(fd);
	}
	cr_assert_eq(daemon_count_log(&d, "refusing"), 0, "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}
