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
 *   paced      ping-pong beside 10,000 probe   vs ping-pong alone p99 ms
 *              connections at 1 byte/s
 *   churn      64 slots of 64-byte connections vs epoll_echo      conn/s
 *   io_uring   stream, ping-pong, burst, churn vs uring_echo      as above
 *              (the completion model, for context: no target)
 *   workers    churn, workers = 2             vs workers = 1     conn/s
 *   sandbox    ping-pong                       vs sandbox = no    rounds/s
 *   idle       10,000 idle connections         RSS bytes per connection
 *   scale      10,000 x 64 KiB, half-close     seconds, errors
 *   stall      ping-pong, 4 streams beside    vs alone           p99 ms, MB/s,
 *              5,000 clients that never read,                    RSS growth
 *              backlog_total 64m and 4g
 *   transform  64 KiB blocks                   vs memcpy          GB/s
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_ONLY (one benchmark name),
 * BENCH_UPCASED (the daemon to measure instead of bin/upcased: another
 * build, against the same baselines). The rows past one load against a
 * baseline are rows.c's and stall.c's. This is a measurement, never a
 * test: nothing here passes or fails.
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

#include "bench.h"
#include "proc.h"

int rounds = 5;
static int ncpu;
static bool unpinned;		/* servers and load on any cpu */
static const char *only;

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* In a child: run on one cpu (if there are two or more). */
void
pin(int cpu)
{
	cpu_set_t set;

	if (ncpu < 2 || unpinned)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Start a server on cpu 1 and read its first n "listening on" lines:
 * the addresses of its listeners. bin/upcased is $BENCH_UPCASED when set
 * (another build of the daemon, against the same baselines). */
static void
server_start_n(struct server *s, const char *const *argv, int n)
{
	const char *prog = argv[0];
	char *line = NULL, *at, *addr[2] = { s->addr, s->addr2 };
	size_t size = 0;
	int p[2];
	FILE *f;

	if (strcmp(prog, "bin/upcased") == 0 && getenv("BENCH_UPCASED"))
		prog = getenv("BENCH_UPCASED");
	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe");
	s->name = prog;
	s->pid = fork();
	if (s->pid == -1)
		die("fork");
	if (s->pid == 0) {
		pin(1);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (f == NULL)
		die("fdopen");
	for (int i = 0; i < n; i++)
		do {
			if (getline(&line, &size, f) == -1) {
				fprintf(stderr, "bench: %s did not start\n",
				    prog);
				exit(1);
			}
			at = strstr(line, "listening on ");
		} while (at == NULL || sscanf(at, "listening on %63s",
		    addr[i]) != 1);
	/* The servers log little after this, and ignore SIGPIPE. */
	free(line);
	fclose(f);
}

void
server_start(struct server *s, const char *const *argv)
{
	server_start_n(s, argv, 1);
}

void
server_start2(struct server *s, const char *const *argv)
{
	server_start_n(s, argv, 2);
}

void
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

/* Start bin/upcase bench -a ADDR ARGS... --json on cpu 0; background:
 * as SCHED_IDLE, so that it never delays another load's wake-ups there. */
struct pending
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
struct load
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
	r.mb_per_s = json_number(json, "bytes_per_s") / 1e6;
	r.rounds_per_s = json_number(json, "rounds_per_s");
	r.p50 = json_number(json, "p50");
	r.p99 = json_number(json, "p99");
	r.max = json_number(json, "max");
	r.errors = (long)json_number(json, "errors");
	return r;
}

struct load
run_load(const struct server *s, const char *const *args)
{
	struct pending l = load_start(s, args, false);

	return load_finish(&l);
}

/* The same in the background (load_start). */
struct load
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

double
median(double *v, int n)
{
	double sorted[MAX_ROUNDS];

	memcpy(sorted, v, sizeof(double) * (size_t)n);
	qsort(sorted, (size_t)n, sizeof(double), compare_double);
	return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

void
print_rounds(const char *label, const double *v, int n)
{
	printf("    %-10s", label);
	for (int i = 0; i < n; i++)
		printf(" %10.3f", v[i]);
	printf("\n");
}

const char *const upcased_argv[] = { "bin/upcased", "-f", "-c",
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
const char *const epoll_argv[] = { "build/bench/epoll_echo", NULL };
static const char *const uring_argv[] = { "build/bench/uring_echo", NULL };

enum metric { MB_PER_S, ROUNDS_PER_S, SECONDS };

static double
metric_of(const struct load *r, enum metric m)
{
	return m == MB_PER_S ? r->mb_per_s :
	    m == ROUNDS_PER_S ? r->rounds_per_s : r->seconds;
}

static struct row table[24];
static int nrows;

struct row *
row_add(void)
{
	if (nrows == (int)(sizeof(table) / sizeof(table[0])))
		die("too many rows");
	return &table[nrows++];
}

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
	struct row *row = row_add();
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
	if (wanted("paced"))
		paced(10000);
	if (wanted("churn"))
		versus("churn", "conn/s", ROUNDS_PER_S, epoll_argv, "epoll LT",
		    ">= 0.95", churn_args);
	/* The completion model beside the readiness one: context, not a
	 * target (the daemon stays epoll; BENCHMARKS.md says why). */
	if (wanted("io_uring") && access(uring_argv[0], X_OK) == 0) {
		versus("stream", "MB/s", MB_PER_S, uring_argv, "io_uring",
		    "report", stream_args);
		versus("ping-pong", "rounds/s", ROUNDS_PER_S, uring_argv,
		    "io_uring", "report", pingpong_args);
		versus("burst", "seconds", SECONDS, uring_argv, "io_uring",
		    "report", burst_args);
		versus("churn", "conn/s", ROUNDS_PER_S, uring_argv,
		    "io_uring", "report", churn_args);
	} else if (wanted("io_uring")) {
		printf("io_uring: no %s (liburing-dev): rows skipped\n\n",
		    uring_argv[0]);
	}
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
	if (wanted("stall") || wanted("stall 64m") || wanted("stall 4g"))
		stall(wanted("stall") || wanted("stall 64m"),
		    wanted("stall") || wanted("stall 4g"));

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
