/*
 * test_probe_report.c — what the daemon saw, reported to upcase probe:
 * the exact records of a run (bytes, digest, FIN, reset, still open), kept
 * across workers; bad report lines cost only their connection; and the
 * judgements that rest on them, through a stand-in relay that drops what
 * the client sends after the server's FIN or names the wrong client in
 * its PROXY header, through HAProxy's send-proxy, and through socat
 * shut-none, which holds the client's FIN until its own close.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "harness.h"
#include "peers.h"
#include "relay.h"
#include "scenario.h"
#include "sock.h"

TestSuite(report, .timeout = 180);

static struct daemon d;
static char out[65536];

/* The daemon, with listen (and opt, an -o, when not NULL). */
static void
start(const char *listen, const char *opt)
{
	const char *args[] = { "-f", "-c", "/dev/null", "-o", listen,
	    "-o", "log_level=debug", opt != NULL ? "-o" : NULL, opt, NULL };

	daemon_start_args(&d, args);
}

/* The daemon's report of run (hex), read on a connection of its own
 * (fin: the line comes with the client's FIN). */
static const char *
report_with(const char *run, bool fin)
{
	static char text[65536];
	char line[64];
	ssize_t n;
	int fd = daemon_connect(&d);

	snprintf(line, sizeof(line), "UPCASE-PROBE/1 report=%s\n", run);
	cr_assert_eq(write_all(fd, line, strlen(line), DEADLINE_MS), 0);
	if (fin)
		shutdown(fd, SHUT_WR);
	n = read_all(fd, text, sizeof(text) - 1, DEADLINE_MS);
	cr_assert_geq(n, 0, "report: %s", strerror(errno));
	text[n] = '\0';
	close(fd);
	return text;
}

static const char *
report(const char *run)
{
	return report_with(run, false);
}

/* Ask until the report holds needle (the daemon's side of a connection
 * changes as its events come): the report, or a failed test. */
static const char *
report_holding(const char *run, const char *needle)
{
	long long until = now_ms() + DEADLINE_MS;
	const char *text;

	while (strstr(text = report(run), needle) == NULL) {
		cr_assert_lt(now_ms(), until, "no '%s' in:\n%s", needle, text);
		poll(NULL, 0, 10);
	}
	return text;
}

/* A connection that opens with line, sends data, and has it back. */
static int
exchanged(const char *line, const char *data)
{
	char got[64];
	int fd = daemon_connect(&d);
	size_t n = strlen(data);

	cr_assert_eq(write_all(fd, line, strlen(line), DEADLINE_MS), 0);
	cr_assert_eq(write_all(fd, data, n, DEADLINE_MS), 0);
	cr_assert_eq(read(fd, got, n), (ssize_t)n);
	return fd;
}

Test(report, says_exactly_what_the_daemon_saw)
{
	char want[256], local[64], got[16];
	const char *text;
	int done, open, reset, other;

	start("listen=127.0.0.1:0 probe", NULL);
	done = exchanged("UPCASE-PROBE/1 run=feed conn=1\n", "hello");
	shutdown(done, SHUT_WR);
	cr_assert_eq(read_all(done, got, sizeof(got), DEADLINE_MS), 0);
	cr_assert_eq(addr_local(done, local, sizeof(local)), 0);
	open = exchanged("UPCASE-PROBE/1 run=feed conn=2\n", "abc");
	reset = exchanged("UPCASE-PROBE/1 run=feed conn=3\n", "xyz");
	setsockopt(reset, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
	    sizeof(struct linger));
	close(reset);
	other = exchanged("UPCASE-PROBE/1 run=beef conn=1\n", "other");

	text = report_holding("feed", "conn=3 state=reset");
	cr_assert_eq(strncmp(text, "UPCASE-PROBE/1 REPORT run=000000000000feed "
	    "records=3 open=1 idle_timeout=60000 drain_timeout=60000 "
	    "proxy_protocol=no\n", 117), 0, "%s", text);
	snprintf(want, sizeof(want), "conn=1 state=done received=5 "
	    "digest=%016llx sent=5 eof_ms=", (unsigned long long)
	    scenario_digest(SCENARIO_DIGEST_INIT, "hello", 5));
	cr_assert_not_null(strstr(text, want), "%s\nin:\n%s", want, text);
	snprintf(want, sizeof(want), " source=%s\n", local);
	cr_assert_not_null(strstr(text, want), "%s\nin:\n%s", want, text);
	snprintf(want, sizeof(want), "conn=2 state=open received=3 "
	    "digest=%016llx sent=3 eof_ms=- end_ms=- ", (unsigned long long)
	    scenario_digest(SCENARIO_DIGEST_INIT, "abc", 3));
	cr_assert_not_null(strstr(text, want), "%s\nin:\n%s", want, text);
	cr_assert_not_null(strstr(text, "conn=3 state=reset received=3 "),
	    "%s", text);
	cr_assert_eq(strstr(text, "other"), NULL, "%s", text);
	cr_assert_eq(count_in(text, "\n"), 5, "%s", text);
	cr_assert_eq(strcmp(text + strlen(text) - 4, "END\n"), 0, "%s", text);

	/* The other run's one record (its line ending with the client's
	 * FIN: a preamble whole at the FIN is still answered), and the open
	 * one's end. */
	cr_assert_not_null(strstr(report_with("beef", true),
	    "records=1 open=1"));
	shutdown(open, SHUT_WR);
	cr_assert_eq(read_all(open, got, sizeof(got), DEADLINE_MS), 0);
	report_holding("feed", "conn=2 state=done");
	close(done);
	close(open);
	close(other);
	daemon_stop(&d);
}

/* The pid of the worker whose log line announced run's connection
 * conn. */
static pid_t
worker_of(unsigned conn)
{
	char needle[64];
	const char *at, *log;
	long pid = -1;

	snprintf(needle, sizeof(needle), "run=000000000000ca11 conn=%u\n",
	    conn);
	cr_assert_not_null(daemon_wait_log(&d, needle, DEADLINE_MS));
	log = daemon_log(&d);
	at = strstr(log, needle);
	while (at > log && at[-1] != '\n')
		at--;
	at = strstr(at, "(pid ");
	cr_assert(at != NULL && sscanf(at, "(pid %ld)", &pid) == 1, "%s",
	    log);
	return (pid_t)pid;
}

static pid_t stopped[2];		/* continued whatever the test's end */

static void
continue_workers(void)
{
	for (int i = 0; i < 2; i++)
		if (stopped[i] > 0)
			kill(stopped[i], SIGCONT);
}

/* A worker stopped (SIGSTOP), once its state says so, until
 * stop_worker(pid, false). (Asleep in epoll_wait it cannot be woken, so
 * the kernel wakes the other for a new connection.) */
static void
stop_worker(pid_t pid, bool stop)
{
	long long until = now_ms() + DEADLINE_MS;
	char path[64], state = '?';

	if (stop)
		stopped[stopped[0] > 0] = pid;
	kill(pid, stop ? SIGSTOP : SIGCONT);
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	while (stop) {
		const char *stat = read_text(path), *at = strrchr(stat, ')');

		if (at != NULL && sscanf(at, ") %c", &state) == 1 &&
		    state == 'T')
			return;
		cr_assert_lt(now_ms(), until, "worker %ld not stopped: %c",
		    (long)pid, state);
		poll(NULL, 0, 5);
	}
}

/*
 * Records are kept where every worker writes and any reads: with the
 * worker that took the first connections stopped, the other takes the
 * next and answers the report, which lists both; then the other way
 * round.
 */
Test(report, workers_see_each_others_records, .fini = continue_workers)
{
	char line[64];
	int fds[4];
	pid_t first, second;

	start("listen=127.0.0.1:0 probe", "workers=2");
	fds[0] = exchanged("UPCASE-PROBE/1 run=ca11 conn=1\n", "hi");
	first = worker_of(1);
	stop_worker(first, true);
	fds[1] = exchanged("UPCASE-PROBE/1 run=ca11 conn=2\n", "hi");
	second = worker_of(2);
	cr_assert_neq(first, second);
	cr_assert_not_null(strstr(report("ca11"), "records=2 open=2 "));
	stop_worker(first, false);
	stop_worker(second, true);
	for (int i = 3; i <= 4; i++) {
		snprintf(line, sizeof(line), "UPCASE-PROBE/1 run=ca11 "
		    "conn=%d\n", i);
		fds[i - 1] = exchanged(line, "hi");
		cr_assert_eq(worker_of((unsigned)i), first);
	}
	cr_assert_not_null(strstr(report("ca11"), "records=4 open=4 "));
	stop_worker(second, false);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	daemon_stop(&d);
}

Test(report, bad_lines_cost_only_their_connection)
{
	static const char *const bad[] = {
		"UPCASE-PROBE/1 report=feed conn=1\n",
		"UPCASE-PROBE/1 report=0\n",
		"UPCASE-PROBE/1 report=xyz\n",
		"UPCASE-PROBE/1 run=12345678901234567\n",
		"UPCASE-PROBE/1 conn=5\n",
		"UPCASE-PROBE/1 run=1 conn=4294967296\n",
	};
	char got[64];
	int held;

	start("listen=127.0.0.1:0 probe", NULL);
	held = exchanged("UPCASE-PROBE/1 run=1 conn=1\n", "first");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = daemon_connect(&d);
		ssize_t n;

		cr_assert_eq(write_all(fd, bad[i], strlen(bad[i]),
		    DEADLINE_MS), 0);
		n = read_all(fd, got, sizeof(got), DEADLINE_MS);
		cr_assert(n == 0 || (n == -1 && errno == ECONNRESET),
		    "'%s' was answered: %zd", bad[i], n);
		close(fd);
	}
	expect_echo(held, " and the rest");
	cr_assert_not_null(daemon_wait_log(&d, "bad_header: report= takes no "
	    "other key", DEADLINE_MS), "%s", daemon_log(&d));
	cr_assert_eq(daemon_count_log(&d, ": bad_header: "), 6, "%s",
	    daemon_log(&d));
	report_holding("1", "records=1 open=0 ");
	report_holding("1", "conn=1 state=done received=18 ");
	daemon_stop(&d);
}

/* upcase probe -a addr --case cases, quick settings, JSON: its status. */
static int
probe(const char *addr, const char *cases)
{
	const char *args[] = { "probe", "-a", addr, "--json", "--case", cases,
	    "--repeat", "1", "--timeout", "2s", NULL };

	return run(upcase_path(), args, out, sizeof(out));
}

/* The verdict of case id in the JSON, and its detail holds detail. */
static void
expect_case(const char *id, const char *verdict, const char *detail)
{
	char key[32], want[48];
	const char *at, *next;

	snprintf(key, sizeof(key), "{\"id\": \"%s\"", id);
	snprintf(want, sizeof(want), "\"verdict\": \"%s\"", verdict);
	cr_assert_not_null(at = strstr(out, key), "no %s:\n%s", id, out);
	next = strstr(at + 1, "{\"id\": ");
	cr_assert(strstr(at, want) != NULL && (next == NULL ||
	    strstr(at, want) < next), "%s is not %s:\n%s", id, verdict, out);
	cr_assert(detail == NULL || (strstr(at, detail) != NULL &&
	    (next == NULL || strstr(at, detail) < next)), "%s does not say "
	    "'%s':\n%s", id, detail, out);
}

/* What the client alone cannot see: the bytes it sent after the server's
 * FIN came back as a clean end, and never reached the server. */
Test(report, bytes_dropped_after_the_servers_fin_are_caught)
{
	char addr[64];
	pid_t relay;

	start("listen=127.0.0.1:0 probe", NULL);
	relay = stand_in_relay(&d, NULL, FLAW_DROP, 0, addr, sizeof(addr));
	cr_assert_eq(probe(addr, "HC1,HC4,CN1"), 1, "%s", out);
	expect_case("HC1", "pass", NULL);
	expect_case("HC4", "fail", "then our FIN: a clean end; the daemon "
	    "received 1024 of 66560");
	expect_case("CN1", "fail", "the daemon received 0 of 16");
	cr_assert_not_null(strstr(out, "\"digest_ok\": false"), "%s", out);
	stop_relay(relay);
	daemon_stop(&d);
}

/* A relay still forwarding when the client's side has ended (it holds
 * each copy to the server 500 ms once the server has half-closed) is
 * waited for: the daemon's side has received everything once it ends,
 * and HC4 passes. */
Test(report, the_daemons_side_is_waited_for)
{
	char addr[64];
	pid_t relay;

	start("listen=127.0.0.1:0 probe", NULL);
	relay = stand_in_relay(&d, NULL, FLAW_NONE, 500, addr, sizeof(addr));
	cr_assert_eq(probe(addr, "HC4"), 0, "%s", out);
	expect_case("HC4", "pass", "the daemon received 66560 of 66560");
	stop_relay(relay);
	daemon_stop(&d);
}

/* A relay that ends the client's side at its FIN and keeps the server's
 * open for ever: every exchange looks whole to the client, and LT2 and
 * LT3 find the server's sides left open. */
Test(report, server_sides_left_open_are_found)
{
	char addr[64];
	pid_t relay;

	start("listen=127.0.0.1:0 probe", NULL);
	relay = stand_in_relay(&d, NULL, FLAW_LEAK, 0, addr, sizeof(addr));
	cr_assert_eq(probe(addr, "HC1,LT2,LT3"), 1, "%s", out);
	expect_case("LT2", "fail", "the daemon's side still open");
	expect_case("LT3", "fail", "8 exchanges: 8 of them still open");
	cr_assert_not_null(strstr(out, "\"pattern\": \"upstream-left-open\""),
	    "%s", out);
	cr_assert_eq(json_number(out, "left_open"), 8, "%s", out);
	stop_relay(relay);
	daemon_stop(&d);
}

/* A path that cannot carry a report (it holds the server's FIN until the
 * client's, and a report ends with the server's): the reports are read
 * straight at --direct, and the cases that need them still run. Without
 * --direct they are unsupported, and the run says why. */
Test(report, a_path_that_cannot_carry_a_report_is_bypassed_with_direct)
{
	char addr[64];
	pid_t relay;

	start("listen=127.0.0.1:0 probe", NULL);
	relay = stand_in_relay(&d, NULL, FLAW_HOLD_FIN, 0, addr, sizeof(addr));
	const char *args[] = { "probe", "-a", addr, "--direct", d.addr,
	    "--json", "--case", "HC1,RS2", "--repeat", "1", "--timeout", "1s",
	    NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\"server_reports\": \"direct\""),
	    "%s", out);
	expect_case("HC1", "pass", "the daemon received 16 of 16");
	expect_case("RS2", "non-strict", "our reset reached the daemon as a "
	    "FIN");
	cr_assert_eq(probe(addr, "RS2"), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\"server_reports\": false"), "%s",
	    out);
	expect_case("RS2", "unsupported", "no report of what the daemon saw "
	    "came back");
	stop_relay(relay);
	daemon_stop(&d);
}

/* HAProxy mode tcp in front of the daemon, its server line ending in
 * opts ("send-proxy"); the front's address into addr. */
static pid_t
haproxy_in_front(const char *opts, char *addr, size_t addrlen)
{
	char conf[512];
	struct sockaddr_storage front;
	socklen_t len;
	int fd = inheritable_listener(&front, &len);
	pid_t pid;

	snprintf(addr, addrlen, "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&front)->sin_port));
	snprintf(conf, sizeof(conf), "defaults\n    mode tcp\n    timeout "
	    "connect 5s\n    timeout client 30s\n    timeout server 30s\n"
	    "frontend probe\n    bind fd@%d\n    default_backend upcased\n"
	    "backend upcased\n    server u %s %s\n", fd, d.addr, opts);
	write_file(daemon_file(&d, "haproxy.cfg"), conf);
	pid = start_haproxy(d.dir, daemon_file(&d, "haproxy.cfg"));
	close(fd);
	return pid;
}

/* PP1: the header must name the client; a relay that names another
 * fails, HAProxy's send-proxy passes, and a listener that reads no
 * header makes it unsupported. */
Test(report, the_proxy_header_must_name_the_client)
{
	char addr[64];
	pid_t relay;

	start("listen=127.0.0.1:0 probe proxy_protocol", NULL);
	relay = stand_in_relay(&d, "PROXY TCP4 192.0.2.1 127.0.0.1 1234 80\r\n",
	    FLAW_NONE, 0, addr, sizeof(addr));
	cr_assert_eq(probe(addr, "PP1,PP2,HC1"), 1, "%s", out);
	expect_case("HC1", "pass", NULL);
	expect_case("PP1", "fail", "the PROXY header named 192.0.2.1:1234; "
	    "the client is 127.0.0.1:");
	expect_case("PP2", "fail", "the PROXY header named 192.0.2.1:1234");
	stop_relay(relay);

	relay = haproxy_in_front("send-proxy", addr, sizeof(addr));
	cr_assert_eq(probe(addr, "proxy"), 0, "%s", out);
	expect_case("PP1", "pass", "the PROXY header named the client, "
	    "127.0.0.1:");
	expect_case("PP2", "pass", "the PROXY header named the client, "
	    "127.0.0.1:");
	stop_peer(relay, "haproxy");
	daemon_stop(&d);

	start("listen=127.0.0.1:0 probe", NULL);
	cr_assert_eq(probe(d.addr, "PP1"), 0, "%s", out);
	expect_case("PP1", "unsupported", "reads no PROXY header");
	daemon_stop(&d);
}

/* socat shut-none never passes the client's FIN on: the daemon reads it
 * only at socat's own close, half a second later, which HC1 grades. */
Test(report, a_fin_held_until_the_relays_close_is_seen)
{
	char target[160], addr[64];
	struct sockaddr_storage front;
	socklen_t len;
	pid_t pid;

	start("listen=127.0.0.1:0 probe", NULL);
	snprintf(target, sizeof(target), "%s,shut-none", d.addr);
	pid = start_socat(target, NULL, &front, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&front)->sin_port));
	cr_assert_eq(probe(addr, "HC1,RS2"), 0, "%s", out);
	expect_case("HC1", "non-strict", "our FIN reached the daemon only "
	    "after");
	cr_assert_not_null(strstr(out, "\"pattern\": \"timer-after-fin\""),
	    "%s", out);
	cr_assert_geq(json_number(out, "fin_to_server_ms"), 400, "%s", out);
	expect_case("RS2", "non-strict", "our reset reached the daemon as a "
	    "FIN");
	stop_peer(pid, "socat");
	daemon_stop(&d);
}

/* RS4: a close with the echo unread is a reset from the client's TCP;
 * straight, the daemon sees that reset; through a relay that ends its
 * upstream side with a FIN, a FIN; through one that keeps it open, it
 * fails. */
Test(report, a_close_with_unread_data_is_reported_as_the_daemon_saw_it)
{
	char addr[64];
	pid_t relay;

	start("listen=127.0.0.1:0 probe", NULL);
	cr_assert_eq(probe(d.addr, "RS4"), 0, "%s", out);
	expect_case("RS4", "info", "our close with the echo unread (a reset) "
	    "reached the daemon as a reset");
	cr_assert_geq(json_number(out, "server_end_ms"), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\"state\": \"reset\""), "%s", out);
	relay = stand_in_relay(&d, NULL, FLAW_NONE, 0, addr, sizeof(addr));
	cr_assert_eq(probe(addr, "RS4"), 0, "%s", out);
	expect_case("RS4", "info", "reached the daemon as a FIN");
	stop_relay(relay);
	relay = stand_in_relay(&d, NULL, FLAW_LEAK, 0, addr, sizeof(addr));
	cr_assert_eq(probe(addr, "RS4"), 1, "%s", out);
	expect_case("RS4", "fail", "then the daemon's side still open");
	cr_assert_not_null(strstr(out, "\"pattern\": \"upstream-left-open\""),
	    "%s", out);
	stop_relay(relay);
	daemon_stop(&d);
}

/* FL3 and FL4: a relay that throws away what the socket it copies to
 * cannot take at once loses bytes to a slow reader at either end, while
 * a short exchange passes through it whole. */
Test(report, a_relay_that_drops_what_does_not_fit_fails_the_slow_readers)
{
	char addr[64];
	pid_t relay;

	start("listen=127.0.0.1:0 probe", NULL);
	relay = stand_in_relay(&d, NULL, FLAW_OVERFLOW, 0, addr, sizeof(addr));
	cr_assert_eq(probe(addr, "HC1,FL3,FL4"), 1, "%s", out);
	expect_case("HC1", "pass", "16 of 16 bytes back");
	expect_case("FL3", "fail", " of 16777216 bytes back, then EOF");
	expect_case("FL4", "fail", " of 16777216 bytes back, then EOF");
	stop_relay(relay);
	daemon_stop(&d);
}

/*
 * A probe listener that reads PROXY headers, reached straight (--direct)
 * for the controls and PP3: every connection there opens with a header
 * of the probe's own, never a line the listener would refuse; PP3's
 * version 2 LOCAL header is taken as a relay's check. A listener that
 * reads none makes PP3 unsupported.
 */
Test(report, a_proxied_listener_is_reached_straight_with_a_header)
{
	char addr[64];
	pid_t relay;

	start("listen=127.0.0.1:0 probe proxy_protocol", NULL);
	relay = haproxy_in_front("send-proxy-v2", addr, sizeof(addr));
	const char *args[] = { "probe", "-a", addr, "--direct", d.addr,
	    "--json", "--case", "HC1,proxy", "--repeat", "1", "--timeout",
	    "2s", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	expect_case("HC1", "pass", NULL);
	expect_case("PP1", "pass", "the PROXY header named the client");
	expect_case("PP3", "pass", "the LOCAL header was taken as a check");
	/* PP3 goes straight there anyway: no control of its own. */
	cr_assert_eq(count_in(out, "\"control\": \"pass\""), 3, "%s", out);
	cr_assert_eq(daemon_count_log(&d, "bad PROXY header"), 0, "%s",
	    daemon_log(&d));
	stop_peer(relay, "haproxy");
	daemon_stop(&d);

	start("listen=127.0.0.1:0 probe", NULL);
	const char *plain[] = { "probe", "-a", d.addr, "--direct", d.addr,
	    "--json", "--case", "PP3", NULL };
	cr_assert_eq(run(upcase_path(), plain, out, sizeof(out)), 0, "%s", out);
	expect_case("PP3", "unsupported", "the probe listener reads no PROXY "
	    "header");
	daemon_stop(&d);
}

/* Relays that corrupt, duplicate or reset: every case ends within the
 * announced bound with a verdict and what was seen, small exchanges
 * through them pass, and the exit status is a fail's. FL2's 1 MiB, not
 * HC2's 64 MiB, for the first two (the stand-in writes blocking, and would
 * stall); HC2 for the reset, which comes while the client is still
 * sending: told to its send, not to a recv, it must still be a reset. */
Test(report, relays_that_corrupt_duplicate_or_reset_are_bounded)
{
	static const struct {
		enum relay_flaw flaw;
		const char *id, *seen;		/* the case, and its detail */
	} flawed[] = {
		{ FLAW_CORRUPT, "FL2",
		    "was not the echo (began \\\"CAPITALIZE THIS!" },
		{ FLAW_DUPLICATE, "FL2", " of 1048576 bytes back, then EOF" },
		{ FLAW_RESET, "HC2", " bytes back, then a reset at " },
	};
	char addr[64], cases[16], key[32];
	pid_t relay;

	start("listen=127.0.0.1:0 probe", NULL);
	for (size_t i = 0; i < sizeof(flawed) / sizeof(flawed[0]); i++) {
		relay = stand_in_relay(&d, NULL, flawed[i].flaw, 0, addr,
		    sizeof(addr));
		snprintf(cases, sizeof(cases), "HC1,%s", flawed[i].id);
		cr_assert_eq(probe(addr, cases), 1, "%s", out);
		expect_case("HC1", "pass", NULL);
		expect_case(flawed[i].id, "fail", flawed[i].seen);
		cr_assert_leq(json_number(out, "elapsed_s"),
		    json_number(out, "worst_case_s"), "%s", out);
		snprintf(key, sizeof(key), "{\"id\": \"%s\"", flawed[i].id);
		if (flawed[i].flaw == FLAW_DUPLICATE)	/* more than sent */
			cr_assert_gt(json_number(strstr(out, key), "received"),
			    1048576, "%s", out);
		stop_relay(relay);
	}
	daemon_stop(&d);
}
