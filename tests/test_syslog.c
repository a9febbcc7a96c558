/*
 * test_syslog.c — log_file and access_log = syslog, on a datagram socket
 * of the test's own (syslog_socket): the lines arrive with their
 * priority and tag; without a socket, -t and the start refuse the
 * configuration with one line, and so does a detached daemon whose logs
 * would go to syslog.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

TestSuite(syslog, .timeout = 120);

/* A datagram socket bound at path: syslog's end. */
static int
syslog_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_lt(strlen(path), sizeof(sun.sun_path), "%s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* The next datagram that holds needle (earlier ones are skipped). */
static const char *
wait_datagram(int fd, const char *needle)
{
	static char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long deadline = now_ms() + DEADLINE_MS;
	ssize_t n;

	for (;;) {
		long long left = deadline - now_ms();

		cr_assert_gt(left, 0, "no datagram with '%s'", needle);
		if (poll(&p, 1, (int)left) != 1)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		cr_assert_gt(n, 0);
		buf[n] = '\0';
		if (strstr(buf, needle) != NULL)
			return buf;
	}
}

/* "<PRI>Mmm dd hh:mm:ss upcased[PID]: " at the line's start. */
static void
expect_header(const char *line, int pri, pid_t pid)
{
	char tag[64];
	int p = -1, n = 0;

	cr_assert_eq(sscanf(line, "<%d>%*3s %*2d %*2d:%*2d:%*2d %63[^:]: %n",
	    &p, tag, &n), 2, "not a syslog line: %s", line);
	cr_assert_gt(n, 0, "%s", line);
	cr_assert_eq(p, pri, "priority %d, not %d: %s", p, pri, line);
	cr_assert_eq(strncmp(tag, "upcased[", 8), 0, "%s", line);
	cr_assert_eq(atoi(tag + 8), pid, "%s", line);
}

/* A daemon that logs both logs to a socket of the test's own (its path
 * into sock); returns that socket. */
static int
start_to_syslog(struct daemon *d, char *sock, size_t len)
{
	char arg[160];
	int fd;

	daemon_init(d);
	snprintf(sock, len, "%s", daemon_file(d, "log"));
	fd = syslog_listen(sock);
	snprintf(arg, sizeof(arg), "syslog_socket=%s", sock);
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", "log_file=syslog", "-o",
	    "access_log=syslog", "-o", arg, NULL };
	daemon_spawn(d, args);
	return fd;
}

/* SIGTERM: its last lines reach syslog, and it exits 0. */
static void
stop_from_syslog(struct daemon *d, int fd)
{
	cr_assert_eq(kill(d->pid, SIGTERM), 0);
	wait_datagram(fd, "SIGTERM");
	expect_exit(wait_exit(d->pid, NULL, DEADLINE_MS), 0, "stop");
	d->pid = -1;
	close(fd);
	daemon_kill(d);
}

Test(syslog, every_line_arrives_with_its_priority)
{
	struct daemon d = { 0 };
	char sock[128];
	const char *line;
	int fd;

	fd = start_to_syslog(&d, sock, sizeof(sock));
	line = wait_datagram(fd, "running as root");
	expect_header(line, 3 * 8 + 4, d.pid);		/* daemon.warning */
	line = wait_datagram(fd, "listening on ");
	expect_header(line, 3 * 8 + 6, d.pid);		/* daemon.info */
	parse_listen_line(line, d.addr, sizeof(d.addr), &d.ss, &d.sslen);

	expect_echo(daemon_connect(&d), "to syslog");
	line = wait_datagram(fd, " end=done");
	expect_header(line, 3 * 8 + 6, d.pid);
	cr_assert_not_null(strstr(line, " bytes_in=9 bytes_out=9 "), "%s",
	    line);
	cr_assert_null(strchr(line, '\n'), "a newline in '%s'", line);
	stop_from_syslog(&d, fd);
}

/*
 * No socket at syslog_socket: -t and the start say so in one line, exit
 * 1, and nothing starts; a detached daemon, whose default stderr logs
 * would go to syslog, is refused before it detaches.
 */
Test(syslog, no_socket_is_refused_by_the_check_and_the_start)
{
	struct daemon d = { 0 };
	char missing[128], arg[160], out[1024], want[512], pid_arg[160];
	static const char *const cases[][2] = {
		{ "log_file=syslog", "log_file = syslog: " },
		{ "access_log=syslog", "access_log = syslog: " },
		{ "daemonize=yes", "log_file = stderr: in the background that "
		    "is syslog, and " },
	};

	daemon_init(&d);
	snprintf(missing, sizeof(missing), "%s", daemon_file(&d, "no-log"));
	snprintf(arg, sizeof(arg), "syslog_socket=%s", missing);
	snprintf(pid_arg, sizeof(pid_arg), "pidfile=%s",
	    daemon_file(&d, "pid"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *check[] = { "-t", "-c", "/dev/null", "-o", arg,
		    "-o", cases[i][0], NULL };
		const char *start[] = { "-c", "/dev/null", "-o", arg, "-o",
		    cases[i][0], "-o", "listen=127.0.0.1:0", "-o", pid_arg,
		    NULL };

		snprintf(want, sizeof(want), "upcased: %ssyslog_socket %s: No "
		    "such file or directory%s\n", cases[i][1], missing, i == 2 ?
		    "; set log_file, or start with -f" : "");
		cr_assert_eq(run(upcased_path(), check, out, sizeof(out)), 1,
		    "-t passed %s: %s", cases[i][0], out);
		cr_assert_str_eq(out, want);
		cr_assert_eq(run(upcased_path(), start, out, sizeof(out)), 1,
		    "started with %s: %s", cases[i][0], out);
		cr_assert_str_eq(out, want);
		cr_assert_eq(access(daemon_file(&d, "pid"), F_OK), -1,
		    "a pidfile was left by %s", cases[i][0]);
	}
	daemon_kill(&d);
}

/* Syslog restarted: its socket is made anew at the same path, and the
 * lines that follow reach it, without a reload. */
Test(syslog, a_restarted_syslog_gets_the_next_lines)
{
	struct daemon d = { 0 };
	char sock[128];
	const char *line;
	int fd;

	fd = start_to_syslog(&d, sock, sizeof(sock));
	line = wait_datagram(fd, "listening on ");
	parse_listen_line(line, d.addr, sizeof(d.addr), &d.ss, &d.sslen);
	expect_echo(daemon_connect(&d), "before");
	wait_datagram(fd, " bytes_in=6 bytes_out=6 end=done");

	/* Gone, and back under the same name. */
	close(fd);
	cr_assert_eq(unlink(sock), 0);
	fd = syslog_listen(sock);
	expect_echo(daemon_connect(&d), "after!");
	line = wait_datagram(fd, " end=done");
	cr_assert_not_null(strstr(line, " bytes_in=6 bytes_out=6 "), "%s",
	    line);
	expect_header(line, 3 * 8 + 6, d.pid);
	stop_from_syslog(&d, fd);
}
