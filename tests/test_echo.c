/*
 * test_echo.c — the protocol against the real daemon: exact bytes back, in
 * order, whatever the sizes and however they are cut; a clean close after
 * the half-close.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static struct daemon d;

static void
start(void)
{
	daemon_start(&d, NULL);
}

static void
stop(void)
{
	daemon_stop(&d);
}

TestSuite(echo, .init = start, .fini = stop, .timeout = 120);

/* Send len bytes of src through the daemon in sends of at most chunk and
 * check the echo. */
static void
check_echo(const unsigned char *src, size_t len, size_t chunk)
{
	unsigned char *got = malloc(len + 1), *want = malloc(len + 1);
	int fd = daemon_connect(&d);
	ssize_t n;

	cr_assert(got && want);
	n = exchange(fd, src, len, got, len + 1, chunk, DEADLINE_MS);
	cr_assert_eq(n, (ssize_t)len, "echoed %zd of %zu bytes (%s)", n, len,
	    n < 0 ? strerror(errno) : "short");
	memcpy(want, src, len);
	reference_upper(want, len);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(got[i], want[i], "byte %zu: sent 0x%02x, got "
		    "0x%02x, want 0x%02x", i, src[i], got[i], want[i]);
	close(fd);
	free(got);
	free(want);
}

Test(echo, every_byte_value)
{
	unsigned char all[256];

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	check_echo(all, sizeof(all), sizeof(all));
}

Test(echo, zero_bytes_then_half_close_gets_clean_eof)
{
	int fd = daemon_connect(&d);
	char buf[16];

	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	/* EOF, not a reset: recv returns 0, not ECONNRESET. */
	cr_assert_eq(read_all(fd, buf, sizeof(buf), DEADLINE_MS), 0,
	    "expected a clean EOF: %s", strerror(errno));
	close(fd);
}

Test(echo, sixty_four_mib_while_reading)
{
	size_t len = 64 << 20;
	unsigned char *src = malloc(len);

	cr_assert_not_null(src);
	fill_pattern(src, len, 1);
	check_echo(src, len, 256 * 1024);
	free(src);
}

Test(echo, one_byte_writes_equal_one_large_write)
{
	size_t len = 16 * 1024;
	unsigned char *src = malloc(len), *a = malloc(len + 1),
	    *b = malloc(len + 1);
	int one = 1, fd;

	cr_assert(src && a && b);
	fill_pattern(src, len, 2);

	fd = daemon_connect(&d);
	/* Each byte its own segment, so the daemon sees one-byte reads. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cr_assert_eq(exchange(fd, src, len, a, len + 1, 1, DEADLINE_MS),
	    (ssize_t)len);
	close(fd);

	fd = daemon_connect(&d);
	cr_assert_eq(exchange(fd, src, len, b, len + 1, len, DEADLINE_MS),
	    (ssize_t)len);
	close(fd);

	cr_assert_eq(memcmp(a, b, len), 0, "outputs differ");
	reference_upper(src, len);
	cr_assert_eq(memcmp(a, src, len), 0, "output is not the transform");
	free(src);
	free(a);
	free(b);
}

Test(echo, data_and_fin_in_one_segment)
{
	const char msg[] = "the last words come with the fin";
	char got[64];
	int on = 1, off = 0, fd = daemon_connect(&d);

	/* Corked, the data waits; shutdown then sets FIN on that same
	 * segment and pushes it. */
	cr_assert_eq(setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)),
	    0);
	cr_assert_eq(send(fd, msg, strlen(msg), 0), (ssize_t)strlen(msg));
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	cr_assert_eq(read_all(fd, got, sizeof(got), DEADLINE_MS),
	    (ssize_t)strlen(msg));
	cr_assert_eq(memcmp(got, "THE LAST WORDS COME WITH THE FIN",
	    strlen(msg)), 0);
	close(fd);
}

Test(echo, many_sequential_connections)
{
	for (int i = 0; i < 200; i++) {
		char msg[32], want[32], got[32];
		int fd = daemon_connect(&d);
		int n = snprintf(msg, sizeof(msg), "request %d abc", i);

		snprintf(want, sizeof(want), "REQUEST %d ABC", i);
		cr_assert_eq(exchange(fd, msg, (size_t)n, got, sizeof(got),
		    (size_t)n, DEADLINE_MS), n);
		cr_assert_eq(memcmp(got, want, (size_t)n), 0);
		close(fd);
	}
}
