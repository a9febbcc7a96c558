/*
 * fuzz_scenario.c — the probe line's parser (common/scenario.c) on any
 * bytes: it never claims more than it was given or than a line may be,
 * asks for more on every prefix of a line it takes, and what it takes
 * formats to a line that parses to the same scenario.
 */
#include <string.h>

#include "fuzz.h"
#include "scenario.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario s, again;
	char err[256], line[SCENARIO_LINE_MAX];
	ssize_t n = scenario_parse(data, size, &s, err, sizeof(err));
	size_t len;

	FUZZ_CHECK(n >= -1 && n <= (ssize_t)size && n <= SCENARIO_LINE_MAX);
	if (n <= 0)
		return 0;
	for (size_t k = 0; k < (size_t)n; k++)
		FUZZ_CHECK(scenario_parse(data, k, &again, err, sizeof(err)) ==
		    0);
	len = scenario_format(&s, line);
	FUZZ_CHECK(scenario_parse(line, len, &again, err, sizeof(err)) ==
	    (ssize_t)len);
	FUZZ_CHECK(memcmp(&again, &s, sizeof(s)) == 0);
	return 0;
}
