/*
 * test_parse.c — numbers, sizes, durations and booleans: what they mean,
 * what is refused, and that formatting reads back.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "parse.h"

static uint64_t
size_of(const char *s)
{
	char err[128];
	uint64_t v = 0;

	cr_assert_eq(parse_size(s, UINT64_MAX, &v, err, sizeof(err)), 0,
	    "%s: %s", s, err);
	return v;
}

static uint64_t
ms_of(const char *s)
{
	char err[128];
	uint64_t v = 0;

	cr_assert_eq(parse_duration(s, &v, err, sizeof(err)), 0,
	    "%s: %s", s, err);
	return v;
}

Test(parse, sizes)
{
	cr_assert_eq(size_of("0"), 0);
	cr_assert_eq(size_of("4096"), 4096);
	cr_assert_eq(size_of("64k"), 65536);
	cr_assert_eq(size_of("1m"), 1 << 20);
	cr_assert_eq(size_of("2g"), 2ull << 30);
	cr_assert_eq(size_of("3M"), 3 << 20);
}

Test(parse, bad_sizes)
{
	const char *bad[] = { "", "k", "12kb", "1.5m", "-1", " 1", "1 ",
	    "99999999999999999999", "18014398509481984g" };
	char err[128];
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse_size(bad[i], UINT64_MAX, &v, err,
		    sizeof(err)), -1, "'%s' accepted", bad[i]);
		cr_assert_not_null(strstr(err, "is not a size"), "%s", err);
	}
	cr_assert_eq(parse_size("2k", 1024, &v, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "larger than the maximum 1k"), "%s",
	    err);
}

Test(parse, durations)
{
	cr_assert_eq(ms_of("0"), 0);
	cr_assert_eq(ms_of("250ms"), 250);
	cr_assert_eq(ms_of("30s"), 30000);
	cr_assert_eq(ms_of("5m"), 300000);
	cr_assert_eq(ms_of("2h"), 7200000);
	cr_assert_eq(ms_of("3"), 3000, "a bare number is seconds");
	cr_assert_eq(ms_of("0.25"), 250);
	cr_assert_eq(ms_of("1.5s"), 1500);
	cr_assert_eq(ms_of("0.5m"), 30000);
	cr_assert_eq(ms_of("1m30s"), 90000);
	cr_assert_eq(ms_of("1h2m3s4ms"), 3723004);
	cr_assert_eq(ms_of("2m0.5s"), 120500);
	cr_assert_eq(ms_of("1.001s"), 1001);
	cr_assert_eq(ms_of("1s500ms"), 1500);
	cr_assert_eq(ms_of("18446744073709551.615"), UINT64_MAX);
	cr_assert_eq(ms_of("5124095576030h25m51s615ms"), UINT64_MAX,
	    "the largest, as format_duration writes it");
}

Test(parse, bad_durations)
{
	const char *bad[] = { "", "5x", "s", ".5s", "5.s", "-1s", "5 s",
	    "1m30", "30s1m", "1s1s", "1.5m30s", "1.0005s", "0.5ms", "1hr",
	    "1.5.5s", "99999999999999999999h", "5124095576030432h" };
	char err[128];
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse_duration(bad[i], &v, err, sizeof(err)),
		    -1, "'%s' accepted", bad[i]);
		cr_assert_not_null(strstr(err, "is not a duration"), "%s", err);
	}
}

Test(parse, uints)
{
	char err[128];
	uint64_t v;

	cr_assert_eq(parse_uint("42", 1, 100, &v, err, sizeof(err)), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(parse_uint("0", 1, 100, &v, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "0 is out of range 1..100");
	cr_assert_eq(parse_uint("4x", 1, 100, &v, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "'4x' is not a whole number");
}

Test(parse, bools)
{
	char err[128];
	bool b = false;

	cr_assert_eq(parse_bool("yes", &b, err, sizeof(err)), 0);
	cr_assert(b);
	cr_assert_eq(parse_bool("no", &b, err, sizeof(err)), 0);
	cr_assert_not(b);
	cr_assert_eq(parse_bool("Yes", &b, err, sizeof(err)), 0);
	cr_assert(b);
	cr_assert_eq(parse_bool("OFF", &b, err, sizeof(err)), 0);
	cr_assert_not(b);
	cr_assert_eq(parse_bool("true", &b, err, sizeof(err)), 0);
	cr_assert(b);
	cr_assert_eq(parse_bool("yess", &b, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "'yess' is not yes or no (or on/off, "
	    "true/false)");
}

Test(parse, formats_read_back)
{
	const uint64_t sizes[] = { 0, 1, 1000, 1024, 65536, 3 << 20,
	    5ull << 30, 1025 };
	const uint64_t durations[] = { 0, 1, 999, 1000, 1500, 61000, 90000,
	    120000, 3600000, 3601000, 3723004 };
	char buf[32], err[128];
	uint64_t v;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		format_size(sizes[i], buf, sizeof(buf));
		cr_assert_eq(parse_size(buf, UINT64_MAX, &v, err, sizeof(err)),
		    0);
		cr_assert_eq(v, sizes[i], "%s", buf);
	}
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		format_duration(durations[i], buf, sizeof(buf));
		cr_assert_eq(parse_duration(buf, &v, err, sizeof(err)), 0);
		cr_assert_eq(v, durations[i], "%s", buf);
	}
	cr_assert_str_eq(format_duration(90000, buf, sizeof(buf)), "1m30s");
	cr_assert_str_eq(format_duration(3723004, buf, sizeof(buf)),
	    "1h2m3s4ms");
}
