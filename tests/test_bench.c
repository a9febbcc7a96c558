/*
 * test_bench.c — upcase bench against the real daemon: every byte checked
 * and no errors, in every shape; errors counted (exit 1) against a server
 * that does not uppercase; --rate's exact count; and what it prints: JSON
 * alone on stdout, a line per --interval.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(bench, .timeout = 120);

Test(bench, two_hundred_connections_without_an_error)
{
	struct daemon d = { 0 };
	char out[4096];

	daemon_start(&d, NULL);
	const char *args[] = { "bench", "-a", d.addr, "-c", "200", "-n", "64k",
	    "--json", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	cr_assert_eq(json_number(out, "connections"), 200);
	cr_assert_eq(json_number(out, "bytes"), 200.0 * 65536, "%s", out);
	cr_assert_gt(json_number(out, "bytes_per_s"), 0);
	daemon_stop(&d);
}

Test(bench, pingpong_rounds)
{
	struct daemon d = { 0 };
	char out[4096];

	daemon_start(&d, NULL);
	const char *args[] = { "bench", "-a", d.addr, "-c", "20", "--pingpong", "512",
	    "--duration", "1", "--json", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	cr_assert_gt(json_number(out, "rounds"), 0, "%s", out);
	cr_assert_eq(json_number(out, "bytes"), json_number(out, "rounds") * 512, "%s",
	    out);
	cr_assert_geq(json_number(out, "max"), json_number(out, "p99"));
	cr_assert_geq(json_number(out, "p99"), json_number(out, "p50"));
	daemon_stop(&d);
}

/* Stop d; its exit line must count n connections served, all done. */
static void
expect_served_exactly(struct daemon *d, double n)
{
	char want[96];
	const char *log = daemon_stop_log(d);

	snprintf(want, sizeof(want), "connections served %.0f (done %.0f)", n,
	    n);
	cr_assert_not_null(strstr(log, want), "%s\n%s", want, log);
}

/* Churn: every slot opens its next connection once one is done; the
 * daemon served exactly the connections counted, each whole. */
Test(bench, churn_counts_every_connection)
{
	struct daemon d = { 0 };
	char out[4096];

	daemon_start(&d, NULL);
	const char *args[] = { "bench", "-a", d.addr, "-c", "8", "-n", "100",
	    "--churn", "--duration", "1", "--sources", "4", "--json", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	cr_assert_gt(json_number(out, "rounds"), 8, "%s", out);
	cr_assert_eq(json_number(out, "bytes"), json_number(out, "rounds") * 100, "%s",
	    out);
	cr_assert_not_null(strstr(out, "\"mode\":\"churn\""), "%s", out);
	expect_served_exactly(&d, json_number(out, "rounds"));
}

/* Open loop: the exchanges due in the duration all run, whatever their
 * speed, and the daemon served exactly those. */
Test(bench, rate_starts_every_exchange_due)
{
	struct daemon d = { 0 };
	char out[4096];

	daemon_start(&d, NULL);
	const char *args[] = { "bench", "-a", d.addr, "-c", "16", "-n", "100",
	    "--rate", "200", "--duration", "1", "--json", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\"mode\":\"rate\""), "%s", out);
	cr_assert_eq(json_number(out, "offered_per_s"), 200, "%s", out);
	/* Due at 0, 5 ms, ... 995 ms: R x D of them. */
	cr_assert_eq(json_number(out, "rounds"), 200, "%s", out);
	cr_assert_eq(json_number(out, "bytes"), json_number(out, "rounds") * 100, "%s",
	    out);
	expect_served_exactly(&d, json_number(out, "rounds"));
}

/* --hold: every connection is open before any sends (the daemon accepts
 * all twenty before it reads an EOF). */
Test(bench, hold_opens_every_connection_before_sending)
{
	struct daemon d = { 0 };
	const char *log, *first_eof, *at;
	char out[4096];
	int accepts = 0;

	daemon_start(&d, "-o", "log_level=debug", NULL);
	const char *args[] = { "bench", "-a", d.addr, "-c", "20", "-n", "64",
	    "--hold", "1", "--json", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	cr_assert_eq(json_number(out, "rounds"), 20, "%s", out);
	log = daemon_stop_log(&d);
	first_eof = strstr(log, "debug: eof fd");
	cr_assert_not_null(first_eof, "%s", log);
	for (at = log; (at = strstr(at, "debug: accept fd")) != NULL &&
	    at < first_eof; at++)
		accepts++;
	cr_assert_eq(accepts, 20, "%s", log);
}

/* SIGUSR1 ends a --hold of an hour: once all thirty are open (the
 * daemon's gauge), every one makes its round trip, and nothing is sent
 * before (none is closed while held). */
Test(bench, sigusr1_ends_the_hold)
{
	struct daemon d = { 0 };
	char out[4096];
	int pipefd[2];
	ssize_t n;
	size_t len = 0;

	daemon_start_metered(&d, NULL);
	cr_assert_eq(pipe(pipefd), 0);
	const char *argv[] = { upcase_path(), "bench", "-a", d.addr, "-c",
	    "30", "-n", "64", "--hold", "1h", "--json", NULL };
	pid_t pid = spawn(argv, -1, pipefd[1], -1);

	close(pipefd[1]);
	daemon_wait_open(&d, 30);
	cr_assert_eq(daemon_counter(&d, "upcased_received_bytes_total"), 0);
	cr_assert_eq(kill(pid, SIGUSR1), 0);
	expect_exit(wait_exit(pid, NULL, 60000), 0, "bench --hold 1h");
	while ((n = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pipefd[0]);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	cr_assert_eq(json_number(out, "rounds"), 30, "%s", out);
	daemon_stop(&d);
}

Test(bench, wrong_echo_is_counted)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char addr[64], out[4096];
	pid_t server = plain_echo_server(0, &ss, &len, addr, sizeof(addr));

	const char *args[] = { "bench", "-a", addr, "-c", "5", "-n", "1k", "--json",
	    NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 1, "%s", out);
	cr_assert_eq(json_number(out, "errors"), 5, "%s", out);
	cr_assert_not_null(strstr(out, "echo differs"), "%s", out);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
}

Test(bench, usage)
{
	const char *no_conns[] = { "bench", "-n", "1k", NULL };
	const char *both[] = { "bench", "-c", "1", "-n", "1k", "--pingpong", "1",
	    NULL };
	const char *churn[] = { "bench", "-c", "1", "-n", "1", "--churn",
	    NULL };
	const char *rate[] = { "bench", "-c", "1", "-n", "1", "--rate", "9",
	    "--churn", "--duration", "1", NULL };
	const char *sources[] = { "bench", "-a", "[::1]:1060", "-c", "1", "-n", "1",
	    "--sources", "4", NULL };
	char out[1024];

	cr_assert_eq(run(upcase_path(), no_conns, out, sizeof(out)), 2, "%s", out);
	cr_assert_not_null(strstr(out, "-c CONNS is required"), "%s", out);
	cr_assert_eq(run(upcase_path(), both, out, sizeof(out)), 2, "%s", out);
	cr_assert_eq(run(upcase_path(), churn, out, sizeof(out)), 2, "%s", out);
	cr_assert_not_null(strstr(out, "--churn needs --duration SECONDS"),
	    "%s", out);
	cr_assert_eq(run(upcase_path(), rate, out, sizeof(out)), 2, "%s", out);
	cr_assert_not_null(strstr(out, "--churn or --rate (one)"), "%s", out);
	cr_assert_eq(run(upcase_path(), sources, out, sizeof(out)), 2, "%s", out);
	cr_assert_not_null(strstr(out, "--sources needs an address in "
	    "127.0.0.0/8"), "%s", out);
}

/* R x D exchanges, floored: 3 a second for 1.5 s is 4 (due at 0, 1/3,
 * 2/3 and 1 s), not 5; and 1000 a second for 2 s exactly 2000. */
Test(bench, rate_starts_floor_of_r_times_d)
{
	static const struct {
		const char *rate, *duration;
		double want;
	} cases[] = {
		{ "3", "1500ms", 4 },
		{ "1000", "2", 2000 },
	};
	char out[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct daemon d = { 0 };

		daemon_start_metered(&d, NULL);
		const char *args[] = { "bench", "-a", d.addr, "-c", "32", "-n",
		    "16", "--rate", cases[i].rate, "--duration",
		    cases[i].duration, "--json", NULL };
		cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0,
		    "%s", out);
		cr_assert_eq(json_number(out, "rounds"), cases[i].want, "%s",
		    out);
		cr_assert_eq(daemon_counter(&d, daemon_sample_of(&d,
		    "upcased_connections_accepted_total")), cases[i].want,
		    "%s", out);
		expect_served_exactly(&d, cases[i].want);
	}
}

/* A strict parse of path's text: one JSON object and nothing else, with
 * bytes_per_s, not mb_per_s. Debian's python3 is there for the suite. */
static void
expect_json_object(const char *path)
{
	static const char check[] = "import json, sys\n"
	    "d = json.load(open(sys.argv[1]))\n"
	    "assert isinstance(d, dict), d\n"
	    "assert d['bytes_per_s'] > 0 and 'mb_per_s' not in d, d\n"
	    "assert d['version'], d\n"
	    "if 'intervals' in d:\n"
	    "    assert sum(i['rounds'] for i in d['intervals']) == "
	    "d['rounds'], d\n"
	    "print('ok')\n";
	const char *args[] = { "-c", check, path, NULL };
	char out[4096];

	cr_assert_eq(run("/usr/bin/python3", args, out, sizeof(out)), 0, "%s",
	    out);
	cr_assert_str_eq(out, "ok\n");
}

Test(bench, json_is_alone_on_stdout)
{
	struct daemon d = { 0 };
	char out[8192], err[4096], path[256];

	daemon_start(&d, NULL);
	const char *args[] = { "bench", "-a", d.addr, "-c", "4", "-n", "64k",
	    "--json", NULL };
	cr_assert_eq(run_split(upcase_path(), args, out, sizeof(out), err,
	    sizeof(err)), 0, "%s%s", out, err);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "json"));
	write_file(path, out);
	expect_json_object(path);
	/* The human line went to stderr. */
	cr_assert_eq(strncmp(err, "4 connections x 65536 bytes in ", 31), 0,
	    "%s", err);
	cr_assert_not_null(strstr(err, " MiB/s, latency p50 "), "%s", err);
	daemon_stop(&d);
}

/* The "from-to s: N what, ..." lines that begin text, each following the
 * last and at most interval long; returns how many. */
static int
expect_interval_lines(const char *text, const char *what, double interval)
{
	double from, to, prev_to = 0;
	unsigned long long count;
	char word[32];
	int lines = 0;

	for (const char *l = text; l != NULL && sscanf(l, "%lf-%lf s: %llu "
	    "%31[a-z],", &from, &to, &count, word) == 4; lines++) {
		const char *end = strchr(l, '\n');

		cr_assert_not_null(end, "%s", text);
		cr_assert_str_eq(word, what, "%s", text);
		cr_assert_float_eq(from, prev_to, 0.005, "%s", text);
		cr_assert_leq(to - from, interval + 0.005, "%s", text);
		cr_assert_not_null(strstr(l, " MiB/s, "), "%s", text);
		cr_assert_lt(strstr(l, " MiB/s, "), end, "%s", text);
		prev_to = to;
		l = end + 1;
	}
	return lines;
}

/* --interval: a line per interval, on stdout; with --json on stderr, and
 * in the JSON's "intervals", which add up to the whole. */
Test(bench, interval_lines)
{
	struct daemon d = { 0 };
	char out[16384], err[8192], path[256];

	daemon_start(&d, NULL);
	const char *text[] = { "bench", "-a", d.addr, "-c", "4", "--pingpong",
	    "512", "--duration", "2", "--interval", "500ms", NULL };
	const char *json[] = { "bench", "-a", d.addr, "-c", "4", "--pingpong",
	    "512", "--duration", "2", "--interval", "500ms", "--json", NULL };
	cr_assert_eq(run_split(upcase_path(), text, out, sizeof(out), err,
	    sizeof(err)), 0, "%s%s", out, err);
	cr_assert_geq(expect_interval_lines(out, "rounds", 0.5), 4, "%s", out);
	cr_assert_not_null(strstr(out, "\n4 connections, 512-byte rounds for "),
	    "%s", out);
	cr_assert_str_eq(err, "");
	cr_assert_eq(run_split(upcase_path(), json, out, sizeof(out), err,
	    sizeof(err)), 0, "%s%s", out, err);
	cr_assert_geq(expect_interval_lines(err, "rounds", 0.5), 4, "%s", err);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "json"));
	write_file(path, out);
	expect_json_object(path);
	cr_assert_not_null(strstr(out, "\"intervals\":[{\"from\":0.000000,"),
	    "%s", out);
	daemon_stop(&d);
}
