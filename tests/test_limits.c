/*
 * test_limits.c — running out: of descriptors (every queued client past
 * what fits is refused at once, the spare descriptor survives, one log line
 * a second), and of kernel memory (accepting pauses and retries on a timer
 * without spinning). Reaching max_connections refuses nobody:
 * test_capacity.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

TestSuite(limits, .timeout = 120);

/* Open n clients, each served one byte and kept open. */
static void
hold(struct daemon *d, int *fds, int n)
{
	char got;

	for (int i = 0; i < n; i++) {
		fds[i] = daemon_connect(d);
		cr_assert_eq(write_all(fds[i], "x", 1, DEADLINE_MS), 0);
		cr_assert_eq(read(fds[i], &got, 1), 1);
		cr_assert_eq(got, 'X');
	}
}

/* Half-close held fd and wait for the daemon's close. */
static void
release(int fd)
{
	char got[4];

	shutdown(fd, SHUT_WR);
	cr_assert_eq(read_all(fd, got, sizeof(got), DEADLINE_MS), 0);
	close(fd);
}

Test(limits, out_of_fds_refuses_the_whole_queue_at_once)
{
	enum { HELD = 10, QUEUED = 40 };
	struct daemon d = { 0 };
	struct rlimit rl;
	int held[HELD], queued[QUEUED], baseline, lines;
	long long start;
	char name[32];

	daemon_start(&d, NULL);
	baseline = fd_count(d.pid);
	rl.rlim_cur = rl.rlim_max = (rlim_t)baseline + HELD;
	cr_assert_eq(prlimit(d.pid, RLIMIT_NOFILE, &rl, NULL), 0,
	    "prlimit: %s", strerror(errno));
	hold(&d, held, HELD);

	/* The daemon has no descriptor left: every client queued past that
	 * is closed at once, none left waiting for an edge. */
	start = now_ms();
	for (int i = 0; i < QUEUED; i++)
		queued[i] = daemon_connect(&d);
	for (int i = 0; i < QUEUED; i++) {
		snprintf(name, sizeof(name), "queued client %d", i);
		expect_unanswered(queued[i], name);
	}
	cr_assert_not_null(daemon_wait_log(&d, "refusing connections: Too "
	    "many open files (1 so far)", DEADLINE_MS), "%s", daemon_log(&d));
	/* One line a second at most, however many were refused. */
	lines = daemon_count_log(&d, "Too many open files");
	cr_assert_leq(lines, 1 + (now_ms() - start) / 1000, "%d lines:\n%s",
	    lines, daemon_log(&d));

	/* The spare is back after every refusal: once a held client leaves
	 * (its close comes after the last refusal), the daemon holds its
	 * baseline, the spare included, and the others. */
	release(held[0]);
	cr_assert_eq(fd_count(d.pid), baseline + HELD - 1, "%d fds, "
	    "baseline %d", fd_count(d.pid), baseline);

	/* The freed descriptor serves a newcomer. */
	expect_echo(daemon_connect(&d), "back");
	for (int i = 1; i < HELD; i++)
		release(held[i]);
	expect_echo(daemon_connect(&d), "all back");
	daemon_stop(&d);
}

/* Start d with accept4 failing with err while d's file "fault" exists. */
static void
start_with_accept_fault(struct daemon *d, const char *err)
{
	daemon_init(d);
	write_file(daemon_file(d, "fault"), err);
	setenv("FAULT_ACCEPT_WHILE", daemon_file(d, "fault"), 1);
	setenv("FAULT_ACCEPT_ERRNO", err, 1);
	fault_preload();
	daemon_start(d, NULL);
	fault_unload();
}

static void
accept_fault_pauses_without_spinning(const char *err)
{
	struct daemon d = { 0 };
	char expect[128];
	long cpu;
	int fd;

	start_with_accept_fault(&d, err);
	fd = daemon_connect(&d);	/* queued by the kernel */
	snprintf(expect, sizeof(expect), "accept: %s: pausing accept",
	    strerror(strcmp(err, "ENOBUFS") == 0 ? ENOBUFS : ENOMEM));
	cr_assert_not_null(daemon_wait_log(&d, expect, DEADLINE_MS), "%s",
	    daemon_log(&d));
	cpu = cpu_ms(d.pid);

	/* Still failing a second later: the next line, with a count of the
	 * retries in between. A loop that retried at once would have burnt
	 * that second. */
	cr_assert_not_null(daemon_wait_log(&d, expect, DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_lt(cpu_ms(d.pid) - cpu, 300, "the daemon used %ld ms of "
	    "CPU while paused", cpu_ms(d.pid) - cpu);
	cr_assert_eq(daemon_count_log(&d, "pausing accept"), 2, "%s",
	    daemon_log(&d));

	/* The fault ends: the queued client is served on the next retry. */
	cr_assert_eq(unlink(daemon_file(&d, "fault")), 0);
	expect_echo(fd, "served after all");
	daemon_stop(&d);
}

Test(limits, accept_enomem_pauses_without_spinning)
{
	accept_fault_pauses_without_spinning("ENOMEM");
}

Test(limits, accept_enobufs_pauses_without_spinning)
{
	accept_fault_pauses_without_spinning("ENOBUFS");
}
