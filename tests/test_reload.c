/*
 * test_reload.c — SIGHUP applies a new configuration whole (timeouts for
 * open connections, listeners added and removed, established connections
 * kept), or rejects a bad one and keeps serving on the old; old workers
 * that never finish are killed. SIGUSR1 reopens the log.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "scrape.h"

TestSuite(reload, .timeout = 120);

static void
start_with(struct daemon *d, const char *text)
{
	static char path[PATH_MAX];

	daemon_init(d);
	snprintf(path, sizeof(path), "%s", daemon_file(d, "u.conf"));
	write_file(path, text);
	const char *args[] = { "-f", "-c", path, NULL };
	daemon_start_args(d, args);
}

/* One request and its answer on a connection that stays open. */
static void
round_trip(int fd, const char *msg, const char *want)
{
	char got[64];
	size_t n = strlen(msg);

	cr_assert_eq(write_all(fd, msg, n, DEADLINE_MS), 0);
	cr_assert_eq(read(fd, got, sizeof(got)), (ssize_t)n);
	cr_assert_eq(memcmp(got, want, n), 0);
}

static bool
refused(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool r = connect(fd, (const struct sockaddr *)ss, len) == -1 &&
	    errno == ECONNREFUSED;

	close(fd);
	return r;
}

Test(reload, applies_timeouts_and_listeners_keeping_connections)
{
	struct daemon d = { 0 };
	struct sockaddr_storage ss2;
	socklen_t len2;
	char addr2[128], buf[16];
	const char *line;
	int a;

	start_with(&d, "listen = 127.0.0.1:0\nidle_timeout = 1h\n"
	    "log_level = debug\n");
	a = daemon_connect(&d);
	round_trip(a, "before", "BEFORE");

	/* Move to another address, and make idle connections short-lived. */
	write_file(daemon_file(&d, "u.conf"), "listen = 127.0.0.2:0\n"
	    "idle_timeout = 500ms\nlog_level = debug\n");
	kill(d.pid, SIGHUP);
	line = daemon_wait_log(&d, "listening on 127.0.0.2:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, addr2, sizeof(addr2), &ss2, &len2);
	cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
	    DEADLINE_MS), "%s", daemon_log(&d));
	cr_assert_geq(daemon_count_log(&d, "no longer listening on 127.0.0.1"),
	    1, "%s", daemon_log(&d));

	/* The old address is gone, the new one serves. */
	cr_assert(refused(&d.ss, d.sslen), "old address still accepts");
	expect_echo(connect_to(&ss2, len2), "new");

	/* The connection from before still works, then times out under the
	 * new idle_timeout. */
	round_trip(a, "after", "AFTER");
	cr_assert_not_null(daemon_wait_log(&d, "idle_timeout", DEADLINE_MS),
	    "%s", daemon_log(&d));
	cr_assert_eq(read_all(a, buf, sizeof(buf), DEADLINE_MS), 0,
	    "expected EOF after the idle timeout");
	close(a);
	daemon_stop(&d);
}

Test(reload, bad_configuration_is_rejected_and_serving_goes_on)
{
	struct daemon d = { 0 }, other = { 0 };
	char text[512], want[512];

	start_with(&d, "listen = 127.0.0.1:0\nlog_level = debug\n");

	/* A syntax error: named with its line, nothing applied. */
	write_file(daemon_file(&d, "u.conf"), "listen = 127.0.0.1:0\n"
	    "idle_timeout = 100ms\nbacklog_low = soon\n");
	kill(d.pid, SIGHUP);
	snprintf(want, sizeof(want), "reload failed: %s:3: backlog_low: "
	    "'soon' is not a size", daemon_file(&d, "u.conf"));
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));

	/* An address that cannot be bound: the old listener stays. */
	daemon_start(&other, NULL);
	snprintf(text, sizeof(text), "listen = 127.0.0.1:0\nlisten = %s\n",
	    other.addr);
	write_file(daemon_file(&d, "u.conf"), text);
	kill(d.pid, SIGHUP);
	snprintf(want, sizeof(want), "reload failed: listen %s: Address "
	    "already in use; keeping the running configuration", other.addr);
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));
	daemon_stop(&other);

	/* A blob in the file's place: refused after a bounded read. */
	char *blob = malloc(2 << 20);
	cr_assert_not_null(blob);
	memset(blob, 'x', (2 << 20) - 1);
	blob[(2 << 20) - 1] = '\0';
	write_file(daemon_file(&d, "u.conf"), blob);
	free(blob);
	kill(d.pid, SIGHUP);
	snprintf(want, sizeof(want), "reload failed: %s:1: line longer than "
	    "4095 bytes; keeping the running configuration",
	    daemon_file(&d, "u.conf"));
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));

	/* A file anyone could have written: not read at all. */
	write_file(daemon_file(&d, "u.conf"), "listen = 127.0.0.1:0\n"
	    "idle_timeout = 100ms\n");
	cr_assert_eq(chmod(daemon_file(&d, "u.conf"), 0666), 0);
	kill(d.pid, SIGHUP);
	snprintf(want, sizeof(want), "reload failed: %s: refusing a "
	    "configuration others could change: the file is writable by "
	    "anyone (mode 0666); keeping the running configuration",
	    daemon_file(&d, "u.conf"));
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));

	expect_echo(daemon_connect(&d), "alive");
	cr_assert_eq(daemon_count_log(&d, "configuration reloaded"), 0);
	daemon_stop(&d);
}

Test(reload, sigusr1_reopens_the_log_file)
{
	struct daemon d = { 0 };
	char text[512], rotated[PATH_MAX];

	daemon_init(&d);
	snprintf(text, sizeof(text), "listen = 127.0.0.1:0\nlog_file = %s\n",
	    d.log_path);
	start_with(&d, text);
	snprintf(rotated, sizeof(rotated), "%s.1", d.log_path);
	cr_assert_eq(rename(d.log_path, rotated), 0);
	d.log_seen = 0;		/* read the new file from its start */
	kill(d.pid, SIGUSR1);
	/* The new file appears under the old name with the next line. */
	cr_assert_not_null(daemon_wait_log(&d, "logs reopened", DEADLINE_MS),
	    "no line in the reopened log");
	daemon_stop(&d);
}

/* A kept address takes its new options: the socket stays, the next
 * clients get the listener it has become. */
Test(reload, listener_options_change_in_place)
{
	static char answer[1 << 16];
	struct daemon d = { 0 };
	char text[256];
	int fd;

	start_with(&d, "listen = 127.0.0.1:0\n");
	snprintf(text, sizeof(text), "listen = %s metrics\n", d.addr);
	write_file(daemon_file(&d, "u.conf"), text);
	kill(d.pid, SIGHUP);
	cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
	    DEADLINE_MS), "%s", daemon_log(&d));
	cr_assert_eq(daemon_count_log(&d, "listening on"), 1, "rebound:\n%s",
	    daemon_log(&d));
	http_request(&d.ss, d.sslen, "GET /metrics HTTP/1.0\r\n\r\n", answer,
	    sizeof(answer));
	cr_assert_eq(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17), 0, "%s",
	    answer);
	cr_assert_not_null(strstr(answer, "\nupcased_reloads_total{result="
	    "\"ok\"} 1\n"), "%s", answer);

	snprintf(text, sizeof(text), "listen = %s proxy_protocol\n", d.addr);
	write_file(daemon_file(&d, "u.conf"), text);
	kill(d.pid, SIGHUP);
	cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
	    DEADLINE_MS), "%s", daemon_log(&d));
	fd = daemon_connect(&d);
	cr_assert_eq(exchange(fd, "PROXY UNKNOWN\r\nok", 17, answer,
	    sizeof(answer), 17, DEADLINE_MS), 2);
	cr_assert_eq(memcmp(answer, "OK", 2), 0);
	close(fd);
	daemon_stop(&d);
}

/* Workers retired by a reload that never finish (stopped here: SIGSTOP)
 * are killed once shutdown_timeout and the grace after it have passed,
 * as on a stop, so that none holds its counters slot for good. */
Test(reload, a_wedged_old_worker_is_killed_past_shutdown_timeout)
{
	struct daemon d = { 0 };
	pid_t old[8];
	int n;

	daemon_start(&d, "-o", "workers=2", "-o", "shutdown_timeout=1s",
	    NULL);
	cr_assert_not_null(daemon_wait_log(&d, "started 2 workers",
	    DEADLINE_MS), "%s", daemon_log(&d));
	n = proc_children(d.pid, old, 8);
	cr_assert_eq(n, 2);
	for (int i = 0; i < n; i++)
		cr_assert_eq(kill(old[i], SIGSTOP), 0);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert(daemon_wait_count(&d, "still running past shutdown_timeout: "
	    "killing it", 2, DEADLINE_MS), "%s", daemon_log(&d));
	cr_assert(daemon_wait_count(&d, "was killed by signal 9 (Killed) "
	    "while finishing", 2, DEADLINE_MS), "%s", daemon_log(&d));
	expect_echo(daemon_connect(&d), "the new ones serve");
	daemon_stop(&d);
}
