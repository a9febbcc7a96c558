/*
 * log.c — formatting and delivery of log lines. Each line is built whole and
 * handed to one write to its sink (sink.h): lines never interleave, no stdio
 * buffer can hold a line back when the daemon dies, and no target can make
 * the loop wait (a line it cannot take is dropped and counted). Before the
 * first log_open, lines go straight to stderr, waiting if need be: the
 * daemon is not serving yet.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"

#define LOG_LINE_MAX 1024

enum log_level log_level = LOG_LEVEL_INFO;

static struct sink sink = SINK_INIT;	/* off: stderr, before log_open */
static bool to_stderr = true;		/* the target is stderr */
static bool echo_errors;
static char line_tag[48];	/* "worker 2 (pid 4242): ", or "" */

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

int
log_open(const char *target, char *err, size_t errlen)
{
	if (sink_open(&sink, "log file", target, err, errlen) == -1)
		return -1;
	to_stderr = strcmp(target, "stderr") == 0;
	return 0;
}

int
log_reopen(char *err, size_t errlen)
{
	return sink_reopen(&sink, "log file", err, errlen);
}

bool
log_to_stderr(void)
{
	return to_stderr;
}

uint64_t
log_dropped(void)
{
	return sink.dropped;
}

void
log_echo_errors(bool on)
{
	echo_errors = on;
}

void
log_close(void)
{
	sink_close(&sink);
	to_stderr = true;
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
	if (level == LOG_LEVEL_ERROR && echo_errors && !to_stderr) {
		va_copy(copy, ap);
		fprintf(stderr, "upcased: ");
		vfprintf(stderr, fmt, copy);
		fprintf(stderr, "\n");
		va_end(copy);
	}
	if (sink.kind == SINK_SYSLOG) {
		n = sink_syslog_prefix(LOG_DAEMON | syslog_priorities[level],
		    line, room);
	} else {
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
	if (sink.kind != SINK_SYSLOG)
		line[n++] = '\n';
	if (sink.kind != SINK_OFF)
		sink_write(&sink, line, n);
	else if (write(STDERR_FILENO, line, n) == -1)
		return;		/* nowhere better to go */
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
