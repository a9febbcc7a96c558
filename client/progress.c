/*
 * progress.c — formatting of the progress line. It writes with one
 * write(2), "\r" first and an erase-to-end-of-line last, so a shorter line
 * never leaves the tail of a longer one behind.
 */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "net.h"

#define PROGRESS_PERIOD 0.25	/* seconds between draws */

void
progress_init(struct progress *p, bool on, uint64_t total)
{
	p->on = on;
	p->total = total;
	p->start = net_now();
	p->last = 0;
	p->drawn = false;
}

static const char *
human(double bytes, char *buf, size_t buflen)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, buflen, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
	return buf;
}

void
progress_update(struct progress *p, uint64_t sent, uint64_t received)
{
	char line[160], s[32], r[32], rate[32];
	double now, elapsed;
	int n;

	if (!p->on)
		return;
	now = net_now();
	if (now - p->last < PROGRESS_PERIOD)
		return;
	p->last = now;
	elapsed = now - p->start;
	human(elapsed > 0 ? (double)received / elapsed : 0, rate,
	    sizeof(rate));
	n = snprintf(line, sizeof(line), "\rsent %s, received %s, %s/s",
	    human((double)sent, s, sizeof(s)),
	    human((double)received, r, sizeof(r)), rate);
	if (p->total > 0 && n > 0 && (size_t)n < sizeof(line)) {
		double done = (double)received / (double)p->total;

		n += snprintf(line + n, sizeof(line) - (size_t)n, ", %.0f%%",
		    done * 100);
	}
	/* An ETA needs a rate: not before the first byte is back. */
	if (p->total > 0 && received > 0 && n > 0 &&
	    (size_t)n < sizeof(line)) {
		double eta = elapsed * ((double)p->total / (double)received -
		    1);

		n += snprintf(line + n, sizeof(line) - (size_t)n,
		    ", ETA %d:%02d", (int)eta / 60, (int)eta % 60);
	}
	if (n > 0 && (size_t)n < sizeof(line) - 4)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "\033[K");
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) > 0)
		p->drawn = true;
}

void
progress_clear(struct progress *p)
{
	if (p->drawn && write(STDERR_FILENO, "\r\033[K", 4) > 0)
		p->drawn = false;
}
