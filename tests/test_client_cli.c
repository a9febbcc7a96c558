/*
 * test_client_cli.c — upcase's command line and what it prints: usage
 * errors caught before a connection is tried, getopt's messages under the
 * program's name, a connect that cannot complete, an echo longer than what
 * was sent, and the -n summary the documentation shows. Progress is in
 * test_progress.c.
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

/* A listener on 127.0.0.1, any port; its address into addr. */
static int
loopback_listener(int backlog, char *addr, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, slen), 0);
	cr_assert_eq(listen(fd, backlog), 0);
	getsockname(fd, (struct sockaddr *)&sin, &slen);
	snprintf(addr, len, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

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

/*
 * Not a server: it reads what upcase sends to the EOF, then answers with
 * reply and closes. Returns what upcase printed, stdout and stderr
 * together, and its exit status in *status.
 */
static const char *
answer_once(const char *const *extra, const char *reply, int *status)
{
	static char out[4096];
	const char *argv[16] = { upcase_path(), "-a" };
	char addr[64], in[4096];
	int lfd = loopback_listener(8, addr, sizeof(addr)), fd, pipefd[2];
	ssize_t n;
	pid_t pid;
	size_t k = 2;

	argv[k++] = addr;
	for (; *extra != NULL && k < 15; extra++)
		argv[k++] = *extra;
	argv[k] = NULL;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    pipefd), 0);
	pid = spawn(argv, -1, pipefd[1], pipefd[1]);
	close(pipefd[1]);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(fd, 0, "accept: %s", strerror(errno));
	n = read_all(fd, in, sizeof(in), DEADLINE_MS);
	cr_assert_geq(n, 0, "read: %s", strerror(errno));
	cr_assert_eq(write_all(fd, reply, strlen(reply), DEADLINE_MS), 0);
	close(fd);
	close(lfd);
	n = read_all(pipefd[0], out, sizeof(out) - 1, DEADLINE_MS);
	cr_assert_geq(n, 0);
	out[n] = '\0';
	close(pipefd[0]);
	*status = wait_exit(pid, NULL, DEADLINE_MS);
	return out;
}

/* Bytes back beyond those sent: counted to the close, and said. */
Test(client_cli, echo_longer_than_sent_reports_what_came_back)
{
	const char *check[] = { "-n", "16", NULL };
	const char *filter[] = { "/dev/null", NULL };
	const char *out;
	int status;

	out = answer_once(check, "CAPITALIZE THIS!CAPITALIZE THIS!and more",
	    &status);
	expect_exit(status, 1, out);
	cr_assert_not_null(strstr(out, "sent 16 bytes, received 40 bytes, "
	    "first bytes \"CAPITALIZE THIS!CAPITALIZE THIS!\", "), "%s", out);
	cr_assert_not_null(strstr(out, ": echo longer than what was sent: "
	    "received 40 bytes for 16 sent\n"), "%s", out);
	/* The filter: nothing sent, three bytes back. */
	out = answer_once(filter, "BOO", &status);
	expect_exit(status, 1, out);
	cr_assert_not_null(strstr(out, ": echo longer than what was sent: "
	    "received 3 bytes for 0 sent\n"), "%s", out);
}

/*
 * A listener whose accept queue is full: listen(fd, 0) holds one
 * connection, never accepted, and Linux then drops further SYNs, so a
 * connect neither completes nor fails. Its address into addr; the queued
 * connection into *held.
 */
static int
black_hole(char *addr, size_t len, int *held)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int lfd = loopback_listener(0, addr, len);
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	getsockname(lfd, (struct sockaddr *)&ss, &sslen);
	*held = connect_to(&ss, sslen);
	/* Readable: the connection is in the queue, which is now full. */
	cr_assert_eq(poll(&p, 1, DEADLINE_MS), 1);
	return lfd;
}

Test(client_cli, connect_timeout_on_a_black_hole)
{
	char addr[64], out[4096], want[256];
	int held, lfd = black_hole(addr, sizeof(addr), &held);
	const char *filter[] = { "-a", addr, "-n", "16", "--connect-timeout",
	    "1s", NULL };
	const char *bench[] = { "bench", "-a", addr, "-c", "2", "-n", "16",
	    "--connect-timeout", "1s", NULL };
	long long t0 = now_ms();

	cr_assert_eq(run(upcase_path(), filter, out, sizeof(out)), 3, "%s", out);
	snprintf(want, sizeof(want), "upcase: %s: connect: timed out after "
	    "1s\n", addr);
	cr_assert_str_eq(out, want);
	cr_assert_geq(now_ms() - t0, 1000, "gave up early");
	cr_assert_eq(run(upcase_path(), bench, out, sizeof(out)), 3, "%s", out);
	for (int k = 0; k < 2; k++) {
		snprintf(want, sizeof(want), "upcase: %s: connection %d: "
		    "connect: timed out after 1s\n", addr, k);
		cr_assert_not_null(strstr(out, want), "%s", out);
	}
	close(held);
	close(lfd);
}

/* line (up to its newline) with the rate at its end, ", 845.4 MiB/s",
 * made ", X MiB/s", into buf: the one part that varies. */
static const char *
without_rate(const char *line, char *buf, size_t len)
{
	size_t n = strcspn(line, "\n");
	char *comma, *end;

	snprintf(buf, len, "%.*s", (int)n, line);
	comma = strrchr(buf, ',');
	cr_assert_not_null(comma, "%s", buf);
	strtod(comma + 2, &end);
	cr_assert(end > comma + 2 && strcmp(end, " MiB/s") == 0,
	    "not a rate: %s", buf);
	snprintf(comma, len - (size_t)(comma - buf), ", X MiB/s");
	return buf;
}

/* The -n summary the README and upcase(1) show is the one printed:
 * each has "$ upcase -n 1m" and the line after it. */
Test(client_cli, documented_n_summary_is_the_one_printed)
{
	static const char *const docs[] = { "README.md", "man/upcase.1" };
	struct daemon d = { 0 };
	char out[4096], got[512], want[512];
	const char *text, *at;

	daemon_start(&d, NULL);
	const char *args[] = { "-a", d.addr, "-n", "1m", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	without_rate(out, got, sizeof(got));
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		text = read_text(docs[i]);
		at = strstr(text, "$ upcase -n 1m\n");
		cr_assert_not_null(at, "%s has no \"$ upcase -n 1m\"", docs[i]);
		at += strlen("$ upcase -n 1m\n");
		cr_assert_str_eq(without_rate(at, want, sizeof(want)), got,
		    "%s shows another summary", docs[i]);
	}
	daemon_stop(&d);
}

/* Durations read as the daemon reads them (fractions, compounds, a bare
 * number of seconds), up to what one poll(2) can wait. */
Test(client_cli, durations_as_the_daemon_reads_them)
{
	static const char *const bad[][3] = {
		{ "--timeout", "1000h", "upcase: --timeout: 1000h is longer "
		    "than the maximum 596h31m23s647ms\n" },
		{ "--connect-timeout", "1m30", "upcase: --connect-timeout: "
		    "'1m30' is not a duration (like 30s, 1.5s, 1m30s or 250ms; "
		    "a bare number is seconds)\n" },
	};
	char out[1024], want[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { bad[i][0], bad[i][1], "-n", "16", NULL };

		cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 2,
		    "%s", out);
		snprintf(want, sizeof(want), "%sTry 'upcase --help'.\n",
		    bad[i][2]);
		cr_assert_str_eq(out, want);
	}
	/* Accepted: a black hole times out after 1.5 s, said as such. */
	char addr[64];
	int fd = loopback_listener(0, addr, sizeof(addr));
	int queued = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	cr_assert_eq(connect(queued, (struct sockaddr *)&ss, sslen), 0);
	const char *args[] = { "-a", addr, "--connect-timeout", "1.5", "-n",
	    "16", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 3, "%s", out);
	snprintf(want, sizeof(want), "upcase: %s: connect: timed out after "
	    "1s500ms\n", addr);
	cr_assert_str_eq(out, want);
	close(queued);
	close(fd);
}
