/*
 * log.c — formatting and delivery of log lines. Each line is built whole and
 * handed to one write(2) on an O_APPEND descriptor, so lines never interleave
 * and no stdio buffer can hold a line back when the daemon dies.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

enum log_target { TARGET_STDERR, TARGET_FILE, TARGET_SYSLOG };

enum log_level log_level = LOG_LEVEL_INFO;

static enum log_target log_target = TARGET_STDERR;
static int log_fd = STDERR_FILENO;
static char log_path[4096];
static bool echo_errors;
static char line_tag[32];	/* "worker 2: ", or "" */

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
    LOG_DEBUG };

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	    i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

static int
log_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int
log_open(const char *target, char *err, size_t errlen)
{
	if (strcmp(target, "stderr") == 0) {
		log_close();
		log_target = TARGET_STDERR;
		log_fd = STDERR_FILENO;
	} else if (strcmp(target, "syslog") == 0) {
		log_close();
		openlog("upcased", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_target = TARGET_SYSLOG;
	} else {
		int fd = log_open_file(target);

		if (fd == -1) {
			snprintf(err, errlen, "cannot open log file %s: %s",
			    target, strerror(errno));
			return -1;
		}
		log_close();
		log_target = TARGET_FILE;
		log_fd = fd;
		snprintf(log_path, sizeof(log_path), "%s", target);
	}
	return 0;
}

int
log_reopen(char *err, size_t errlen)
{
	int fd;

	if (log_target != TARGET_FILE)
		return 0;
	fd = log_open_file(log_path);
	if (fd == -1) {
		snprintf(err, errlen, "cannot reopen log file %s: %s",
		    log_path, strerror(errno));
		return -1;
	}
	/* dup3 swaps the file under the same descriptor number atomically:
	 * no line can go to a closed fd in between. */
	if (dup3(fd, log_fd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "cannot reopen log file %s: %s",
		    log_path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

bool
log_to_stderr(void)
{
	return log_target == TARGET_STDERR;
}

void
log_echo_errors(bool on)
{
	echo_errors = on;
}

void
log_close(void)
{
	if (log_target == TARGET_FILE)
		close(log_fd);
	else if (log_target == TARGET_SYSLOG)
		closelog();
	log_target = TARGET_STDERR;
	log_fd = STDERR_FILENO;
}

void
log_tag(const char *tag)
{
	snprintf(line_tag, sizeof(line_tag), "%s%s", tag ? tag : "",
	    tag ? ": " : "");
}

bool
log_due(uint64_t *last)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
	if (*last != 0 && now - *last < LOG_EVERY_MS)
		return false;
	*last = now;
	return true;
}

static void
log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n = 0, room = sizeof(line) - 1;	/* keep one byte for '\n' */
	int rc;
	va_list copy;

	if (level > log_level)
		return;
	if (level == LOG_LEVEL_ERROR && echo_errors &&
	    log_target != TARGET_STDERR) {
		va_copy(copy, ap);
		fprintf(stderr, "upcased: ");
		vfprintf(stderr, fmt, copy);
		fprintf(stderr, "\n");
		va_end(copy);
	}
	if (log_target != TARGET_SYSLOG) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(line, room, "%Y-%m-%d %H:%M:%S", &tm);
		rc = snprintf(line + n, room - n, ".%03ld %s: ",
		    ts.tv_nsec / 1000000, level_names[level]);
		n += (size_t)rc;
	}
	rc = snprintf(line + n, room - n, "%s", line_tag);
	n = rc < 0 ? n : n + (size_t)rc;
	rc = vsnprintf(line + n, room - n, fmt, ap);
	n = rc < 0 ? n : n + (size_t)rc;
	if (errnum != 0 && n < room) {
		rc = snprintf(line + n, room - n, ": %s", strerror(errnum));
		n = rc < 0 ? n : n + (size_t)rc;
	}
	if (n > room)
		n = room;	/* truncated: keep what fits, still one line */

	if (log_target == TARGET_SYSLOG) {
		line[n] = '\0';
		syslog(syslog_priorities[level], "%s", line);
		return;
	}
	line[n++] = '\n';
	/* A log line that cannot be written has nowhere better to go. */
	if (write(log_fd, line, n) == -1)
		return;
}

#define LOG_DEFINE(name, level, with_errno)				\
void									\
name(const char *fmt, ...)						\
{									\
	int saved = errno;						\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_vwrite(level, with_errno ? saved : 0, fmt, ap);		\
	va_end(ap);							\
	errno = saved;							\
}

LOG_DEFINE(log_error, LOG_LEVEL_ERROR, 0)
LOG_DEFINE(log_warn, LOG_LEVEL_WARN, 1)
LOG_DEFINE(log_warnx, LOG_LEVEL_WARN, 0)
LOG_DEFINE(log_info, LOG_LEVEL_INFO, 0)
LOG_DEFINE(log_write_debug, LOG_LEVEL_DEBUG, 0)
