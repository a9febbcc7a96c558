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
#include <strings.h>

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
parse_scaled(const char *s, const struct unit *units, uint64_t *out)
{
	const char *end;
	uint64_t v, scale = 1;

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

	if (parse_scaled(s, size_units, &v) == -1) {
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
	{ "h", 3600 * 1000 }, { "m", 60 * 1000 }, { "s", 1000 }, { "ms", 1 },
	{ NULL, 0 }
};

/* One "NUMBER[.FRACTION][UNIT]" of a duration at *p, in milliseconds; the
 * unit's index in duration_units goes to *unit, -1 for none (seconds). */
static int
duration_part(const char **p, uint64_t *ms, int *unit, bool *fraction)
{
	const char *s = *p, *end;
	uint64_t whole, frac = 0, pow10 = 1, scale, part;
	int u;

	if (parse_digits(s, &whole, &end) == -1)
		return -1;
	*fraction = *end == '.';
	if (*fraction) {
		const char *f = ++end;

		for (; *end >= '0' && *end <= '9'; end++) {
			if (end - f == 9)
				return -1;	/* finer than anything here */
			frac = frac * 10 + (uint64_t)(*end - '0');
			pow10 *= 10;
		}
		if (end == f)
			return -1;
	}
	if (end[0] == 'm' && end[1] == 's')
		u = 3;
	else if (*end == '\0')
		u = 2;			/* a bare number is seconds */
	else {
		for (u = 0; u < 3 && *end != duration_units[u].name[0]; u++)
			;
		if (u == 3)
			return -1;
	}
	scale = duration_units[u].scale;
	part = frac * scale / pow10;
	if (frac * scale % pow10 != 0 || whole > (UINT64_MAX - part) / scale)
		return -1;	/* not whole milliseconds, or too long */
	*ms = whole * scale + part;
	*unit = *end == '\0' ? -1 : u;
	*p = *end == '\0' ? end : end + strlen(duration_units[u].name);
	return 0;
}

int
parse_duration(const char *s, uint64_t *out_ms, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t total = 0, ms;
	int unit, last = -1;
	bool fraction = false;

	while (*p != '\0' && !fraction) {
		const char *at = p;

		if (duration_part(&p, &ms, &unit, &fraction) == -1 ||
		    (unit == -1 && at != s) || (unit != -1 && unit <= last) ||
		    total > UINT64_MAX - ms)
			goto bad;	/* a bare number only alone; units down */
		total += ms;
		last = unit;
	}
	if (p == s || *p != '\0')
		goto bad;
	*out_ms = total;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not a duration (like 30s, 1.5s, "
	    "1m30s or 250ms; a bare number is seconds)", s);
	return -1;
}

int
parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	static const char *const words[] = { "yes", "no", "on", "off",
	    "true", "false" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0) {
			*out = i % 2 == 0;
			return 0;
		}
	snprintf(err, errlen, "'%s' is not yes or no (or on/off, "
	    "true/false)", s);
	return -1;
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
	size_t n = 0;

	if (ms == 0)
		snprintf(buf, buflen, "0");
	else
		buf[0] = '\0';
	for (int u = 0; duration_units[u].name != NULL && ms > 0; u++) {
		uint64_t k = ms / duration_units[u].scale;

		if (k == 0 || n >= buflen)
			continue;
		n += (size_t)snprintf(buf + n, buflen - n, "%" PRIu64 "%s", k,
		    duration_units[u].name);
		ms -= k * duration_units[u].scale;
	}
	return buf;
}
