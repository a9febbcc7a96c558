/*
 * test_backpressure.c — the write backlog: a client that writes before it
 * reads is carried by the backlog; one that never reads stops being read,
 * holds bounded memory, and costs nobody else a byte.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

TestSuite(backpressure, .timeout = 120);

/* Every "N bytes owed, reading paused" line says N <= high (what a
 * connection owed at each pause: no counter keeps that). */
static void
expect_owed_at_most(struct daemon *d, size_t high)
{
	const char *p = daemon_log(d);
	int lines = 0;

	while ((p = strstr(p, " bytes owed, reading paused")) != NULL) {
		const char *num = p;

		while (num[-1] >= '0' && num[-1] <= '9')
			num--;
		cr_assert_leq(strtoull(num, NULL, 10), high, "owed past "
		    "backlog_high: %.40s", num);
		lines++;
		p++;
	}
	cr_assert_gt(lines, 0, "never paused");
}

/* The seed client's order: everything, then SHUT_WR, then read. */
Test(backpressure, write_everything_before_reading)
{
	size_t len = 4 << 20;
	unsigned char *src = malloc(len), *got = malloc(len + 1);
	struct daemon d = { 0 };
	int fd;

	cr_assert(src && got);
	/* A backlog of 8 MiB holds all 4 MiB whatever the kernel buffers. */
	daemon_start(&d, "-o", "backlog_high=8m", "-o", "backlog_low=1m",
	    NULL);
	fill_pattern(src, len, 4);
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, src, len, DEADLINE_MS), 0,
	    "send blocked: %s", strerror(errno));
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	cr_assert_eq(read_all(fd, got, len + 1, DEADLINE_MS), (ssize_t)len);
	reference_upper(src, len);
	cr_assert_eq(memcmp(got, src, len), 0);
	close(fd);
	daemon_stop(&d);
	free(src);
	free(got);
}

Test(backpressure, reader_that_never_reads_is_paused_and_bounded)
{
	enum { CHUNK = 256 * 1024 };
	unsigned char *pattern = malloc(CHUNK), *want = malloc(CHUNK);
	unsigned char *got = malloc(CHUNK);
	size_t sent = 0, recvd = 0;
	long rss_before, rss_after;
	struct daemon d = { 0 };
	int a, b;
	char reply[16];

	cr_assert(pattern && want && got);
	fill_pattern(pattern, CHUNK, 5);
	memcpy(want, pattern, CHUNK);
	reference_upper(want, CHUNK);
	daemon_start_metered(&d, "-o", "backlog_high=64k", "-o",
	    "backlog_low=16k", "-o", "log_level=debug", NULL);
	/* The first scrape's own memory is not the client's. */
	cr_assert_eq(daemon_counter(&d, "upcased_read_pauses_total"), 0);
	rss_before = rss_kib(d.pid);

	/* A writes and never reads. Once paused, whatever more the kernel
	 * takes must not reach the daemon's heap: it owes A at most
	 * backlog_high (64 KiB); the shared 256 KiB read buffer is touched
	 * now too, and 1 MiB is slack for the allocator. */
	a = daemon_connect(&d);
	fcntl(a, F_SETFL, O_NONBLOCK);
	sent = pump_until_counter(&d, a, pattern, CHUNK, 0,
	    "upcased_read_pauses_total", 1);
	rss_after = rss_kib(d.pid);
	cr_assert_leq(rss_after - rss_before, 64 + 256 + 1024,
	    "daemon grew by %ld KiB for one stalled client",
	    rss_after - rss_before);

	/* Meanwhile B is served at once. */
	b = daemon_connect(&d);
	cr_assert_eq(exchange(b, "hello", 5, reply, sizeof(reply), 5,
	    DEADLINE_MS), 5);
	cr_assert_eq(memcmp(reply, "HELLO", 5), 0);
	close(b);

	/* A finally reads, and gets every byte it sent before it closes
	 * anything: the daemon must go back to the bytes waiting in its
	 * socket when it resumes, as no new edge will announce them. */
	for (long long deadline = now_ms() + DEADLINE_MS; recvd < sent;) {
		struct pollfd p = { .fd = a, .events = POLLIN };
		ssize_t n;

		cr_assert_lt(now_ms(), deadline, "A's echo stalled at %zu of "
		    "%zu", recvd, sent);
		poll(&p, 1, 1000);
		n = recv(a, got, CHUNK - recvd % CHUNK, 0);
		if (n < 0) {
			cr_assert_eq(errno, EAGAIN, "recv: %s",
			    strerror(errno));
			continue;
		}
		cr_assert_gt(n, 0, "EOF after %zu of %zu bytes", recvd, sent);
		cr_assert_eq(memcmp(got, want + recvd % CHUNK, (size_t)n), 0,
		    "A's echo differs near byte %zu", recvd);
		recvd += (size_t)n;
	}
	shutdown(a, SHUT_WR);
	cr_assert_eq(read_all(a, got, CHUNK, DEADLINE_MS), 0, "more bytes "
	    "than were sent, or no clean EOF");
	cr_assert_eq(recvd, sent);
	close(a);
	expect_owed_at_most(&d, 64 * 1024);
	daemon_stop(&d);
	free(pattern);
	free(want);
	free(got);
}

/*
 * A client that reads a little at a time (and over TCP, with a tiny
 * receive window): the daemon's writes come up short or find the socket
 * full, its backlog fills and drains over and over, and every byte still
 * comes back in order. No connection ever owes more than backlog_high.
 * For the first PAUSES rounds the client stops reading until the daemon
 * has paused its reading (its debug line says so), sending meanwhile, then
 * reads READ_ROUND: how fast either side runs cannot make a round go
 * without a pause.
 */
static void
slow_reader(struct daemon *d, int fd)
{
	enum { LEN = 16 << 20, SIP = 1024, PAUSES = 3,
	    READ_ROUND = 256 << 10 };	/* past a full Unix socket: it is
					 * writable again only nearly empty */
	unsigned char *src = malloc(LEN), *want = malloc(LEN);
	unsigned char *got = malloc(LEN);
	size_t sent = 0, recvd = 0, budget = 0;
	int paused = 0;

	cr_assert(src && want && got);
	fill_pattern(src, LEN, 7);
	memcpy(want, src, LEN);
	reference_upper(want, LEN);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (long long deadline = now_ms() + DEADLINE_MS;;) {
		bool reading = paused >= PAUSES || budget > 0;
		/* Not reading, the wait is for room to send or for a line of
		 * the daemon's log (its inotify descriptor). */
		struct pollfd p[2] = { { .fd = fd, .events = reading ? POLLIN :
		    0 }, { .fd = d->inotify_fd, .events = reading ? 0 :
		    POLLIN } };
		ssize_t n;

		cr_assert_lt(now_ms(), deadline, "stalled at %zu sent, %zu "
		    "received, %d pauses:\n%s", sent, recvd, paused,
		    daemon_log(d));
		if (sent < LEN)
			p[0].events |= POLLOUT;
		poll(p, 2, 1000);
		if (p[0].revents & POLLOUT) {
			n = send(fd, src + sent, LEN - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			if (sent == LEN)
				shutdown(fd, SHUT_WR);
		}
		if (p[1].revents & POLLIN) {
			char events[4096];

			if (read(d->inotify_fd, events, sizeof(events)) < 0)
				cr_assert_eq(errno, EAGAIN);
		}
		if (!reading && daemon_count_log(d, "reading paused") > paused) {
			paused++;
			budget = READ_ROUND;
			continue;
		}
		if (reading && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			size_t want_n = LEN - recvd < SIP ? LEN - recvd + 1 : SIP;

			if (budget > 0 && want_n > budget)
				want_n = budget;
			n = recv(fd, got + recvd, want_n, 0);
			if (n == 0)
				break;
			cr_assert(n > 0 || errno == EAGAIN, "recv: %s",
			    strerror(errno));
			if (n > 0) {
				recvd += (size_t)n;
				budget -= budget > 0 ? (size_t)n : 0;
			}
		}
	}
	cr_assert_eq(sent, (size_t)LEN);
	cr_assert_eq(recvd, (size_t)LEN);
	cr_assert_eq(memcmp(got, want, LEN), 0, "the echo differs");
	close(fd);
	/* Each pause after the first came after a resume. */
	cr_assert_geq(daemon_counter(d, "upcased_read_pauses_total"), PAUSES);
	cr_assert_geq(daemon_count_log(d, "reading resumed"), PAUSES - 1);
	expect_owed_at_most(d, 16 * 1024);
	free(src);
	free(want);
	free(got);
}

static void
start_small_backlog(struct daemon *d, const char *extra)
{
	daemon_start_metered(d, "-o", "backlog_high=16k", "-o",
	    "backlog_low=4k", "-o", "log_level=debug", extra != NULL ? "-o" :
	    NULL, extra, NULL);
}

/* Over TCP a full socket mostly shows as a short write. */
Test(backpressure, slow_reader_over_tcp_with_a_small_window)
{
	struct daemon d = { 0 };
	int fd, small = 4096;

	start_small_backlog(&d, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	/* Before connecting: the window is agreed in the handshake. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	cr_assert_eq(connect(fd, (struct sockaddr *)&d.ss, d.sslen), 0);
	slow_reader(&d, fd);
	daemon_stop(&d);
}

/* Over a Unix socket a write goes whole or not at all: EAGAIN. */
Test(backpressure, slow_reader_over_a_unix_socket)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct daemon d = { 0 };
	char listen[160];
	int fd;

	daemon_init(&d);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    daemon_file(&d, "u.sock"));
	snprintf(listen, sizeof(listen), "listen=unix:%s", sun.sun_path);
	start_small_backlog(&d, listen);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0,
	    "connect %s: %s", sun.sun_path, strerror(errno));
	slow_reader(&d, fd);
	daemon_stop(&d);
}
