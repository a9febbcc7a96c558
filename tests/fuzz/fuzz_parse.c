/*
 * fuzz_parse.c — the value parsers of common/parse.c on any text: what
 * they take is within the bounds asked, and sizes and durations format
 * back to text that parses to the same value.
 */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], err[256], back[64];
	uint64_t v, w;
	bool b;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (parse_uint(text, 3, 1000000, &v, err, sizeof(err)) == 0)
		FUZZ_CHECK(v >= 3 && v <= 1000000);
	if (parse_size(text, 1ull << 40, &v, err, sizeof(err)) == 0) {
		FUZZ_CHECK(v <= 1ull << 40);
		format_size(v, back, sizeof(back));
		FUZZ_CHECK(parse_size(back, 1ull << 40, &w, err,
		    sizeof(err)) == 0 && w == v);
	}
	if (parse_duration(text, &v, err, sizeof(err)) == 0) {
		format_duration(v, back, sizeof(back));
		FUZZ_CHECK(parse_duration(back, &w, err, sizeof(err)) ==
		    0 && w == v);
	}
	if (parse_bool(text, &b, err, sizeof(err)) == 0)
		FUZZ_CHECK(strcasecmp(text, b ? "yes" : "no") == 0 ||
		    strcasecmp(text, b ? "on" : "off") == 0 ||
		    strcasecmp(text, b ? "true" : "false") == 0);
	return 0;
}
