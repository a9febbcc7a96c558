/*
 * filter_walk.c — what the seccomp filter costs each call, from the filter
 * as sandbox.c builds it: the BPF instructions a call runs through, and
 * whether the kernel's constant-action cache allows it without running the
 * filter at all (kernel/seccomp.c, seccomp_is_const_allow: a call whose
 * verdict loads nothing but the number and the architecture). With --time,
 * the nanoseconds a call takes with no filter, with the daemon's, and with
 * one that allows everything (the price of being filtered at all).
 *
 *   make build/bench/filter_walk && build/bench/filter_walk [master] [--time]
 *
 * A measurement, never a test. It includes sandbox.c to reach its statics.
 */
#include "../../daemon/sandbox.c"

#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>

#ifdef SANDBOX_ARCH

void
log_warnx(const char *fmt, ...)
{
	(void)fmt;
}

/* Run the filter on sd; *count: the instructions it ran. */
static uint32_t
walk(const struct prog *p, const struct seccomp_data *sd, unsigned *count)
{
	const unsigned char *base = (const unsigned char *)sd;
	uint32_t a = 0;
	unsigned pc = 0;

	for (*count = 1;; (*count)++) {
		const struct sock_filter *i = &p->f[pc++];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			memcpy(&a, base + i->k, sizeof(a));
			break;
		case BPF_RET | BPF_K:
			return i->k;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) != 0 ? i->jt : i->jf;
			break;
		default:
			fprintf(stderr, "filter_walk: opcode %#x\n", i->code);
			exit(1);
		}
	}
}

/* The kernel's test: allowed whatever the arguments? */
static bool
const_allow(const struct prog *p, const struct seccomp_data *sd)
{
	uint32_t a = 0;

	for (unsigned pc = 0; pc < p->n; pc++) {
		const struct sock_filter *i = &p->f[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k == offsetof(struct seccomp_data, nr))
				a = (uint32_t)sd->nr;
			else if (i->k == offsetof(struct seccomp_data, arch))
				a = sd->arch;
			else
				return false;	/* an argument: never cached */
			break;
		case BPF_RET | BPF_K:
			return i->k == SECCOMP_RET_ALLOW;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) != 0 ? i->jt : i->jf;
			break;
		default:
			return false;
		}
	}
	return false;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define CALLS	2000000
#define RUNS	7

/* In a child: ns per call of three calls under filter kind (0: none, 1:
 * the daemon's, 2: allow everything), written to out. */
static void
time_calls(int kind, bool master, int out)
{
	static struct prog p;
	struct sock_fprog fp;
	struct epoll_event ev;
	int ep = epoll_create1(0), sv[2], queued;
	double t, r[3];
	char c;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		_exit(1);
	if (kind == 1) {
		sandbox_build(&p, master);
	} else if (kind == 2) {
		p.n = 0;
		emit(&p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	}
	fp.len = p.n;
	fp.filter = p.f;
	if (kind != 0 && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) == -1))
		_exit(1);
	t = now_ns();
	for (int i = 0; i < CALLS; i++)
		epoll_wait(ep, &ev, 1, 0);
	r[0] = (now_ns() - t) / CALLS;
	t = now_ns();
	for (int i = 0; i < CALLS; i++)
		(void)!recv(sv[0], &c, 1, 0);
	r[1] = (now_ns() - t) / CALLS;
	t = now_ns();
	for (int i = 0; i < CALLS; i++)
		ioctl(sv[0], FIONREAD, &queued);
	r[2] = (now_ns() - t) / CALLS;
	_exit(write(out, r, sizeof(r)) == sizeof(r) ? 0 : 1);
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
time_filters(bool master)
{
	static const char *const kinds[] = { "no filter", "the daemon's",
	    "allow-all" };
	double ns[3][3][RUNS];

	for (int run = 0; run < RUNS; run++)
		for (int k = 0; k < 3; k++) {
			double r[3];
			int p[2];

			if (pipe(p) == -1)
				exit(1);
			if (fork() == 0)
				time_calls(k, master, p[1]);
			close(p[1]);
			if (read(p[0], r, sizeof(r)) != sizeof(r))
				exit(1);
			close(p[0]);
			wait(NULL);
			for (int j = 0; j < 3; j++)
				ns[k][j][run] = r[j];
		}
	printf("ns per call, medians of %d alternating runs of %d calls:\n"
	    "  %-14s %14s %17s %16s\n", RUNS, CALLS, "filter",
	    "epoll_wait(0)", "recvfrom(EAGAIN)", "ioctl(FIONREAD)");
	for (int k = 0; k < 3; k++) {
		printf("  %-14s", kinds[k]);
		for (int j = 0; j < 3; j++) {
			qsort(ns[k][j], RUNS, sizeof(double), compare_double);
			printf(" %14.1f%s", ns[k][j][RUNS / 2], j == 0 ? "" :
			    "   ");
		}
		printf("\n");
	}
}

int
main(int argc, char **argv)
{
	static const struct { const char *name; long nr; } calls[] = {
		{ "epoll_wait", SYS_epoll_wait }, { "recvfrom", SYS_recvfrom },
		{ "sendto", SYS_sendto }, { "epoll_ctl", SYS_epoll_ctl },
		{ "accept4", SYS_accept4 }, { "close", SYS_close },
		{ "read", SYS_read }, { "write", SYS_write },
		{ "mmap", SYS_mmap }, { "ioctl", SYS_ioctl },
		{ "socket", SYS_socket },
	};
	static struct prog p;
	bool master = false, timed = false;
	unsigned cached = 0, allows = 0;

	for (int i = 1; i < argc; i++) {
		master |= strcmp(argv[i], "master") == 0;
		timed |= strcmp(argv[i], "--time") == 0;
	}
	sandbox_build(&p, master);
	printf("%s filter: %u instructions\n", master ? "a master's" :
	    "a process's", p.n);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct seccomp_data sd = { .nr = (int)calls[i].nr,
		    .arch = SANDBOX_ARCH };
		unsigned n;
		uint32_t verdict = walk(&p, &sd, &n);

		printf("  %-10s (%3ld) %3u instructions to %s; %s\n",
		    calls[i].name, calls[i].nr, n, verdict == SECCOMP_RET_ALLOW ?
		    "allow" : "trap", const_allow(&p, &sd) ? "cached: the "
		    "filter never runs" : "not cached: runs every call");
	}
	for (int nr = 0; nr < 512; nr++) {
		struct seccomp_data sd = { .nr = nr, .arch = SANDBOX_ARCH };
		unsigned n;

		allows += walk(&p, &sd, &n) == SECCOMP_RET_ALLOW;
		cached += const_allow(&p, &sd);
	}
	printf("  calls 0-511: %u allowed with zero arguments, %u of them "
	    "cached\n", allows, cached);
	if (timed)
		time_filters(master);
	return 0;
}

#else

int
main(void)
{
	fprintf(stderr, "filter_walk: no filter for this architecture\n");
	return 1;
}

#endif
