/*
 * test_random.c — a short run of the randomized socket tester
 * (tests/randtest.c) against the daemon: hundreds of sessions of random
 * sizes, split points, pauses and resets at every stage, every byte of the
 * well-behaved ones checked, the daemon's descriptors back where they
 * started. A new seed each run, printed; RANDTEST_SEED=N replays one.
 * make soak runs the same program for minutes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(random, .timeout = 300);

static void
random_run(const char *const *daemon_args, const char *clients,
    const char *sessions)
{
	static char out[1 << 16];
	const char *tester = getenv("RANDTEST");
	const char *seed = getenv("RANDTEST_SEED");
	struct daemon d = { 0 };
	const char *last, *next;
	char pid[16];
	int rc;

	cr_assert_not_null(tester, "RANDTEST is not set: run the suite with "
	    "make check");
	daemon_start_args(&d, daemon_args);
	snprintf(pid, sizeof(pid), "%d", (int)d.pid);
	const char *args[] = { "-a", d.addr, "-c", clients, "-n", sessions,
	    "-m", "2097152", "-p", pid, seed != NULL ? "-s" : NULL, seed,
	    NULL };
	rc = run(tester, args, out, sizeof(out));
	/* The seed, on make test's output: RANDTEST_SEED=N replays it. */
	last = strstr(out, "randtest: seed ");
	while (last != NULL && (next = strstr(last + 1, "randtest: seed ")) !=
	    NULL)
		last = next;
	fprintf(stderr, "%s: %.*s", criterion_current_test->name, last != NULL ?
	    (int)(strcspn(last, "\n") + 1) : 0, last != NULL ? last : "");
	cr_assert_eq(rc, 0, "randtest failed (replay with RANDTEST_SEED):\n%s",
	    out);
	cr_assert_not_null(strstr(out, " 0 errors; daemon descriptors"), "%s",
	    out);
	daemon_stop(&d);
}

Test(random, sessions_with_resets_at_every_stage)
{
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", NULL };

	random_run(args, "48", "600");
}

/* Small watermarks: reading pauses and resumes all the time. */
Test(random, sessions_with_a_small_backlog)
{
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", "backlog_high=4k", "-o",
	    "backlog_low=1k", NULL };

	random_run(args, "32", "300");
}
