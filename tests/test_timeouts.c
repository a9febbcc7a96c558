/*
 * test_timeouts.c — an open connection with no traffic is closed after
 * idle_timeout; a half-closed one whose client takes nothing, after
 * drain_timeout. (The list mechanics are in test_timeout.c.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

TestSuite(timeouts, .timeout = 120);

Test(timeouts, idle_connection_is_closed)
{
	struct daemon d = { 0 };
	char buf[16];
	int idle;

	daemon_start(&d, "-o", "idle_timeout=300ms", "-o", "log_level=debug",
	    NULL);
	idle = daemon_connect(&d);
	cr_assert_eq(read_all(idle, buf, sizeof(buf), DEADLINE_MS), 0,
	    "expected EOF from the daemon: %s", strerror(errno));
	cr_assert_not_null(daemon_wait_log(&d, "idle_timeout", DEADLINE_MS));
	close(idle);

	/* A normal exchange is not cut short. */
	expect_echo(daemon_connect(&d), "fine");
	daemon_stop(&d);
}

Test(timeouts, drain_stops_waiting_for_a_client_that_takes_nothing)
{
	enum { LEN = 16 << 20 };
	unsigned char *src = malloc(LEN);
	struct daemon d = { 0 };
	int fd, baseline, small = 64 * 1024;

	cr_assert_not_null(src);
	fill_pattern(src, LEN, 8);
	/* The backlog takes all 16 MiB, so the FIN reaches the daemon while
	 * it still owes more than kernel buffers hold (a small, fixed receive
	 * buffer on the client; at most tcp_wmem's 4 MiB on the daemon) to a
	 * client that reads nothing. */
	daemon_start(&d, "-o", "drain_timeout=300ms", "-o", "idle_timeout=1h",
	    "-o", "backlog_high=32m", "-o", "backlog_low=1m", "-o",
	    "log_level=debug", NULL);
	baseline = fd_count(d.pid);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&d.ss, d.sslen), 0);
	cr_assert_eq(write_all(fd, src, LEN, DEADLINE_MS), 0);
	shutdown(fd, SHUT_WR);
	cr_assert_not_null(daemon_wait_log(&d, "eof fd", DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_eq(daemon_count_log(&d, ", 0 owed"), 0, "nothing owed at "
	    "EOF: the kernel took it all:\n%s", daemon_log(&d));
	cr_assert_not_null(daemon_wait_log(&d, "drain_timeout", DEADLINE_MS),
	    "%s", daemon_log(&d));
	cr_assert_eq(fd_count(d.pid), baseline);
	close(fd);
	daemon_stop(&d);
	free(src);
}
