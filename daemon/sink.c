/*
 * sink.c — the non-blocking targets behind sink.h: a file is appended to
 * (a disk does not stall the way a pipe does), a pipe or a terminal is
 * reopened through /proc with O_NONBLOCK, and a socket, syslog's among
 * them, is sent to with MSG_DONTWAIT.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char syslog_path[108] = "/dev/log";	/* sink_syslog_at */

static int
open_stderr(enum sink_kind *kind)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) == -1)
		return -1;
	*kind = S_ISSOCK(st.st_mode) ? SINK_SOCKET : SINK_FD;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
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
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", syslog_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

void
sink_syslog_at(const char *path)
{
	snprintf(syslog_path, sizeof(syslog_path), "%s", path);
}

const char *
sink_syslog_path(void)
{
	return syslog_path;
}

int
sink_check(const char *target, char *err, size_t errlen)
{
	int fd;

	if (strcmp(target, "syslog") != 0)
		return 0;
	if ((fd = open_syslog()) == -1) {
		snprintf(err, errlen, "syslog_socket %s: %s", syslog_path,
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int
sink_open(struct sink *s, const char *what, const char *target, char *err,
    size_t errlen)
{
	enum sink_kind kind = SINK_FD;
	int fd = -1;

	if (strcmp(target, "off") == 0) {
		kind = SINK_OFF;
	} else if (strcmp(target, "stderr") == 0) {
		fd = open_stderr(&kind);
	} else if (strcmp(target, "syslog") == 0) {
		kind = SINK_SYSLOG;
		fd = open_syslog();
	} else {
		fd = open_file(target);
	}
	if (kind != SINK_OFF && fd == -1) {
		snprintf(err, errlen, "cannot open %s %.400s: %s", what,
		    kind == SINK_SYSLOG ? syslog_path : target,
		    strerror(errno));
		return -1;
	}
	sink_close(s);
	s->kind = kind;
	s->fd = fd;
	snprintf(s->path, sizeof(s->path), "%s", target[0] == '/' ? target :
	    "");
	return 0;
}

int
sink_reopen(struct sink *s, const char *what, char *err, size_t errlen)
{
	int fd;

	if (s->path[0] == '\0')
		return 0;
	fd = open_file(s->path);
	/* dup3 swaps the file under the same descriptor number: no line
	 * can go to a closed fd in between. */
	if (fd == -1 || dup3(fd, s->fd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "cannot reopen %s %.400s: %s", what,
		    s->path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The syslog socket anew, at most once a second: the old one's peer is
 * gone (ECONNREFUSED) once syslog restarts and binds its path again. */
static int
sink_reconnect(struct sink *s)
{
	struct timespec ts;
	time_t now;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec;
	if (now < s->retry_at)
		return -1;
	s->retry_at = now + 1;
	if ((fd = open_syslog()) == -1)
		return -1;
	if (dup3(fd, s->fd, O_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
sink_write(struct sink *s, const char *line, size_t len)
{
	ssize_t w;

	if (s->kind == SINK_OFF)
		return;
	if (s->kind == SINK_FD)
		w = write(s->fd, line, len);
	else
		w = send(s->fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w == -1 && s->kind == SINK_SYSLOG && errno != EAGAIN &&
	    sink_reconnect(s) == 0)
		w = send(s->fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w != (ssize_t)len)
		s->dropped++;
}

size_t
sink_syslog_prefix(int priority, char *buf, size_t buflen)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(buf, buflen, "<%d>%s upcased[%d]: ", priority, stamp,
	    (int)getpid());
	return n < 0 ? 0 : (size_t)n < buflen ? (size_t)n : buflen - 1;
}

void
sink_close(struct sink *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->kind = SINK_OFF;
	s->fd = -1;
	s->path[0] = '\0';
}
