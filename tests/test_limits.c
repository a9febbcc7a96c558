/*
 * test_limits.c — running out of descriptors: queued clients are told at
 * once (refused, not left hanging), and the daemon serves again as soon as
 * descriptors free up.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

TestSuite(limits, .timeout = 120);

Test(limits, out_of_fds_refuses_and_recovers)
{
	enum { HELD = 10, EXTRA = 5 };
	struct daemon d = { 0 };
	struct rlimit rl;
	int held[HELD], baseline;
	char got[16];

	daemon_start(&d, NULL);
	baseline = fd_count(d.pid);
	rl.rlim_cur = rl.rlim_max = (rlim_t)baseline + HELD;
	cr_assert_eq(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0,
	    "prlimit: %s", strerror(errno));

	/* HELD clients, each served once and kept open. */
	for (int i = 0; i < HELD; i++) {
		held[i] = daemon_connect(&d);
		cr_assert_eq(write_all(held[i], "x", 1, DEADLINE_MS), 0);
		cr_assert_eq(read(held[i], got, 1), 1);
		cr_assert_eq(got[0], 'X');
	}
	/* The daemon has no descriptor left: the next clients are closed at
	 * once instead of waiting in the queue for an edge. */
	for (int i = 0; i < EXTRA; i++) {
		int fd = daemon_connect(&d);
		ssize_t n = read_all(fd, got, sizeof(got), DEADLINE_MS);

		cr_assert(n == 0 || (n == -1 && errno == ECONNRESET),
		    "extra client %d: %zd (%s)", i, n, strerror(errno));
		close(fd);
	}
	cr_assert_not_null(daemon_wait_log(&d, "refusing connections: Too "
	    "many open files", DEADLINE_MS), "%s", daemon_log(&d));

	/* Free them: the daemon closes its ends and serves again. */
	for (int i = 0; i < HELD; i++) {
		shutdown(held[i], SHUT_WR);
		cr_assert_eq(read_all(held[i], got, sizeof(got), DEADLINE_MS),
		    0);
		close(held[i]);
	}
	expect_echo(daemon_connect(&d), "back");
	cr_assert(process_alive(d.pid));
	daemon_stop(&d);
}

Test(limits, max_connections_refuses_the_rest_at_once)
{
	enum { MAX = 5 };
	struct daemon d = { 0 };
	int held[MAX], fd;
	char got[16];

	daemon_start(&d, "-o", "max_connections=5", NULL);
	for (int i = 0; i < MAX; i++) {
		held[i] = daemon_connect(&d);
		cr_assert_eq(write_all(held[i], "x", 1, DEADLINE_MS), 0);
		cr_assert_eq(read(held[i], got, 1), 1);
	}
	/* One too many: closed at once, without a byte. */
	fd = daemon_connect(&d);
	ssize_t n = read_all(fd, got, sizeof(got), DEADLINE_MS);
	cr_assert(n == 0 || (n == -1 && errno == ECONNRESET), "%zd: %s", n,
	    strerror(errno));
	close(fd);
	cr_assert_not_null(daemon_wait_log(&d, "refusing connections: "
	    "max_connections reached", DEADLINE_MS), "%s", daemon_log(&d));

	/* The ones it has are still served. */
	cr_assert_eq(write_all(held[0], "y", 1, DEADLINE_MS), 0);
	cr_assert_eq(read(held[0], got, 1), 1);
	cr_assert_eq(got[0], 'Y');

	/* One leaves; a newcomer gets its place. */
	shutdown(held[0], SHUT_WR);
	cr_assert_eq(read_all(held[0], got, sizeof(got), DEADLINE_MS), 0);
	/* Its EOF came from the daemon's close: the place is free. */
	close(held[0]);
	fd = daemon_connect(&d);
	cr_assert_eq(exchange(fd, "in", 2, got, sizeof(got), 2, DEADLINE_MS),
	    2, "the freed place was not given to a newcomer");
	close(fd);
	for (int i = 1; i < MAX; i++)
		close(held[i]);
	daemon_stop(&d);
}
