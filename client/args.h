/*
 * args.h — reading upcase's arguments, for every subcommand: the daemon's
 * address, sizes and durations. A bad one is a usage error: one line on
 * stderr and exit status 2.
 */
#ifndef ARGS_H
#define ARGS_H

#include <stdint.h>

#include "addr.h"

#define EXIT_USAGE	2
#define DEFAULT_ADDRESS	"127.0.0.1:1060"

/* "upcase: <message>" and a pointer to --help on stderr; exit 2. */
void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* The daemon's address: given (-a), else $UPCASE_ADDRESS, else the
 * default; an empty -a or UPCASE_ADDRESS is a usage error. Returns its
 * text. */
const char *address_of(const char *given, struct addr *out);

/* A size (k, m, g) for option opt, in [min, max]. */
uint64_t size_arg(const char *opt, const char *arg, uint64_t min,
    uint64_t max);

/* A duration for option opt, in ms; a bare number is seconds. */
uint64_t seconds_arg(const char *opt, const char *arg);

#endif
