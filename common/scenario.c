/*
 * scenario.c — the probe line's syntax: the magic, then space-separated
 * key=value words, each key once, ended by "\n" (or "\r\n"). Values take
 * the units of the configuration (parse.h): durations, sizes.
 */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define DELAY_MAX_MS	(3600ull * 1000)	/* an hour */

void
scenario_init(struct scenario *s)
{
	memset(s, 0, sizeof(*s));
	s->fin_after = UINT64_MAX;
}

/* A run key: 1 to 16 hex digits, not all zero. */
static int
parse_key(const char *text, uint64_t *out)
{
	size_t n = strspn(text, "0123456789abcdefABCDEF");

	if (n == 0 || n > 16 || text[n] != '\0')
		return -1;
	*out = strtoull(text, NULL, 16);
	return *out == 0 ? -1 : 0;
}

/* One key=value word of the line into s. */
static int
scenario_word(char *word, struct scenario *s, unsigned *seen, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "delay", "fin_after", "close",
	    "rate", "run", "conn", "report" };
	enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
	char *value = strchr(word, '='), *end;
	char reason[128];
	unsigned k;

	if (value == NULL) {
		snprintf(err, errlen, "'%.32s' is not key=value", word);
		return -1;
	}
	*value++ = '\0';
	for (k = 0; k < NKEYS && strcmp(word, keys[k]) != 0; k++)
		;
	if (k == NKEYS || (*seen & (1u << k))) {
		snprintf(err, errlen, k == NKEYS ? "unknown key '%.32s'" :
		    "'%.32s' given twice", word);
		return -1;
	}
	*seen |= 1u << k;
	switch (k) {
	case 0:
		s->hold = true;
		if (parse_duration(value, &s->delay_ms, reason,
		    sizeof(reason)) == 0 && s->delay_ms <= DELAY_MAX_MS)
			return 0;
		if (s->delay_ms > DELAY_MAX_MS)
			snprintf(reason, sizeof(reason), "longer than an hour");
		break;
	case 1:
		if (parse_size(value, UINT64_MAX / 2, &s->fin_after, reason,
		    sizeof(reason)) == 0)
			return 0;
		break;
	case 2:
		s->close_rst = strcmp(value, "rst") == 0;
		if (s->close_rst || strcmp(value, "fin") == 0)
			return 0;
		snprintf(reason, sizeof(reason), "not rst or fin");
		break;
	case 3:
		if (parse_size(value, UINT64_MAX / 2, &s->rate, reason,
		    sizeof(reason)) == 0 && s->rate > 0)
			return 0;
		if (s->rate == 0)
			snprintf(reason, sizeof(reason), "must be at least 1");
		break;
	case 4:
	case 6:
		s->report = k == 6;
		if (parse_key(value, &s->run) == 0)
			return 0;
		snprintf(reason, sizeof(reason), "not 1 to 16 hex digits, "
		    "not all zero");
		break;
	case 5: {
		unsigned long long id;

		if (value[0] >= '0' && value[0] <= '9' &&
		    (id = strtoull(value, &end, 10)) <= UINT32_MAX &&
		    *end == '\0' && strlen(value) <= 10) {
			s->conn = (uint32_t)id;
			return 0;
		}
		snprintf(reason, sizeof(reason), "not a number below 2^32");
		break;
	}
	}
	snprintf(err, errlen, "%s=%.32s: %s", keys[k], value, reason);
	return -1;
}

ssize_t
scenario_parse(const void *data, size_t len, struct scenario *out,
    char *err, size_t errlen)
{
	const char *buf = data, *nl;
	char line[SCENARIO_LINE_MAX + 1], *save, *word;
	size_t n, magic = strlen(SCENARIO_MAGIC);
	unsigned seen = 0;

	scenario_init(out);
	if (memcmp(buf, SCENARIO_MAGIC, len < magic ? len : magic) != 0) {
		snprintf(err, errlen, "no %s line", SCENARIO_MAGIC);
		return -1;
	}
	nl = memchr(buf, '\n', len < SCENARIO_LINE_MAX ? len :
	    SCENARIO_LINE_MAX);
	if (nl == NULL) {
		if (len < SCENARIO_LINE_MAX)
			return 0;
		snprintf(err, errlen, "probe line longer than %d bytes",
		    SCENARIO_LINE_MAX);
		return -1;
	}
	n = (size_t)(nl - buf) + 1;
	for (size_t i = 0; i + 1 < n; i++) {
		if ((unsigned char)buf[i] < 0x20 &&
		    !(buf[i] == '\r' && i + 2 == n)) {
			snprintf(err, errlen, "probe line holds a control "
			    "byte");
			return -1;
		}
	}
	memcpy(line, buf, n - 1);
	line[n - 1] = '\0';
	line[strcspn(line, "\r")] = '\0';
	if (line[magic] != '\0' && line[magic] != ' ') {
		snprintf(err, errlen, "no %s line", SCENARIO_MAGIC);
		return -1;
	}
	for (word = strtok_r(line + magic, " ", &save); word != NULL;
	    word = strtok_r(NULL, " ", &save))
		if (scenario_word(word, out, &seen, err, errlen) == -1)
			return -1;
	/* A report is asked for on a connection of its own. */
	if (out->report && seen != 1u << 6) {
		snprintf(err, errlen, "report= takes no other key");
		return -1;
	}
	if (out->conn != 0 && out->run == 0) {
		snprintf(err, errlen, "conn= without run=");
		return -1;
	}
	return (ssize_t)n;
}

size_t
scenario_format(const struct scenario *s, char *buf)
{
	char value[32];
	int n = snprintf(buf, SCENARIO_LINE_MAX, "%s", SCENARIO_MAGIC);

	if (s->hold)
		n += snprintf(buf + n, SCENARIO_LINE_MAX - (size_t)n,
		    " delay=%s", format_duration(s->delay_ms, value,
		    sizeof(value)));
	if (s->fin_after != UINT64_MAX)
		n += snprintf(buf + n, SCENARIO_LINE_MAX - (size_t)n,
		    " fin_after=%llu", (unsigned long long)s->fin_after);
	if (s->close_rst)
		n += snprintf(buf + n, SCENARIO_LINE_MAX - (size_t)n,
		    " close=rst");
	if (s->rate != 0)
		n += snprintf(buf + n, SCENARIO_LINE_MAX - (size_t)n,
		    " rate=%llu", (unsigned long long)s->rate);
	if (s->run != 0)
		n += snprintf(buf + n, SCENARIO_LINE_MAX - (size_t)n,
		    " %s=%016llx", s->report ? "report" : "run",
		    (unsigned long long)s->run);
	if (s->conn != 0)
		n += snprintf(buf + n, SCENARIO_LINE_MAX - (size_t)n,
		    " conn=%lu", (unsigned long)s->conn);
	n += snprintf(buf + n, SCENARIO_LINE_MAX - (size_t)n, "\n");
	return (size_t)n;
}

uint64_t
scenario_digest(uint64_t digest, const void *buf, size_t n)
{
	const unsigned char *b = buf;

	for (size_t i = 0; i < n; i++)
		digest = (digest ^ b[i]) * 0x100000001b3ull;
	return digest;
}
