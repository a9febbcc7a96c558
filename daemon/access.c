/*
 * access.c — the access log's targets and its line format:
 *
 *   time=2026-11-25T12:03:26.123+00:00 client=192.0.2.1:56324
 *   listener=127.0.0.1:1060 duration=0.012 bytes_in=5 bytes_out=5 end=done
 *
 * (one line). Every write is non-blocking: a file is appended to (the disk
 * does not stall like a pipe does), a pipe is reopened through /proc with
 * O_NONBLOCK (its own open file, so that stderr's flags are not changed
 * for whoever shares it), and a socket, syslog's among them, is sent to
 * with MSG_DONTWAIT. A line is one write, under PIPE_BUF: whole or not at
 * all.
 */
#include "access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ACCESS_LINE_MAX	1024
#define SYSLOG_PATH	"/dev/log"
#define SYSLOG_PRI	"<30>"		/* facility daemon, severity info */

enum access_target { TARGET_OFF, TARGET_FD, TARGET_SOCKET, TARGET_SYSLOG };

static enum access_target target = TARGET_OFF;
static int access_fd = -1;
static char access_path[4096];		/* a file target, for reopening */
static uint64_t dropped;

static int
open_stderr(enum access_target *kind)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) == -1)
		return -1;
	*kind = S_ISSOCK(st.st_mode) ? TARGET_SOCKET : TARGET_FD;
	if (S_ISFIFO(st.st_mode))
		return open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK |
		    O_CLOEXEC);
	return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
}

static int
open_syslog(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", SYSLOG_PATH);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int
access_open(const char *where, char *err, size_t errlen)
{
	enum access_target kind = TARGET_FD;
	int fd = -1;

	if (strcmp(where, "off") == 0) {
		kind = TARGET_OFF;
	} else if (strcmp(where, "stderr") == 0) {
		fd = open_stderr(&kind);
	} else if (strcmp(where, "syslog") == 0) {
		kind = TARGET_SYSLOG;
		fd = open_syslog();
	} else {
		fd = open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0640);
	}
	if (kind != TARGET_OFF && fd == -1) {
		snprintf(err, errlen, "cannot open access log %.400s: %s",
		    strcmp(where, "syslog") == 0 ? SYSLOG_PATH : where,
		    strerror(errno));
		return -1;
	}
	access_close();
	target = kind;
	access_fd = fd;
	snprintf(access_path, sizeof(access_path), "%s", where[0] == '/' ?
	    where : "");
	return 0;
}

int
access_reopen(char *err, size_t errlen)
{
	int fd;

	if (access_path[0] == '\0')
		return 0;
	fd = open(access_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd == -1 || dup3(fd, access_fd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "cannot reopen access log %.400s: %s",
		    access_path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

bool
access_on(void)
{
	return target != TARGET_OFF;
}

uint64_t
access_dropped(void)
{
	return dropped;
}

void
access_close(void)
{
	if (access_fd != -1)
		close(access_fd);
	access_fd = -1;
	access_path[0] = '\0';
	target = TARGET_OFF;
}

void
access_write(const struct access_entry *e)
{
	char line[ACCESS_LINE_MAX], stamp[48];
	struct timespec ts;
	struct tm tm;
	size_t n = 0;
	ssize_t w;

	if (target == TARGET_OFF)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	if (target == TARGET_SYSLOG) {
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		n = (size_t)snprintf(line, sizeof(line), SYSLOG_PRI "%s "
		    "upcased[%d]: ", stamp, (int)getpid());
	}
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "time=%s.%03ld",
	    stamp, ts.tv_nsec / 1000000);
	strftime(stamp, sizeof(stamp), "%z", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%.3s:%s client=%s "
	    "listener=%s duration=%llu.%03llu bytes_in=%llu bytes_out=%llu "
	    "end=%s%s", stamp, stamp + 3, e->client, e->listener,
	    (unsigned long long)(e->duration_ms / 1000),
	    (unsigned long long)(e->duration_ms % 1000),
	    (unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out,
	    e->end, target == TARGET_SYSLOG ? "" : "\n");
	/* Every field is bounded (an address is at most ADDR_TEXT_MAX): a
	 * line never comes near the buffer, but a cut one is not written. */
	if (n >= sizeof(line)) {
		dropped++;
		return;
	}
	if (target == TARGET_FD)
		w = write(access_fd, line, n);
	else
		w = send(access_fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w != (ssize_t)n)
		dropped++;
}
