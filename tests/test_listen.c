/*
 * test_listen.c — the kinds of address a listener takes: IPv6 and Unix
 * sockets beside IPv4, brought up in the configuration's order; a Unix
 * socket file left by a crash is replaced, a live one is never taken.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

TestSuite(listen, .timeout = 60);

static int
connect_unix(const char *path)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
	return connect_to(&ss, sizeof(*sun));
}

Test(listen, ipv6_and_unix_beside_ipv4_in_the_order_given)
{
	struct daemon d = { 0 };
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char sock[96], arg[160];
	const char *line, *log;
	unsigned port;

	daemon_init(&d);
	snprintf(sock, sizeof(sock), "%s", daemon_file(&d, "u.sock"));
	snprintf(arg, sizeof(arg), "listen=unix:%s", sock);
	daemon_start(&d, "-o", "listen=[::1]:0", "-o", arg, NULL);
	line = daemon_wait_log(&d, "listening on [::1]:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_eq(sscanf(strstr(line, "]:") + 2, "%u", &port), 1);
	cr_assert_not_null(daemon_wait_log(&d, "listening on unix:",
	    DEADLINE_MS), "%s", daemon_log(&d));
	log = daemon_log(&d);
	cr_assert(strstr(log, "listening on 127.0.0.1:") <
	    strstr(log, "listening on [::1]:") &&
	    strstr(log, "listening on [::1]:") <
	    strstr(log, "listening on unix:"), "out of order:\n%s", log);

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_addr = in6addr_loopback;
	expect_echo(connect_to(&ss, sizeof(*sin6)), "over ipv6");
	expect_echo(connect_unix(sock), "over a unix socket");
	expect_echo(daemon_connect(&d), "over ipv4");

	daemon_stop(&d);
	cr_assert_eq(access(sock, F_OK), -1, "socket file left behind");
}

Test(listen, stale_unix_socket_is_replaced_and_a_live_one_is_not)
{
	struct daemon first = { 0 }, second = { 0 };
	char sock[96], arg[160], out[1024], want[256];

	daemon_init(&second);
	snprintf(sock, sizeof(sock), "%s", daemon_file(&second, "u.sock"));
	snprintf(arg, sizeof(arg), "listen=unix:%s", sock);
	daemon_start(&first, "-o", arg, NULL);

	/* Someone accepts there: a second daemon refuses to start. */
	const char *args[] = { "-f", "-c", "/dev/null", "-o", arg, NULL };
	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 1, "%s",
	    out);
	snprintf(want, sizeof(want), "upcased: listen unix:%s: Address "
	    "already in use\n", sock);
	cr_assert_str_eq(out, want);
	expect_echo(connect_unix(sock), "first still serves");

	/* It crashes: the file stays, and nobody accepts on it. The next
	 * daemon takes its place. */
	cr_assert_eq(kill(first.pid, SIGKILL), 0);
	daemon_kill(&first);
	cr_assert_eq(access(sock, F_OK), 0);
	daemon_start(&second, "-o", arg, NULL);
	expect_echo(connect_unix(sock), "second serves");
	daemon_stop(&second);
}
