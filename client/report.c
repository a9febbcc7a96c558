/*
 * report.c — the bench's output. Latency percentiles are exact: the
 * samples are sorted, an interval's in place (their order means nothing),
 * the whole run's at the end. The status line is for a person watching a
 * terminal; it is erased before any other line is printed, so what stays
 * on the screen is what a pipe would have received.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef VERSION
#define VERSION "0.0.0"
#endif

#define MIB		(1024.0 * 1024.0)
#define STATUS_AFTER	1.0	/* seconds: a short run shows none */
#define STATUS_PERIOD	0.25	/* seconds between redraws */

void
report_init(struct report *r, const struct bench_options *o, double start)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->lines = o->json ? stderr : stdout;
	r->live = isatty(STDERR_FILENO);
	r->start = r->mark_at = start;
	r->next_status = start + STATUS_AFTER;
	if (o->interval_ms > 0)
		r->next_line = start + (double)o->interval_ms / 1000;
}

double
report_due(const struct report *r)
{
	if (r->live && (r->next_line == 0 || r->next_status < r->next_line))
		return r->next_status;
	return r->next_line;
}

static int
compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of n sorted samples, in ms. */
static double
percentile_ms(const uint32_t *lat, size_t n, double q)
{
	if (n == 0)
		return 0;
	return lat[(size_t)(q * (double)(n - 1) + 0.5)] / 1000.0;
}

/* What a round is called in this mode. */
static const char *
rounds_name(const struct bench_options *o)
{
	return o->rate > 0 ? "exchanges" : o->pingpong ? "rounds" :
	    "connections";
}

static void
status_erase(struct report *r)
{
	if (r->drawn && write(STDERR_FILENO, "\r\033[K", 4) == 4)
		r->drawn = false;
}

/* The interval from r->mark_at to now, printed and kept; c is marked. */
static void
report_interval(struct report *r, struct report_counts *c, double now)
{
	struct report_interval iv = {
		.from = r->mark_at - r->start, .to = now - r->start,
		.rounds = c->rounds - r->mark.rounds,
		.bytes = c->bytes - r->mark.bytes,
		.errors = c->errors - r->mark.errors,
	};
	uint32_t *lat = c->lat + r->mark.nlat;
	size_t nlat = c->nlat - r->mark.nlat;
	double len = iv.to - iv.from;

	if (nlat > 0) {
		qsort(lat, nlat, sizeof(*lat), compare_u32);
		iv.p50 = percentile_ms(lat, nlat, 0.50);
		iv.p99 = percentile_ms(lat, nlat, 0.99);
	}
	status_erase(r);
	fprintf(r->lines, "%.2f-%.2f s: %llu %s, %.0f/s, %.1f MiB/s",
	    iv.from, iv.to, (unsigned long long)iv.rounds, rounds_name(r->o),
	    len > 0 ? (double)iv.rounds / len : 0,
	    len > 0 ? (double)iv.bytes / len / MIB : 0);
	if (nlat > 0)
		fprintf(r->lines, ", latency p50 %.3f ms p99 %.3f ms", iv.p50,
		    iv.p99);
	fprintf(r->lines, ", %u errors\n", iv.errors);
	fflush(r->lines);
	if (r->o->json && r->nkept == r->capkept) {
		size_t cap = r->capkept ? 2 * r->capkept : 64;
		struct report_interval *kept = realloc(r->kept,
		    cap * sizeof(*kept));

		if (kept != NULL) {	/* else fewer in the JSON */
			r->kept = kept;
			r->capkept = cap;
		}
	}
	if (r->o->json && r->nkept < r->capkept)
		r->kept[r->nkept++] = iv;
	r->mark = *c;
	r->mark_at = now;
}

static void
status_draw(struct report *r, const struct report_counts *c, unsigned open,
    double now)
{
	double elapsed = now - r->start;
	char line[160];
	int n;

	n = snprintf(line, sizeof(line), "\r%.1f s: %llu %s, %.1f MiB/s, %u "
	    "open\033[K", elapsed, (unsigned long long)c->rounds,
	    rounds_name(r->o), (double)c->bytes / elapsed / MIB, open);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(STDERR_FILENO, line, (size_t)n) == n)
		r->drawn = true;
}

void
report_tick(struct report *r, struct report_counts *c, unsigned open,
    double now)
{
	/* Each boundary on its own schedule, so the lines do not drift. */
	while (r->next_line != 0 && now >= r->next_line) {
		report_interval(r, c, r->next_line);
		r->next_line += (double)r->o->interval_ms / 1000;
	}
	if (r->live && now >= r->next_status) {
		status_draw(r, c, open, now);
		r->next_status = now + STATUS_PERIOD;
	}
}

static void
report_json(const struct report *r, const struct report_counts *c,
    double seconds, double p50, double p99, double max)
{
	const struct bench_options *o = r->o;

	printf("{\"version\":\"%s\",\"mode\":\"%s\",\"connections\":%u,"
	    "\"bytes\":%llu,\"seconds\":%.6f,\"bytes_per_s\":%.0f,"
	    "\"rounds\":%llu,\"rounds_per_s\":%.1f,\"latency_ms\":{\"p50\":%.3f,"
	    "\"p99\":%.3f,\"max\":%.3f},\"offered_per_s\":%.1f,\"late\":%lu,"
	    "\"errors\":%u", VERSION, o->rate > 0 ? "rate" : o->churn ?
	    "churn" : o->pingpong ? "pingpong" : "transfer", o->connections,
	    (unsigned long long)c->bytes, seconds,
	    seconds > 0 ? (double)c->bytes / seconds : 0,
	    (unsigned long long)c->rounds,
	    seconds > 0 ? (double)c->rounds / seconds : 0, p50, p99, max,
	    o->rate, c->late, c->errors);
	if (o->interval_ms > 0) {
		printf(",\"intervals\":[");
		for (size_t i = 0; i < r->nkept; i++) {
			const struct report_interval *iv = &r->kept[i];
			double len = iv->to - iv->from;

			printf("%s{\"from\":%.6f,\"to\":%.6f,\"rounds\":%llu,"
			    "\"bytes\":%llu,\"bytes_per_s\":%.0f,"
			    "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f},"
			    "\"errors\":%u}", i > 0 ? "," : "", iv->from,
			    iv->to, (unsigned long long)iv->rounds,
			    (unsigned long long)iv->bytes,
			    len > 0 ? (double)iv->bytes / len : 0, iv->p50,
			    iv->p99, iv->errors);
		}
		printf("]");
	}
	printf("}\n");
}

void
report_finish(struct report *r, struct report_counts *c, double now)
{
	const struct bench_options *o = r->o;
	double seconds = now - r->start;
	double mibps = seconds > 0 ? (double)c->bytes / seconds / MIB : 0;
	double rps = seconds > 0 ? (double)c->rounds / seconds : 0;
	double p50, p99, max;
	FILE *f = r->lines;

	if (r->next_line != 0 && (c->rounds != r->mark.rounds ||
	    c->bytes != r->mark.bytes || c->errors != r->mark.errors))
		report_interval(r, c, now);
	status_erase(r);
	if (c->nlat > 0)
		qsort(c->lat, c->nlat, sizeof(*c->lat), compare_u32);
	p50 = percentile_ms(c->lat, c->nlat, 0.50);
	p99 = percentile_ms(c->lat, c->nlat, 0.99);
	max = percentile_ms(c->lat, c->nlat, 1.0);
	if (o->rate > 0)
		fprintf(f, "%.0f exchanges/s of %llu bytes offered for %.2f s: "
		    "%lu started (%lu over 1 ms late), %llu done, %.0f/s, "
		    "latency from the scheduled start p50 %.3f ms p99 %.3f ms "
		    "max %.3f ms, %u errors\n", o->rate,
		    (unsigned long long)o->bytes, seconds, c->started, c->late,
		    (unsigned long long)c->rounds, rps, p50, p99, max,
		    c->errors);
	else if (o->churn)
		fprintf(f, "%u slots, %llu-byte connections for %.2f s: %llu "
		    "connections, %.0f connections/s, latency p50 %.3f ms p99 "
		    "%.3f ms max %.3f ms, %u errors\n", o->connections,
		    (unsigned long long)o->bytes, seconds,
		    (unsigned long long)c->rounds, rps, p50, p99, max,
		    c->errors);
	else if (o->pingpong)
		fprintf(f, "%u connections, %u-byte rounds for %.2f s: %llu "
		    "rounds, %.0f rounds/s, %.1f MiB/s, latency p50 %.3f ms p99 "
		    "%.3f ms max %.3f ms, %u errors\n", o->connections,
		    o->pingpong, seconds, (unsigned long long)c->rounds, rps,
		    mibps, p50, p99, max, c->errors);
	else
		fprintf(f, "%u connections x %llu bytes in %.3f s: %.1f MiB/s, "
		    "latency p50 %.3f ms p99 %.3f ms max %.3f ms, %u errors\n",
		    o->connections, (unsigned long long)o->bytes, seconds,
		    mibps, p50, p99, max, c->errors);
	fflush(f);
	if (o->json)
		report_json(r, c, seconds, p50, p99, max);
}

void
report_free(struct report *r)
{
	free(r->kept);
	r->kept = NULL;
}
