/*
 * test_client_cli.c — upcase's command line and what it prints: usage
 * errors caught before a connection is tried, getopt's messages under the
 * program's name, a connect that cannot complete, an echo longer than what
 * was sent, and progress on a terminal and off one.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

TestSuite(client_cli, .timeout = 120);

/* No connection waits on listener fd (it is switched to non-blocking). */
static void
expect_no_connection(int fd)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
	cr_assert_eq(accept(fd, NULL, NULL), -1, "it connected anyway");
	cr_assert_eq(errno, EAGAIN);
}

Test(client_cli, empty_address_is_a_usage_error)
{
	const char *given[] = { "-a", "", "-n", "16", NULL };
	const char *bench[] = { "bench", "-a", "", "-c", "1", "-n", "16",
	    NULL };
	const char *from_env[] = { "-n", "16", NULL };
	char out[1024];

	cr_assert_eq(run(upcase_path(), given, out, sizeof(out)), 2, "%s", out);
	cr_assert_str_eq(out, "upcase: -a: empty address\n"
	    "Try 'upcase --help'.\n");
	cr_assert_eq(run(upcase_path(), bench, out, sizeof(out)), 2, "%s", out);
	cr_assert_str_eq(out, "upcase: -a: empty address\n"
	    "Try 'upcase --help'.\n");
	setenv("UPCASE_ADDRESS", "", 1);
	cr_assert_eq(run(upcase_path(), from_env, out, sizeof(out)), 2, "%s",
	    out);
	unsetenv("UPCASE_ADDRESS");
	cr_assert_str_eq(out, "upcase: UPCASE_ADDRESS: empty address\n"
	    "Try 'upcase --help'.\n");
}

/* A PROXY header names TCP addresses: over a Unix socket there are
 * none, and upcase says so before it connects. */
Test(client_cli, proxy_protocol_over_a_unix_socket_is_a_usage_error)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct daemon scratch = { 0 };
	char out[1024], addr[128], want[256];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	daemon_init(&scratch);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    daemon_file(&scratch, "sock"));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	snprintf(addr, sizeof(addr), "unix:%s", sun.sun_path);
	const char *args[] = { "--proxy-protocol", "v1", "-a", addr, "-n",
	    "16", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 2, "%s", out);
	snprintf(want, sizeof(want), "upcase: --proxy-protocol: a PROXY header "
	    "names TCP addresses, not %s\nTry 'upcase --help'.\n", addr);
	cr_assert_str_eq(out, want);
	expect_no_connection(fd);
	close(fd);
	daemon_kill(&scratch);
}

/* getopt's own messages, for the filter and both subcommands alike. */
Test(client_cli, getopt_messages_begin_with_upcase)
{
	static const struct {
		const char *args[4];
		const char *message;
	} cases[] = {
		{ { "--bogus" }, "upcase: unrecognized option '--bogus'\n" },
		{ { "bench", "--bogus" },
		    "upcase: unrecognized option '--bogus'\n" },
		{ { "probe", "--bogus" },
		    "upcase: unrecognized option '--bogus'\n" },
		{ { "bench", "-x" }, "upcase: invalid option -- 'x'\n" },
		{ { "bench", "--rate" },
		    "upcase: option '--rate' requires an argument\n" },
		{ { "probe", "-a" },
		    "upcase: option requires an argument -- 'a'\n" },
	};
	char out[1024], want[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(run(upcase_path(), cases[i].args, out,
		    sizeof(out)), 2, "%s", out);
		snprintf(want, sizeof(want), "%sTry 'upcase --help'.\n",
		    cases[i].message);
		cr_assert_str_eq(out, want);
	}
}
