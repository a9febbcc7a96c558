/*
 * test_capacity.c — at max_connections nobody is refused: the clients past
 * it wait in the kernel's queue, whatever the accept batch, and are served
 * in turn as room is made; a reload or an upgrade at capacity hands the
 * queue to the next generation or binary instead of resetting it; churn
 * that keeps every worker full through reloads costs nobody a byte.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "scrape.h"

/* An upgrade's new master is the old one's child: once the old one
 * exits, it must become ours to wait for. */
static void
subreaper(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

TestSuite(capacity, .init = subreaper, .timeout = 240);

enum { QUEUED = 3 };

/* n clients, each served a round trip and kept open. */
static void
hold(struct daemon *d, int *fds, int n)
{
	char got[4];

	for (int i = 0; i < n; i++) {
		fds[i] = daemon_connect(d);
		cr_assert_eq(write_all(fds[i], "held", 4, DEADLINE_MS), 0);
		cr_assert_eq(read(fds[i], got, 4), 4, "held client %d", i);
		cr_assert_eq(memcmp(got, "HELD", 4), 0);
	}
}

/* n clients that send hello and half-close at once: while the daemon is
 * full, they wait in the kernel's queue. */
static void
queue(struct daemon *d, int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		fds[i] = daemon_connect(d);
		cr_assert_eq(write_all(fds[i], "hello", 5, DEADLINE_MS), 0);
		cr_assert_eq(shutdown(fds[i], SHUT_WR), 0);
	}
}

/* Each queued client gets its whole echo and then EOF: no reset. */
static void
expect_served(int *fds, int n)
{
	char got[16];

	for (int i = 0; i < n; i++) {
		ssize_t k = read_all(fds[i], got, sizeof(got), DEADLINE_MS);

		cr_assert_eq(k, 5, "queued client %d: %zd bytes (%s)", i, k,
		    k == -1 ? strerror(errno) : "then EOF");
		cr_assert_eq(memcmp(got, "HELLO", 5), 0);
		close(fds[i]);
	}
}

static void
close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* The exit lines: every client served, none refused. */
static void
expect_nobody_refused(const char *log, int served)
{
	char want[64];

	cr_assert_eq(count_in(log, "refusing"), 0, "%s", log);
	cr_assert_eq(count_in(log, "reset"), 0, "%s", log);
	snprintf(want, sizeof(want), "exiting: connections served %d (done "
	    "%d), refused 0", served, served);
	cr_assert_not_null(strstr(log, want), "no '%s' in:\n%s", want, log);
}

/*
 * A single process with max_connections below the accept batch: two held,
 * ten queued. Full, it accepts none of them (the counters say so, and the
 * scrape, served after the listener's turn, proves it); once a held client
 * leaves, the ten are served one after another in the room each one's
 * close makes.
 */
Test(capacity, max_connections_leaves_the_rest_queued)
{
	enum { WAITING = 10 };
	struct daemon d = { 0 };
	struct sockaddr_storage mss;
	socklen_t msslen;
	int held[2], waiting[WAITING];
	char maddr[128], name[256];
	const char *line;

	daemon_start(&d, "-o", "max_connections=2", "-o",
	    "listen=127.0.0.2:0 metrics", NULL);
	line = daemon_wait_log(&d, "listening on 127.0.0.2:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, maddr, sizeof(maddr), &mss, &msslen);
	hold(&d, held, 2);
	queue(&d, waiting, WAITING);
	snprintf(name, sizeof(name), "upcased_connections_accepted_total"
	    "{listener=\"%s\"}", d.addr);
	cr_assert_eq(scrape_value(&mss, msslen, name), 2);
	cr_assert_geq(scrape_value(&mss, msslen,
	    "upcased_listener_full_total"), 1);
	cr_assert_not_null(daemon_wait_log(&d, "max_connections reached: "
	    "accepting paused", DEADLINE_MS), "%s", daemon_log(&d));
	expect_echo(held[0], "bye");	/* makes room */
	expect_served(waiting, WAITING);
	expect_echo(held[1], "bye");
	expect_nobody_refused(daemon_stop_log(&d), 2 + WAITING);
}

/* Worker number says it has stopped accepting, full. */
static void
expect_full(struct daemon *d, int number)
{
	char want[256];

	snprintf(want, sizeof(want), "worker %d (pid *): %s: max_connections "
	    "reached", number, d->addr);
	cr_assert(daemon_wait_count(d, want, 1, DEADLINE_MS), "no '%s' in:\n%s",
	    want, daemon_log(d));
}

/* Two workers at max_connections = 2, both full (two held each), and
 * three clients queued behind them. */
static void
start_full(struct daemon *d, int held[4], int queued[QUEUED])
{
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", "workers=2", "-o", "max_connections=2",
	    NULL };

	daemon_start_args(d, args);
	cr_assert_not_null(daemon_wait_log(d, "started 2 workers",
	    DEADLINE_MS), "%s", daemon_log(d));
	hold(d, held, 4);
	/* Both full: each has stopped watching the socket. */
	expect_full(d, 1);
	expect_full(d, 2);
	queue(d, queued, QUEUED);
}

Test(capacity, a_reload_at_capacity_refuses_nobody)
{
	struct daemon d = { 0 };
	int held[4], queued[QUEUED];

	start_full(&d, held, queued);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
	    DEADLINE_MS), "%s", daemon_log(&d));
	/* The old workers left the queue to the new ones. */
	expect_served(queued, QUEUED);
	close_all(held, 4);
	expect_nobody_refused(daemon_stop_log(&d), 4 + QUEUED);
}

Test(capacity, one_leaving_serves_the_queue_in_turn)
{
	struct daemon d = { 0 };
	int held[4], queued[QUEUED];

	start_full(&d, held, queued);
	expect_echo(held[0], "bye");
	expect_served(queued, QUEUED);
	close_all(held + 1, 3);
	expect_nobody_refused(daemon_stop_log(&d), 4 + QUEUED);
}

/* SIGUSR2 to d's master; waits until the new one serves and returns it. */
static pid_t
upgrade_begun(struct daemon *d)
{
	const char *line;

	cr_assert_eq(kill(d->pid, SIGUSR2), 0);
	line = daemon_wait_log(d, "upgrade: the new binary (pid ", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(d));
	return (pid_t)atol(strstr(line, "(pid ") + 5);
}

/*
 * d is full, nheld clients held and QUEUED queued: SIGUSR2 hands the
 * queue to the new binary, whose workers (or itself) serve it. Once the
 * held clients leave, the old master exits and the new one takes over;
 * its stop gives the exit lines of both, lines of them, none refusing.
 */
static void
upgrade_at_capacity(struct daemon *d, int *held, int nheld, int *queued,
    int lines)
{
	pid_t next = upgrade_begun(d);
	const char *log;

	expect_served(queued, QUEUED);
	close_all(held, nheld);
	expect_exit(wait_exit(d->pid, NULL, DEADLINE_MS), 0, daemon_log(d));
	d->pid = next;
	process_track(next);
	log = daemon_stop_log(d);
	cr_assert_eq(count_in(log, "refusing"), 0, "%s", log);
	cr_assert_eq(count_in(log, "refused 0"), lines, "%s", log);
}

/* The old binary's workers leave the queue to the new binary's: two
 * workers and a master each. */
Test(capacity, an_upgrade_at_capacity_refuses_nobody)
{
	struct daemon d = { 0 };
	int held[4], queued[QUEUED];

	start_full(&d, held, queued);
	upgrade_at_capacity(&d, held, 4, queued, 2 * 3);
}

/* A single process hands its queue over to the new binary the same way
 * (without its sandbox, which would follow it into the new binary). */
Test(capacity, a_single_process_upgrade_at_capacity_refuses_nobody)
{
	struct daemon d = { 0 };
	int held[2], queued[QUEUED];

	daemon_start(&d, "-o", "max_connections=2", "-o", "sandbox=no",
	    NULL);
	hold(&d, held, 2);
	cr_assert_not_null(daemon_wait_log(&d, "max_connections reached",
	    DEADLINE_MS), "%s", daemon_log(&d));
	queue(&d, queued, QUEUED);
	upgrade_at_capacity(&d, held, 2, queued, 2);
}

/*
 * Churn from 16 clients at a time against two workers that take 4 each:
 * every worker stays full, half the clients wait in the queue, and ten
 * reloads swap the workers meanwhile. The churn client counts a refused or
 * reset connection, or a wrong byte, as an error: there are none.
 */
Test(capacity, reloads_under_churn_at_capacity_refuse_nobody)
{
	struct daemon d = { 0 };
	char out[4096];
	int churn_out;
	pid_t churn;

	daemon_init(&d);
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", "workers=2", "-o", "max_connections=4",
	    NULL };
	daemon_start_args(&d, args);
	cr_assert_not_null(daemon_wait_log(&d, "started 2 workers",
	    DEADLINE_MS), "%s", daemon_log(&d));
	churn_out = open(daemon_file(&d, "churn.txt"), O_RDWR | O_CREAT, 0600);
	const char *bench[] = { upcase_path(), "bench", "-a", d.addr, "-c",
	    "16", "-n", "64", "--churn", "--duration", "6", "--sources", "8",
	    "--json", NULL };
	churn = spawn(bench, -1, churn_out, churn_out);
	expect_full(&d, 1);
	expect_full(&d, 2);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(kill(d.pid, SIGHUP), 0);
		cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
		    DEADLINE_MS), "%s", daemon_log(&d));
	}
	expect_exit(wait_exit(churn, NULL, DEADLINE_MS), 0, "churn");
	cr_assert_gt(pread(churn_out, out, sizeof(out) - 1, 0), 0);
	cr_assert_eq(json_number(out, "errors"), 0, "%s", out);
	cr_assert_gt(json_number(out, "rounds"), 100, "%s", out);
	close(churn_out);
	/* Any refusal is logged ("refusing ..."), the first at once. */
	const char *log = daemon_stop_log(&d);

	cr_assert_eq(count_in(log, "refusing"), 0, "%s", log);
}
