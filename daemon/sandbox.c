/*
 * sandbox.c — the filter, written out as classic BPF at start-up: check the
 * architecture and the ABI, then compare the call's number with the list,
 * the busiest calls first (every syscall runs the filter up to its match),
 * and for a few calls one argument as well. Anything else traps: the
 * SIGSYS handler makes the call return EPERM and counts it for
 * sandbox_report, which logs from the loop (a handler may not).
 */
#include "sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "log.h"

#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_ARCH		AUDIT_ARCH_X86_64
#define SANDBOX_ABI_LIMIT	0x40000000	/* x32 calls have this bit */
#define SANDBOX_RESULT(uc)	((uc)->uc_mcontext.gregs[REG_RAX])
#elif defined(__aarch64__)
#define SANDBOX_ARCH		AUDIT_ARCH_AARCH64
#define SANDBOX_RESULT(uc)	((uc)->uc_mcontext.regs[0])
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER	1
#endif
#endif

#ifdef SANDBOX_ARCH

#define PROG_MAX	320
/* An argument's low 32 bits: every value checked here fits in them. */
#define ARG(i)		(offsetof(struct seccomp_data, args[i]) + \
			    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 0 : 4))

/* Allowed whatever their arguments, busiest first. */
static const long allowed[] = {
#ifdef SYS_epoll_wait
	SYS_epoll_wait,
#endif
	SYS_epoll_pwait, SYS_recvfrom, SYS_sendto,
	SYS_accept4, SYS_epoll_ctl, SYS_close, SYS_read, SYS_write,
	SYS_shutdown, SYS_setsockopt, SYS_getsockopt, SYS_getsockname,
	SYS_getpeername, SYS_clock_gettime, SYS_gettimeofday,
	SYS_writev, SYS_readv, SYS_sendmsg, SYS_recvmsg, SYS_sendmmsg,
	SYS_connect, SYS_bind, SYS_listen, SYS_ppoll,
	SYS_brk, SYS_munmap, SYS_mremap, SYS_madvise, SYS_futex,
	SYS_openat, SYS_newfstatat, SYS_fstat, SYS_statx, SYS_lseek,
	SYS_getdents64, SYS_readlinkat, SYS_unlinkat, SYS_ftruncate,
	SYS_fcntl, SYS_dup, SYS_dup3,
	SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigaction,
	SYS_restart_syscall,
	SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid,
	SYS_getegid, SYS_getrusage, SYS_prlimit64, SYS_uname,
	SYS_getrandom, SYS_exit, SYS_exit_group,
#ifdef SYS_poll			/* the calls only older ABIs have */
	SYS_poll, SYS_open, SYS_stat, SYS_lstat, SYS_readlink, SYS_unlink,
	SYS_dup2, SYS_getrlimit, SYS_time,
#endif
#ifdef SANDBOX_SANITIZER
	/* LeakSanitizer stops the world at exit from a traced clone. */
	SYS_clone, SYS_clone3, SYS_ptrace, SYS_wait4, SYS_prctl,
	SYS_sched_yield, SYS_sigaltstack, SYS_getppid, SYS_set_robust_list,
	SYS_mprotect, SYS_mmap,
#ifdef SYS_getdents
	SYS_getdents,
#endif
#endif
};

/*
 * A master's additions (workers = N). It forks workers, which set
 * themselves up (a loop, a signalfd) before they add their own, narrower
 * filter on top of this one; and on SIGUSR2 it runs a new binary, which
 * stays under this filter for good (a filter survives exec) and must be
 * able to load, start, and later fork and exec in its turn. Everything a
 * master's child may ever do is here: it still leaves out ptrace, mount,
 * module loading, bpf, and the rest of the kernel's surface.
 */
static const long master_allowed[] = {
	SYS_clone, SYS_clone3, SYS_wait4, SYS_kill, SYS_tgkill, SYS_prctl,
	SYS_getppid, SYS_execve, SYS_mmap, SYS_mprotect,
	SYS_set_tid_address, SYS_set_robust_list, SYS_rseq,
	SYS_faccessat, SYS_faccessat2, SYS_pread64, SYS_pwrite64,
	SYS_pipe2, SYS_epoll_create1, SYS_signalfd4, SYS_flock,
	SYS_setresuid, SYS_setresgid, SYS_setgroups, SYS_setuid, SYS_setgid,
	SYS_sched_getaffinity, SYS_sched_yield, SYS_sigaltstack,
	SYS_getdents64, SYS_madvise, SYS_gettid,
#ifdef SYS_arch_prctl
	SYS_arch_prctl,
#endif
#ifdef SYS_open			/* the calls only older ABIs have */
	SYS_access, SYS_dup2, SYS_open,
#endif
};

/* Allowed with one argument checked: among values, or with bits clear. */
struct arg_rule {
	long nr;
	unsigned arg;
	uint32_t clear;		/* bits that must be clear; 0: values */
	uint32_t values[4];	/* allowed values (0: unused) */
};

static struct arg_rule arg_rules[] = {
	{ SYS_socket, 0, 0, { AF_UNIX, AF_INET, AF_INET6 } },
	/* No new executable memory: no code can be brought in. */
	{ SYS_mmap, 2, PROT_EXEC, { 0 } },
	{ SYS_mprotect, 2, PROT_EXEC, { 0 } },
	/* isatty() in stdio, what a socket's flags need, and a probe's
	 * close=rst asking what its peer has not acknowledged. */
	{ SYS_ioctl, 1, 0, { TCGETS, FIONBIO, FIONREAD, SIOCOUTQ } },
	/* abort(): a signal to this process only (values[0] set below). */
	{ SYS_tgkill, 0, 0, { 0 } },
};

static volatile sig_atomic_t denied;	/* calls trapped, ever */
static volatile sig_atomic_t denied_nr;	/* the last one's number */
static sig_atomic_t reported;		/* denied when last logged */

struct prog {
	struct sock_filter f[PROG_MAX];
	unsigned short n;
};

static void
emit(struct prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	struct sock_filter ins = { code, jt, jf, k };

	if (p->n < PROG_MAX)
		p->f[p->n] = ins;
	p->n++;
}

static void
emit_arg_rule(struct prog *p, const struct arg_rule *r)
{
	uint8_t k = 0;

	while (k < 4 && r->values[k] != 0)
		k++;
	/* Past the block: the load, the tests, the trap and the allow. */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0,
	    r->clear != 0 ? 4 : (uint8_t)(k + 3));
	emit(p, BPF_LD | BPF_W | BPF_ABS, ARG(r->arg), 0, 0);
	if (r->clear != 0)
		emit(p, BPF_JMP | BPF_JSET | BPF_K, r->clear, 0, 1);
	for (uint8_t i = 0; i < k; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, r->values[i],
		    (uint8_t)(k - i), 0);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_TRAP, 0, 0);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
}

static void
emit_allow(struct prog *p, const long *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)calls[i], 0, 1);
		emit(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	}
}

static void
sandbox_build(struct prog *p, bool master)
{
	p->n = 0;
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch),
	    0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr),
	    0, 0);
#ifdef SANDBOX_ABI_LIMIT
	emit(p, BPF_JMP | BPF_JGE | BPF_K, SANDBOX_ABI_LIMIT, 0, 1);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
#endif
	emit_allow(p, allowed, sizeof(allowed) / sizeof(allowed[0]));
	if (master)
		emit_allow(p, master_allowed,
		    sizeof(master_allowed) / sizeof(master_allowed[0]));
	arg_rules[4].values[0] = (uint32_t)getpid();
	for (size_t i = 0; i < sizeof(arg_rules) / sizeof(arg_rules[0]); i++)
		emit_arg_rule(p, &arg_rules[i]);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_TRAP, 0, 0);
}

static void
sandbox_on_sigsys(int signo, siginfo_t *si, void *context)
{
	ucontext_t *uc = context;

	(void)signo;
	denied_nr = si->si_syscall;
	denied++;
	SANDBOX_RESULT(uc) = -EPERM;
}

/* A trapped call returns EPERM instead of killing the process. */
static int
sandbox_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	return sigaction(SIGSYS, &sa, NULL);
}

int
sandbox_enter(bool master, char *err, size_t errlen)
{
	static struct prog p;
	struct sock_fprog fprog;

	/* A master started by an upgrade is under its predecessor's master
	 * filter already: one is enough (each would cost every call). */
	if (master && prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2)
		return sandbox_handler();
	sandbox_build(&p, master);
	if (p.n > PROG_MAX) {
		snprintf(err, errlen, "the filter needs %u instructions, more "
		    "than %d", p.n, PROG_MAX);
		return -1;
	}
	fprog.len = p.n;
	fprog.filter = p.f;
	if (sandbox_handler() == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) == -1) {
		snprintf(err, errlen, "cannot install the seccomp filter: %s "
		    "(sandbox = no runs without it)", strerror(errno));
		return -1;
	}
	return 0;
}

void
sandbox_report(void)
{
	sig_atomic_t n = denied;

	if (n == reported)
		return;
	log_warnx("sandbox: denied %d call%s off the list (the last: syscall "
	    "%d), failed with EPERM", (int)(n - reported), n - reported == 1 ?
	    "" : "s", (int)denied_nr);
	reported = n;
}

#else /* no SANDBOX_ARCH */

int
sandbox_enter(bool master, char *err, size_t errlen)
{
	(void)master;
	snprintf(err, errlen, "no seccomp filter for this architecture "
	    "(sandbox = no runs without it)");
	return -1;
}

void
sandbox_report(void)
{
}

#endif
