/*
 * test_backpressure.c — the write backlog: a client that writes before it
 * reads is carried by the backlog; one that never reads stops being read,
 * holds bounded memory, and costs nobody else a byte.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(backpressure, .timeout = 120);

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
	daemon_start(&d, "-o", "backlog_high=64k", "-o", "backlog_low=16k",
	    "-o", "log_level=debug", NULL);
	rss_before = rss_kib(d.pid);

	/* A writes and never reads. Once paused, whatever more the kernel
	 * takes must not reach the daemon's heap: it holds at most
	 * backlog_high plus one read. */
	a = daemon_connect(&d);
	fcntl(a, F_SETFL, O_NONBLOCK);
	sent = pump_until_log(&d, a, pattern, CHUNK, 0, "reading paused");
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
	cr_assert_geq(daemon_count_log(&d, "reading resumed"), 1);
	daemon_stop(&d);
	free(pattern);
	free(want);
	free(got);
}
