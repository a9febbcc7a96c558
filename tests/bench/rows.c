/*
 * rows.c — the benchmark rows that are more than one load against a
 * baseline: short connections beside streams, ping-pong beside paced
 * probe connections, idle memory, scale, the transform. The driver is
 * bench.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "proc.h"
#include "upper.h"

/*
 * Short connections beside four streams, on one server: the streams alone,
 * then with the short ones (64 bytes each, 1000 a second on schedule,
 * at most 4 at a time) started once they run, then alone again. Gives the
 * short ones' latency from their scheduled start, and what the streams
 * keep beside them of the mean of their two runs alone. The short
 * ones' client shares cpu 0 with the streams' client, which never sleeps:
 * at the same priority, each wake-up of the short ones would wait for the
 * streams' time slice to end (2 to 4 ms here, whatever the server), so
 * the streams' client runs as SCHED_IDLE, alone and beside them alike.
 * Open loop at a modest rate keeps the short ones' client mostly asleep.
 */
static void
mixed_round(const struct server *s, struct load *shorts, double *kept)
{
	static const char *const streams[] = { "-c", "4", "-n", "2g",
	    "--timeout", "60", NULL };
	static const char *const short_args[] = { "-c", "4", "-n", "64",
	    "--rate", "1000", "--duration", "3", "--sources", "8",
	    "--timeout", "60", NULL };
	struct load alone = run_background(s, streams), beside, after;
	struct pending l = load_start(s, streams, true);

	usleep(200000);		/* a benchmark's ramp, not a test's wait */
	*shorts = run_load(s, short_args);
	beside = load_finish(&l);
	/* Alone before and after: the machine's drift between the runs
	 * cancels out of their mean. */
	after = run_background(s, streams);
	*kept = beside.mb_per_s / ((alone.mb_per_s + after.mb_per_s) / 2);
	shorts->errors += alone.errors + beside.errors + after.errors;
}

void
mixed(void)
{
	double p99[2][MAX_ROUNDS], p50[2][MAX_ROUNDS], max[2][MAX_ROUNDS];
	double kept[2][MAX_ROUNDS], ratio[MAX_ROUNDS];
	struct server side[2];
	struct row *row;
	long errors = 0;

	server_start(&side[0], epoll_argv);
	server_start(&side[1], upcased_argv);
	printf("mixed (4 streams of 2 GiB, and beside them 64-byte "
	    "connections, 1000/s at most 4 at a time, for 3 s; A=epoll LT, "
	    "B=upcased):\n");
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < 2; k++) {
			struct load r;

			mixed_round(&side[k], &r, &kept[k][i]);
			p50[k][i] = r.p50;
			p99[k][i] = r.p99;
			max[k][i] = r.max;
			errors += r.errors;
		}
		ratio[i] = p99[1][i] / p99[0][i];
	}
	print_rounds("A p99 ms", p99[0], rounds);
	print_rounds("B p99 ms", p99[1], rounds);
	print_rounds("B/A", ratio, rounds);
	print_rounds("A kept", kept[0], rounds);
	print_rounds("B kept", kept[1], rounds);
	server_stop(&side[0]);
	server_stop(&side[1]);
	row = row_add();
	*row = (struct row){ "mixed: short p99", "ms", "epoll LT",
	    "<= 1, <= 0.5", median(p99[1], rounds), median(p99[0], rounds),
	    median(ratio, rounds), "" };
	snprintf(row->note, sizeof(row->note), "p50 %.3f, max %.3f (baseline "
	    "%.3f, %.3f); %ld errors", median(p50[1], rounds),
	    median(max[1], rounds), median(p50[0], rounds),
	    median(max[0], rounds), errors);
	row = row_add();
	*row = (struct row){ "mixed: streams kept", "of alone", "epoll LT",
	    ">= 0.90", median(kept[1], rounds), median(kept[0], rounds),
	    median(kept[1], rounds) / median(kept[0], rounds), "" };
	snprintf(row->note, sizeof(row->note), "throughput beside the short "
	    "ones over throughput alone");
}

/* RSS growth of upcased per idle connection, at n connections. */
void
idle(int n)
{
	struct server s;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	double per[MAX_ROUNDS];
	unsigned port;
	int *fds = calloc((size_t)n, sizeof(int));
	char host[32];

	printf("idle (%d connections, RSS growth per connection):\n", n);
	for (int round = 0; round < rounds; round++) {
		long before, after;
		int base;

		server_start(&s, upcased_argv);
		sscanf(s.addr, "%31[^:]:%u", host, &port);
		inet_pton(AF_INET, host, &sin.sin_addr);
		sin.sin_port = htons((uint16_t)port);
		base = fd_count(s.pid);
		before = rss_kib(s.pid) * 1024;
		for (int i = 0; i < n; i++) {
			fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fds[i] == -1 || connect(fds[i],
			    (struct sockaddr *)&sin, sizeof(sin)) == -1)
				die("idle connect");
		}
		/* Every connection accepted: the daemon holds n more fds. */
		for (double t0 = now_s(); fd_count(s.pid) < base + n;) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			if (now_s() - t0 > 60) {
				fprintf(stderr, "bench: idle: only %d of %d "
				    "accepted\n", fd_count(s.pid) - base, n);
				exit(1);
			}
			nanosleep(&ts, NULL);
		}
		after = rss_kib(s.pid) * 1024;
		per[round] = (double)(after - before) / n;
		for (int i = 0; i < n; i++)
			close(fds[i]);
		server_stop(&s);
	}
	print_rounds("bytes", per, rounds);
	free(fds);
	*row_add() = (struct row){ "idle", "bytes/conn", "-", "<= 128",
	    median(per, rounds), 0, 0, "" };
}

/* 10,000 x 64 KiB against upcased alone: time and errors. */
void
scale(void)
{
	static const char *const args[] = { "-c", "10000", "-n", "64k",
	    "--timeout", "60", NULL };
	double secs[MAX_ROUNDS];
	long errors = 0;
	struct server s;

	printf("scale (10000 x 64 KiB, seconds):\n");
	server_start(&s, upcased_argv);
	for (int i = 0; i < rounds; i++) {
		struct load r = run_load(&s, args);

		secs[i] = r.seconds;
		errors += r.errors;
	}
	server_stop(&s);
	print_rounds("upcased", secs, rounds);
	struct row *row = row_add();
	*row = (struct row){ "scale", "seconds", "-", "0 errors",
	    median(secs, rounds), 0, 0, "" };
	snprintf(row->note, sizeof(row->note), "%ld errors", errors);
}

/* The transform on 64 KiB blocks, against memcpy of the same blocks. */
enum { BLOCK = 64 * 1024 };
static unsigned char block_src[BLOCK], block_dst[BLOCK];

static void
block_copy(void)
{
	memcpy(block_dst, block_src, BLOCK);
}

static void
block_upper(void)
{
	upper_inplace(block_dst, BLOCK);
}

static void
block_upper_portable(void)
{
	upper_inplace_portable(block_dst, BLOCK);
}

/* GB/s of fn over 0.3 s. */
static double
block_rate(void (*fn)(void))
{
	double t0 = now_s(), t;
	long iters = 0;

	do {
		for (int k = 0; k < 1000; k++) {
			fn();
			__asm__ volatile("" : : "r"(block_dst) : "memory");
		}
		iters += 1000;
	} while ((t = now_s() - t0) < 0.3);
	return (double)iters * BLOCK / t / 1e9;
}

void
transform(void)
{
	double up[MAX_ROUNDS], cp[MAX_ROUNDS], sse[MAX_ROUNDS];
	double ratio[MAX_ROUNDS];

	for (size_t i = 0; i < BLOCK; i++)
		block_src[i] = (unsigned char)(i * 7);
	printf("transform (64 KiB blocks, GB/s, A=memcpy, B=upper, "
	    "portable=upper without AVX2):\n");
	for (int round = 0; round < rounds; round++) {
		cp[round] = block_rate(block_copy);
		up[round] = block_rate(block_upper);
		sse[round] = block_rate(block_upper_portable);
		ratio[round] = up[round] / cp[round];
	}
	print_rounds("A", cp, rounds);
	print_rounds("B", up, rounds);
	print_rounds("portable", sse, rounds);
	print_rounds("B/A", ratio, rounds);
	*row_add() = (struct row){ "transform", "GB/s", "memcpy", "-",
	    median(up, rounds), median(cp, rounds), median(ratio, rounds),
	    "" };
}


/* n connections to addr ("HOST:PORT"), each opening with line and
 * sending len bytes after it, left open: their fds into fds. */
static void
open_paced(const char *addr, int *fds, int n, const char *line, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char host[32], data[256];
	unsigned port;
	size_t k = strlen(line);

	sscanf(addr, "%31[^:]:%u", host, &port);
	inet_pton(AF_INET, host, &sin.sin_addr);
	sin.sin_port = htons((uint16_t)port);
	memcpy(data, line, k);
	memset(data + k, 'p', len);
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* Blocking: the listen queue takes them as fast as they come,
		 * and each line and its bytes go out at once. */
		if (fds[i] == -1 || connect(fds[i], (struct sockaddr *)&sin,
		    sizeof(sin)) == -1 || write(fds[i], data, k + len) !=
		    (ssize_t)(k + len))
			die("paced connect");
	}
}

/*
 * Ping-pong rounds beside n probe connections, each paced at one byte a
 * second (rate=1: a timer each, re-armed every second or so), against the
 * same ping-pong alone, on the same server, the two alternating: the p99
 * of the rounds, and the ratio. What it measures is what the other
 * connections pay for a timer per connection.
 */
void
paced(int n)
{
	static const char *const pingpong[] = { "-c", "100", "--pingpong",
	    "512", "--duration", "3", "--timeout", "60", NULL };
	const char *argv[32];
	double p99[2][MAX_ROUNDS], rate[2][MAX_ROUNDS], ratio[MAX_ROUNDS];
	int *fds = calloc((size_t)n, sizeof(int)), k = 0;
	struct server s;
	struct row *row;
	long errors = 0;

	while (upcased_argv[k] != NULL) {
		argv[k] = upcased_argv[k];
		k++;
	}
	argv[k++] = "-o";
	argv[k++] = "listen=127.0.0.2:0 probe";
	argv[k] = NULL;
	if (fds == NULL)
		die("calloc");
	printf("paced (ping-pong, 100 x 512 B, p99 ms; A = alone, B = beside "
	    "%d probe connections paced at 1 byte/s):\n", n);
	server_start2(&s, argv);
	for (int i = 0; i < rounds; i++) {
		struct load a = run_load(&s, pingpong), b;

		open_paced(s.addr2, fds, n, "UPCASE-PROBE/1 rate=1\n", 64);
		b = run_load(&s, pingpong);
		for (int j = 0; j < n; j++)
			close(fds[j]);
		p99[0][i] = a.p99;
		p99[1][i] = b.p99;
		rate[0][i] = a.rounds_per_s;
		rate[1][i] = b.rounds_per_s;
		ratio[i] = b.p99 / a.p99;
		errors += a.errors + b.errors;
	}
	server_stop(&s);
	free(fds);
	print_rounds("A p99", p99[0], rounds);
	print_rounds("B p99", p99[1], rounds);
	print_rounds("B/A", ratio, rounds);
	print_rounds("A rounds/s", rate[0], rounds);
	print_rounds("B rounds/s", rate[1], rounds);
	row = row_add();
	*row = (struct row){ "paced probes: ping-pong p99", "ms", "alone",
	    "report", median(p99[1], rounds), median(p99[0], rounds),
	    median(ratio, rounds), "" };
	snprintf(row->note, sizeof(row->note), "%d probes at 1 B/s; rounds/s "
	    "%.0f, alone %.0f; %ld errors", n, median(rate[1], rounds),
	    median(rate[0], rounds), errors);
}
