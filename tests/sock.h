/*
 * sock.h — talking to a server as the tests do: connect, exchange bytes
 * both ways at once with a deadline, many clients at once, and the
 * expected transform, written independently of the daemon's.
 */
#ifndef SOCK_H
#define SOCK_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define DEADLINE_MS 60000	/* generous: a loaded 2-core machine */

/* A blocking connection to ss (or the test fails). */
int connect_to(const struct sockaddr_storage *ss, socklen_t len);

/* The same from source address src ("127.0.0.2", "::1"), any port. */
int connect_from(const char *src, const struct sockaddr_storage *ss,
    socklen_t len);

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

/* Monotonic milliseconds. */
long long now_ms(void);

/*
 * Open n connections at once to ss, each sending size bytes of its own
 * pattern (at most chunk per send) and half-closing, while reading the echo
 * and checking every byte. Returns how many connections failed; details of
 * the first failure go to stderr.
 */
unsigned load_run(const struct sockaddr_storage *ss, socklen_t sslen,
    unsigned n, size_t size, int timeout_ms);

/*
 * A datagram socket bound at path and named in NOTIFY_SOCKET for the
 * processes started from now on (unset it after): systemd's end of
 * sd_notify. Returns the socket.
 */
int notify_listen(const char *path);

/* The next datagram on fd, which must begin with prefix, into buf (NUL
 * terminated); fails the test at the deadline. */
void expect_datagram(int fd, char *buf, size_t cap, const char *prefix);

#endif
