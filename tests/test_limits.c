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
	struct daemon d;
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
	int fd = daemon_connect(&d);
	cr_assert_eq(exchange(fd, "back", 4, got, sizeof(got), 4, DEADLINE_MS),
	    4);
	cr_assert_eq(memcmp(got, "BACK", 4), 0);
	close(fd);
	cr_assert(process_alive(d.pid));
	daemon_stop(&d);
}
