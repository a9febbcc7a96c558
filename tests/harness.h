/*
 * harness.h — what the integration tests share: start the real bin/upcased,
 * wait for lines in its log, connect, exchange bytes with deadlines, and
 * read the daemon's fd count and memory from /proc. Every wait is for an
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

#define DEADLINE_MS 60000	/* generous: a loaded 2-core machine */

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
};

/* Create d's private directory, its log file and the log watch; idempotent.
 * daemon_spawn calls it; call it first to write files into d->dir. */
void daemon_init(struct daemon *d);

/* d->dir/name, in a static buffer (one at a time). */
const char *daemon_file(const struct daemon *d, const char *name);

/* Write len bytes, or text, to path, replacing it. */
void write_bytes(const char *path, const void *buf, size_t len);
void write_file(const char *path, const char *text);

/* Path of the binary under test: $UPCASED, or bin/upcased. */
const char *upcased_path(void);
const char *upcase_path(void);

/*
 * Start upcased -f -c /dev/null -o listen=127.0.0.1:0 followed by the NULL
 * terminated extra arguments, and wait for "listening on". The daemon dies
 * with the test process.
 */
void daemon_start(struct daemon *d, ...);

/* Start with exactly these arguments (after argv[0]); wait for nothing. */
void daemon_spawn(struct daemon *d, const char *const *args);

/* Start with exactly these arguments and wait for "listening on". */
void daemon_start_args(struct daemon *d, const char *const *args);

/* Take d->pid from d's pidfile (a detached daemon, now our child: tests
 * that detach make themselves a subreaper). */
void daemon_adopt(struct daemon *d, const char *pidfile);

/* Kill the daemon if it still runs and remove its directory: for .fini. */
void daemon_kill(struct daemon *d);

/*
 * Wait until a log line after the last match contains needle; return a
 * copy of that line (static buffer), or NULL at the deadline.
 */
const char *daemon_wait_log(struct daemon *d, const char *needle,
    int timeout_ms);

/* Count log lines containing needle (the whole log). */
int daemon_count_log(struct daemon *d, const char *needle);

/* The whole log so far (static buffer), for messages. */
const char *daemon_log(struct daemon *d);

/* Send sig and wait for the exit. Returns the wait status, or -1 at the
 * deadline (the daemon is then killed). */
int daemon_signal_wait(struct daemon *d, int sig, int timeout_ms);

/* SIGTERM, wait, check a clean exit; remove the directory. */
void daemon_stop(struct daemon *d);

/* Is the process still there? */
bool process_alive(pid_t pid);

/* Blocking TCP connection to the daemon. */
int daemon_connect(const struct daemon *d);
int connect_to(const struct sockaddr_storage *ss, socklen_t len);

/* Parse "HOST:PORT" from a "listening on" line into ss. */
void parse_listen_line(const char *line, char *addr, size_t addrlen,
    struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * Send out (len bytes, at most chunk per send) and read everything back at
 * the same time, half-closing after the last byte, until EOF. Returns the
 * bytes received into in (up to cap), or -1 with errno (ETIMEDOUT at the
 * deadline, ENOBUFS past cap).
 */
ssize_t exchange(int fd, const void *out, size_t len, void *in, size_t cap,
    size_t chunk, int timeout_ms);

/* On connected fd: send msg, half-close, and assert that exactly its
 * transform comes back before EOF. Closes fd. The way a test checks that
 * the daemon still serves. */
void expect_echo(int fd, const char *msg);

/*
 * On non-blocking fd, send the bytes of pattern over and over (len of them,
 * starting at offset sent % len) until the daemon logs a line containing
 * needle; then fill what the socket still takes. The socket and the log are
 * waited on together, so a full socket never blocks it. Returns the new
 * total of bytes sent.
 */
size_t pump_until_log(struct daemon *d, int fd, const unsigned char *pattern,
    size_t len, size_t sent, const char *needle);

/* Read until EOF into in (up to cap). -1 with errno on error or deadline. */
ssize_t read_all(int fd, void *in, size_t cap, int timeout_ms);

/* Write all of buf, waiting for room. -1 with errno on error or deadline. */
int write_all(int fd, const void *buf, size_t len, int timeout_ms);

/* The protocol's transform, written independently of common/upper.c. */
void reference_upper(unsigned char *buf, size_t len);

/* Deterministic bytes covering every value. */
void fill_pattern(unsigned char *buf, size_t len, unsigned seed);

/* Raise this process's open-file limit to at least n (or fail the test). */
void raise_fd_limit(unsigned n);

/*
 * Open n connections at once to ss, each sending size bytes of its own
 * pattern (at most chunk per send) and half-closing, while reading the echo
 * and checking every byte. Returns how many connections failed; details of
 * the first failure go to stderr.
 */
unsigned load_run(const struct sockaddr_storage *ss, socklen_t sslen,
    unsigned n, size_t size, int timeout_ms);

/*
 * Start argv[0] with stdin, stdout and stderr on in, out and err (-1:
 * /dev/null). It dies with the test process. Returns its pid.
 */
pid_t spawn(const char *const *argv, int in, int out, int err);

/*
 * Wait up to timeout_ms for pid to exit, and reap it. Returns its wait
 * status (its rusage into *ru, unless NULL), or -1 at the deadline, when it
 * has been killed.
 */
int wait_exit(pid_t pid, struct rusage *ru, int timeout_ms);

/* Assert that status (from wait_exit) is an exit with code; context is
 * shown on failure. */
void expect_exit(int status, int code, const char *context);

/*
 * Run path with args (NULL-terminated), stdin from /dev/null, stdout and
 * stderr captured together in out (NUL-terminated, truncated to cap - 1).
 * Returns the exit code; fails the test if it was killed or did not finish
 * by the deadline.
 */
int run(const char *path, const char *const *args, char *out, size_t cap);

/*
 * A server that is not upcased: it echoes bytes unchanged, all of them, or
 * only the first `limit` (limit 0: all), and closes after the client's EOF. Returns its pid;
 * its address goes into ss. It dies with the test.
 */
pid_t plain_echo_server(size_t limit, struct sockaddr_storage *ss,
    socklen_t *sslen, char *addr, size_t addrlen);

/* Monotonic milliseconds. */
long long now_ms(void);

#endif
