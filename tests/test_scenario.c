/*
 * test_scenario.c — the probe line (common/scenario.c): what each key
 * asks for, what is refused, and that a written line reads back.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "scenario.h"

TestSuite(scenario, .timeout = 30);

Test(scenario, keys_and_defaults)
{
	struct scenario s;
	char err[128], line[SCENARIO_LINE_MAX];
	const char *text = "UPCASE-PROBE/1 delay=2500ms fin_after=64k "
	    "close=rst rate=1m\r\nand the echo";

	cr_assert_eq(scenario_parse("UPCASE-PROBE/1\n", 15, &s, err,
	    sizeof(err)), 15, "%s", err);
	cr_assert(!s.hold && !s.close_rst && s.rate == 0 &&
	    s.fin_after == UINT64_MAX);
	cr_assert_eq(scenario_parse(text, strlen(text), &s, err, sizeof(err)),
	    (ssize_t)(strchr(text, '\n') - text + 1), "%s", err);
	cr_assert(s.hold && s.delay_ms == 2500 && s.fin_after == 65536 &&
	    s.close_rst && s.rate == 1 << 20);
	/* Written back, it reads back. */
	cr_assert_eq(scenario_parse(line, scenario_format(&s, line), &s, err,
	    sizeof(err)), (ssize_t)strlen(line));
	cr_assert_str_eq(line, "UPCASE-PROBE/1 delay=2s500ms fin_after=65536 "
	    "close=rst rate=1048576\n");
	/* A run's key and number, and a report's, read back too. */
	text = "UPCASE-PROBE/1 run=DeadBeef conn=4294967295\n";
	cr_assert_eq(scenario_parse(text, strlen(text), &s, err, sizeof(err)),
	    (ssize_t)strlen(text), "%s", err);
	cr_assert(s.run == 0xdeadbeef && s.conn == UINT32_MAX && !s.report);
	scenario_format(&s, line);
	cr_assert_str_eq(line, "UPCASE-PROBE/1 run=00000000deadbeef "
	    "conn=4294967295\n");
	text = "UPCASE-PROBE/1 report=ffffffffffffffff\n";
	cr_assert_eq(scenario_parse(text, strlen(text), &s, err, sizeof(err)),
	    (ssize_t)strlen(text), "%s", err);
	cr_assert(s.report && s.run == UINT64_MAX);
	scenario_format(&s, line);
	cr_assert_str_eq(line, "UPCASE-PROBE/1 report=ffffffffffffffff\n");
	/* The digest is FNV-1a 64 (its published test vector for "a"). */
	cr_assert_eq(scenario_digest(SCENARIO_DIGEST_INIT, "a", 1),
	    0xaf63dc4c8601ec8cull);
	/* Every prefix asks for more. */
	for (size_t n = 0; n < 15; n++)
		cr_assert_eq(scenario_parse("UPCASE-PROBE/1\n", n, &s, err,
		    sizeof(err)), 0, "prefix of %zu", n);
}

Test(scenario, refused_lines_say_why)
{
	static const struct {
		const char *line;
		const char *why;
	} cases[] = {
		{ "UPCASE-PROBE/2\n", "no UPCASE-PROBE/1 line" },
		{ "GET / HTTP/1.0\r\n", "no UPCASE-PROBE/1 line" },
		{ "UPCASE-PROBE/1x\n", "no UPCASE-PROBE/1 line" },
		{ "UPCASE-PROBE/1 delay\n", "'delay' is not key=value" },
		{ "UPCASE-PROBE/1 colour=blue\n", "unknown key 'colour'" },
		{ "UPCASE-PROBE/1 delay=1s delay=2s\n", "'delay' given twice" },
		{ "UPCASE-PROBE/1 delay=soon\n", "delay=soon: " },
		{ "UPCASE-PROBE/1 delay=2h\n", "longer than an hour" },
		{ "UPCASE-PROBE/1 close=now\n", "not rst or fin" },
		{ "UPCASE-PROBE/1 rate=0\n", "must be at least 1" },
		{ "UPCASE-PROBE/1 fin_after=-1\n", "fin_after=-1: " },
		{ "UPCASE-PROBE/1\tdelay=1s\n", "control byte" },
		{ "UPCASE-PROBE/1 run=0\n", "not 1 to 16 hex digits" },
		{ "UPCASE-PROBE/1 run=12345678901234567\n", "run=1234" },
		{ "UPCASE-PROBE/1 run=beer\n", "not 1 to 16 hex digits" },
		{ "UPCASE-PROBE/1 run=1 conn=4294967296\n",
		    "not a number below 2^32" },
		{ "UPCASE-PROBE/1 run=1 conn=+1\n", "not a number" },
		{ "UPCASE-PROBE/1 conn=1\n", "conn= without run=" },
		{ "UPCASE-PROBE/1 report=1 delay=1s\n", "report= takes no other" },
		{ "UPCASE-PROBE/1 run=1 report=2\n", "report= takes no other" },
	};
	struct scenario s;
	char err[128], longline[SCENARIO_LINE_MAX + 8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(scenario_parse(cases[i].line, strlen(cases[i].line),
		    &s, err, sizeof(err)), -1, "accepted: %s", cases[i].line);
		cr_assert_not_null(strstr(err, cases[i].why), "%s: '%s'",
		    cases[i].line, err);
	}
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "UPCASE-PROBE/1 ", 15);
	cr_assert_eq(scenario_parse(longline, SCENARIO_LINE_MAX - 1, &s, err,
	    sizeof(err)), 0);
	cr_assert_eq(scenario_parse(longline, SCENARIO_LINE_MAX, &s, err,
	    sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "longer than 256 bytes"), "%s", err);
}
