/*
 * harness.c — the integration tests' toolkit; see harness.h.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX (4 << 20)

static char log_buf[LOG_MAX + 1];

/*
 * Every daemon a test starts, so none outlives the test process however the
 * test ends. PR_SET_PDEATHSIG alone is not enough: the kernel clears it when
 * the daemon drops privileges, and a detached daemon never had it.
 */
static pid_t started[64];

static void
track(pid_t pid)
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
static void remove_dir(const char *dir);
static char line_buf[4096];

/* The binaries under test, made absolute before any test can chdir. */
static char upcased_bin[PATH_MAX], upcase_bin[PATH_MAX];

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

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
daemon_init(struct daemon *d)
{
	int fd;

	if (d->dir[0] != '\0')
		return;
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/upcased-test-XXXXXX");
	cr_assert_not_null(mkdtemp(d->dir), "mkdtemp: %s", strerror(errno));
	snprintf(d->log_path, sizeof(d->log_path), "%s/stderr", d->dir);
	fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "open %s: %s", d->log_path, strerror(errno));
	close(fd);
	d->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	cr_assert_geq(d->inotify_fd, 0, "inotify: %s", strerror(errno));
	cr_assert_geq(inotify_add_watch(d->inotify_fd, d->log_path,
	    IN_MODIFY), 0);
}

const char *
daemon_file(const struct daemon *d, const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	return path;
}

void
write_bytes(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

void
write_file(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text));
}

void
daemon_spawn(struct daemon *d, const char *const *args)
{
	const char *argv[64];
	int n = 0, fd;

	daemon_init(d);
	fd = open(d->log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", d->log_path, strerror(errno));
	argv[n++] = upcased_path();
	for (; *args != NULL && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	d->pid = spawn(argv, -1, fd, fd);
	close(fd);
}

void
daemon_adopt(struct daemon *d, const char *pidfile)
{
	char text[32] = "";
	int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	cr_assert_geq(fd, 0, "open %s: %s", pidfile, strerror(errno));
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	cr_assert_gt(n, 0, "empty pidfile %s", pidfile);
	d->pid = (pid_t)atol(text);
	cr_assert_gt(d->pid, 1, "pidfile says '%s'", text);
	track(d->pid);
}

void
daemon_kill(struct daemon *d)
{
	if (d->pid > 0 && kill(d->pid, 0) == 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	if (d->pid > 0)
		untrack(d->pid);
	if (d->dir[0] != '\0') {
		close(d->inotify_fd);
		remove_dir(d->dir);
		d->dir[0] = '\0';
	}
}

void
parse_listen_line(const char *line, char *addr, size_t addrlen,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	const char *p = strstr(line, "listening on ");
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char host[64];
	unsigned port;

	cr_assert_not_null(p, "no address in: %s", line);
	p += strlen("listening on ");
	snprintf(addr, addrlen, "%s", p);
	addr[strcspn(addr, "\n")] = '\0';
	cr_assert_eq(sscanf(addr, "%63[0-9.]:%u", host, &port), 2,
	    "not an IPv4 address: %s", addr);
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	cr_assert_eq(inet_pton(AF_INET, host, &sin->sin_addr), 1);
	*sslen = sizeof(*sin);
}

void
daemon_start_args(struct daemon *d, const char *const *args)
{
	const char *line;

	daemon_spawn(d, args);
	line = daemon_wait_log(d, "listening on ", DEADLINE_MS);
	cr_assert_not_null(line, "daemon did not start:\n%s", daemon_log(d));
	parse_listen_line(line, d->addr, sizeof(d->addr), &d->ss, &d->sslen);
}

void
daemon_start(struct daemon *d, ...)
{
	const char *args[64] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0" };
	int n = 5;
	va_list ap;

	va_start(ap, d);
	while ((args[n] = va_arg(ap, const char *)) != NULL && n < 62)
		n++;
	va_end(ap);
	args[n] = NULL;
	daemon_start_args(d, args);
}

/* Read the log file into log_buf; returns its length. */
static size_t
log_load(struct daemon *d)
{
	int fd = open(d->log_path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd == -1)
		return 0;
	while (n < LOG_MAX && (r = read(fd, log_buf + n, LOG_MAX - n)) > 0)
		n += (size_t)r;
	close(fd);
	log_buf[n] = '\0';
	return n;
}

const char *
daemon_log(struct daemon *d)
{
	log_load(d);
	return log_buf;
}

int
daemon_count_log(struct daemon *d, const char *needle)
{
	const char *p = log_buf;
	int count = 0;

	log_load(d);
	while ((p = strstr(p, needle)) != NULL) {
		count++;
		p += strlen(needle);
	}
	return count;
}

/* Find needle in a complete line at or after d->log_seen. */
static const char *
log_find(struct daemon *d, const char *needle)
{
	size_t len = log_load(d);
	const char *p, *start, *end;

	if (d->log_seen > len)
		return NULL;
	p = strstr(log_buf + d->log_seen, needle);
	if (p == NULL)
		return NULL;
	end = strchr(p, '\n');
	if (end == NULL)
		return NULL;	/* the line is still being written */
	for (start = p; start > log_buf && start[-1] != '\n'; start--)
		;
	snprintf(line_buf, sizeof(line_buf), "%.*s", (int)(end - start),
	    start);
	d->log_seen = (size_t)(end + 1 - log_buf);
	return line_buf;
}

const char *
daemon_wait_log(struct daemon *d, const char *needle, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	char events[4096];

	for (;;) {
		struct pollfd pfd = { .fd = d->inotify_fd, .events = POLLIN };
		const char *line = log_find(d, needle);
		long long left = deadline - now_ms();

		if (line != NULL)
			return line;
		if (left <= 0)
			return NULL;
		/* A daemon that died will write nothing more: the bounded
		 * wait below still ends it, and callers see the log. */
		if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) > 0)
			while (read(d->inotify_fd, events, sizeof(events)) > 0)
				;
	}
}

bool
process_alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

int
daemon_signal_wait(struct daemon *d, int sig, int timeout_ms)
{
	if (sig != 0)
		kill(d->pid, sig);
	return wait_exit(d->pid, NULL, timeout_ms);
}

static void
remove_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(dir);
}

void
daemon_stop(struct daemon *d)
{
	expect_exit(daemon_signal_wait(d, SIGTERM, DEADLINE_MS), 0,
	    daemon_log(d));
	d->pid = -1;
	daemon_kill(d);
}

int
connect_to(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	cr_assert_eq(connect(fd, (const struct sockaddr *)ss, len), 0,
	    "connect: %s", strerror(errno));
	return fd;
}

int
daemon_connect(const struct daemon *d)
{
	return connect_to(&d->ss, d->sslen);
}

static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left = deadline - now_ms();
	int rc;

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	rc = poll(&pfd, 1, (int)left);
	if (rc == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

ssize_t
exchange(int fd, const void *out, size_t len, void *in, size_t cap,
    size_t chunk, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t sent = 0, got = 0;
	bool eof = false, shut = false;
	int flags = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	while (!eof) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (!shut && sent == len) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		if (!shut)
			pfd.events |= POLLOUT;
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			if (got == cap) {
				errno = ENOBUFS;
				return -1;
			}
			n = recv(fd, (char *)in + got, cap - got, 0);
			if (n == 0)
				eof = true;
			else if (n > 0)
				got += (size_t)n;
			else if (errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (!shut && (pfd.revents & POLLOUT)) {
			size_t want = len - sent < chunk ? len - sent : chunk;

			n = send(fd, (const char *)out + sent, want,
			    MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return (ssize_t)got;
}

void
expect_echo(int fd, const char *msg)
{
	size_t len = strlen(msg);
	unsigned char want[256], got[257];
	ssize_t n;

	cr_assert_lt(len, sizeof(want), "message too long");
	memcpy(want, msg, len);
	reference_upper(want, len);
	n = exchange(fd, msg, len, got, sizeof(got), len, DEADLINE_MS);
	cr_assert_eq(n, (ssize_t)len, "\"%s\": %zd of %zu bytes came back",
	    msg, n, len);
	cr_assert_eq(memcmp(got, want, len), 0, "\"%s\" came back as "
	    "\"%.*s\"", msg, (int)len, (const char *)got);
	close(fd);
}

/* Send what fd takes now; stop at EAGAIN. */
static size_t
pump(int fd, const unsigned char *pattern, size_t len, size_t sent)
{
	ssize_t n;

	while ((n = send(fd, pattern + sent % len, len - sent % len,
	    MSG_NOSIGNAL)) > 0)
		sent += (size_t)n;
	cr_assert(n == -1 && errno == EAGAIN, "send: %s", strerror(errno));
	return sent;
}

size_t
pump_until_log(struct daemon *d, int fd, const unsigned char *pattern,
    size_t len, size_t sent, const char *needle)
{
	long long deadline = now_ms() + DEADLINE_MS;

	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLOUT },
		    { .fd = d->inotify_fd, .events = POLLIN } };
		char events[4096];

		sent = pump(fd, pattern, len, sent);
		if (daemon_wait_log(d, needle, 0) != NULL)
			return pump(fd, pattern, len, sent);
		cr_assert_lt(now_ms(), deadline, "no '%s' after %zu bytes:\n%s",
		    needle, sent, daemon_log(d));
		poll(p, 2, 1000);
		if (p[1].revents & POLLIN)
			while (read(d->inotify_fd, events, sizeof(events)) > 0)
				;
	}
}

ssize_t
read_all(int fd, void *in, size_t cap, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t got = 0;

	for (;;) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) == -1)
			return -1;
		if (got == cap) {
			char extra;

			n = recv(fd, &extra, 1, MSG_DONTWAIT);
			if (n == 0)
				return (ssize_t)got;
			errno = ENOBUFS;
			return -1;
		}
		n = recv(fd, (char *)in + got, cap - got, MSG_DONTWAIT);
		if (n == 0)
			return (ssize_t)got;
		if (n > 0)
			got += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
}

int
write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t sent = 0;

	while (sent < len) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline) == -1)
			return -1;
		n = send(fd, (const char *)buf + sent, len - sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return 0;
}

void
reference_upper(unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (unsigned char)(buf[i] - 'a' + 'A');
}

void
fill_pattern(unsigned char *buf, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
}

void
raise_fd_limit(unsigned n)
{
	struct rlimit rl;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur >= n)
		return;
	cr_assert_geq(rl.rlim_max, n, "the hard open-file limit %llu is "
	    "below the %u this test needs", (unsigned long long)rl.rlim_max,
	    n);
	rl.rlim_cur = n;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

struct load_conn {
	int fd;
	size_t sent, got;
	bool shut, done;
};

static void
load_fail(unsigned *failed, unsigned k, const char *what)
{
	if ((*failed)++ == 0)
		fprintf(stderr, "connection %u: %s\n", k, what);
}

unsigned
load_run(const struct sockaddr_storage *ss, socklen_t sslen, unsigned n,
    size_t size, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	unsigned char *pattern = malloc(size + n), *expect = malloc(size + n);
	unsigned char *buf = malloc(65536);
	struct load_conn *c = calloc(n, sizeof(*c));
	struct epoll_event ev, events[256];
	unsigned failed = 0, open_left = n;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	cr_assert(pattern && expect && buf && c && ep >= 0);
	fill_pattern(pattern, size + n, 11);
	memcpy(expect, pattern, size + n);
	reference_upper(expect, size + n);
	raise_fd_limit(n + 64);

	for (unsigned k = 0; k < n; k++) {
		c[k].fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		cr_assert_geq(c[k].fd, 0, "socket: %s", strerror(errno));
		if (connect(c[k].fd, (const struct sockaddr *)ss, sslen) == -1
		    && errno != EINPROGRESS)
			cr_assert_fail("connect: %s", strerror(errno));
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
		ev.data.u32 = k;
		cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, c[k].fd, &ev), 0);
	}
	while (open_left > 0) {
		long long left = deadline - now_ms();
		int m;

		if (left <= 0) {
			load_fail(&failed, 0, "deadline passed");
			failed += open_left - 1;
			break;
		}
		m = epoll_wait(ep, events, 256, (int)left);
		for (int i = 0; i < m; i++) {
			unsigned k = events[i].data.u32;
			struct load_conn *lc = &c[k];
			ssize_t r;

			if (lc->done)
				continue;
			if (!lc->shut && (events[i].events & EPOLLOUT)) {
				r = send(lc->fd, pattern + k + lc->sent,
				    size - lc->sent, MSG_NOSIGNAL);
				if (r > 0)
					lc->sent += (size_t)r;
				if (lc->sent == size) {
					shutdown(lc->fd, SHUT_WR);
					lc->shut = true;
					/* A shut socket polls writable for
					 * ever: stop asking. */
					ev.events = EPOLLIN | EPOLLRDHUP;
					ev.data.u32 = k;
					epoll_ctl(ep, EPOLL_CTL_MOD, lc->fd,
					    &ev);
				}
			}
			while ((r = recv(lc->fd, buf, 65536, 0)) > 0) {
				if (lc->got + (size_t)r > size ||
				    memcmp(buf, expect + k + lc->got,
				    (size_t)r) != 0) {
					load_fail(&failed, k, "wrong bytes");
					r = -2;
					break;
				}
				lc->got += (size_t)r;
			}
			if (r == 0 && lc->got != size)
				load_fail(&failed, k, "short echo");
			else if (r == -1 && errno != EAGAIN)
				load_fail(&failed, k, strerror(errno));
			if (r == 0 || r == -2 || (r == -1 && errno != EAGAIN)) {
				lc->done = true;
				open_left--;
				close(lc->fd);
			}
		}
	}
	for (unsigned k = 0; k < n; k++)
		if (!c[k].done)
			close(c[k].fd);
	close(ep);
	free(pattern);
	free(expect);
	free(buf);
	free(c);
	return failed;
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
	track(pid);
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
