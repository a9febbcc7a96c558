/*
 * test_backlog.c — the FIFO: order kept across growth and compaction, the
 * block freed when empty, refusal past BACKLOG_MAX.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backlog.h"
#include "harness.h"

Test(backlog, starts_empty_and_unallocated)
{
	struct backlog b = { 0 };

	cr_assert_eq(backlog_len(&b), 0);
	cr_assert_null(b.buf);
	cr_assert_eq(backlog_append(&b, "", 0), 0);
	cr_assert_null(b.buf, "an empty append allocated");
}

Test(backlog, append_consume_keeps_order_and_frees_when_empty)
{
	struct backlog b = { 0 };

	cr_assert_eq(backlog_append(&b, "hello ", 6), 0);
	cr_assert_eq(backlog_append(&b, "world", 5), 0);
	cr_assert_eq(backlog_len(&b), 11);
	cr_assert_eq(memcmp(backlog_data(&b), "hello world", 11), 0);
	backlog_consume(&b, 6);
	cr_assert_eq(memcmp(backlog_data(&b), "world", 5), 0);
	backlog_consume(&b, 5);
	cr_assert_eq(backlog_len(&b), 0);
	cr_assert_null(b.buf, "empty backlog still holds memory");
}

/* Random appends and consumes against a plain reference stream. */
Test(backlog, random_traffic_matches_stream)
{
	enum { TOTAL = 8 << 20 };
	unsigned char *src = malloc(TOTAL);
	size_t in = 0, out = 0, peak = 0;
	struct backlog b = { 0 };
	unsigned x = 12345;

	cr_assert_not_null(src);
	fill_pattern(src, TOTAL, 3);
	while (out < TOTAL) {
		x = x * 1103515245u + 12345u;
		size_t n = (x >> 8) % 70000;

		if ((x & 1) && in < TOTAL) {
			if (n > TOTAL - in)
				n = TOTAL - in;
			cr_assert_eq(backlog_append(&b, src + in, n), 0);
			in += n;
		} else {
			if (n > backlog_len(&b))
				n = backlog_len(&b);
			if (n == 0)
				continue;
			cr_assert_eq(memcmp(backlog_data(&b), src + out, n), 0,
			    "bytes %zu..%zu differ", out, out + n);
			backlog_consume(&b, n);
			out += n;
		}
		cr_assert_eq(backlog_len(&b), in - out);
		if (in - out > peak)
			peak = in - out;
		/* Growth doubles: never more than twice the peak held. */
		cr_assert_leq(b.cap, 2 * peak + 4096, "capacity %u for a "
		    "peak of %zu bytes", b.cap, peak);
	}
	cr_assert_null(b.buf);
	free(src);
}

Test(backlog, refuses_past_max)
{
	struct backlog b = { 0 };

	errno = 0;
	cr_assert_eq(backlog_append(&b, "x", (size_t)BACKLOG_MAX + 1), -1);
	cr_assert_eq(errno, ENOMEM);
	cr_assert_eq(backlog_len(&b), 0);
}

Test(backlog, free_drops_everything)
{
	struct backlog b = { 0 };

	cr_assert_eq(backlog_append(&b, "abc", 3), 0);
	backlog_free(&b);
	cr_assert_eq(backlog_len(&b), 0);
	cr_assert_null(b.buf);
}
