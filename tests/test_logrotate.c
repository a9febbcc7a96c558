/*
 * test_logrotate.c — the real logrotate, on a configuration made from the
 * shipped conf/upcased.logrotate, rotates the access log of a daemon (two
 * workers) that serves clients one after another meanwhile: the old file
 * holds whole lines only, the new one the lines after, and together they
 * hold one line for every connection served.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "peers.h"

TestSuite(logrotate, .timeout = 120);

#define LOGROTATE	"/usr/sbin/logrotate"

/*
 * The client, in a child: 1 KiB exchanges one after another, every byte
 * checked, until stop becomes readable (its other end closed); a byte to
 * ready after the first ten. Writes how many it made to count, and exits
 * with the failures.
 */
static void
churn(const struct sockaddr_storage *ss, socklen_t len, int ready, int stop,
    int count)
{
	unsigned char src[1024], want[1024], got[1025];
	struct pollfd p = { .fd = stop, .events = POLLIN };
	unsigned long n = 0;
	int failures = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fill_pattern(src, sizeof(src), 47);
	memcpy(want, src, sizeof(src));
	reference_upper(want, sizeof(want));
	while (poll(&p, 1, 0) == 0) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ssize_t got_n = -1;

		if (connect(fd, (const struct sockaddr *)ss, len) == 0)
			got_n = exchange(fd, src, sizeof(src), got,
			    sizeof(got), sizeof(src), DEADLINE_MS);
		if (got_n != (ssize_t)sizeof(src) ||
		    memcmp(got, want, sizeof(want)) != 0) {
			fprintf(stderr, "exchange %lu: %zd bytes (%s)\n", n,
			    got_n, strerror(errno));
			failures++;
		}
		close(fd);
		if (++n == 10 && write(ready, "r", 1) != 1)
			_exit(100);
	}
	if (write(count, &n, sizeof(n)) != sizeof(n))
		_exit(101);
	_exit(failures > 99 ? 99 : failures);
}

/* Lines in path, each an access line ending in end=done, the file ending
 * with the last one's newline. */
static unsigned long
count_whole_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lines = 0;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		cr_assert(n > 20 && strncmp(line, "time=", 5) == 0 &&
		    strcmp(line + n - 10, " end=done\n") == 0,
		    "%s, line %lu is not a whole access line: '%s'", path,
		    lines + 1, line);
		lines++;
	}
	free(line);
	fclose(f);
	return lines;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

Test(logrotate, rotating_under_load_loses_and_splits_no_line)
{
	struct daemon d = { 0 };
	char access[160], pidfile[160], logs[160], conf[160], state[160],
	    rotated[160], reopen[PATH_MAX + 200], access_arg[200],
	    pid_arg[200], out[4096], byte;
	int ready[2], stop[2], count[2];
	unsigned long made, old_lines, new_lines;
	double served;
	struct stat st;
	pid_t client;

	daemon_init(&d);
	snprintf(access, sizeof(access), "%s", daemon_file(&d, "access.log"));
	snprintf(rotated, sizeof(rotated), "%s", daemon_file(&d, "access.log.1"));
	snprintf(pidfile, sizeof(pidfile), "%s", daemon_file(&d,
	    "upcased.pid"));
	snprintf(logs, sizeof(logs), "%s/*.log", d.dir);
	snprintf(conf, sizeof(conf), "%s", daemon_file(&d, "logrotate.conf"));
	snprintf(state, sizeof(state), "%s", daemon_file(&d,
	    "logrotate.state"));
	snprintf(access_arg, sizeof(access_arg), "access_log=%s", access);
	snprintf(pid_arg, sizeof(pid_arg), "pidfile=%s", pidfile);
	daemon_start_metered(&d, "-o", "workers=2", "-o", access_arg, "-o",
	    pid_arg, NULL);

	/* The shipped configuration, for this daemon: its directory, its
	 * binary and pidfile; root instead of the package's user. */
	cr_assert_not_null(realpath(upcased_path(), out), "%s",
	    upcased_path());
	snprintf(reopen, sizeof(reopen), "%s -c /dev/null -o pidfile=%s", out,
	    pidfile);
	const char *pairs[] = { "/var/log/upcased/*.log", logs,
	    "su upcased upcased", "su root root",
	    "create 0640 upcased upcased", "create 0640 root root",
	    "/usr/sbin/upcased -c /etc/upcased/upcased.conf -o "
	    "pidfile=/run/upcased/upcased.pid", reopen, NULL };
	edited_copy("conf/upcased.logrotate", conf, pairs);

	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(stop, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(count, O_CLOEXEC), 0);
	client = fork();
	cr_assert_geq(client, 0);
	if (client == 0) {
		close(stop[1]);
		churn(&d.ss, d.sslen, ready[1], stop[0], count[1]);
	}
	close(ready[1]);
	close(stop[0]);
	close(count[1]);
	cr_assert_eq(read(ready[0], &byte, 1), 1, "the clients did not start");

	/* Rotated while clients come and go. */
	cr_assert_gt(file_size(access), 0);
	const char *args[] = { "-f", "-s", state, conf, NULL };
	cr_assert_eq(run(LOGROTATE, args, out, sizeof(out)), 0,
	    "logrotate: %s", out);
	cr_assert_str_eq(out, "", "logrotate said something");
	cr_assert(daemon_wait_count(&d, "): logs reopened", 2, DEADLINE_MS),
	    "the workers did not reopen:\n%s", daemon_log(&d));
	/* The new file takes the next lines: a few of them, then stop. */
	for (long long deadline = now_ms() + DEADLINE_MS;
	    file_size(access) < 10 * 100; usleep(10 * 1000))
		cr_assert_lt(now_ms(), deadline, "nothing in the new %s",
		    access);
	close(stop[1]);
	cr_assert_eq(read(count[0], &made, sizeof(made)), sizeof(made));
	expect_exit(wait_exit(client, NULL, DEADLINE_MS), 0, "the clients "
	    "(the status counts failed exchanges)");
	daemon_wait_open(&d, 0);	/* every access line written */
	served = daemon_counter(&d, daemon_sample_of(&d,
	    "upcased_connections_accepted_total"));

	old_lines = count_whole_lines(rotated);
	new_lines = count_whole_lines(access);
	cr_log_info("%lu connections (the metrics: %g): %lu lines in "
	    "access.log.1, %lu in access.log", made, served, old_lines,
	    new_lines);
	cr_assert_eq(served, (double)made);
	cr_assert_eq(old_lines + new_lines, made, "%lu + %lu lines for %lu "
	    "connections", old_lines, new_lines, made);
	cr_assert_gt(old_lines, 0);
	cr_assert_gt(new_lines, 0);
	cr_assert_eq(daemon_counter(&d,
	    "upcased_access_log_dropped_lines_total"), 0);
	/* delaycompress: nothing compressed yet; create: the new file's
	 * mode. */
	cr_assert_eq(file_size(daemon_file(&d, "access.log.1.gz")), -1);
	cr_assert_eq(stat(access, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "access.log is %o",
	    st.st_mode & 07777);
	daemon_stop(&d);
}
