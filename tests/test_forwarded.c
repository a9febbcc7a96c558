/*
 * test_forwarded.c — a listener marked proxy_protocol, as a load balancer
 * in front of it would use it: the header's client is the one the logs
 * name; data that came with the header is echoed, the header never is; a
 * missing, malformed or slow header costs only its connection; a plain
 * listener takes a header for data.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(forwarded, .timeout = 120);

static struct daemon d;

/* Start d with a proxy_protocol listener and an access log in its dir. */
static void
start_forwarded(const char *extra)
{
	char access[160];
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0 proxy_protocol", "-o",
	    "listen=127.0.0.2:0 metrics", "-o", "log_level=debug", "-o",
	    access, extra != NULL ? "-o" : NULL, extra, NULL };

	daemon_init(&d);
	snprintf(access, sizeof(access), "access_log=%s",
	    daemon_file(&d, "access.log"));
	daemon_start_args(&d, args);
	daemon_find_metrics(&d);
}

/* The access log so far. */
static const char *
access_log(void)
{
	return read_text(daemon_file(&d, "access.log"));
}

Test(forwarded, upcase_sends_v1_and_v2_headers)
{
	char out[256];

	start_forwarded(NULL);
	for (int v = 1; v <= 2; v++) {
		const char *args[] = { "-a", d.addr, "--proxy-protocol",
		    v == 1 ? "v1" : "v2", "-n", "1k", NULL };
		char want[64];

		cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0,
		    "%s", out);
		cr_assert_not_null(strstr(out, "sent 1024 bytes, received "
		    "1024 bytes"), "%s", out);
		snprintf(want, sizeof(want), "PROXY v%d header, client "
		    "127.0.0.1:", v);
		cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS),
		    "%s", daemon_log(&d));
	}
	daemon_stop(&d);
}

/* The header's client is the one the access log names; what came in the
 * same segment is echoed, the header is not. */
Test(forwarded, header_names_the_client_and_is_never_echoed)
{
	static const char v1[] = "PROXY TCP4 203.0.113.9 127.0.0.1 4444 1060"
	    "\r\nhello behind a balancer";
	static const unsigned char v2[] = "\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x30\x39\x04\x24"
	    "six";
	char got[64];
	int fd;

	start_forwarded(NULL);
	fd = daemon_connect(&d);
	cr_assert_eq(exchange(fd, v1, strlen(v1), got, sizeof(got),
	    strlen(v1), DEADLINE_MS), 23);
	cr_assert_eq(memcmp(got, "HELLO BEHIND A BALANCER", 23), 0);
	close(fd);
	fd = daemon_connect(&d);
	/* Each byte its own segment: the header arrives in 55 pieces. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	cr_assert_eq(exchange(fd, v2, sizeof(v2) - 1, got, sizeof(got), 1,
	    DEADLINE_MS), 3, "v2 header sent a byte at a time");
	cr_assert_eq(memcmp(got, "SIX", 3), 0);
	close(fd);
	/* Each line is written as its connection closes. */
	daemon_wait_open(&d, 0);
	cr_assert_not_null(strstr(access_log(), " client=203.0.113.9:4444 "),
	    "%s", access_log());
	cr_assert_not_null(strstr(access_log(), " client=[2001:db8::7]:12345 "
	    "listener=127.0.0.1:"), "%s", access_log());
	cr_assert_not_null(strstr(access_log(), " bytes_in=23 bytes_out=23 "
	    "end=done\n"), "%s", access_log());
	daemon_stop(&d);
}

Test(forwarded, bad_missing_or_slow_header_costs_only_its_connection)
{
	static const char *const bad[] = {
		"hello, no header\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\nhello",
		"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
	};
	char got[8];
	int held, fd;

	start_forwarded("header_timeout=300ms");
	/* A client behind the balancer, mid-transfer. */
	held = daemon_connect(&d);
	cr_assert_eq(write_all(held, "PROXY UNKNOWN\r\nfirst", 20,
	    DEADLINE_MS), 0);
	cr_assert_eq(read(held, got, sizeof(got)), 5);
	cr_assert_eq(memcmp(got, "FIRST", 5), 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = daemon_connect(&d);
		cr_assert_eq(write_all(fd, bad[i], strlen(bad[i]),
		    DEADLINE_MS), 0);
		expect_unanswered(fd, "bad header");
	}
	/* Half a header, then silence: closed at header_timeout. */
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, "PROXY TCP4 ", 11, DEADLINE_MS), 0);
	expect_unanswered(fd, "bad header");
	cr_assert_not_null(daemon_wait_log(&d, "not whole within "
	    "header_timeout", DEADLINE_MS), "%s", daemon_log(&d));
	/* Half a header, then the client's FIN. */
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, "PROXY TCP4 ", 11, DEADLINE_MS), 0);
	shutdown(fd, SHUT_WR);
	expect_unanswered(fd, "bad header");

	/* The first client never noticed. */
	expect_echo(held, "and the rest");
	cr_assert_geq(daemon_count_log(&d, "bad PROXY header: no PROXY "
	    "header (1 so far)"), 1, "%s", daemon_log(&d));
	cr_assert_eq(daemon_count_log(&d, "bad_header"), 5, "%s",
	    daemon_log(&d));
	cr_assert_not_null(strstr(access_log(), "end=bad_header\n"), "%s",
	    access_log());
	daemon_stop(&d);
}

/* Without the option, a header is data like any other. */
Test(forwarded, plain_listener_echoes_a_header_as_data)
{
	daemon_start(&d, NULL);
	expect_echo(daemon_connect(&d), "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nhi");
	daemon_stop(&d);
}

/* The client's FIN ends a preamble that is not whole at once, whatever
 * header_timeout says (an hour here; the wait below gives up after a
 * minute): half a PROXY header, and half a probe line after a whole one. */
Test(forwarded, a_fin_ends_a_half_preamble_at_once)
{
	static const char *const halves[] = { "PROXY TCP4 ",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nUPCASE-PROBE/1 dela" };
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[128];
	const char *line;

	daemon_start_metered(&d, "-o", "listen=127.0.0.3:0 proxy_protocol "
	    "probe", "-o", "header_timeout=1h", NULL);
	line = daemon_wait_log(&d, "listening on 127.0.0.3:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, addr, sizeof(addr), &ss, &sslen);
	for (size_t i = 0; i < sizeof(halves) / sizeof(halves[0]); i++) {
		int fd = connect_to(&ss, sslen);

		cr_assert_eq(write_all(fd, halves[i], strlen(halves[i]),
		    DEADLINE_MS), 0);
		shutdown(fd, SHUT_WR);
		expect_unanswered(fd, halves[i]);
	}
	daemon_wait_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"bad_header\"}", 2);
	cr_assert_not_null(daemon_wait_log(&d, "bad PROXY header: closed "
	    "before its PROXY header was whole", DEADLINE_MS), "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}
