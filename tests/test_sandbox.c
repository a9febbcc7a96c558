/*
 * test_sandbox.c — the seccomp filter: on by default (the kernel says
 * "Seccomp: 2"), off with sandbox = no; a call off the list fails with
 * EPERM, is logged, and the daemon serves on; what reload and log reopen
 * need (reading the file, binding new TCP and Unix listeners, resolving a
 * name, opening the logs) is on the list, and so is what a probe's
 * close=rst asks the kernel. (Every test's daemon is checked for denied
 * calls as it stops: harness.h.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

TestSuite(sandbox, .timeout = 120);

Test(sandbox, on_by_default_and_off_when_asked)
{
	struct daemon d = { 0 }, off = { 0 };

	/* The filter is in before the loop serves its first client. */
	daemon_start(&d, NULL);
	expect_echo(daemon_connect(&d), "filtered");
	cr_assert_eq(status_field(d.pid, "Seccomp"), 2);
	cr_assert_eq(status_field(d.pid, "NoNewPrivs"), 1);
	daemon_stop(&d);

	daemon_start(&off, "-o", "sandbox=no", NULL);
	expect_echo(daemon_connect(&off), "unfiltered");
	cr_assert_eq(status_field(off.pid, "Seccomp"), 0);
	daemon_stop(&off);
}

/*
 * close=rst resets only once the peer has acknowledged every byte, which
 * the daemon asks the kernel (SIOCOUTQ). A client whose 16 KiB receive
 * buffer holds the echo back leaves most of it unacknowledged when the
 * daemon is done writing: under the default filter it still gets every
 * byte, then the reset.
 */
Test(sandbox, close_rst_to_a_slow_reader_delivers_everything_first)
{
	enum { LEN = 200000 };
	static const char line[] = "UPCASE-PROBE/1 close=rst\n";
	static unsigned char out[LEN], in[4096];
	struct daemon d = { 0 };
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[128];
	const char *listening;
	int fd, small = 16384;
	size_t got = 0;
	ssize_t n;

	daemon_start(&d, "-o", "listen=127.0.0.2:0 probe", NULL);
	listening = daemon_wait_log(&d, "listening on 127.0.0.2:", DEADLINE_MS);
	cr_assert_not_null(listening, "%s", daemon_log(&d));
	parse_listen_line(listening, addr, sizeof(addr), &ss, &sslen);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&ss, sslen), 0);
	memset(out, 'a', LEN);
	/* It all fits under backlog_high: the daemon reads it all at once,
	 * and owes what our window does not take. */
	cr_assert_eq(write_all(fd, line, sizeof(line) - 1, DEADLINE_MS), 0);
	cr_assert_eq(write_all(fd, out, LEN, DEADLINE_MS), 0);
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	while ((n = read(fd, in, sizeof(in))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			cr_assert_eq(in[i], 'A', "byte %zu", got + (size_t)i);
		got += (size_t)n;
	}
	cr_assert_eq(got, LEN, "%zu of %d bytes, then %s", got, LEN,
	    n == 0 ? "EOF" : strerror(errno));
	cr_assert_eq(n, -1, "EOF instead of the reset");
	cr_assert_eq(errno, ECONNRESET, "%s", strerror(errno));
	close(fd);
	daemon_stop(&d);
}

Test(sandbox, a_call_off_the_list_fails_and_is_logged)
{
	struct daemon d = { 0 };
	char nr[16], want[96];
	const char *log;

	/* Each accept first tries execve(NULL, ...): without the filter it
	 * would fail with EFAULT, unseen. */
	snprintf(nr, sizeof(nr), "%d", SYS_execve);
	d.denials_expected = true;
	setenv("FAULT_SYSCALL", nr, 1);
	fault_preload();
	daemon_start(&d, NULL);
	fault_unload();
	unsetenv("FAULT_SYSCALL");

	expect_echo(daemon_connect(&d), "served anyway");
	/* One line a turn, for the accept and the accept that found none. */
	snprintf(want, sizeof(want), "off the list (the last: syscall "
	    "%d), failed with EPERM", SYS_execve);
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_eq(daemon_count_log(&d, "sandbox: denied"), 1, "%s",
	    daemon_log(&d));
	expect_echo(daemon_connect(&d), "and again");
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));
	/* Stopping takes what the kernel queued: maybe one accept more. */
	log = daemon_stop_log(&d);
	cr_assert_geq(count_in(log, "sandbox: denied"), 2, "%s", log);
	cr_assert_eq(count_in(log, "sandbox: denied"), count_in(log, want), "%s",
	    log);
}

Test(sandbox, reload_and_log_reopen_stay_inside_the_list)
{
	struct daemon d = { 0 };
	static char path[PATH_MAX], text[2 * PATH_MAX];
	const char *args[] = { "-f", "-c", path, NULL };
	const char *line;
	char addr[128], rotated[PATH_MAX], sock[128];
	const char *log;
	struct sockaddr_storage ss;
	socklen_t sslen;

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "u.conf"));
	write_file(path, "listen = 127.0.0.2:0\n");
	daemon_start_args(&d, args);

	/* A name to resolve, a new TCP port, a Unix socket, a log file and an
	 * access log: every call the reload makes is allowed. */
	snprintf(sock, sizeof(sock), "%s", daemon_file(&d, "u.sock"));
	snprintf(text, sizeof(text), "listen = %s\n"
	    "listen = localhost:0\nlisten = unix:%s\nlog_file = %s\n"
	    "access_log = %s\n", d.addr, sock, d.log_path,
	    daemon_file(&d, "access"));
	write_file(path, text);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	line = daemon_wait_log(&d, "listening on 127.0.0.1:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, addr, sizeof(addr), &ss, &sslen);
	cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
	    DEADLINE_MS), "%s", daemon_log(&d));
	expect_echo(connect_to(&ss, sslen), "new listener");
	cr_assert_eq(access(sock, F_OK), 0);

	/* logrotate moves the file, then signals: a new file is opened. */
	snprintf(rotated, sizeof(rotated), "%s.1", d.log_path);
	cr_assert_eq(rename(d.log_path, rotated), 0);
	d.log_seen = 0;
	cr_assert_eq(kill(d.pid, SIGUSR1), 0);
	cr_assert_not_null(daemon_wait_log(&d, "logs reopened", DEADLINE_MS),
	    "no line in the reopened log");
	expect_echo(daemon_connect(&d), "after the reopen");
	log = daemon_stop_log(&d);
	cr_assert_eq(count_in(log, "sandbox"), 0, "%s", log);
}

/* The master's wider filter (fork, exec, wait) once; each worker adds its
 * own, the single process's list, on top; a replaced worker too. */
Test(sandbox, a_master_and_each_worker_are_filtered)
{
	struct daemon d = { 0 };
	pid_t pids[4];
	char want[64];
	const char *log;
	int n;

	daemon_start(&d, "-o", "workers=2", "-o", "log_level=debug", NULL);
	/* Each worker says it serves once its filter is in; the lines of
	 * several workers come in any order, so they are counted. */
	cr_assert(daemon_wait_count(&d, ": serving", 2, DEADLINE_MS), "%s",
	    daemon_log(&d));
	expect_echo(daemon_connect(&d), "filtered");
	cr_assert_eq(status_field(d.pid, "Seccomp"), 2);
	cr_assert_eq(status_field(d.pid, "Seccomp_filters"), 1);
	cr_assert_eq(proc_children(d.pid, pids, 4), 2);
	cr_assert_eq(kill(pids[0], SIGKILL), 0);
	snprintf(want, sizeof(want), "(pid %d) was killed", pids[0]);
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert(daemon_wait_count(&d, ": serving", 3, DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	/* Two new workers in, and the two old ones reaped. */
	cr_assert(daemon_wait_count(&d, ": serving", 5, DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert(daemon_wait_count(&d, "exited with status 0", 2,
	    DEADLINE_MS), "%s", daemon_log(&d));
	n = proc_children(d.pid, pids, 4);
	cr_assert_eq(n, 2, "%s", daemon_log(&d));
	for (int i = 0; i < n; i++)
		cr_assert_eq(status_field(pids[i], "Seccomp_filters"), 2);
	for (int i = 0; i < 3; i++)
		expect_echo(daemon_connect(&d), "after");
	log = daemon_stop_log(&d);
	cr_assert_eq(count_in(log, "sandbox"), 0, "%s", log);
}
