/*
 * test_shutdown.c — the end of the graceful stop: connections still open
 * when shutdown_timeout expires are closed, and a second signal closes
 * everything at once; either way the exit is clean.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(shutdown, .timeout = 60);

static void
expect_clean_exit(struct daemon *d)
{
	expect_exit(daemon_signal_wait(d, 0, DEADLINE_MS), 0, daemon_log(d));
	d->pid = -1;
}

Test(shutdown, timeout_closes_what_is_left)
{
	struct daemon d = { 0 };
	char buf[16];
	int fd;

	daemon_start(&d, "-o", "shutdown_timeout=300ms", NULL);
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, "x", 1, DEADLINE_MS), 0);
	cr_assert_eq(read(fd, buf, 1), 1);	/* accepted and served */
	kill(d.pid, SIGTERM);
	cr_assert_not_null(daemon_wait_log(&d, "shutdown timeout: closing 1 "
	    "connection\n", DEADLINE_MS), "%s", daemon_log(&d));
	expect_clean_exit(&d);
	cr_assert_eq(read_all(fd, buf, sizeof(buf), DEADLINE_MS), 0);
	close(fd);
	daemon_kill(&d);
}

Test(shutdown, second_signal_closes_at_once)
{
	struct daemon d = { 0 };
	char buf[16];
	int fd;

	daemon_start(&d, "-o", "shutdown_timeout=1h", NULL);
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, "x", 1, DEADLINE_MS), 0);
	cr_assert_eq(read(fd, buf, 1), 1);
	kill(d.pid, SIGTERM);
	cr_assert_not_null(daemon_wait_log(&d, "waiting up to 1h for 1 "
	    "connection\n", DEADLINE_MS), "%s", daemon_log(&d));
	kill(d.pid, SIGINT);
	cr_assert_not_null(daemon_wait_log(&d, "SIGINT again: closing 1 "
	    "connection now", DEADLINE_MS), "%s", daemon_log(&d));
	expect_clean_exit(&d);
	close(fd);
	daemon_kill(&d);
}

/*
 * Clients whose handshake the kernel completed before the stop are served,
 * not reset: closing a listening socket resets its queue, so the daemon
 * takes the queue first. Stopped (SIGSTOP), the daemon gets SIGTERM, then
 * five clients queue up; when it resumes, the signal is the first event
 * it sees.
 */
Test(shutdown, clients_queued_at_the_stop_are_served)
{
	enum { QUEUED = 5 };
	struct daemon d = { 0 };
	int fds[QUEUED], status;
	char msg[32];

	daemon_start(&d, NULL);
	kill(d.pid, SIGSTOP);
	cr_assert_eq(waitpid(d.pid, &status, WUNTRACED), d.pid);
	cr_assert(WIFSTOPPED(status));
	kill(d.pid, SIGTERM);
	for (int i = 0; i < QUEUED; i++)
		fds[i] = daemon_connect(&d);
	kill(d.pid, SIGCONT);
	for (int i = 0; i < QUEUED; i++) {
		snprintf(msg, sizeof(msg), "queued client %d", i);
		expect_echo(fds[i], msg);
	}
	cr_assert_not_null(daemon_wait_log(&d, "SIGTERM: shutting down, "
	    "waiting up to 30s for 5 connections", DEADLINE_MS), "%s",
	    daemon_log(&d));
	expect_clean_exit(&d);
	daemon_kill(&d);
}
