/*
 * test_upgrade.c — listening sockets that outlive a process: SIGUSR2 starts
 * the binary again and hands it the sockets, with nobody refused; a new
 * binary that cannot start leaves the old one serving, with one line
 * saying why. (Sockets systemd passes: test_activation.c.)
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* The new master is the old one's child: once the old one exits, it must
 * become ours to wait for. */
static void
subreaper(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

TestSuite(upgrade, .init = subreaper, .timeout = 240);

static const char *
start_with(struct daemon *d, const char *conf)
{
	static char path[PATH_MAX];

	daemon_init(d);
	snprintf(path, sizeof(path), "%s", daemon_file(d, "u.conf"));
	write_file(path, conf);
	const char *args[] = { "-f", "-c", path, NULL };
	daemon_start_args(d, args);
	return path;
}

static pid_t
pidfile_pid(const struct daemon *d)
{
	return (pid_t)atol(read_text(daemon_file(d, "u.pid")));
}

static void
echo_once(const struct daemon *d, const char *msg, const char *want)
{
	int fd = daemon_connect(d);
	char got[64];
	size_t n = strlen(msg);

	cr_assert_eq(write_all(fd, msg, n, DEADLINE_MS), 0);
	shutdown(fd, SHUT_WR);
	cr_assert_eq(read_all(fd, got, sizeof(got), DEADLINE_MS), (ssize_t)n);
	cr_assert_eq(memcmp(got, want, n), 0);
	close(fd);
}

/* SIGUSR2 to the master now running; returns the new one, which the
 * pidfile names once the old one has exited. */
static pid_t
upgrade(struct daemon *d)
{
	const char *line;
	pid_t old = d->pid, next;

	cr_assert_eq(kill(old, SIGUSR2), 0);
	line = daemon_wait_log(d, "upgrade: the new binary (pid ", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(d));
	next = (pid_t)atol(strstr(line, "(pid ") + 5);
	expect_exit(wait_exit(old, NULL, DEADLINE_MS), 0, daemon_log(d));
	cr_assert_eq(pidfile_pid(d), next, "%s", daemon_log(d));
	d->pid = next;
	process_track(next);
	return next;
}

/* Ten upgrades while short connections churn: nobody refused or reset
 * (the churn client counts any of that as an error). */
Test(upgrade, ten_upgrades_under_churn_refuse_nobody)
{
	struct daemon d = { 0 };
	char conf[512], out[4096];
	int churn_out;
	pid_t churn;

	daemon_init(&d);
	snprintf(conf, sizeof(conf), "listen = 127.0.0.1:0\nworkers = 2\n"
	    "pidfile = %s\n", daemon_file(&d, "u.pid"));
	start_with(&d, conf);
	churn_out = open(daemon_file(&d, "churn.txt"), O_RDWR | O_CREAT, 0600);
	const char *bench[] = { upcase_path(), "bench", "-a", d.addr, "-c",
	    "8", "-n", "64", "--churn", "--duration", "8", "--sources", "8",
	    "--json", NULL };
	churn = spawn(bench, -1, churn_out, churn_out);
	for (int i = 0; i < 10; i++)
		upgrade(&d);
	expect_exit(wait_exit(churn, NULL, DEADLINE_MS), 0, "churn");
	cr_assert_gt(pread(churn_out, out, sizeof(out) - 1, 0), 0);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	cr_assert_gt(json_number(out, "rounds"), 100, "%s", out);
	close(churn_out);
	echo_once(&d, "after", "AFTER");
	daemon_stop(&d);
}

/* A single process upgrades too, when its sandbox allows exec. */
Test(upgrade, a_single_process_hands_over_without_its_sandbox)
{
	struct daemon d = { 0 };
	char conf[512];

	daemon_init(&d);
	snprintf(conf, sizeof(conf), "listen = 127.0.0.1:0\nsandbox = no\n"
	    "pidfile = %s\n", daemon_file(&d, "u.pid"));
	start_with(&d, conf);
	echo_once(&d, "before", "BEFORE");
	upgrade(&d);
	echo_once(&d, "after", "AFTER");
	daemon_stop(&d);

	/* With it, the filter would follow into the new binary: refused. */
	struct daemon e = { 0 };
	daemon_init(&e);
	snprintf(conf, sizeof(conf), "listen = 127.0.0.1:0\n");
	start_with(&e, conf);
	kill(e.pid, SIGUSR2);
	cr_assert_not_null(daemon_wait_log(&e, "upgrade refused: with sandbox "
	    "= yes", DEADLINE_MS), "%s", daemon_log(&e));
	echo_once(&e, "still", "STILL");
	daemon_stop(&e);
}

/* Run a copy of upcased, whose file a test may then replace, with two
 * workers and a pidfile; exe (PATH_MAX bytes) gets the copy's path, cmd
 * (2 * PATH_MAX) the command that makes it again, conf (512) the
 * configuration, also in d's u.conf. */
static void
start_copy(struct daemon *d, char *exe, char *cmd, char *conf)
{
	const char *line, *path;

	daemon_init(d);
	snprintf(exe, PATH_MAX, "%s", daemon_file(d, "upcased"));
	snprintf(cmd, 2 * PATH_MAX, "cp %s %s", upcased_path(), exe);
	cr_assert_eq(system(cmd), 0);
	snprintf(conf, 512, "listen = 127.0.0.1:0\nworkers = 2\n"
	    "pidfile = %s\n", daemon_file(d, "u.pid"));
	path = daemon_file(d, "u.conf");
	write_file(path, conf);
	const char *argv[] = { exe, "-f", "-c", path, NULL };
	daemon_spawn_argv(d, argv);
	line = daemon_wait_log(d, "listening on", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(d));
	parse_listen_line(line, d->addr, sizeof(d->addr), &d->ss, &d->sslen);
	cr_assert_not_null(daemon_wait_log(d, "started 2 workers",
	    DEADLINE_MS), "%s", daemon_log(d));
}

/* A new binary that fails (a bad configuration, no execute bit, a call the
 * sandbox forbids) leaves the old one serving, pidfile and all, with one
 * line saying why. */
Test(upgrade, a_failed_start_changes_nothing)
{
	struct daemon d = { 0 };
	char conf[512], exe[PATH_MAX], cmd[2 * PATH_MAX];
	const char *line;

	start_copy(&d, exe, cmd, conf);

	/* A configuration the new binary refuses. */
	write_file(daemon_file(&d, "u.conf"), "listen = 127.0.0.1:0\n"
	    "workers = lots\n");
	kill(d.pid, SIGUSR2);
	line = daemon_wait_log(&d, "upgrade failed: ", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_not_null(strstr(line, "u.conf:2: workers: 'lots' is not "
	    "auto or a number from 1 to 64; the running binary stays"), "%s",
	    line);
	echo_once(&d, "one", "ONE");
	cr_assert_eq(pidfile_pid(&d), d.pid);

	/* No binary to run. */
	write_file(daemon_file(&d, "u.conf"), conf);
	cr_assert_eq(chmod(exe, 0644), 0);
	kill(d.pid, SIGUSR2);
	line = daemon_wait_log(&d, "upgrade failed: ", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_not_null(strstr(line, "upcased: Permission denied"), "%s",
	    line);
	echo_once(&d, "two", "TWO");
	cr_assert_eq(pidfile_pid(&d), d.pid);

	/* One that makes a call the inherited filter forbids (sleep's
	 * clock_nanosleep) dies of SIGSYS, and the line says why. */
	cr_assert_eq(unlink(exe), 0);
	write_file(exe, "#!/bin/sh\nexec sleep 1\n");
	cr_assert_eq(chmod(exe, 0755), 0);
	kill(d.pid, SIGUSR2);
	line = daemon_wait_log(&d, "upgrade failed: ", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_not_null(strstr(line, "was killed by signal 31 (Bad system "
	    "call) before it was ready (a system call off the sandbox's list, "
	    "which it inherits); the running binary stays"), "%s", line);
	echo_once(&d, "three", "THREE");
	cr_assert_eq(pidfile_pid(&d), d.pid);
	cr_assert_eq(daemon_count_log(&d, "upgrade failed"), 3, "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}

/* While a new binary starts, a second SIGUSR2 is refused with a line; a
 * new binary that crashes before it is ready changes nothing; and the
 * next upgrade, with a real binary again, goes through. */
Test(upgrade, a_second_signal_waits_and_a_crash_changes_nothing)
{
	struct daemon d = { 0 };
	char conf[512], exe[PATH_MAX], cmd[2 * PATH_MAX], want[160];
	char script[PATH_MAX + 64];
	const char *line;
	pid_t pending;

	start_copy(&d, exe, cmd, conf);

	/* A "binary" that starts and never gets ready (the running one's
	 * file can be replaced, not written). It waits in open(2) on a FIFO
	 * nobody writes: under the master's filter, which it inherits, a
	 * sleep would die of SIGSYS. */
	cr_assert_eq(unlink(exe), 0);
	snprintf(script, sizeof(script), "#!/bin/sh\necho never ready >&2\n"
	    "read x < %s\n", daemon_file(&d, "hold"));
	cr_assert_eq(mkfifo(daemon_file(&d, "hold"), 0600), 0);
	write_file(exe, script);
	cr_assert_eq(chmod(exe, 0755), 0);
	kill(d.pid, SIGUSR2);
	cr_assert_not_null(daemon_wait_log(&d, "never ready", DEADLINE_MS),
	    "%s", daemon_log(&d));
	kill(d.pid, SIGUSR2);
	line = daemon_wait_log(&d, "upgrade refused: an upgrade is already in "
	    "progress (pid ", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	pending = (pid_t)atol(strstr(line, "(pid ") + 5);
	echo_once(&d, "meanwhile", "MEANWHILE");

	cr_assert_eq(kill(pending, SIGSEGV), 0);
	snprintf(want, sizeof(want), "upgrade failed: the new binary (pid %d) "
	    "was killed by signal 11 (Segmentation fault) before it was "
	    "ready; the running binary stays", (int)pending);
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));
	echo_once(&d, "still", "STILL");
	cr_assert_eq(pidfile_pid(&d), d.pid);

	/* The real binary again: the next upgrade hands over. */
	cr_assert_eq(unlink(exe), 0);
	cr_assert_eq(system(cmd), 0);
	upgrade(&d);
	echo_once(&d, "after", "AFTER");
	daemon_stop(&d);
}

/* Under systemd, the old master names the new one (MAINPID=) once it
 * serves, and neither says it is stopping. */
Test(upgrade, systemd_is_told_the_new_main_pid)
{
	struct daemon d = { 0 };
	char conf[512], buf[256], want[64];
	int fd;
	pid_t next;

	daemon_init(&d);
	fd = notify_listen(daemon_file(&d, "notify"));
	snprintf(conf, sizeof(conf), "listen = 127.0.0.1:0\nworkers = 2\n"
	    "pidfile = %s\n", daemon_file(&d, "u.pid"));
	start_with(&d, conf);
	unsetenv("NOTIFY_SOCKET");
	expect_datagram(fd, buf, sizeof(buf), "READY=1\n");
	snprintf(want, sizeof(want), "READY=1\nMAINPID=%d", (int)d.pid);
	cr_assert_str_eq(buf, want);

	next = upgrade(&d);
	expect_datagram(fd, buf, sizeof(buf), "MAINPID=");
	snprintf(want, sizeof(want), "MAINPID=%d\nREADY=1", (int)next);
	cr_assert_str_eq(buf, want);
	/* The old master has exited (upgrade() waited for it) without a
	 * word more. */
	cr_assert_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	echo_once(&d, "after", "AFTER");
	daemon_stop_notified(&d, fd);
}
