/*
 * test_faults.c — what a network does to a daemon, each with its outcome:
 * a connect flood far past max_connections (queued, then all served),
 * slowloris, resets at every stage of a connection, SIGHUP storms during
 * transfers, a log that cannot be written, an stderr nobody reads.
 * Through all of it the well-behaved clients get every byte. (Running out
 * of descriptors and of kernel memory is in test_limits.c, a client that
 * never reads in test_backpressure.c.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "scrape.h"

TestSuite(faults, .timeout = 240);

/* A client served one byte and kept open. */
static int
held_client(struct daemon *d)
{
	int fd = daemon_connect(d);
	char got;

	cr_assert_eq(write_all(fd, "x", 1, DEADLINE_MS), 0);
	cr_assert_eq(read(fd, &got, 1), 1);
	cr_assert_eq(got, 'X');
	return fd;
}

/* Waves of clients fifty times max_connections, each sending a line and
 * half-closing: they wait in the kernel's queue, the established clients
 * never notice, and once those leave, every one of the flood is served. */
Test(faults, connect_flood_far_past_max_connections)
{
	enum { MAX = 20, FLOOD = 1000 };
	static int flood[FLOOD];
	struct daemon d = { 0 };
	int held[MAX];
	char got[16], want[96];
	const char *log;

	raise_fd_limit(4096);
	daemon_start(&d, "-o", "max_connections=20", "-o",
	    "listen_backlog=2048", NULL);
	for (int i = 0; i < MAX; i++)
		held[i] = held_client(&d);
	for (int i = 0; i < FLOOD; i++) {
		flood[i] = daemon_connect(&d);
		cr_assert_eq(write_all(flood[i], "flood", 5, DEADLINE_MS), 0);
		shutdown(flood[i], SHUT_WR);
	}
	for (int i = 0; i < MAX; i++)
		expect_echo(held[i], "still here");
	for (int i = 0; i < FLOOD; i++) {
		cr_assert_eq(read_all(flood[i], got, sizeof(got), DEADLINE_MS),
		    5, "flood client %d", i);
		cr_assert_eq(memcmp(got, "FLOOD", 5), 0);
		close(flood[i]);
	}
	log = daemon_stop_log(&d);
	snprintf(want, sizeof(want), "served %d (done %d), refused 0;",
	    MAX + FLOOD, MAX + FLOOD);
	cr_assert_not_null(strstr(log, want), "%s", log);
}

Test(faults, slowloris_beside_a_normal_exchange)
{
	enum { SLOW = 300, ROUNDS = 8, BIG = 1 << 20 };
	static unsigned char out[BIG], in[BIG + 1], want[BIG];
	struct daemon d = { 0 };
	int slow[SLOW];
	char byte, got[ROUNDS + 1];

	raise_fd_limit(1024);
	daemon_start(&d, NULL);
	for (int i = 0; i < SLOW; i++)
		slow[i] = daemon_connect(&d);
	fill_pattern(out, BIG, 7);
	memcpy(want, out, BIG);
	reference_upper(want, BIG);
	for (int r = 0; r < ROUNDS; r++) {
		/* A byte from each, then a whole exchange beside them. */
		byte = (char)('a' + r);
		for (int i = 0; i < SLOW; i++)
			cr_assert_eq(write_all(slow[i], &byte, 1, DEADLINE_MS),
			    0);
		int fd = daemon_connect(&d);

		cr_assert_eq(exchange(fd, out, BIG, in, sizeof(in), 65536,
		    DEADLINE_MS), BIG);
		cr_assert_eq(memcmp(in, want, BIG), 0);
		close(fd);
	}
	for (int i = 0; i < SLOW; i++) {
		shutdown(slow[i], SHUT_WR);
		cr_assert_eq(read_all(slow[i], got, sizeof(got), DEADLINE_MS),
		    ROUNDS, "slow client %d", i);
		cr_assert_eq(memcmp(got, "ABCDEFGH", ROUNDS), 0);
		close(slow[i]);
	}
	daemon_stop(&d);
}

/* Reset fd: SO_LINGER 0, then close. */
static void
reset(int fd)
{
	struct linger hard = { .l_onoff = 1, .l_linger = 0 };

	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard,
	    sizeof(hard)), 0);
	close(fd);
}

Test(faults, resets_at_every_stage)
{
	static unsigned char big[4 << 20];
	static const char *const stage[] = { "before a byte",
	    "with bytes unread by the daemon", "while it owes megabytes",
	    "after the half-close", "halfway through the echo" };
	struct daemon d = { 0 };
	int fd, baseline;
	char got[4096];

	daemon_start_metered(&d, NULL);
	baseline = fd_count(d.pid);
	fill_pattern(big, sizeof(big), 3);
	for (size_t s = 0; s < sizeof(stage) / sizeof(stage[0]); s++) {
		fd = daemon_connect(&d);
		daemon_wait_counter(&d, daemon_sample_of(&d,
		    "upcased_connections_accepted_total"), 2 * (double)s + 1);
		if (s == 1)
			cr_assert_eq(write_all(fd, big, 1000, DEADLINE_MS), 0);
		if (s == 2) {
			/* Never read: the daemon stops reading at its mark. */
			fcntl(fd, F_SETFL, O_NONBLOCK);
			pump_until_counter(&d, fd, big, sizeof(big), 0,
			    "upcased_read_pauses_total", 1);
		}
		if (s >= 3) {
			cr_assert_eq(write_all(fd, big, 100000, DEADLINE_MS),
			    0);
			shutdown(fd, SHUT_WR);
			/* Its and every earlier echo client's. */
			daemon_wait_counter(&d, "upcased_half_closes_total",
			    2 * (double)s - 2);
		}
		if (s == 4)
			cr_assert_eq(read(fd, got, sizeof(got)) > 0, 1);
		reset(fd);
		daemon_wait_open(&d, 0);
		cr_assert_eq(fd_count(d.pid), baseline, "%s", stage[s]);
		expect_echo(daemon_connect(&d), stage[s]);
		daemon_wait_open(&d, 0);
	}
	daemon_stop(&d);
}

Test(faults, sighup_storm_during_transfers)
{
	enum { CLIENTS = 8, RELOADS = 20, PART = 8192, REST = 1 << 20,
		TOTAL = RELOADS * PART + REST };
	static unsigned char out[CLIENTS][TOTAL], in[TOTAL + 1];
	struct daemon d = { 0 };
	static char path[PATH_MAX], text[256];
	const char *args[] = { "-f", "-c", path, NULL };
	int fd[CLIENTS];

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "u.conf"));
	write_file(path, "listen = 127.0.0.1:0\n");
	daemon_start_args(&d, args);
	for (int c = 0; c < CLIENTS; c++) {
		fill_pattern(out[c], TOTAL, (unsigned)c + 100);
		fd[c] = daemon_connect(&d);
	}
	/* Every client has bytes in flight at every reload. */
	for (int r = 0; r < RELOADS; r++) {
		for (int c = 0; c < CLIENTS; c++)
			cr_assert_eq(write_all(fd[c], out[c] + r * PART, PART,
			    DEADLINE_MS), 0);
		snprintf(text, sizeof(text), "listen = %s\nidle_timeout = "
		    "%ds\nbacklog_high = %dk\n", d.addr, 60 + r, 256 + r);
		write_file(path, text);
		cr_assert_eq(kill(d.pid, SIGHUP), 0);
		cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
		    DEADLINE_MS), "reload %d: %s", r, daemon_log(&d));
	}
	for (int c = 0; c < CLIENTS; c++) {
		ssize_t n = exchange(fd[c], out[c] + RELOADS * PART, REST, in,
		    sizeof(in), 65536, DEADLINE_MS);

		cr_assert_eq(n, TOTAL, "client %d got %zd", c, n);
		reference_upper(out[c], TOTAL);
		cr_assert_eq(memcmp(in, out[c], TOTAL), 0, "client %d", c);
		close(fd[c]);
	}
	cr_assert_eq(daemon_count_log(&d, "configuration reloaded"), RELOADS);
	daemon_stop(&d);
}

/* Serve n clients; each must get its echo. */
static void
serve(struct daemon *d, int n)
{
	for (int i = 0; i < n; i++)
		expect_echo(daemon_connect(d), "served whatever the log");
}

/* Scrape until the daemon has taken n reloads. */
static void
wait_reloads(const struct sockaddr_storage *ss, socklen_t len,
    struct daemon *d, double n)
{
	static char samples[1 << 16];
	long long end = now_ms() + DEADLINE_MS;

	do {
		scrape(ss, len, d->dir, samples, sizeof(samples));
	} while (sample(samples, "upcased_reloads_total{result=\"ok\"}") < n &&
	    now_ms() < end);
	cr_assert_eq(sample(samples, "upcased_reloads_total{result=\"ok\"}"),
	    n, "%s", samples);
}

Test(faults, a_log_that_cannot_be_written)
{
	struct daemon d = { 0 };
	static char path[PATH_MAX], dir[PATH_MAX], text[2 * PATH_MAX];
	const char *args[] = { "-f", "-c", path, NULL };
	struct sockaddr_storage mss;
	socklen_t mlen;
	char maddr[128];
	const char *line;

	/* Both logs on a full device: every line fails with ENOSPC. The
	 * reload that moves the log there is seen through the metrics. */
	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "u.conf"));
	write_file(path, "listen = 127.0.0.1:0\nlisten = 127.0.0.2:0 metrics\n");
	daemon_start_args(&d, args);
	line = daemon_wait_log(&d, "listening on 127.0.0.2:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	parse_listen_line(line, maddr, sizeof(maddr), &mss, &mlen);
	snprintf(text, sizeof(text), "listen = %s\nlisten = %s metrics\n"
	    "log_level = debug\nlog_file = /dev/full\naccess_log = /dev/full\n",
	    d.addr, maddr);
	write_file(path, text);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	wait_reloads(&mss, mlen, &d, 1);
	serve(&d, 50);
	cr_assert_eq(kill(d.pid, SIGUSR1), 0);
	serve(&d, 50);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	wait_reloads(&mss, mlen, &d, 2);
	daemon_stop(&d);

	/* A log file deleted with its directory: the reopen fails, the
	 * daemon goes on with the file it has. */
	daemon_init(&d);
	snprintf(dir, sizeof(dir), "%s", daemon_file(&d, "logs"));
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(text, sizeof(text), "access_log=%s/access", dir);
	daemon_start(&d, "-o", "log_level=debug", "-o", text, NULL);
	serve(&d, 20);
	snprintf(text, sizeof(text), "%s/access", dir);
	cr_assert_eq(unlink(text), 0);
	cr_assert_eq(rmdir(dir), 0);
	cr_assert_eq(kill(d.pid, SIGUSR1), 0);
	cr_assert_not_null(daemon_wait_log(&d, "cannot reopen", DEADLINE_MS),
	    "%s", daemon_log(&d));
	serve(&d, 20);
	daemon_stop(&d);
}

/*
 * The daemon's stderr a pipe that nobody reads once it has said where it
 * listens, and a line for every connection (log_level = debug): the pipe
 * fills at once, and the log drops what it cannot write instead of making
 * the loop wait. Every client is served; the drops are counted.
 */
Test(faults, an_unread_stderr_never_stalls_the_loop)
{
	struct sockaddr_storage ss[2];
	socklen_t sslen[2];
	char addr[128], buf[4096];
	size_t len = 0;
	int p[2], found = 0;
	unsigned failed;
	pid_t pid;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	const char *argv[] = { upcased_path(), "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", "listen=127.0.0.2:0 metrics", "-o",
	    "log_level=debug", NULL };
	pid = spawn(argv, -1, p[1], p[1]);
	close(p[1]);
	/* Its two "listening on" lines, then the pipe is left alone. */
	while (found < 2) {
		char *nl, *at;
		ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);

		cr_assert_gt(n, 0, "the daemon said nothing: %.*s", (int)len,
		    buf);
		len += (size_t)n;
		buf[len] = '\0';
		while (found < 2 && (nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			if ((at = strstr(buf, "listening on ")) != NULL) {
				parse_listen_line(at, addr, sizeof(addr),
				    &ss[found], &sslen[found]);
				found++;
			}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
	}
	failed = load_run(&ss[0], sslen[0], 2000, 4096, DEADLINE_MS);
	cr_assert_eq(failed, 0, "%u of 2000 clients failed", failed);
	cr_assert_gt(scrape_value(&ss[1], sslen[1],
	    "upcased_log_dropped_lines_total"), 0);
	expect_exit(daemon_signal_wait(&(struct daemon){ .pid = pid },
	    SIGTERM, DEADLINE_MS), 0, "the daemon's exit");
	close(p[0]);
}
