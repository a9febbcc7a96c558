/*
 * access.c — the access log's line format:
 *
 *   time=2026-11-25T12:03:26.123+00:00 client=192.0.2.1:56324
 *   listener=127.0.0.1:1060 duration=0.012 bytes_in=5 bytes_out=5 end=done
 *
 * (one line), written to a sink (sink.h): never waiting.
 */
#include "access.h"

#include <stdio.h>
#include <time.h>

#include "sink.h"

#define ACCESS_LINE_MAX	1024
#define SYSLOG_PRI	30		/* facility daemon, severity info */

static struct sink sink = SINK_INIT;
static uint64_t dropped;		/* lines too long, besides the sink's */

int
access_open(const char *where, char *err, size_t errlen)
{
	return sink_open(&sink, "access log", where, err, errlen);
}

int
access_reopen(char *err, size_t errlen)
{
	return sink_reopen(&sink, "access log", err, errlen);
}

bool
access_on(void)
{
	return sink.kind != SINK_OFF;
}

uint64_t
access_dropped(void)
{
	return dropped + sink.dropped;
}

void
access_close(void)
{
	sink_close(&sink);
}

void
access_write(const struct access_entry *e)
{
	char line[ACCESS_LINE_MAX], stamp[48];
	struct timespec ts;
	struct tm tm;
	size_t n = 0;

	if (sink.kind == SINK_OFF)
		return;
	if (sink.kind == SINK_SYSLOG)
		n = sink_syslog_prefix(SYSLOG_PRI, line, sizeof(line));
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "time=%s.%03ld",
	    stamp, ts.tv_nsec / 1000000);
	strftime(stamp, sizeof(stamp), "%z", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%.3s:%s client=%s "
	    "listener=%s duration=%llu.%03llu bytes_in=%llu bytes_out=%llu "
	    "end=%s%s", stamp, stamp + 3, e->client, e->listener,
	    (unsigned long long)(e->duration_ms / 1000),
	    (unsigned long long)(e->duration_ms % 1000),
	    (unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out,
	    e->end, sink.kind == SINK_SYSLOG ? "" : "\n");
	/* Every field is bounded (an address is at most ADDR_TEXT_MAX): a
	 * line never comes near the buffer, but a cut one is not written. */
	if (n >= sizeof(line)) {
		dropped++;
		return;
	}
	sink_write(&sink, line, n);
}
