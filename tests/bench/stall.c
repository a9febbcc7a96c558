/*
 * stall.c — the backlog_total row: clients that push and never read,
 * beside clients that do. The attackers are a child process of their own
 * (their descriptors are not the driver's), one epoll loop over n
 * sockets; the row runs ping-pong and four streams alone and beside them,
 * and reads what the daemon holds from /proc and its metrics. The driver
 * is bench.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "proc.h"

#define ATTACKERS	5000
#define PUSH		(1 << 20)	/* bytes each attacker sends */
#define QUIET_MS	300	/* no socket moved for this long: all stuck */

/* The attack as the driver sees it: the child, and a pipe each way. */
struct attack {
	pid_t pid;
	FILE *status;		/* the child's lines */
	int stop;		/* closed: the child reports and exits */
};

/* What the attackers did, from one of the child's lines. */
struct attack_state {
	int connected, closed;	/* closed: by the daemon (reset or FIN) */
	long long sent;		/* bytes the daemon's kernel took */
};

static void
sockaddr_of(const char *addr, struct sockaddr_in *sin)
{
	char host[32];
	unsigned port;

	*sin = (struct sockaddr_in){ .sin_family = AF_INET };
	if (sscanf(addr, "%31[^:]:%u", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		die(addr);
	sin->sin_port = htons((uint16_t)port);
}

/*
 * The child: n nonblocking sockets to addr, each with a 4 KiB receive
 * buffer asked for before connect (Linux doubles it and keeps a floor),
 * each sending PUSH bytes of lower case as fast as the daemon takes them
 * and never reading. Once every socket has been quiet for QUIET_MS, one
 * line to out ("in force"); when stop reads EOF, a last line, and exit.
 * A socket the daemon closes (a reset, or a FIN) is counted and closed.
 */
static void __attribute__((noreturn))
attack_run(const char *addr, int n, int out, int stop)
{
	static char data[64 * 1024];
	struct epoll_event ev[256];
	struct sockaddr_in sin;
	int ep = epoll_create1(EPOLL_CLOEXEC), *fd = calloc((size_t)n,
	    sizeof(int)), *left = calloc((size_t)n, sizeof(int));
	struct attack_state st = { 0, 0, 0 };
	int rcvbuf = 4096, told = 0;

	if (ep == -1 || fd == NULL || left == NULL)
		die("attack");
	memset(data, 'a', sizeof(data));
	sockaddr_of(addr, &sin);
	epoll_ctl(ep, EPOLL_CTL_ADD, stop, &(struct epoll_event){ EPOLLIN,
	    { .u32 = (uint32_t)n } });
	for (int i = 0; i < n; i++) {
		fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd[i] == -1 || setsockopt(fd[i], SOL_SOCKET, SO_RCVBUF,
		    &rcvbuf, sizeof(rcvbuf)) == -1)
			die("attack socket");
		if (connect(fd[i], (struct sockaddr *)&sin, sizeof(sin)) == -1
		    && errno != EINPROGRESS)
			die("attack connect");
		left[i] = PUSH;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &(struct epoll_event){
		    EPOLLOUT | EPOLLRDHUP | EPOLLET, { .u32 = (uint32_t)i } });
	}
	for (;;) {
		int k = epoll_wait(ep, ev, 256, QUIET_MS);

		if (k == 0 && !told) {
			dprintf(out, "%d %d %lld\n", st.connected, st.closed,
			    st.sent);
			told = 1;
		}
		for (int j = 0; j < k; j++) {
			uint32_t i = ev[j].data.u32;
			ssize_t w = 0;

			if (i == (uint32_t)n) {		/* stop */
				dprintf(out, "%d %d %lld\n", st.connected,
				    st.closed, st.sent);
				_exit(0);
			}
			if (fd[i] == -1)
				continue;
			if (ev[j].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
				st.closed++;
				close(fd[i]);
				fd[i] = -1;
				continue;
			}
			if (left[i] == PUSH)
				st.connected++;		/* the first EPOLLOUT */
			while (left[i] > 0 && (w = send(fd[i], data,
			    left[i] < (int)sizeof(data) ? (size_t)left[i] :
			    sizeof(data), MSG_NOSIGNAL)) > 0) {
				left[i] -= (int)w;
				st.sent += w;
			}
			if (w == -1 && errno != EAGAIN) {
				st.closed++;
				close(fd[i]);
				fd[i] = -1;
			}
		}
	}
}

/* Start the attackers on cpu 0 as SCHED_IDLE: they stand for other
 * machines' clients, and must not take the load's time slices there. */
static struct attack
attack_start(const char *addr, int n)
{
	int up[2], down[2];
	struct attack a;

	if (pipe2(up, O_CLOEXEC) == -1 || pipe2(down, O_CLOEXEC) == -1)
		die("pipe");
	a.pid = fork();
	if (a.pid == -1)
		die("fork");
	if (a.pid == 0) {
		pin(0);
		sched_setscheduler(0, SCHED_IDLE, &(struct sched_param){ 0 });
		close(up[0]);
		close(down[1]);
		attack_run(addr, n, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	a.status = fdopen(up[0], "r");
	a.stop = down[1];
	if (a.status == NULL)
		die("fdopen");
	return a;
}

static struct attack_state
attack_line(struct attack *a)
{
	struct attack_state st;

	if (fscanf(a->status, "%d %d %lld", &st.connected, &st.closed,
	    &st.sent) != 3) {
		fprintf(stderr, "bench: the attackers died\n");
		exit(1);
	}
	return st;
}

/* Stop the attackers; what they saw in the end. */
static struct attack_state
attack_stop(struct attack *a)
{
	struct attack_state st;

	close(a->stop);
	st = attack_line(a);
	fclose(a->status);
	waitpid(a->pid, NULL, 0);
	return st;
}

/* One sample of the daemon's metrics (its listener at addr), as printed:
 * NAME or NAME{LABELS}. */
static double
metric(const char *addr, const char *name)
{
	static char text[256 * 1024];
	static const char get[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char pattern[160];
	struct sockaddr_in sin;
	size_t len = 0;
	const char *at;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sockaddr_of(addr, &sin);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ==
	    -1 || write(fd, get, sizeof(get) - 1) != sizeof(get) - 1)
		die("metrics");
	for (ssize_t k; (k = read(fd, text + len, sizeof(text) - 1 - len)) >
	    0;)
		len += (size_t)k;
	close(fd);
	text[len] = '\0';
	snprintf(pattern, sizeof(pattern), "\n%s ", name);
	if ((at = strstr(text, pattern)) == NULL) {
		fprintf(stderr, "bench: no %s in the metrics\n", name);
		exit(1);
	}
	return strtod(at + strlen(pattern), NULL);
}

#define OPEN	"upcased_connections_open"
#define OWED	"upcased_owed_bytes"
#define SHED	"upcased_connections_closed_total{reason=\"backlog_total\"}"

/* The peak of pid's resident memory counts from now (clear_refs 5). */
static void
hwm_reset(pid_t pid)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	if ((f = fopen(path, "we")) == NULL || fputs("5", f) == EOF ||
	    fclose(f) == EOF)
		die(path);
}

/* One round's figures; [0] when the loads begin, [1] when they end. */
struct stall_round {
	struct load pp[3], st[3];	/* alone, beside, alone again */
	double growth[2];	/* MiB: peak RSS since just before the attack */
	double owed[2];		/* MiB, by the metric */
	double shed[2];		/* closed as backlog_total, by the metric */
	int live;		/* attackers open when the loads begin */
	int seen_closed;	/* attackers closed, as they saw it */
};

/*
 * A fresh daemon with backlog_total = bound: ping-pong and the streams
 * alone, then the attack; once every attacker is stuck and the daemon
 * holds every one still open, the same loads beside it, and the peak of
 * the daemon's resident memory since just before the attack; then, the
 * attack over, the loads alone again: the beside figures are taken
 * against the mean of the two alone, so that neither a fresh daemon's
 * first run nor the machine's drift is counted as the attack's.
 */
static void
stall_round(const char *bound, struct stall_round *r)
{
	static const char *const pingpong[] = { "-c", "100", "--pingpong",
	    "512", "--duration", "3", "--timeout", "60", NULL };
	static const char *const streams[] = { "-c", "4", "-n", "1g",
	    "--timeout", "60", NULL };
	char total[64];
	const char *argv[32];
	struct attack_state st;
	struct attack a;
	struct server s;
	long before;
	int k = 0;
	double t0;

	while (upcased_argv[k] != NULL) {
		argv[k] = upcased_argv[k];
		k++;
	}
	snprintf(total, sizeof(total), "backlog_total=%s", bound);
	argv[k++] = "-o";
	argv[k++] = total;
	argv[k++] = "-o";
	argv[k++] = "listen=127.0.0.2:0 metrics";
	argv[k] = NULL;
	server_start2(&s, argv);
	r->pp[0] = run_load(&s, pingpong);
	r->st[0] = run_load(&s, streams);

	before = rss_kib(s.pid);
	hwm_reset(s.pid);
	a = attack_start(s.addr, ATTACKERS);
	st = attack_line(&a);
	/* The attackers are stuck; wait for the daemon to hold each one
	 * still open (a connect the full queue delayed comes late). */
	r->live = st.connected - st.closed;
	for (t0 = now_s(); metric(s.addr2, OPEN) < r->live;) {
		if (now_s() - t0 > 60) {
			fprintf(stderr, "bench: stall: %d attackers, the "
			    "daemon holds %.0f\n", r->live,
			    metric(s.addr2, OPEN));
			exit(1);
		}
		usleep(10000);
	}
	r->owed[0] = metric(s.addr2, OWED) / (1 << 20);
	r->shed[0] = metric(s.addr2, SHED);
	r->growth[0] = (double)(status_field(s.pid, "VmHWM") - before) / 1024;
	r->pp[1] = run_load(&s, pingpong);
	r->st[1] = run_load(&s, streams);
	r->owed[1] = metric(s.addr2, OWED) / (1 << 20);
	r->shed[1] = metric(s.addr2, SHED);
	r->growth[1] = (double)(status_field(s.pid, "VmHWM") - before) / 1024;
	st = attack_stop(&a);
	r->seen_closed = st.closed;
	r->pp[2] = run_load(&s, pingpong);
	r->st[2] = run_load(&s, streams);
	server_stop(&s);
}

/* One bound's rows, named. */
struct stall_rows {
	const char *bound, *pingpong, *streams, *memory;
	double bound_mib;	/* 0: out of reach */
};

static void
stall_bound(const struct stall_rows *w)
{
	double p99[2][MAX_ROUNDS], mbs[2][MAX_ROUNDS], rps[2][MAX_ROUNDS];
	double pratio[MAX_ROUNDS], sratio[MAX_ROUNDS], live[MAX_ROUNDS];
	double growth[2][MAX_ROUNDS], owed[2][MAX_ROUNDS], shed[2][MAX_ROUNDS];
	long errors = 0, strays = 0;
	struct row *row;

	printf("stall, backlog_total = %s (%d attackers each pushing 1 MiB, "
	    "never reading, 4 KiB receive buffers; ping-pong 100 x 512 B for "
	    "3 s, then 4 streams of 1 GiB; A = alone, the mean of before "
	    "and after, B = beside them):\n",
	    w->bound, ATTACKERS);
	for (int i = 0; i < rounds; i++) {
		struct stall_round r;

		stall_round(w->bound, &r);
		for (int k = 0; k < 2; k++) {
			p99[k][i] = r.pp[k].p99;
			rps[k][i] = r.pp[k].rounds_per_s;
			mbs[k][i] = r.st[k].mb_per_s;
			growth[k][i] = r.growth[k];
			owed[k][i] = r.owed[k];
			shed[k][i] = r.shed[k];
			errors += r.pp[k].errors + r.st[k].errors;
		}
		errors += r.pp[2].errors + r.st[2].errors;
		/* A: the mean of alone before and alone after. */
		p99[0][i] = (r.pp[0].p99 + r.pp[2].p99) / 2;
		rps[0][i] = (r.pp[0].rounds_per_s + r.pp[2].rounds_per_s) / 2;
		mbs[0][i] = (r.st[0].mb_per_s + r.st[2].mb_per_s) / 2;
		pratio[i] = p99[1][i] / p99[0][i];
		sratio[i] = mbs[1][i] / mbs[0][i];
		live[i] = r.live;
		/* Closed as backlog_total, and not by the attackers' count:
		 * a client that reads, closed. */
		if (r.shed[1] > r.seen_closed)
			strays += (long)r.shed[1] - r.seen_closed;
	}
	print_rounds("A p99 ms", p99[0], rounds);
	print_rounds("B p99 ms", p99[1], rounds);
	print_rounds("B/A", pratio, rounds);
	print_rounds("A MB/s", mbs[0], rounds);
	print_rounds("B MB/s", mbs[1], rounds);
	print_rounds("B/A", sratio, rounds);
	print_rounds("open", live, rounds);
	print_rounds("owed MiB", owed[0], rounds);
	print_rounds("  at end", owed[1], rounds);
	print_rounds("closed", shed[0], rounds);
	print_rounds("  at end", shed[1], rounds);
	print_rounds("RSS+ MiB", growth[0], rounds);
	print_rounds("  at end", growth[1], rounds);
	row = row_add();
	*row = (struct row){ w->pingpong, "ms", "alone", "<= 1.10",
	    median(p99[1], rounds), median(p99[0], rounds),
	    median(pratio, rounds), "" };
	snprintf(row->note, sizeof(row->note), "rounds/s %.0f, alone %.0f; "
	    "%ld errors", median(rps[1], rounds), median(rps[0], rounds),
	    errors);
	row = row_add();
	*row = (struct row){ w->streams, "MB/s", "alone", ">= 0.90",
	    median(mbs[1], rounds), median(mbs[0], rounds),
	    median(sratio, rounds), "" };
	snprintf(row->note, sizeof(row->note), "%ld errors (both loads)",
	    errors);
	row = row_add();
	*row = (struct row){ w->memory, "MiB", "the bound", w->bound_mib > 0 ?
	    "bound + overhead" : "report", median(growth[1], rounds),
	    w->bound_mib,
	    w->bound_mib > 0 ? median(growth[1], rounds) / w->bound_mib : 0,
	    "" };
	snprintf(row->note, sizeof(row->note), "owed %.1f MiB; %.0f open, "
	    "%.0f closed as backlog_total (%ld not attackers)",
	    median(owed[0], rounds), median(live, rounds),
	    median(shed[1], rounds), strays);
}

void
stall(bool at_64m, bool at_4g)
{
	static const struct stall_rows bounded = { "64m",
	    "stall 64m: ping-pong p99", "stall 64m: 4 streams",
	    "stall 64m: RSS growth", 64 };
	/* Out of reach: each attacker holds backlog_high (256 KiB). */
	static const struct stall_rows unbounded = { "4g",
	    "stall 4g: ping-pong p99", "stall 4g: 4 streams",
	    "stall 4g: RSS growth", 0 };

	if (at_64m)
		stall_bound(&bounded);
	if (at_4g)
		stall_bound(&unbounded);
}
