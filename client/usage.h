/*
 * usage.h — upcase's --help text and the defaults it states.
 */
#ifndef USAGE_H
#define USAGE_H

#define BENCH_TIMEOUT	"60s"	/* bench gives up after this, unless told */
#define CONNECT_TIMEOUT	"30s"	/* the filter's connect, unless told ... */
#define CONNECT_TIMEOUT_MS (30 * 1000)	/* ... the same in ms */

extern const char usage_text[];

#endif
