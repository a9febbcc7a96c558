/*
 * harness.h — what the integration tests share: start the real
 * bin/upcased, wait for lines in its log, stop it; with process.h (other
 * processes), sock.h (clients) and proc.h (/proc). Every wait is for an
 * event (a log line, a readable socket, a process exit) with a generous
 * deadline, never a fixed sleep.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "proc.h"
#include "process.h"
#include "sock.h"

/* Declare zeroed ({ 0 }): daemon_init tells a fresh one by its empty dir. */
struct daemon {
	pid_t pid;
	char dir[64];			/* private temporary directory */
	char log_path[96];		/* the daemon's stderr */
	int inotify_fd;			/* wakes a wait on log writes */
	size_t log_seen;		/* log bytes consumed by waits */
	char addr[128];			/* "127.0.0.1:PORT" it listens on */
	struct sockaddr_storage ss;	/* the same, for connect */
	socklen_t sslen;
	bool denials_expected;		/* "sandbox: denied" in its log is
					 * what the test is after */
	struct sockaddr_storage mss;	/* its metrics listener, if any */
	socklen_t msslen;		/* 0: none */
};

/* Create d's private directory, its log file and the log watch; idempotent.
 * daemon_spawn calls it; call it first to write files into d->dir. */
void daemon_init(struct daemon *d);

/* d->dir/name, in a static buffer (one at a time). */
const char *daemon_file(const struct daemon *d, const char *name);

/* Write len bytes, or text, to path, replacing it. */
void write_bytes(const char *path, const void *buf, size_t len);
void write_file(const char *path, const char *text);

/*
 * Start upcased -f -c /dev/null -o listen=127.0.0.1:0 followed by the NULL
 * terminated extra arguments, and wait for "listening on". The daemon dies
 * with the test process.
 */
void daemon_start(struct daemon *d, ...);

/* daemon_start, with a metrics listener on 127.0.0.2 as well (d->mss),
 * for the counters below. */
#define daemon_start_metered(d, ...) \
	daemon_start_metered_args((d), "-o", "listen=127.0.0.2:0 metrics", \
	    __VA_ARGS__)
void daemon_start_metered_args(struct daemon *d, ...);

/* For a daemon started with "-o listen=127.0.0.2:0 metrics" among its
 * arguments: wait for that listener and take its address (d->mss). */
void daemon_find_metrics(struct daemon *d);

/* One of the metrics' samples, now (NAME or NAME{LABELS} as printed). */
double daemon_counter(const struct daemon *d, const char *name);

/* Wait until the sample name is at least n; fails at the deadline. */
void daemon_wait_counter(const struct daemon *d, const char *name,
    double n);

/* Wait until n echo connections are open (closed ones are counted when
 * they close: their access lines are written). */
void daemon_wait_open(const struct daemon *d, double n);

/* name{listener="d's address"}, in a static buffer. */
const char *daemon_sample_of(const struct daemon *d, const char *name);

/* Start with exactly these arguments (after argv[0]); wait for nothing. */
void daemon_spawn(struct daemon *d, const char *const *args);

/* Start argv (argv[0] the program: a launcher in front of upcased) with
 * its output in d's log; wait for nothing. */
void daemon_spawn_argv(struct daemon *d, const char *const *argv);

/* Start with exactly these arguments and wait for "listening on". */
void daemon_start_args(struct daemon *d, const char *const *args);

/* Take d->pid from d's pidfile (a detached daemon, now our child: tests
 * that detach make themselves a subreaper). */
void daemon_adopt(struct daemon *d, const char *pidfile);

/* Kill the daemon if it still runs and remove its directory: for .fini.
 * Every test's daemon ends here, and here its log is checked for a call
 * the sandbox denied: a free check of the filter's list in every test
 * (unless denials_expected). */
void daemon_kill(struct daemon *d);

/*
 * Wait until a log line after the last match contains needle; return a
 * copy of that line (static buffer), or NULL at the deadline. In needle
 * here and in the two below, a '*' stands for any bytes within the line
 * ("worker 1 (pid *): serving").
 */
const char *daemon_wait_log(struct daemon *d, const char *needle,
    int timeout_ms);

/* Wait until the whole log holds needle n times; false at the deadline.
 * For lines whose order is not known (several workers'). */
bool daemon_wait_count(struct daemon *d, const char *needle, int n,
    int timeout_ms);

/* Count log lines containing needle (the whole log). */
int daemon_count_log(struct daemon *d, const char *needle);

/* The whole log so far (static buffer), for messages. */
const char *daemon_log(struct daemon *d);

/* Send sig and wait for the exit. Returns the wait status, or -1 at the
 * deadline (the daemon is then killed). */
int daemon_signal_wait(struct daemon *d, int sig, int timeout_ms);

/* SIGTERM, expect STOPPING=1 on fd (notify_listen's), a clean exit;
 * close fd and remove the directory. */
void daemon_stop_notified(struct daemon *d, int fd);

/* SIGTERM, wait, check a clean exit; remove the directory. */
void daemon_stop(struct daemon *d);

/* The same, returning the whole log, its exit lines included (static). */
const char *daemon_stop_log(struct daemon *d);

/* The daemon closed fd without a byte, at once or after our bytes (EOF
 * or a reset); who names fd in the failure. Closes fd. */
void expect_unanswered(int fd, const char *who);

/* The whole of a file (up to 128 KiB; a static buffer, one at a time), or
 * "" if it does not exist. */
const char *read_text(const char *path);

/* How many times needle occurs in text. */
int count_in(const char *text, const char *needle);

/* The number after "key": in text (a JSON object); fails the test if
 * there is none. */
double json_number(const char *text, const char *key);

/* A blocking TCP connection to the daemon. */
int daemon_connect(const struct daemon *d);

/* Parse "HOST:PORT" from a "listening on" line into ss. */
void parse_listen_line(const char *line, char *addr, size_t addrlen,
    struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * On non-blocking fd, send the bytes of pattern over and over (len of them,
 * starting at offset sent % len) until the daemon logs a line containing
 * needle; then fill what the socket still takes. The socket and the log are
 * waited on together, so a full socket never blocks it. Returns the new
 * total of bytes sent.
 */
size_t pump_until_log(struct daemon *d, int fd, const unsigned char *pattern,
    size_t len, size_t sent, const char *needle);

/* The same, until the daemon's sample name is at least n (a metered
 * daemon): pumping, and asking (a round trip) whenever the socket has
 * stayed full for 100 ms. */
size_t pump_until_counter(struct daemon *d, int fd,
    const unsigned char *pattern, size_t len, size_t sent, const char *name,
    double n);

#endif
