/*
 * test_supervise.c — the master at make scale's size: fifty workers start,
 * one killed is replaced, reloads replace all fifty more often than the
 * counters have slots for their generations, every count adds up in one
 * scrape, and the master stops; each within a stated bound (generous: a
 * loaded 2-core machine, sanitizers on). make scale measures the same
 * steps with a million connections open.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "sock.h"

TestSuite(supervise, .timeout = 300);

#define FIFTY		50
#define MAX_CHILDREN	128
#define BOUND_MS	30000	/* start, replace, reload, stop: each */

/* Is pid waiting in epoll_wait: its loop running, nothing to do? */
static bool
in_epoll_wait(pid_t pid)
{
	char path[64];
	const char *wchan;

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	wchan = read_text(path);
	return wchan != NULL && strstr(wchan, "epoll_wait") != NULL;
}

/* Wait until master has exactly n workers, none of them in not[] (n_not
 * of them), each in its loop; their pids into pids. Fails past BOUND_MS. */
static void
wait_workers(pid_t master, int n, const pid_t *not, int n_not, pid_t *pids,
    const char *step)
{
	long long deadline = now_ms() + BOUND_MS;
	int have = 0, ready = 0;

	for (;;) {
		have = proc_children(master, pids, MAX_CHILDREN);
		ready = 0;
		for (int i = 0; i < have; i++) {
			bool old = false;

			for (int k = 0; k < n_not; k++)
				old |= pids[i] == not[k];
			ready += !old && in_epoll_wait(pids[i]);
		}
		if (have == n && ready == n)
			return;
		cr_assert_lt(now_ms(), deadline, "%s: %d workers, %d of %d "
		    "new ones ready after %d ms", step, have, ready, n,
		    BOUND_MS);
		usleep(20000);
	}
}

/* Connection number i since the start: served, and counted once. */
static void
serve_one(struct daemon *d, const char *accepted, int i)
{
	expect_echo(daemon_connect(d), "fifty");
	daemon_wait_counter(d, accepted, i);
	cr_assert_eq(daemon_counter(d, accepted), i);
}

Test(supervise, fifty_workers_start_are_replaced_reload_and_stop)
{
	struct daemon d = { 0 };
	pid_t pids[MAX_CHILDREN], old[MAX_CHILDREN], victim;
	char accepted[192], out[4096], want[128];
	const char *log;
	long long t;
	int served = 0;

	daemon_start_metered(&d, "-o", "workers=50", NULL);
	wait_workers(d.pid, FIFTY, NULL, 0, pids, "start");
	snprintf(accepted, sizeof(accepted), "upcased_connections_accepted_"
	    "total{listener=\"%s\"}", d.addr);

	/* 500 clients spread over the fifty: one scrape sums them all. */
	const char *args[] = { "bench", "-a", d.addr, "-c", "500", "-n", "64",
	    "--json", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	served = 500;
	daemon_wait_counter(&d, accepted, served);
	cr_assert_eq(daemon_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"done\"}"), served);

	victim = pids[FIFTY / 2];
	cr_assert_eq(kill(victim, SIGKILL), 0);
	wait_workers(d.pid, FIFTY, &victim, 1, pids, "replace");
	snprintf(want, sizeof(want), "(pid %d) was killed by signal 9", victim);
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));
	serve_one(&d, accepted, ++served);

	/* Six generations of fifty after the first: 350 workers, more than
	 * the counters' 256 slots, so the old ones' slots are reused; no
	 * count is lost and no worker fails to start. */
	for (int r = 1; r <= 6; r++) {
		memcpy(old, pids, sizeof(old));
		cr_assert_eq(kill(d.pid, SIGHUP), 0);
		wait_workers(d.pid, FIFTY, old, FIFTY, pids, "reload");
		serve_one(&d, accepted, ++served);
	}
	cr_assert(daemon_wait_count(&d, "configuration reloaded: 50 new "
	    "workers, 50 finishing", 6, DEADLINE_MS), "%s", daemon_log(&d));
	cr_assert_eq(daemon_count_log(&d, "cannot start worker"), 0, "%s",
	    daemon_log(&d));

	t = now_ms();
	log = daemon_stop_log(&d);
	cr_assert_lt(now_ms() - t, BOUND_MS, "stop: %lld ms", now_ms() - t);
	snprintf(want, sizeof(want), "info: exiting: connections served %d "
	    "(done %d)", served, served);
	cr_assert_not_null(strstr(log, want), "%s", log);
}
