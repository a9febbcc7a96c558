/*
 * test_progress.c — upcase's progress (client/progress.c) on stderr: on a
 * terminal one line redrawn in place, forced into a pipe plain lines
 * without a control sequence, and in both a summary line that stays.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

TestSuite(progress, .timeout = 120);

/* Every byte of text is printable or a newline: no "\r", no escape. */
static void
expect_plain_lines(const char *text)
{
	for (const char *c = text; *c != '\0'; c++)
		cr_assert((*c >= 0x20 && *c < 0x7f) || *c == '\n',
		    "byte 0x%02x at %zd in:\n%s", (unsigned char)*c, c - text,
		    text);
}

/* The last line of text, which ends with a newline. */
static const char *
last_line(const char *text)
{
	const char *end = strrchr(text, '\n'), *line = end;

	cr_assert(end != NULL && end[1] == '\0', "no last line:\n%s", text);
	while (line > text && line[-1] != '\n')
		line--;
	return line;
}

/* The progress summary line, "sent S, received R in T s, X MiB/s", with
 * S and R as given. */
static void
expect_progress_summary(const char *line, const char *sent,
    const char *received)
{
	char want[128], rest[64];
	double seconds, rate;

	snprintf(want, sizeof(want), "sent %s, received %s in ", sent,
	    received);
	cr_assert_eq(strncmp(line, want, strlen(want)), 0, "%s", line);
	cr_assert_eq(sscanf(line + strlen(want), "%lf s, %lf %63[^\n]",
	    &seconds, &rate, rest), 3, "%s", line);
	cr_assert_str_eq(rest, "MiB/s", "%s", line);
}

/* --progress into a pipe: a plain line a second while it runs, and the
 * summary line at the end. */
Test(progress, into_a_pipe_is_plain_lines)
{
	struct daemon d = { 0 };
	char err[4096];
	int in[2], e[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	daemon_start(&d, NULL);
	const char *argv[] = { upcase_path(), "-a", d.addr, "--progress",
	    NULL };
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	/* A socket, for read_all; a non-terminal as a pipe is. */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e),
	    0);
	pid = spawn(argv, in[0], -1, e[1]);
	close(in[0]);
	close(e[1]);
	cr_assert_eq(write(in[1], "hello", 5), 5);
	/* While stdin stays open it runs: wait for a line. */
	while (memchr(err, '\n', len) == NULL) {
		struct pollfd p = { .fd = e[0], .events = POLLIN };

		cr_assert_eq(poll(&p, 1, DEADLINE_MS), 1, "no progress line");
		n = read(e[0], err + len, sizeof(err) - 1 - len);
		cr_assert_gt(n, 0);
		len += (size_t)n;
	}
	err[len] = '\0';
	cr_assert_eq(strncmp(err, "sent 5 B, received 5 B, ", 24), 0, "%s",
	    err);
	close(in[1]);
	n = read_all(e[0], err + len, sizeof(err) - 1 - len, DEADLINE_MS);
	cr_assert_geq(n, 0);
	err[len + (size_t)n] = '\0';
	close(e[0]);
	expect_exit(wait_exit(pid, NULL, DEADLINE_MS), 0, err);
	expect_plain_lines(err);
	expect_progress_summary(last_line(err), "5 B", "5 B");
	daemon_stop(&d);
}

/* The same for -n, and -q silences it. */
Test(progress, summary_after_the_check)
{
	struct daemon d = { 0 };
	char out[4096], err[4096];

	daemon_start(&d, NULL);
	const char *shown[] = { "-a", d.addr, "-n", "1m", "--progress", NULL };
	const char *quiet[] = { "-a", d.addr, "-n", "1m", "--progress", "-q",
	    NULL };
	cr_assert_eq(run_split(upcase_path(), shown, out, sizeof(out), err,
	    sizeof(err)), 0, "%s%s", out, err);
	expect_plain_lines(err);
	expect_progress_summary(last_line(err), "1.0 MiB", "1.0 MiB");
	cr_assert_eq(run_split(upcase_path(), quiet, out, sizeof(out), err,
	    sizeof(err)), 0, "%s%s", out, err);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err, "");
	daemon_stop(&d);
}

/* On a terminal: the line redrawn in place, then the summary, which
 * stays (the terminal turns "\n" into "\r\n"). */
Test(progress, on_a_terminal_ends_with_a_summary)
{
	struct daemon d = { 0 };
	char text[8192], *at;
	size_t len = 0;
	int master, slave;
	pid_t pid;

	daemon_start(&d, NULL);
	const char *argv[] = { upcase_path(), "-a", d.addr, "-n", "1m", NULL };
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(slave, 0);
	pid = spawn(argv, -1, -1, slave);
	close(slave);
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t n;

		cr_assert_eq(poll(&p, 1, DEADLINE_MS), 1, "%.*s", (int)len,
		    text);
		n = read(master, text + len, sizeof(text) - 1 - len);
		if (n <= 0)
			break;	/* EIO: the last holder of the slave left */
		len += (size_t)n;
	}
	text[len] = '\0';
	close(master);
	expect_exit(wait_exit(pid, NULL, DEADLINE_MS), 0, text);
	at = strstr(text, "\rsent 1.0 MiB, received 1.0 MiB in ");
	cr_assert_not_null(at, "%s", text);
	cr_assert_not_null(strstr(at, " MiB/s\033[K\r\n"), "%s", text);
	cr_assert_eq(strstr(at, "\r\n")[2], '\0', "%s", text);
	daemon_stop(&d);
}
