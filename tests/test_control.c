/*
 * test_control.c — upcased -s: each action reaches the daemon that holds
 * the configured pidfile, and the exit status says whether it did; a
 * missing, stale or unset pidfile is one line and exit 1.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(control, .timeout = 120);

/* upcased -s action with the test daemon's pidfile; its exit status. */
static int
control(const char *pid_arg, const char *action, char *out, size_t cap)
{
	const char *args[] = { "-c", "/dev/null", "-o", pid_arg, "-s",
	    action, NULL };

	return run(upcased_path(), args, out, cap);
}

Test(control, each_action_reaches_the_daemon)
{
	struct daemon d = { 0 };
	char pid[128], pid_arg[160], out[1024], want[512];

	daemon_init(&d);
	snprintf(pid, sizeof(pid), "%s", daemon_file(&d, "upcased.pid"));
	snprintf(pid_arg, sizeof(pid_arg), "pidfile=%s", pid);
	daemon_start(&d, "-o", pid_arg, NULL);

	cr_assert_eq(control(pid_arg, "reload", out, sizeof(out)), 0, "%s",
	    out);
	cr_assert_str_eq(out, "");
	cr_assert_not_null(daemon_wait_log(&d, "SIGHUP: reloading",
	    DEADLINE_MS), "%s", daemon_log(&d));
	cr_assert_eq(control(pid_arg, "reopen", out, sizeof(out)), 0, "%s",
	    out);
	cr_assert_not_null(daemon_wait_log(&d, "logs reopened", DEADLINE_MS),
	    "%s", daemon_log(&d));
	expect_echo(daemon_connect(&d), "still serving");

	cr_assert_eq(control(pid_arg, "stop", out, sizeof(out)), 0, "%s", out);
	expect_exit(daemon_signal_wait(&d, 0, DEADLINE_MS), 0,
	    daemon_log(&d));
	d.pid = -1;
	cr_assert_not_null(strstr(daemon_log(&d), "SIGTERM"), "%s",
	    daemon_log(&d));

	/* Gone: the pidfile went with it. */
	snprintf(want, sizeof(want), "upcased: pidfile %s: No such file or "
	    "directory: is upcased running?\n", pid);
	cr_assert_eq(control(pid_arg, "stop", out, sizeof(out)), 1, "%s", out);
	cr_assert_str_eq(out, want);

	/* A crash's leftover: a pid, but nobody holds the lock. */
	write_file(pid, "1\n");
	snprintf(want, sizeof(want), "upcased: pidfile %s is not held: upcased "
	    "is not running (the file names 1)\n", pid);
	cr_assert_eq(control(pid_arg, "reload", out, sizeof(out)), 1, "%s",
	    out);
	cr_assert_str_eq(out, want);
	daemon_kill(&d);
}

Test(control, bad_uses_are_refused)
{
	const char *unset[] = { "-c", "/dev/null", "-s", "reload", NULL };
	const char *bogus[] = { "-c", "/dev/null", "-s", "restart", NULL };
	const char *both[] = { "-c", "/dev/null", "-t", "-s", "stop", NULL };
	char out[1024];

	cr_assert_eq(run(upcased_path(), unset, out, sizeof(out)), 1, "%s",
	    out);
	cr_assert_str_eq(out, "upcased: -s reload: no pidfile is set, so no "
	    "daemon can be found (set pidfile, with -c or -o)\n");
	cr_assert_eq(run(upcased_path(), bogus, out, sizeof(out)), 2, "%s",
	    out);
	cr_assert_str_eq(out, "upcased: -s: 'restart' is not stop, reload, "
	    "reopen or upgrade\nTry 'upcased --help'.\n");
	cr_assert_eq(run(upcased_path(), both, out, sizeof(out)), 2, "%s",
	    out);
	cr_assert_str_eq(out, "upcased: -t, -T and -s cannot be used "
	    "together\nTry 'upcased --help'.\n");
}

/* upgrade is SIGUSR2: with one process and the sandbox on, the daemon
 * says why it refuses, which shows the signal arrived. */
Test(control, upgrade_is_delivered)
{
	struct daemon d = { 0 };
	char pid_arg[160], out[1024];

	daemon_init(&d);
	snprintf(pid_arg, sizeof(pid_arg), "pidfile=%s",
	    daemon_file(&d, "upcased.pid"));
	daemon_start(&d, "-o", pid_arg, NULL);
	cr_assert_eq(control(pid_arg, "upgrade", out, sizeof(out)), 0, "%s",
	    out);
	cr_assert_not_null(daemon_wait_log(&d, "SIGUSR2", DEADLINE_MS), "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}
