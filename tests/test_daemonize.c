/*
 * test_daemonize.c — upcased in the background: the starting command
 * returns once the daemon listens (or fails, with its error); the pidfile is
 * a lock; SIGTERM lets a client in mid-transfer finish every byte.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct daemon d;

static void
setup(void)
{
	/* A detached daemon is re-parented to us, so we can reap it. */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	daemon_init(&d);
}

static void
teardown(void)
{
	daemon_kill(&d);
}

TestSuite(daemonize, .init = setup, .fini = teardown, .timeout = 120);

/* upcased -c config, the command that detaches: its exit code. */
static int
start_detached(const char *config, char *out, size_t cap)
{
	const char *args[] = { "-c", config, NULL };

	return run(upcased_path(), args, out, cap);
}

/* Write d's config: daemonized, pidfile and log in d's directory. */
static const char *
write_config(const char *extra)
{
	static char path[PATH_MAX];
	char text[3 * PATH_MAX], pidfile[PATH_MAX];

	snprintf(pidfile, sizeof(pidfile), "%s", daemon_file(&d, "u.pid"));
	snprintf(text, sizeof(text), "listen = 127.0.0.1:0\ndaemonize = yes\n"
	    "pidfile = %s\nlog_file = %s\nlog_level = debug\n%s", pidfile,
	    d.log_path, extra);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "u.conf"));
	write_file(path, text);
	return path;
}

/* Reap what the detaching left behind (the intermediate process). */
static void
reap_zombies(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/*
 * The client side of the mid-transfer stop, in a child: echo 1 MiB, say so
 * on ready_fd, wait for go_fd, then send 31 MiB more, half-close and check
 * every byte. Exit status 0 if all came back right.
 */
static void
client(int ready_fd, int go_fd)
{
	size_t first = 1 << 20, len = 32 << 20, got = 0;
	unsigned char *src = malloc(len), *want = malloc(len);
	unsigned char *buf = malloc(len + 1);
	int fd = daemon_connect(&d);
	char byte;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fill_pattern(src, len, 9);
	memcpy(want, src, len);
	reference_upper(want, len);
	if (write_all(fd, src, first, DEADLINE_MS) == -1)
		_exit(10);
	while (got < first) {
		ssize_t n = recv(fd, buf + got, first - got, 0);

		if (n <= 0)
			_exit(11);
		got += (size_t)n;
	}
	if (write(ready_fd, "r", 1) != 1 || read(go_fd, &byte, 1) != 1)
		_exit(12);
	ssize_t rest = exchange(fd, src + first, len - first, buf + first,
	    len - first + 1, 256 * 1024, DEADLINE_MS);
	if (rest != (ssize_t)(len - first))
		_exit(13);
	_exit(memcmp(buf, want, len) == 0 ? 0 : 14);
}

Test(daemonize, detaches_when_listening_and_stops_without_losing_a_byte)
{
	const char *config = write_config("shutdown_timeout = 2m\n");
	char out[4096], path[PATH_MAX], link[PATH_MAX];
	int ready[2], go[2], fd;
	pid_t pid_client;
	ssize_t n;

	/* The command returns once the daemon listens, and prints nothing. */
	cr_assert_eq(start_detached(config, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "");
	daemon_adopt(&d, daemon_file(&d, "u.pid"));
	reap_zombies();
	const char *line = daemon_wait_log(&d, "listening on ", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, d.addr, sizeof(d.addr), &d.ss, &d.sslen);

	/* Detached: its own session, no terminal, stdio on /dev/null, cwd /. */
	cr_assert_neq(getsid(d.pid), getsid(0));
	snprintf(path, sizeof(path), "/proc/%d/fd/0", (int)d.pid);
	n = readlink(path, link, sizeof(link) - 1);
	cr_assert_gt(n, 0);
	link[n] = '\0';
	cr_assert_str_eq(link, "/dev/null");
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)d.pid);
	n = readlink(path, link, sizeof(link) - 1);
	cr_assert_gt(n, 0);
	link[n] = '\0';
	cr_assert_str_eq(link, "/");

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	pid_client = fork();
	cr_assert_geq(pid_client, 0);
	if (pid_client == 0)
		client(ready[1], go[0]);
	char byte;
	cr_assert_eq(read(ready[0], &byte, 1), 1, "client failed to start");

	/* Stop in mid-transfer: no new clients, but this one finishes. */
	kill(d.pid, SIGTERM);
	cr_assert_not_null(daemon_wait_log(&d, "SIGTERM: shutting down, "
	    "waiting up to 2m for 1 connection\n", DEADLINE_MS), "%s",
	    daemon_log(&d));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&d.ss, d.sslen), -1,
	    "still accepting after SIGTERM");
	cr_assert_eq(errno, ECONNREFUSED);
	close(fd);
	cr_assert_eq(write(go[1], "g", 1), 1);
	/* The client's exit status says where it lost bytes, if it did. */
	expect_exit(wait_exit(pid_client, NULL, DEADLINE_MS), 0,
	    daemon_log(&d));
	expect_exit(daemon_signal_wait(&d, 0, DEADLINE_MS), 0, daemon_log(&d));
	d.pid = -1;
	cr_assert_eq(access(daemon_file(&d, "u.pid"), F_OK), -1,
	    "pidfile left behind");
}

/* A relative -c is resolved where upcased starts: the detached daemon,
 * in /, still finds its file on SIGHUP. */
Test(daemonize, reloads_a_relative_config_path_after_detaching)
{
	char out[4096];

	write_config("");
	cr_assert_eq(chdir(d.dir), 0);
	cr_assert_eq(start_detached("u.conf", out, sizeof(out)), 0, "%s", out);
	daemon_adopt(&d, daemon_file(&d, "u.pid"));
	reap_zombies();
	cr_assert_not_null(daemon_wait_log(&d, "listening on ", DEADLINE_MS),
	    "%s", daemon_log(&d));
	kill(d.pid, SIGHUP);
	cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
	    DEADLINE_MS), "%s", daemon_log(&d));
	cr_assert_eq(daemon_count_log(&d, "reload failed"), 0, "%s",
	    daemon_log(&d));
	expect_exit(daemon_signal_wait(&d, SIGTERM, DEADLINE_MS), 0,
	    daemon_log(&d));
	d.pid = -1;
}

Test(daemonize, start_failure_is_reported_by_the_starting_command)
{
	struct daemon other = { 0 };
	char out[4096], extra[256], want[256];

	daemon_start(&other, NULL);
	snprintf(extra, sizeof(extra), "listen = %s\n", other.addr);
	/* listen twice: the file's first line is 127.0.0.1:0, then this. */
	cr_assert_eq(start_detached(write_config(extra), out, sizeof(out)), 1,
	    "%s", out);
	snprintf(want, sizeof(want), "upcased: listen %s: Address already in "
	    "use\n", other.addr);
	cr_assert_str_eq(out, want);
	cr_assert_eq(access(daemon_file(&d, "u.pid"), F_OK), -1,
	    "pidfile left behind by a failed start");
	daemon_stop(&other);
}

Test(daemonize, second_instance_is_refused_and_names_the_pid)
{
	const char *config = write_config("");
	char out[4096], want[512];

	cr_assert_eq(start_detached(config, out, sizeof(out)), 0, "%s", out);
	daemon_adopt(&d, daemon_file(&d, "u.pid"));
	reap_zombies();
	cr_assert_eq(start_detached(config, out, sizeof(out)), 1, "%s", out);
	snprintf(want, sizeof(want), "upcased: pidfile %s is held by pid %d: "
	    "upcased is already running\n", daemon_file(&d, "u.pid"),
	    (int)d.pid);
	cr_assert_str_eq(out, want);
	cr_assert(process_alive(d.pid) || kill(d.pid, 0) == 0,
	    "the first instance died");
	expect_exit(daemon_signal_wait(&d, SIGTERM, DEADLINE_MS), 0,
	    daemon_log(&d));
	d.pid = -1;
}

Test(daemonize, stale_pidfile_is_taken_over)
{
	const char *config = write_config("");
	char out[4096];
	pid_t dead;

	/* A pidfile naming a process that is gone, and unlocked. */
	dead = fork();
	cr_assert_geq(dead, 0);
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(out, sizeof(out), "%d\n", (int)dead);
	write_file(daemon_file(&d, "u.pid"), out);

	cr_assert_eq(start_detached(config, out, sizeof(out)), 0, "%s", out);
	daemon_adopt(&d, daemon_file(&d, "u.pid"));
	reap_zombies();
	cr_assert_neq(d.pid, dead);
	cr_assert_eq(kill(d.pid, 0), 0, "pidfile names %d, not running",
	    (int)d.pid);
	expect_exit(daemon_signal_wait(&d, SIGTERM, DEADLINE_MS), 0,
	    daemon_log(&d));
	d.pid = -1;
}
