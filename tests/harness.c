/*
 * harness.c — the daemon under test: its directory, start, log, stop;
 * see harness.h. Processes are process.c's, sockets sock.c's.
 */
#include "harness.h"
#include "scrape.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define LOG_MAX (4 << 20)

static char log_buf[LOG_MAX + 1];

static void remove_dir(const char *dir);
static char line_buf[4096];

void
daemon_init(struct daemon *d)
{
	bool expected = d->denials_expected;
	int fd;

	if (d->dir[0] != '\0')
		return;
	memset(d, 0, sizeof(*d));
	d->denials_expected = expected;
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
daemon_spawn_argv(struct daemon *d, const char *const *argv)
{
	int fd;

	daemon_init(d);
	fd = open(d->log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", d->log_path, strerror(errno));
	d->pid = spawn(argv, -1, fd, fd);
	close(fd);
}

void
daemon_spawn(struct daemon *d, const char *const *args)
{
	const char *argv[64];
	int n = 0;

	argv[n++] = upcased_path();
	for (; *args != NULL && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	daemon_spawn_argv(d, argv);
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
	process_track(d->pid);
}

void
daemon_kill(struct daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		wait_exit(d->pid, NULL, DEADLINE_MS);
	}
	if (d->dir[0] != '\0') {
		const char *log = daemon_log(d);
		bool denied = !d->denials_expected &&
		    strstr(log, "sandbox: denied") != NULL;

		close(d->inotify_fd);
		remove_dir(d->dir);
		d->dir[0] = '\0';
		cr_assert_not(denied, "the sandbox denied a call:\n%s", log);
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

/* daemon_start's arguments after the fixed ones, from ap. */
static void
daemon_start_va(struct daemon *d, va_list ap)
{
	const char *args[64] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0" };
	int n = 5;

	while ((args[n] = va_arg(ap, const char *)) != NULL && n < 62)
		n++;
	args[n] = NULL;
	daemon_start_args(d, args);
}

void
daemon_start(struct daemon *d, ...)
{
	va_list ap;

	va_start(ap, d);
	daemon_start_va(d, ap);
	va_end(ap);
}

void
daemon_start_metered_args(struct daemon *d, ...)
{
	va_list ap;

	va_start(ap, d);
	daemon_start_va(d, ap);
	va_end(ap);
	daemon_find_metrics(d);
}

void
daemon_find_metrics(struct daemon *d)
{
	const char *line;
	char addr[128];

	line = daemon_wait_log(d, "listening on 127.0.0.2:", DEADLINE_MS);
	cr_assert_not_null(line, "no metrics listener:\n%s", daemon_log(d));
	parse_listen_line(line, addr, sizeof(addr), &d->mss, &d->msslen);
}

double
daemon_counter(const struct daemon *d, const char *name)
{
	cr_assert_gt(d->msslen, 0, "the daemon has no metrics listener");
	return scrape_value(&d->mss, d->msslen, name);
}

void
daemon_wait_counter(const struct daemon *d, const char *name, double n)
{
	long long deadline = now_ms() + DEADLINE_MS;
	double v;

	while ((v = daemon_counter(d, name)) < n)
		cr_assert_lt(now_ms(), deadline, "%s is %g, not %g", name, v,
		    n);
}

void
daemon_wait_open(const struct daemon *d, double n)
{
	long long deadline = now_ms() + DEADLINE_MS;
	double v;

	while ((v = daemon_counter(d, "upcased_connections_open")) != n)
		cr_assert_lt(now_ms(), deadline, "%g connections open, not %g",
		    v, n);
}

const char *
daemon_sample_of(const struct daemon *d, const char *name)
{
	static char text[256];

	snprintf(text, sizeof(text), "%s{listener=\"%s\"}", name, d->addr);
	return text;
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

/*
 * needle in text, where a '*' in needle stands for any run of bytes within
 * one line ("worker 1 (pid *): serving"); *end is set past the match.
 */
static const char *
match(const char *text, const char *needle, const char **end)
{
	const char *star = strchr(needle, '*'), *p, *q, *nl;
	char head[256];

	if (star == NULL) {
		if ((p = strstr(text, needle)) != NULL)
			*end = p + strlen(needle);
		return p;
	}
	snprintf(head, sizeof(head), "%.*s", (int)(star - needle), needle);
	for (p = text; (p = strstr(p, head)) != NULL; p++) {
		q = strstr(p + strlen(head), star + 1);
		nl = strchr(p, '\n');
		if (q != NULL && (nl == NULL || q + strlen(star + 1) <= nl)) {
			*end = q + strlen(star + 1);
			return p;
		}
	}
	return NULL;
}

int
daemon_count_log(struct daemon *d, const char *needle)
{
	const char *p = log_buf, *end;
	int count = 0;

	log_load(d);
	while ((p = match(p, needle, &end)) != NULL) {
		count++;
		p = end;
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
	p = match(log_buf + d->log_seen, needle, &end);
	if (p == NULL)
		return NULL;
	end = strchr(p, '\n');	/* a needle may end with it */
	if (end == NULL)
		return NULL;	/* the line is still being written */
	for (start = p; start > log_buf && start[-1] != '\n'; start--)
		;
	snprintf(line_buf, sizeof(line_buf), "%.*s", (int)(end - start),
	    start);
	d->log_seen = (size_t)(end + 1 - log_buf);
	return line_buf;
}

/*
 * Wait until d's log may have grown, or deadline (now_ms) has passed:
 * false then. A daemon that died will write nothing more: the bounded
 * wait still ends, and callers see the log.
 */
static bool
log_wait(struct daemon *d, long long deadline)
{
	struct pollfd pfd = { .fd = d->inotify_fd, .events = POLLIN };
	long long left = deadline - now_ms();
	char events[4096];

	if (left <= 0)
		return false;
	if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) > 0)
		while (read(d->inotify_fd, events, sizeof(events)) > 0)
			;
	return true;
}

bool
daemon_wait_count(struct daemon *d, const char *needle, int n,
    int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	while (daemon_count_log(d, needle) < n)
		if (!log_wait(d, deadline))
			return false;
	return true;
}

const char *
daemon_wait_log(struct daemon *d, const char *needle, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	const char *line;

	while ((line = log_find(d, needle)) == NULL)
		if (!log_wait(d, deadline))
			return NULL;
	return line;
}

void
daemon_stop_notified(struct daemon *d, int fd)
{
	char buf[256];

	kill(d->pid, SIGTERM);
	expect_datagram(fd, buf, sizeof(buf), "STOPPING=1");
	expect_exit(daemon_signal_wait(d, 0, DEADLINE_MS), 0, daemon_log(d));
	d->pid = -1;
	close(fd);
	daemon_kill(d);
}

int
daemon_signal_wait(struct daemon *d, int sig, int timeout_ms)
{
	/* kill(-1, sig) would signal every process the tests may reach. */
	cr_assert_gt(d->pid, 0, "no daemon to signal");
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
	daemon_stop_log(d);
}

const char *
daemon_stop_log(struct daemon *d)
{
	const char *log;

	expect_exit(daemon_signal_wait(d, SIGTERM, DEADLINE_MS), 0,
	    daemon_log(d));
	d->pid = -1;
	log = daemon_log(d);
	daemon_kill(d);
	return log;
}

void
expect_unanswered(int fd, const char *who)
{
	char got[64];
	ssize_t n = read_all(fd, got, sizeof(got), DEADLINE_MS);

	cr_assert(n == 0 || (n == -1 && errno == ECONNRESET), "%s: %zd: %.*s",
	    who, n, n > 0 ? (int)n : 0, got);
	close(fd);
}

const char *
read_text(const char *path)
{
	static char text[1 << 17];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	cr_assert(fd >= 0 || errno == ENOENT, "%s: %s", path, strerror(errno));
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	text[n > 0 ? n : 0] = '\0';
	return text;
}

int
count_in(const char *text, const char *needle)
{
	int n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}


int
daemon_connect(const struct daemon *d)
{
	return connect_to(&d->ss, d->sslen);
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

double
json_number(const char *text, const char *key)
{
	char pattern[64];
	const char *at;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	at = strstr(text, pattern);
	cr_assert_not_null(at, "no %s in:\n%s", key, text);
	return strtod(at + strlen(pattern), NULL);
}

size_t
pump_until_counter(struct daemon *d, int fd, const unsigned char *pattern,
    size_t len, size_t sent, const char *name, double n)
{
	long long deadline = now_ms() + DEADLINE_MS;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		double v;

		sent = pump(fd, pattern, len, sent);
		/* While the daemon takes what we send, nothing has changed;
		 * a socket that stays full for a while is worth asking
		 * about (and each ask costs the daemon a rendering). */
		if (poll(&p, 1, 100) == 1)
			continue;
		if ((v = daemon_counter(d, name)) >= n)
			return pump(fd, pattern, len, sent);
		cr_assert_lt(now_ms(), deadline, "%s is %g after %zu bytes, "
		    "not %g", name, v, sent, n);
	}
}
