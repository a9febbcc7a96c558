/*
 * process.c — the processes a test starts: spawned with their stdio where
 * the test wants it, waited for with a deadline, and killed if the test
 * ends first; see process.h.
 */
#include "process.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock.h"

/*
 * Every process a test starts, so none outlives the test process however
 * the test ends. PR_SET_PDEATHSIG alone is not enough: the kernel clears
 * it when a daemon drops privileges, and a detached daemon never had it.
 */
static pid_t started[64];

/* The binaries under test, made absolute before any test can chdir. */
static char upcased_bin[PATH_MAX], upcase_bin[PATH_MAX];

void
process_track(pid_t pid)
{
	for (size_t i = 0; i < sizeof(started) / sizeof(started[0]); i++)
		if (started[i] == 0) {
			started[i] = pid;
			return;
		}
}

/* Reaped: its number may go to someone else now. */
static void
untrack(pid_t pid)
{
	for (size_t i = 0; i < sizeof(started) / sizeof(started[0]); i++)
		if (started[i] == pid)
			started[i] = 0;
}

__attribute__((destructor)) static void
kill_leftovers(void)
{
	for (size_t i = 0; i < sizeof(started) / sizeof(started[0]); i++)
		if (started[i] > 0 && kill(started[i], SIGKILL) == 0)
			waitpid(started[i], NULL, 0);
}

static void
resolve_binary(char *buf, const char *env, const char *fallback)
{
	const char *p = getenv(env) != NULL ? getenv(env) : fallback;

	if (realpath(p, buf) == NULL)
		snprintf(buf, PATH_MAX, "%s", p);
}

__attribute__((constructor)) static void
resolve_binaries(void)
{
	resolve_binary(upcased_bin, "UPCASED", "bin/upcased");
	resolve_binary(upcase_bin, "UPCASE", "bin/upcase");
}

const char *
upcased_path(void)
{
	return upcased_bin;
}

const char *
upcase_path(void)
{
	return upcase_bin;
}

bool
process_alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

pid_t
spawn(const char *const *argv, int in, int out, int err)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* It must not outlive a failed test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in != -1 ? in : null, STDIN_FILENO);
		dup2(out != -1 ? out : null, STDOUT_FILENO);
		dup2(err != -1 ? err : null, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	process_track(pid);
	return pid;
}

int
wait_exit(pid_t pid, struct rusage *ru, int timeout_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status;
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	bool exited;

	cr_assert_geq(pidfd, 0, "pidfd_open %d: %s", (int)pid,
	    strerror(errno));
	/* A pidfd turns readable when the process exits. */
	exited = poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : 0) == 1;
	close(pidfd);
	if (!exited)
		kill(pid, SIGKILL);
	cr_assert_eq(wait4(pid, &status, 0, ru), pid, "wait4: %s",
	    strerror(errno));
	untrack(pid);
	return exited ? status : -1;
}

void
expect_exit(int status, int code, const char *context)
{
	cr_assert_neq(status, -1, "did not exit in time:\n%s", context);
	cr_assert(WIFEXITED(status), "killed by signal %d:\n%s",
	    WTERMSIG(status), context);
	cr_assert_eq(WEXITSTATUS(status), code, "exit status %d, not %d:\n%s",
	    WEXITSTATUS(status), code, context);
}

int
run(const char *path, const char *const *args, char *out, size_t cap)
{
	long long deadline = now_ms() + DEADLINE_MS;
	const char *argv[64] = { path };
	int pipefd[2], n = 1, status;
	size_t len = 0;
	pid_t pid;

	for (; *args != NULL && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid = spawn(argv, -1, pipefd[1], pipefd[1]);
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		long long left = deadline - now_ms();
		char sink[4096];
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			wait_exit(pid, NULL, 0);
			cr_assert_fail("%s did not finish:\n%.*s", path,
			    (int)len, out);
		}
		if (len + 1 < cap)
			r = read(pipefd[0], out + len, cap - 1 - len);
		else
			r = read(pipefd[0], sink, sizeof(sink));
		if (r <= 0)
			break;
		if (len + 1 < cap)
			len += (size_t)r;
	}
	out[len] = '\0';
	close(pipefd[0]);
	/* Output closed: the process is exiting (or left it to a child). */
	status = wait_exit(pid, NULL, (int)(deadline - now_ms()));
	cr_assert(status != -1 && WIFEXITED(status), "%s did not exit: "
	    "status %d:\n%s", path, status, out);
	return WEXITSTATUS(status);
}

int
run_split(const char *path, const char *const *args, char *out, size_t cap,
    char *err, size_t errcap)
{
	long long deadline = now_ms() + DEADLINE_MS;
	const char *argv[64] = { path };
	char *buf[2] = { out, err };
	size_t len[2] = { 0, 0 }, bufcap[2] = { cap, errcap };
	int o[2], e[2], n = 1, status, open_fds = 2;
	struct pollfd p[2];
	pid_t pid;

	for (; *args != NULL && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	cr_assert_eq(pipe2(o, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(e, O_CLOEXEC), 0);
	pid = spawn(argv, -1, o[1], e[1]);
	close(o[1]);
	close(e[1]);
	p[0] = (struct pollfd){ .fd = o[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = e[0], .events = POLLIN };
	while (open_fds > 0) {
		long long left = deadline - now_ms();

		if (left <= 0 || poll(p, 2, (int)left) == 0) {
			wait_exit(pid, NULL, 0);
			cr_assert_fail("%s did not finish:\n%.*s%.*s", path,
			    (int)len[0], out, (int)len[1], err);
		}
		for (int i = 0; i < 2; i++) {
			char sink[4096];
			ssize_t r;

			if (p[i].fd == -1 || p[i].revents == 0)
				continue;
			if (len[i] + 1 < bufcap[i])
				r = read(p[i].fd, buf[i] + len[i],
				    bufcap[i] - 1 - len[i]);
			else
				r = read(p[i].fd, sink, sizeof(sink));
			if (r <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			} else if (len[i] + 1 < bufcap[i]) {
				len[i] += (size_t)r;
			}
		}
	}
	out[len[0]] = '\0';
	err[len[1]] = '\0';
	status = wait_exit(pid, NULL, (int)(deadline - now_ms()));
	cr_assert(status != -1 && WIFEXITED(status), "%s did not exit: "
	    "status %d:\n%s%s", path, status, out, err);
	return WEXITSTATUS(status);
}

pid_t
plain_echo_server(size_t limit, struct sockaddr_storage *ss, socklen_t *sslen,
    char *addr, size_t addrlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*sslen = sizeof(*sin);
	cr_assert_eq(bind(lfd, (struct sockaddr *)ss, *sslen), 0);
	cr_assert_eq(listen(lfd, 64), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)ss, sslen), 0);
	snprintf(addr, addrlen, "127.0.0.1:%u", ntohs(sin->sin_port));
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		char buf[65536];
		size_t echoed = 0;
		ssize_t n;

		/* Read to EOF whatever it echoes, so the close is clean: a
		 * short echo, not a reset. */
		while (fd != -1 && (n = read(fd, buf, sizeof(buf))) > 0) {
			if (limit != 0 && echoed + (size_t)n > limit)
				n = (ssize_t)(limit - echoed);
			if (n > 0 && write(fd, buf, (size_t)n) != n)
				break;
			echoed += (size_t)n;
		}
		if (fd != -1)
			close(fd);
	}
}

void
fault_preload(void)
{
	const char *lib = getenv("FAULT_LIB");
	char asan[512];

	cr_assert_not_null(lib, "FAULT_LIB is not set: run the suite with "
	    "make check");
	setenv("LD_PRELOAD", lib, 1);
	/* A sanitizer build wants its runtime first; the library only wraps
	 * a few calls. */
	snprintf(asan, sizeof(asan), "%s:verify_asan_link_order=0",
	    getenv("ASAN_OPTIONS") != NULL ? getenv("ASAN_OPTIONS") : "");
	setenv("ASAN_OPTIONS", asan, 1);
}

void
fault_unload(void)
{
	unsetenv("LD_PRELOAD");
}
