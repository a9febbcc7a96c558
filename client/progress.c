/*
 * progress.c — formatting of the progress lines. Each is one write(2). On
 * a terminal it starts with "\r" and ends with an erase to end of line, so
 * a shorter line never leaves the tail of a longer one behind; anywhere
 * else no control sequence is written at all, only whole lines.
 */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "net.h"

#define PROGRESS_PERIOD		0.25	/* seconds between redraws */
#define PROGRESS_LINE_PERIOD	1.0	/* ... between lines, not a tty */
#define MIB			(1024.0 * 1024.0)

void
progress_init(struct progress *p, bool on, bool terminal, uint64_t total)
{
	p->on = on;
	p->terminal = terminal;
	p->total = total;
	p->start = p->last = net_now();
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

/* Write text as a line of its own: redrawn in place on a terminal. */
static void
progress_write(struct progress *p, const char *text, bool final)
{
	char line[224];
	int n;

	if (p->terminal)
		n = snprintf(line, sizeof(line), "\r%s\033[K%s", text,
		    final ? "\n" : "");
	else
		n = snprintf(line, sizeof(line), "%s\n", text);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(STDERR_FILENO, line, (size_t)n) > 0)
		p->drawn = p->terminal && !final;
}

void
progress_update(struct progress *p, uint64_t sent, uint64_t received)
{
	char line[160], s[32], r[32];
	double now, elapsed;
	int n;

	if (!p->on)
		return;
	now = net_now();
	if (now - p->last < (p->terminal ? PROGRESS_PERIOD :
	    PROGRESS_LINE_PERIOD))
		return;
	p->last = now;
	elapsed = now - p->start;
	n = snprintf(line, sizeof(line), "sent %s, received %s, %.1f MiB/s",
	    human((double)sent, s, sizeof(s)),
	    human((double)received, r, sizeof(r)),
	    elapsed > 0 ? (double)received / elapsed / MIB : 0);
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

		snprintf(line + n, sizeof(line) - (size_t)n, ", ETA %d:%02d",
		    (int)eta / 60, (int)eta % 60);
	}
	progress_write(p, line, false);
}

void
progress_finish(struct progress *p, uint64_t sent, uint64_t received,
    double seconds)
{
	char line[160], s[32], r[32];

	if (!p->on)
		return;
	snprintf(line, sizeof(line), "sent %s, received %s in %.2f s, %.1f "
	    "MiB/s", human((double)sent, s, sizeof(s)),
	    human((double)received, r, sizeof(r)), seconds,
	    seconds > 0 ? (double)received / seconds / MIB : 0);
	progress_write(p, line, true);
}
