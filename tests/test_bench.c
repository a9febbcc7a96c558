/*
 * test_bench.c — upcase bench against the real daemon: every byte checked
 * and no errors, in both shapes; and errors counted (exit 1) against a
 * server that does not uppercase.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
	cr_assert_gt(json_number(out, "mb_per_s"), 0);
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
	/* Due at 0, 5 ms, ... up to the end of the second. */
	cr_assert_geq(json_number(out, "rounds"), 200, "%s", out);
	cr_assert_leq(json_number(out, "rounds"), 201, "%s", out);
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
