/*
 * test_access.c — the access log: one line per closed connection in the
 * documented format, reopened on SIGUSR1, and never a brake: a target that
 * takes nothing costs lines (counted), never a client's bytes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "scrape.h"

TestSuite(access, .timeout = 120);

static struct daemon d;

/* line is one access log line for bytes in and out, ended by end. */
static void
expect_line(const char *line, unsigned bytes, const char *end)
{
	int y, mo, da, h, mi, s, ms, zh, zm, port, lport, n = 0;
	unsigned long dur_s, dur_ms, in, out;
	char how[32];

	cr_assert_eq(sscanf(line, "time=%4d-%2d-%2dT%2d:%2d:%2d.%3d%*[+-]%2d:%2d "
	    "client=127.0.0.1:%d listener=127.0.0.1:%d duration=%lu.%3lu "
	    "bytes_in=%lu bytes_out=%lu end=%31[a-z_]\n%n", &y, &mo, &da, &h,
	    &mi, &s, &ms, &zh, &zm, &port, &lport, &dur_s, &dur_ms, &in, &out,
	    how, &n), 16, "not the format: %s", line);
	cr_assert_gt(n, 0, "no newline: %s", line);
	cr_assert_eq(lport, atoi(strrchr(d.addr, ':') + 1), "%s", line);
	cr_assert(in == bytes && out == bytes, "%s", line);
	cr_assert_str_eq(how, end);
}

Test(access, one_line_per_connection_reopened_on_sigusr1)
{
	char arg[160], path[128], moved[140];
	const char *text;

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "access.log"));
	snprintf(moved, sizeof(moved), "%s.1", path);
	snprintf(arg, sizeof(arg), "access_log=%s", path);
	daemon_start_metered(&d, "-o", arg, NULL);

	/* A line is written as its connection closes, counted. */
	expect_echo(daemon_connect(&d), "first");
	daemon_wait_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"done\"}", 1);
	text = read_text(path);
	expect_line(text, 5, "done");
	cr_assert_eq(strchr(text, '\n')[1], '\0', "more than one line: %s",
	    text);

	/* logrotate moves the file, then signals. */
	cr_assert_eq(rename(path, moved), 0);
	kill(d.pid, SIGUSR1);
	cr_assert_not_null(daemon_wait_log(&d, "logs reopened", DEADLINE_MS),
	    "%s", daemon_log(&d));
	expect_echo(daemon_connect(&d), "second!");
	daemon_wait_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"done\"}", 2);
	expect_line(read_text(path), 7, "done");
	expect_line(read_text(moved), 5, "done");
	daemon_stop(&d);
}

/*
 * The error log cannot be reopened (a directory stands at its path): the
 * access log is reopened all the same, and the error log says which one
 * failed, in the file it goes on writing to.
 */
Test(access, reopened_when_the_error_log_cannot_be)
{
	char arg[160], errarg[160], path[128], moved[140], first[96];
	const char *line;

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "access.log"));
	snprintf(moved, sizeof(moved), "%s.1", path);
	snprintf(arg, sizeof(arg), "access_log=%s", path);
	snprintf(errarg, sizeof(errarg), "log_file=%s", d.log_path);
	daemon_start_metered(&d, "-o", arg, "-o", errarg, NULL);
	expect_echo(daemon_connect(&d), "first");
	daemon_wait_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"done\"}", 1);

	/* Both rotated; only the access log's path can take a new file. */
	snprintf(first, sizeof(first), "%s", d.log_path);
	snprintf(d.log_path, sizeof(d.log_path), "%.80s.1", first);
	cr_assert_eq(rename(first, d.log_path), 0);
	cr_assert_eq(mkdir(first, 0700), 0);
	cr_assert_eq(rename(path, moved), 0);
	kill(d.pid, SIGUSR1);
	line = daemon_wait_log(&d, "cannot reopen", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_not_null(strstr(line, "cannot reopen log file "), "%s", line);
	cr_assert_not_null(strstr(line, ": Is a directory; it goes on to the "
	    "old file"), "%s", line);
	cr_assert_eq(rmdir(first), 0);

	expect_echo(daemon_connect(&d), "second!");
	daemon_wait_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"done\"}", 2);
	expect_line(read_text(path), 7, "done");
	expect_line(read_text(moved), 5, "done");
	cr_assert_eq(daemon_count_log(&d, "cannot reopen"), 1, "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}

/*
 * The access log on a pipe nobody reads: it fills after a few hundred
 * lines, and a thousand clients are still served every byte; what did not
 * fit is counted, and every line that did is whole.
 */
Test(access, a_full_pipe_drops_lines_not_bytes)
{
	struct sockaddr_storage mss;
	socklen_t mlen;
	char log_arg[160], maddr[128], *lines;
	static char samples[1 << 16];
	const char *line;
	int p[2];

	daemon_init(&d);
	snprintf(log_arg, sizeof(log_arg), "log_file=%s", d.log_path);
	const char *argv[] = { upcased_path(), "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", "listen=127.0.0.2:0 metrics", "-o",
	    log_arg, "-o", "access_log=stderr", "-o",
	    "listen_backlog=1024", NULL };
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	d.pid = spawn(argv, -1, -1, p[1]);
	close(p[1]);
	line = daemon_wait_log(&d, "listening on 127.0.0.1:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, d.addr, sizeof(d.addr), &d.ss, &d.sslen);
	line = daemon_wait_log(&d, "listening on 127.0.0.2:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, maddr, sizeof(maddr), &mss, &mlen);

	cr_assert_eq(load_run(&d.ss, d.sslen, 1000, 1024, DEADLINE_MS), 0);
	scrape(&mss, mlen, d.dir, samples, sizeof(samples));
	cr_assert_eq(sample(samples, "upcased_connections_closed_total"
	    "{reason=\"done\"}"), 1000, "%s", samples);
	cr_assert_gt(sample(samples, "upcased_access_log_dropped_lines_total"),
	    0, "%s", samples);

	/* What reached the pipe: whole lines only. */
	lines = malloc(1 << 17);
	cr_assert_not_null(lines);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	ssize_t n = read(p[0], lines, (1 << 17) - 1);
	cr_assert_gt(n, 0);
	lines[n] = '\0';
	for (char *l = lines; *l != '\0'; l = strchr(l, '\n') + 1) {
		cr_assert_not_null(strchr(l, '\n'), "a cut line: %s", l);
		expect_line(l, 1024, "done");
	}
	free(lines);
	close(p[0]);
	daemon_stop(&d);
}

/* A unix socket's client has no address: the line says client=unix. */
Test(access, a_unix_client_is_client_unix)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	char arg[160], listen[160], path[128], sock[100], want[256];

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "access.log"));
	snprintf(sock, sizeof(sock), "%s", daemon_file(&d, "u.sock"));
	snprintf(arg, sizeof(arg), "access_log=%s", path);
	snprintf(listen, sizeof(listen), "listen=unix:%s", sock);
	daemon_start_metered(&d, "-o", arg, "-o", listen, NULL);
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", sock);
	expect_echo(connect_to(&ss, sizeof(*sun)), "local");
	daemon_wait_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"done\"}", 1);
	snprintf(want, sizeof(want), " client=unix listener=unix:%s "
	    "duration=", sock);
	cr_assert_not_null(strstr(read_text(path), want), "%s",
	    read_text(path));
	cr_assert_not_null(strstr(read_text(path), " bytes_in=5 bytes_out=5 "
	    "end=done\n"), "%s", read_text(path));
	daemon_stop(&d);
}
