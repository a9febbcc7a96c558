/*
 * bench.c — upcased's benchmark suite (make bench). Every figure is measured
 * side by side with a baseline server in the same run, A and B alternating
 * round by round. The medians of the rounds are quoted, and the ratio is the
 * median of the per-round ratios B/A: each pair ran back to back, so drift
 * in the machine's speed between rounds cancels out of it.
 * The load is bin/upcase bench, which checks every echoed byte. Servers run
 * on one core, the load on the other, when there are two (but for the
 * workers row, where nothing is pinned).
 *
 *   stream     1 connection, 1 GiB            vs blocking_echo   MB/s
 *   ping-pong  100 x 512-byte rounds, 3 s      vs epoll_echo      rounds/s
 *   burst      1000 x 64 KiB, half-close       vs epoll_echo      seconds
 *   mixed      4 x 2 GiB, and 64-byte ones     vs epoll_echo      short p99 ms,
 *              1000/s beside them                                 streams kept
 *   churn      64 slots of 64-byte connections vs epoll_echo      conn/s
 *   workers    churn, workers = 2             vs workers = 1     conn/s
 *   sandbox    ping-pong                       vs sandbox = no    rounds/s
 *   idle       10,000 idle connections         RSS bytes per connection
 *   scale      10,000 x 64 KiB, half-close     seconds, errors
 *   transform  64 KiB blocks                   vs memcpy          GB/s
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_ONLY (one benchmark name).
 * This is a measurement, never a test: nothing here passes or fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "proc.h"
#include "upper.h"

#define MAX_ROUNDS 15

struct server {
	const char *name;
	pid_t pid;
	char addr[64];
};

struct load {
	double seconds, mb_per_s, rounds_per_s, p50, p99, max;
	long errors;
};

static int rounds = 5;
static int ncpu;
static bool unpinned;		/* servers and load on any cpu */
static const char *only;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* In a child: run on one cpu (if there are two or more). */
static void
pin(int cpu)
{
	cpu_set_t set;

	if (ncpu < 2 || unpinned)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Start a server on cpu 1 and read its "listening on ADDR" line. */
static void
server_start(struct server *s, const char *const *argv)
{
	char *line = NULL, *at;
	size_t size = 0;
	int p[2];
	FILE *f;

	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe");
	s->name = argv[0];
	s->pid = fork();
	if (s->pid == -1)
		die("fork");
	if (s->pid == 0) {
		pin(1);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (f == NULL)
		die("fdopen");
	do {
		if (getline(&line, &size, f) == -1) {
			fprintf(stderr, "bench: %s did not start\n", argv[0]);
			exit(1);
		}
		at = strstr(line, "listening on ");
	} while (at == NULL || sscanf(at, "listening on %63s", s->addr) != 1);
	/* The servers log little after this, and ignore SIGPIPE. */
	free(line);
	fclose(f);
}

static void
server_stop(struct server *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
}

static double
json_number(const char *json, const char *key)
{
	char pattern[64];
	const char *at;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	at = strstr(json, pattern);
	return at == NULL ? -1 : strtod(at + strlen(pattern), NULL);
}

/* A load running: upcase bench's pid and the read end of its stdout. */
struct pending {
	const struct server *s;
	pid_t pid;
	int fd;
};

/* Start bin/upcase bench -a ADDR ARGS... --json on cpu 0; background:
 * as SCHED_IDLE, so that it never delays another load's wake-ups there. */
static struct pending
load_start(const struct server *s, const char *const *args, bool background)
{
	const char *argv[32] = { "bin/upcase", "bench", "-a", s->addr };
	struct pending l = { .s = s };
	int p[2], n = 4;

	for (; *args != NULL; args++)
		argv[n++] = *args;
	argv[n++] = "--json";
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe");
	l.pid = fork();
	if (l.pid == -1)
		die("fork");
	if (l.pid == 0) {
		pin(0);
		if (background)
			sched_setscheduler(0, SCHED_IDLE,
			    &(struct sched_param){ 0 });
		dup2(p[1], STDOUT_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	l.fd = p[0];
	return l;
}

/* Wait for the load to end; parse its JSON. */
static struct load
load_finish(struct pending *l)
{
	char out[8192], *json;
	size_t len = 0;
	struct load r;
	int status;

	for (ssize_t k; (k = read(l->fd, out + len, sizeof(out) - 1 - len)) >
	    0;)
		len += (size_t)k;
	out[len] = '\0';
	close(l->fd);
	waitpid(l->pid, &status, 0);
	json = strchr(out, '{');
	if (json == NULL) {
		fprintf(stderr, "bench: no result from upcase bench against "
		    "%s:\n%s", l->s->name, out);
		exit(1);
	}
	r.seconds = json_number(json, "seconds");
	r.mb_per_s = json_number(json, "mb_per_s");
	r.rounds_per_s = json_number(json, "rounds_per_s");
	r.p50 = json_number(json, "p50");
	r.p99 = json_number(json, "p99");
	r.max = json_number(json, "max");
	r.errors = (long)json_number(json, "errors");
	return r;
}

static struct load
run_load(const struct server *s, const char *const *args)
{
	struct pending l = load_start(s, args, false);

	return load_finish(&l);
}

/* The same in the background (load_start). */
static struct load
run_background(const struct server *s, const char *const *args)
{
	struct pending l = load_start(s, args, true);

	return load_finish(&l);
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	double sorted[MAX_ROUNDS];

	memcpy(sorted, v, sizeof(double) * (size_t)n);
	qsort(sorted, (size_t)n, sizeof(double), compare_double);
	return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void
print_rounds(const char *label, const double *v, int n)
{
	printf("    %-10s", label);
	for (int i = 0; i < n; i++)
		printf(" %10.3f", v[i]);
	printf("\n");
}

static const char *const upcased_argv[] = { "bin/upcased", "-f", "-c",
    "/dev/null", "-o", "listen=127.0.0.1:0", "-o", "listen_backlog=4096",
    "-o", "max_connections=20000", NULL };
/* A master and two workers, against the single process above. */
static const char *const workers_argv[] = { "bin/upcased", "-f", "-c",
    "/dev/null", "-o", "listen=127.0.0.1:0", "-o", "listen_backlog=4096",
    "-o", "max_connections=20000", "-o", "workers=2", NULL };
/* The same daemon without its seccomp filter: what the sandbox costs. */
static const char *const unsandboxed_argv[] = { "bin/upcased", "-f", "-c",
    "/dev/null", "-o", "listen=127.0.0.1:0", "-o", "listen_backlog=4096",
    "-o", "max_connections=20000", "-o", "sandbox=no", NULL };
static const char *const blocking_argv[] = { "build/bench/blocking_echo",
    NULL };
static const char *const epoll_argv[] = { "build/bench/epoll_echo", NULL };

enum metric { MB_PER_S, ROUNDS_PER_S, SECONDS };

static double
metric_of(const struct load *r, enum metric m)
{
	return m == MB_PER_S ? r->mb_per_s :
	    m == ROUNDS_PER_S ? r->rounds_per_s : r->seconds;
}

struct row {
	const char *name, *metric, *baseline, *target;
	double ours, theirs, ratio;
	char note[96];
};

static struct row table[12];
static int nrows;

/*
 * Measure one load against ours (B, upcased as ours_argv starts it) and a
 * baseline (A), alternating A, B per round; record the medians.
 */
static void
versus_with(const char *name, const char *metric_name, enum metric m,
    const char *const *baseline_argv, const char *baseline_name,
    const char *target, const char *const *args,
    const char *const *ours_argv)
{
	double a[MAX_ROUNDS], b[MAX_ROUNDS], ratio[MAX_ROUNDS];
	double p50[2][MAX_ROUNDS], p99[2][MAX_ROUNDS];
	struct server base, ours;
	struct row *row = &table[nrows++];
	long errors = 0;

	server_start(&base, baseline_argv);
	server_start(&ours, ours_argv);
	printf("%s (%s, rounds A=%s, B=upcased):\n", name, metric_name,
	    baseline_name);
	for (int i = 0; i < rounds; i++) {
		struct load ra = run_load(&base, args);
		struct load rb = run_load(&ours, args);

		a[i] = metric_of(&ra, m);
		b[i] = metric_of(&rb, m);
		p50[0][i] = ra.p50;
		p50[1][i] = rb.p50;
		p99[0][i] = ra.p99;
		p99[1][i] = rb.p99;
		ratio[i] = b[i] / a[i];
		errors += ra.errors + rb.errors;
	}
	print_rounds("A", a, rounds);
	print_rounds("B", b, rounds);
	print_rounds("B/A", ratio, rounds);
	server_stop(&base);
	server_stop(&ours);
	row->name = name;
	row->metric = metric_name;
	row->baseline = baseline_name;
	row->target = target;
	row->theirs = median(a, rounds);
	row->ours = median(b, rounds);
	row->ratio = median(ratio, rounds);
	if (m == ROUNDS_PER_S)	/* medians of each side's p50 and p99 */
		snprintf(row->note, sizeof(row->note), "p50/p99 ms: %.3f/%.3f, "
		    "baseline %.3f/%.3f; %ld errors", median(p50[1], rounds),
		    median(p99[1], rounds), median(p50[0], rounds),
		    median(p99[0], rounds), errors);
	else
		snprintf(row->note, sizeof(row->note), "%ld errors", errors);
}

static void
versus(const char *name, const char *metric_name, enum metric m,
    const char *const *baseline_argv, const char *baseline_name,
    const char *target, const char *const *args)
{
	versus_with(name, metric_name, m, baseline_argv, baseline_name,
	    target, args, upcased_argv);
}

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

static void
mixed(void)
{
	double p99[2][MAX_ROUNDS], p50[2][MAX_ROUNDS], max[2][MAX_ROUNDS];
	double kept[2][MAX_ROUNDS], ratio[MAX_ROUNDS];
	struct server side[2];
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
	table[nrows] = (struct row){ "mixed: short p99", "ms", "epoll LT",
	    "<= 1, <= 0.5", median(p99[1], rounds), median(p99[0], rounds),
	    median(ratio, rounds), "" };
	snprintf(table[nrows++].note, sizeof(table[0].note), "p50 %.3f, max "
	    "%.3f (baseline %.3f, %.3f); %ld errors", median(p50[1], rounds),
	    median(max[1], rounds), median(p50[0], rounds),
	    median(max[0], rounds), errors);
	table[nrows] = (struct row){ "mixed: streams kept", "of alone",
	    "epoll LT", ">= 0.90", median(kept[1], rounds),
	    median(kept[0], rounds), median(kept[1], rounds) /
	    median(kept[0], rounds), "" };
	snprintf(table[nrows++].note, sizeof(table[0].note), "throughput "
	    "beside the short ones over throughput alone");
}

/* RSS growth of upcased per idle connection, at n connections. */
static void
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
	table[nrows++] = (struct row){ "idle", "bytes/conn", "-", "<= 128",
	    median(per, rounds), 0, 0, "" };
}

/* 10,000 x 64 KiB against upcased alone: time and errors. */
static void
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
	struct row *row = &table[nrows++];
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

static void
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
	table[nrows++] = (struct row){ "transform", "GB/s", "memcpy", "-",
	    median(up, rounds), median(cp, rounds), median(ratio, rounds),
	    "" };
}

static bool
wanted(const char *name)
{
	return only == NULL || strcmp(only, name) == 0;
}

static void
print_machine(void)
{
	char line[256], model[256] = "unknown cpu";
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "model name : %255[^\n]", model) == 1)
			break;
	if (f != NULL)
		fclose(f);
	uname(&u);
	printf("machine: %s, %d cpus, Linux %s\n", model, ncpu, u.release);
	printf("rounds: %d, A and B alternating; medians quoted\n\n", rounds);
}

int
main(void)
{
	static const char *const stream_args[] = { "-c", "1", "-n", "1g",
	    "--timeout", "60", NULL };
	static const char *const pingpong_args[] = { "-c", "100",
	    "--pingpong", "512", "--duration", "3", "--timeout", "60", NULL };
	/* Short connections back to back; the client half-closes first, so
	 * TIME_WAIT is on its side: spread over 32 source addresses. */
	static const char *const churn_args[] = { "-c", "64", "-n", "64",
	    "--churn", "--duration", "3", "--sources", "32", "--timeout", "60",
	    NULL };
	static const char *const burst_args[] = { "-c", "1000", "-n", "64k",
	    "--timeout", "60", NULL };
	struct rlimit rl;

	if (getenv("BENCH_ROUNDS") != NULL)
		rounds = atoi(getenv("BENCH_ROUNDS"));
	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = 5;
	only = getenv("BENCH_ONLY");
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	signal(SIGPIPE, SIG_IGN);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	setvbuf(stdout, NULL, _IOLBF, 0);
	print_machine();

	if (wanted("transform"))
		transform();
	if (wanted("stream"))
		versus("stream", "MB/s", MB_PER_S, blocking_argv, "blocking",
		    ">= 0.90", stream_args);
	if (wanted("ping-pong"))
		versus("ping-pong", "rounds/s", ROUNDS_PER_S, epoll_argv,
		    "epoll LT", ">= 0.95", pingpong_args);
	if (wanted("burst"))
		versus("burst", "seconds", SECONDS, epoll_argv, "epoll LT",
		    "<= 1.25", burst_args);
	if (wanted("mixed"))
		mixed();
	if (wanted("churn"))
		versus("churn", "conn/s", ROUNDS_PER_S, epoll_argv, "epoll LT",
		    ">= 0.95", churn_args);
	/* Two workers against one process. Nothing is pinned: the workers
	 * need both cpus, which the load generator shares with them. */
	if (wanted("workers")) {
		unpinned = true;
		versus_with("churn, workers = 2", "conn/s", ROUNDS_PER_S,
		    upcased_argv, "workers = 1", "report", churn_args,
		    workers_argv);
		unpinned = false;
	}
	/* Every call runs the filter: ping-pong makes the most per byte. */
	if (wanted("sandbox"))
		versus("sandbox (ping-pong)", "rounds/s", ROUNDS_PER_S,
		    unsandboxed_argv, "sandbox = no", ">= 0.97",
		    pingpong_args);
	if (wanted("idle"))
		idle(10000);
	if (wanted("scale"))
		scale();

	printf("\n| benchmark | metric | upcased | baseline | baseline value "
	    "| ratio | target | notes |\n");
	printf("| --- | --- | ---: | --- | ---: | ---: | --- | --- |\n");
	for (int i = 0; i < nrows; i++) {
		struct row *r = &table[i];

		printf("| %s | %s | %.3f | %s | ", r->name, r->metric, r->ours,
		    r->baseline);
		if (r->theirs > 0)
			printf("%.3f | %.3f | ", r->theirs, r->ratio);
		else
			printf("- | - | ");
		printf("%s | %s |\n", r->target, r->note);
	}
	return 0;
}
