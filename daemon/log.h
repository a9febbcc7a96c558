/*
 * log.h — the daemon's log: one timestamped line per event, to stderr, a file
 * or syslog, filtered by level. log_warn appends strerror(errno), log_warnx
 * does not (as in OpenBSD daemons). Nothing here decides what is worth
 * logging; callers do, once, where they know the context.
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

extern enum log_level log_level;	/* lines above it are dropped */

/* Parse "error", "warn", "info" or "debug". */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/*
 * Send lines to target: "stderr", "syslog" (the local /dev/log) or a file
 * path (opened for appending), never waiting for it (sink.h). On failure
 * the previous target stays and err says why.
 */
int log_open(const char *target, char *err, size_t errlen);

/* Lines the target could not take at once, dropped. */
uint64_t log_dropped(void);

/* Reopen the file target after logrotate moved it; no-op otherwise. */
int log_reopen(char *err, size_t errlen);

/* True when lines go to stderr (as opposed to a file or syslog). */
bool log_to_stderr(void);

/*
 * While on, error lines also go to stderr (as "upcased: ...") when the log
 * is elsewhere: start-up failures reach the person who ran the command.
 */
void log_echo_errors(bool on);

void log_close(void);

/* Start every line with tag and ": " ("worker 2"); NULL: no tag. */
void log_tag(const char *tag);

/*
 * For a condition that can recur thousands of times a second (refusals,
 * accept failures): true at most once per LOG_EVERY_MS, so that the caller
 * logs one line with a running count instead of a flood. *last keeps the
 * monotonic time of the last line, in ms (0: none yet).
 */
#define LOG_EVERY_MS 1000
bool log_due(uint64_t *last);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_write_debug(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Debug lines sit on the hot path: test the level before formatting. */
#define log_debug(...) do {						\
	if (log_level >= LOG_LEVEL_DEBUG)				\
		log_write_debug(__VA_ARGS__);				\
} while (0)

#endif
