/*
 * parse.c — strict parsers for the value syntax of parse.h, and the matching
 * formatters, so that what -T prints reads back to the same configuration.
 */
#include "parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Leading digits of s into *out; *end points past them. -1 on no digits or
 * overflow. */
static int
parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (p == s)
		return -1;
	*out = v;
	*end = p;
	return 0;
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
    size_t errlen)
{
	const char *end;
	uint64_t v;

	if (parse_digits(s, &v, &end) == -1 || *end != '\0') {
		snprintf(err, errlen, "'%s' is not a whole number", s);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%s is out of range %" PRIu64 "..%" PRIu64,
		    s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

struct unit {
	const char *name;
	uint64_t scale;
};

/* Multiply the leading number of s by the unit that follows it. */
static int
parse_scaled(const char *s, const struct unit *units, uint64_t bare_scale,
    uint64_t *out)
{
	const char *end;
	uint64_t v, scale = bare_scale;

	if (parse_digits(s, &v, &end) == -1)
		return -1;
	if (*end != '\0') {
		const struct unit *u;

		for (u = units; u->name != NULL; u++)
			if (strcmp(end, u->name) == 0)
				break;
		if (u->name == NULL)
			return -1;
		scale = u->scale;
	}
	if (scale == 0) {
		/* a bare number where a unit is required: only 0 is clear */
		if (v != 0)
			return -1;
		*out = 0;
		return 0;
	}
	if (v > UINT64_MAX / scale)
		return -1;
	*out = v * scale;
	return 0;
}

static const struct unit size_units[] = {
	{ "k", 1ull << 10 }, { "m", 1ull << 20 }, { "g", 1ull << 30 },
	{ "K", 1ull << 10 }, { "M", 1ull << 20 }, { "G", 1ull << 30 },
	{ NULL, 0 }
};

int
parse_size(const char *s, uint64_t max, uint64_t *out, char *err,
    size_t errlen)
{
	uint64_t v;

	if (parse_scaled(s, size_units, 1, &v) == -1) {
		snprintf(err, errlen, "'%s' is not a size (bytes, or a number "
		    "with k, m or g)", s);
		return -1;
	}
	if (v > max) {
		char m[32];

		snprintf(err, errlen, "%s is larger than the maximum %s", s,
		    format_size(max, m, sizeof(m)));
		return -1;
	}
	*out = v;
	return 0;
}

static const struct unit duration_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 },
	{ NULL, 0 }
};

int
parse_duration(const char *s, uint64_t default_unit_ms, uint64_t *out_ms,
    char *err, size_t errlen)
{
	if (parse_scaled(s, duration_units, default_unit_ms, out_ms) == -1) {
		snprintf(err, errlen, "'%s' is not a duration (a number with "
		    "ms, s, m or h)", s);
		return -1;
	}
	return 0;
}

int
parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	if (strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "no") == 0)
		*out = false;
	else {
		snprintf(err, errlen, "'%s' is not yes or no", s);
		return -1;
	}
	return 0;
}

char *
format_size(uint64_t bytes, char *buf, size_t buflen)
{
	if (bytes != 0 && bytes % (1ull << 30) == 0)
		snprintf(buf, buflen, "%" PRIu64 "g", bytes >> 30);
	else if (bytes != 0 && bytes % (1ull << 20) == 0)
		snprintf(buf, buflen, "%" PRIu64 "m", bytes >> 20);
	else if (bytes != 0 && bytes % (1ull << 10) == 0)
		snprintf(buf, buflen, "%" PRIu64 "k", bytes >> 10);
	else
		snprintf(buf, buflen, "%" PRIu64, bytes);
	return buf;
}

char *
format_duration(uint64_t ms, char *buf, size_t buflen)
{
	if (ms == 0)
		snprintf(buf, buflen, "0");
	else if (ms % (3600 * 1000) == 0)
		snprintf(buf, buflen, "%" PRIu64 "h", ms / (3600 * 1000));
	else if (ms % (60 * 1000) == 0)
		snprintf(buf, buflen, "%" PRIu64 "m", ms / (60 * 1000));
	else if (ms % 1000 == 0)
		snprintf(buf, buflen, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, buflen, "%" PRIu64 "ms", ms);
	return buf;
}
