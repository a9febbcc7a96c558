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
