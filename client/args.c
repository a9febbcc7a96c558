/*
 * args.c — reading upcase's arguments, for every subcommand: the address,
 * sizes and durations, and the one-line usage error; see args.h.
 */
#include "args.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "parse.h"

void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "upcase: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'upcase --help'.\n");
	exit(EXIT_USAGE);
}

/* The daemon's address: -a, else $UPCASE_ADDRESS, else the default. An
 * empty one is an error, not the default: "-a $HOST" with HOST unset
 * should not reach whatever listens on the default port. */
const char *
address_of(const char *given, struct addr *out)
{
	const char *text = given, *from = "-a";
	char err[256];

	if (text == NULL && (text = getenv("UPCASE_ADDRESS")) != NULL)
		from = "UPCASE_ADDRESS";
	if (text == NULL)
		text = DEFAULT_ADDRESS;
	else if (*text == '\0')
		usage_error("%s: empty address", from);
	if (addr_parse(text, out, err, sizeof(err)) == -1)
		usage_error("%s: %s", from, err);
	return text;
}

uint64_t
size_arg(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	char err[128];
	uint64_t v;

	if (parse_size(arg, max, &v, err, sizeof(err)) == -1)
		usage_error("%s: %s", opt, err);
	if (v < min)
		usage_error("%s: must be at least %llu", opt,
		    (unsigned long long)min);
	return v;
}

uint64_t
seconds_arg(const char *opt, const char *arg)
{
	char err[128], max[32];
	uint64_t ms;

	if (parse_duration(arg, &ms, err, sizeof(err)) == -1)
		usage_error("%s: %s", opt, err);
	/* What poll(2) can wait, in one call. */
	if (ms > INT_MAX)
		usage_error("%s: %s is longer than the maximum %s", opt, arg,
		    format_duration(INT_MAX, max, sizeof(max)));
	return ms;
}

