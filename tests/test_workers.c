/*
 * test_workers.c — workers = N: a master and N worker processes share the
 * listening sockets; a worker that dies is replaced while the others'
 * clients keep every byte; a reload swaps every worker while connections
 * arrive, and nobody is refused or reset; the counts cover every worker.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "scrape.h"

TestSuite(workers, .timeout = 240);

#define WORKERS_MAX 8

/* The socket inode of the daemon's end of client fd, from /proc/net/tcp. */
static unsigned long
server_inode(int fd, const struct sockaddr_storage *daemon_ss)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	unsigned port = ntohs(((const struct sockaddr_in *)daemon_ss)->sin_port);
	char line[512];
	FILE *f;

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&me, &len), 0);
	f = fopen("/proc/net/tcp", "re");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned lport, rport;
		unsigned long inode;

		if (sscanf(line, " %*d: %*x:%x %*x:%x %*x %*s %*s %*s %*d %*d "
		    "%lu", &lport, &rport, &inode) == 3 && lport == port &&
		    rport == ntohs(me.sin_port) && inode != 0) {
			fclose(f);
			return inode;
		}
	}
	fclose(f);
	cr_assert_fail("no daemon side for port %u", ntohs(me.sin_port));
	return 0;
}

/* Which of pids holds socket inode; 0 if none. */
static pid_t
holder(const pid_t *pids, int n, unsigned long inode)
{
	char want[64], path[320], link[64];

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	for (int i = 0; i < n; i++) {
		char dir[64];
		DIR *dp;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", pids[i]);
		if ((dp = opendir(dir)) == NULL)
			continue;
		while ((e = readdir(dp)) != NULL) {
			ssize_t k;

			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			k = readlink(path, link, sizeof(link) - 1);
			if (k > 0 && (link[k] = '\0', strcmp(link, want) == 0)) {
				closedir(dp);
				return pids[i];
			}
		}
		closedir(dp);
	}
	return 0;
}

static void
start_workers(struct daemon *d, const char *workers, const char *extra)
{
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", workers, "-o", "log_level=debug",
	    "-o", extra, NULL };

	if (extra == NULL)
		args[9] = NULL;
	daemon_start_args(d, args);
	cr_assert_not_null(daemon_wait_log(d, "started ", DEADLINE_MS), "%s",
	    daemon_log(d));
}

static void
round_trip(int fd, const char *msg, const char *want)
{
	struct timeval tv = { .tv_sec = DEADLINE_MS / 1000 };
	char got[64];
	size_t n = strlen(msg), have = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(write_all(fd, msg, n, DEADLINE_MS), 0);
	while (have < n) {
		ssize_t k = read(fd, got + have, n - have);

		cr_assert_gt(k, 0, "connection lost after %zu bytes", have);
		have += (size_t)k;
	}
	cr_assert_eq(memcmp(got, want, n), 0, "%.*s", (int)n, got);
}

Test(workers, three_processes_share_the_port_and_the_counts)
{
	struct daemon d = { 0 };
	pid_t pids[WORKERS_MAX];
	char out[4096], want[128];
	const char *log;

	start_workers(&d, "workers=3", NULL);
	cr_assert_eq(proc_children(d.pid, pids, WORKERS_MAX), 3, "%s",
	    daemon_log(&d));
	const char *args[] = { "bench", "-a", d.addr, "-c", "32", "-n", "1000",
	    NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	log = daemon_stop_log(&d);
	/* Three workers' lines, and the master's total of them. */
	cr_assert_eq(count_in(log, "info: worker "), 6, "%s", log);
	snprintf(want, sizeof(want), "info: exiting: connections served 32 "
	    "(done 32), refused 0; bytes in 32000, out 32000");
	cr_assert_not_null(strstr(log, want), "%s", log);
}

Test(workers, metrics_add_up_every_worker)
{
	struct daemon d = { 0 };
	char samples[65536], addr[128];
	struct sockaddr_storage ss;
	socklen_t len;
	const char *line;

	start_workers(&d, "workers=2", "listen=127.0.0.2:0 metrics");
	const char *args[] = { "bench", "-a", d.addr, "-c", "20", "-n", "64",
	    NULL };
	cr_assert_eq(run(upcase_path(), args, samples, sizeof(samples)), 0);
	line = strstr(daemon_log(&d), "listening on 127.0.0.2:");
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, addr, sizeof(addr), &ss, &len);
	scrape(&ss, len, d.dir, samples, sizeof(samples));
	cr_assert_eq(sample(samples, "upcased_connections_closed_total"
	    "{reason=\"done\"}"), 20, "%s", samples);
	cr_assert_eq(sample(samples, "upcased_received_bytes_total"), 20 * 64);
	char name[256];
	snprintf(name, sizeof(name), "upcased_connections_accepted_total"
	    "{listener=\"%s\"}", d.addr);
	cr_assert_eq(sample(samples, name), 20, "%s", samples);
	daemon_stop(&d);
}

/* kill -9 one worker: it is logged and replaced, and the clients of the
 * other keep their connections, byte for byte. */
Test(workers, a_killed_worker_is_replaced_and_costs_only_its_clients)
{
	struct daemon d = { 0 };
	pid_t pids[WORKERS_MAX], owner[16], victim, before[2];
	char want[128];
	int fds[16], spared = 0;

	start_workers(&d, "workers=2", NULL);
	cr_assert_eq(proc_children(d.pid, pids, WORKERS_MAX), 2);
	for (int i = 0; i < 16; i++) {
		fds[i] = daemon_connect(&d);
		round_trip(fds[i], "open", "OPEN");
		owner[i] = holder(pids, 2, server_inode(fds[i], &d.ss));
		cr_assert_neq(owner[i], 0);
	}
	/* The kernel may give all 16 to one worker (EPOLLEXCLUSIVE wakes
	 * the one waiting): kill the one with fewer, whose death must cost
	 * the other's clients nothing. */
	int on_first = 0;
	for (int i = 0; i < 16; i++)
		on_first += owner[i] == pids[0];
	victim = on_first <= 8 ? pids[0] : pids[1];
	cr_assert_eq(kill(victim, SIGKILL), 0);
	snprintf(want, sizeof(want), "(pid %d) was killed by signal 9", victim);
	cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_not_null(daemon_wait_log(&d, " is pid ", DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_eq(proc_children(d.pid, before, 2), 2);
	cr_assert(before[0] != victim && before[1] != victim);
	for (int i = 0; i < 16; i++) {
		char got[16];

		if (owner[i] == victim) {
			close(fds[i]);
			continue;
		}
		spared++;
		round_trip(fds[i], "still", "STILL");
		shutdown(fds[i], SHUT_WR);
		cr_assert_eq(read_all(fds[i], got, sizeof(got), DEADLINE_MS),
		    0);
		close(fds[i]);
	}
	cr_assert_geq(spared, 8);
	int fd = daemon_connect(&d);
	round_trip(fd, "new", "NEW");
	close(fd);
	daemon_stop(&d);
}

/* A replacement that dies as it starts is started again later each time
 * (a worker that cannot start must not become a fork loop) while the
 * other worker serves; once the cause is gone, the next one serves. */
Test(workers, replacements_that_die_at_once_back_off)
{
	struct daemon d = { 0 };
	pid_t pids[WORKERS_MAX];
	char orphan[256], want[64];
	const char *line;
	unsigned number;

	daemon_init(&d);
	snprintf(orphan, sizeof(orphan), "%s", daemon_file(&d, "orphan"));
	setenv("FAULT_ORPHAN_WHILE", orphan, 1);
	fault_preload();
	start_workers(&d, "workers=2", NULL);
	fault_unload();
	cr_assert_eq(proc_children(d.pid, pids, WORKERS_MAX), 2);
	/* Both past their start, where the fault would stop them. */
	cr_assert(daemon_wait_count(&d, ": serving", 2, DEADLINE_MS), "%s",
	    daemon_log(&d));
	write_file(orphan, "");	/* from now on a worker exits at once */
	cr_assert_eq(kill(pids[0], SIGKILL), 0);
	line = daemon_wait_log(&d, "was killed by signal 9 (Killed); starting "
	    "another now", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_eq(sscanf(strstr(line, "worker "), "worker %u", &number), 1);
	for (unsigned ms = 100; ms <= 400; ms *= 2) {
		snprintf(want, sizeof(want), "exited with status 1; starting "
		    "another in %u ms", ms);
		cr_assert_not_null(daemon_wait_log(&d, want, DEADLINE_MS),
		    "%s", daemon_log(&d));
	}
	expect_echo(daemon_connect(&d), "served meanwhile");
	cr_assert_eq(unlink(orphan), 0);
	snprintf(want, sizeof(want), "worker %u (pid *): serving", number);
	cr_assert_not_null(daemon_wait_log(&d, want, 4 * DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_eq(proc_children(d.pid, pids, WORKERS_MAX), 2);
	expect_echo(daemon_connect(&d), "and after");
	daemon_stop(&d);
}

/* pid exits 0, having written want into out (a file). */
static void
expect_output(pid_t pid, int out, const char *want)
{
	int status = wait_exit(pid, NULL, 2 * DEADLINE_MS);
	char text[4096];
	ssize_t n = pread(out, text, sizeof(text) - 1, 0);

	text[n > 0 ? n : 0] = '\0';
	cr_assert(status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "status %#x: %s", status, text);
	cr_assert_not_null(strstr(text, want), "%s", text);
	close(out);
}

/* Twenty reloads while short connections churn and one long transfer
 * runs: nobody refused or reset, every byte checked by the clients. */
Test(workers, twenty_reloads_under_churn_refuse_nobody)
{
	struct daemon d = { 0 };
	int churn_out, long_out;
	pid_t churn, transfer;

	start_workers(&d, "workers=2", NULL);
	churn_out = open(daemon_file(&d, "churn.txt"), O_RDWR | O_CREAT, 0600);
	long_out = open(daemon_file(&d, "long.txt"), O_RDWR | O_CREAT, 0600);
	const char *bench[] = { upcase_path(), "bench", "-a", d.addr, "-c",
	    "8", "-n", "64", "--churn", "--duration", "6", "--sources", "8",
	    "--json", NULL };
	const char *big[] = { upcase_path(), "-a", d.addr, "-n", "1g", NULL };
	churn = spawn(bench, -1, churn_out, churn_out);
	transfer = spawn(big, -1, long_out, long_out);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(kill(d.pid, SIGHUP), 0);
		cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
		    DEADLINE_MS), "%s", daemon_log(&d));
	}
	expect_output(churn, churn_out, "\"errors\":0}");
	expect_output(transfer, long_out, "received 1073741824 bytes");
	daemon_stop(&d);
}

/* A worker told to stop by a reload lives on while a client of its own
 * does; meanwhile every new client goes to the new workers. (Closing its
 * copy of the shared socket is not enough to leave the epoll set; with
 * EPOLLEXCLUSIVE it would go on taking wakeups it never acts on.) */
Test(workers, a_finishing_worker_takes_no_new_clients)
{
	struct daemon d = { 0 };
	pid_t pids[WORKERS_MAX], old;
	char want[128];
	const char *line;
	int a;

	start_workers(&d, "workers=2", NULL);
	cr_assert_eq(proc_children(d.pid, pids, WORKERS_MAX), 2);
	a = daemon_connect(&d);
	round_trip(a, "old", "OLD");
	old = holder(pids, 2, server_inode(a, &d.ss));
	cr_assert_neq(old, 0);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	line = daemon_wait_log(&d, "waiting up to 30s for 1 connection",
	    DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	/* Its lines name it: its successor has the same number. */
	snprintf(want, sizeof(want), " (pid %d): ", (int)old);
	cr_assert_not_null(strstr(line, want), "%s", line);
	for (int i = 0; i < 50; i++) {
		int fd = daemon_connect(&d);

		round_trip(fd, "new", "NEW");
		close(fd);
	}
	round_trip(a, "still", "STILL");
	/* Killed now it is not replaced (it was on its way out), but its
	 * death is logged, not only at debug. */
	cr_assert_eq(kill(old, SIGKILL), 0);
	snprintf(want, sizeof(want), "(pid %d) was killed by signal 9 "
	    "(Killed) while finishing", (int)old);
	line = daemon_wait_log(&d, want, DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_not_null(strstr(line, "warn: "), "%s", line);
	cr_assert_eq(daemon_count_log(&d, "starting another"), 0, "%s",
	    daemon_log(&d));
	close(a);
	daemon_stop(&d);
}

/* max_connections is per worker: a worker at it stops accepting and the
 * other takes the next clients; with both full, a client waits in the
 * kernel's queue, and is served once room is made, not refused. */
Test(workers, a_full_worker_leaves_new_clients_to_the_others)
{
	struct daemon d = { 0 };
	int held[14], late;
	char got[16];

	start_workers(&d, "workers=2", "max_connections=8");
	for (int i = 0; i < 14; i++) {
		held[i] = daemon_connect(&d);
		round_trip(held[i], "held", "HELD");
	}
	late = daemon_connect(&d);
	cr_assert_eq(write_all(late, "late", 4, DEADLINE_MS), 0);
	shutdown(late, SHUT_WR);
	for (int i = 0; i < 14; i++)
		close(held[i]);
	cr_assert_eq(read_all(late, got, sizeof(got), DEADLINE_MS), 4);
	cr_assert_eq(memcmp(got, "LATE", 4), 0);
	close(late);
	const char *log = daemon_stop_log(&d);
	cr_assert_eq(count_in(log, "refusing"), 0, "%s", log);
	cr_assert_not_null(strstr(log, "connections served 15 (done 15)"),
	    "%s", log);
}

Test(workers, out_of_range_is_one_line)
{
	static const char *const bad[] = { "workers=0", "workers=65",
	    "workers=two", "workers=" };
	char out[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { "-t", "-c", "/dev/null", "-o", bad[i],
		    NULL };

		cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 2,
		    "%s: %s", bad[i], out);
		cr_assert_eq(count_in(out, "\n"), 1, "%s", out);
		cr_assert_not_null(strstr(out, "workers"), "%s", out);
	}
	const char *autos[] = { "-T", "-c", "/dev/null", "-o", "workers=auto",
	    NULL };
	cr_assert_eq(run(upcased_path(), autos, out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "\nworkers = auto\n"), "%s", out);
}

/*
 * Forty reloads of eight workers start 328 workers in all, more than the
 * shared counters have slots (256): a finished worker's slot is reused,
 * and its counts are kept. Every reload's client is served and counted,
 * and eight workers remain.
 */
Test(workers, reloads_past_the_counter_slots_keep_every_count)
{
	struct daemon d = { 0 };
	pid_t pids[WORKERS_MAX];
	char name[192];

	daemon_start_metered(&d, "-o", "workers=8", NULL);
	snprintf(name, sizeof(name), "upcased_connections_accepted_total"
	    "{listener=\"%s\"}", d.addr);
	for (int i = 1; i <= 40; i++) {
		cr_assert_eq(kill(d.pid, SIGHUP), 0);
		cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
		    DEADLINE_MS), "reload %d:\n%s", i, daemon_log(&d));
		expect_echo(daemon_connect(&d), "counted");
		daemon_wait_counter(&d, name, i);
	}
	cr_assert_eq(daemon_count_log(&d, "cannot start worker"), 0, "%s",
	    daemon_log(&d));
	cr_assert(daemon_wait_count(&d, "): exiting:", 320, 4 * DEADLINE_MS),
	    "the finished workers did not all exit:\n%s", daemon_log(&d));
	cr_assert_eq(proc_children(d.pid, pids, WORKERS_MAX), 8);
	daemon_stop(&d);
}
