/*
 * record.c — the counters and the access log line of each closed
 * connection; see record.h.
 */
#include "record.h"

#include "access.h"

const char *const record_end_names[END_COUNT] = {
	[END_DONE] = "done",
	[END_RESET] = "reset",
	[END_IDLE_TIMEOUT] = "idle_timeout",
	[END_DRAIN_TIMEOUT] = "drain_timeout",
	[END_BACKLOG_TOTAL] = "backlog_total",
	[END_BAD_HEADER] = "bad_header",
	[END_REFUSED] = "refused",
	[END_SHUTDOWN] = "shutdown",
	[END_ERROR] = "error",
};

/* From a quick exchange to a connection held for a day. */
const double record_bucket_bounds[RECORD_BUCKETS] = {
	0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400,
};

static struct record_stats stats;

const struct record_stats *
record_stats(void)
{
	return &stats;
}

void
record_close(const struct record *r)
{
	size_t bucket = 0;

	while (bucket < RECORD_BUCKETS &&
	    (double)r->duration_ms / 1000 > record_bucket_bounds[bucket])
		bucket++;
	/* A client refused once its PROXY header named it is counted with
	 * the refusals (admit.h), not with the connections served. */
	if (r->end != END_REFUSED) {
		stats.lifetimes[bucket]++;
		stats.lifetime_ms += r->duration_ms;
		stats.ended[r->end]++;
	}
	if (access_on()) {
		char client[ADDR_TEXT_MAX], listener[ADDR_TEXT_MAX] = "-";
		struct access_entry e = { client, listener, r->duration_ms,
		    r->bytes_in, r->bytes_out, record_end_names[r->end] };

		addr_packed_format(r->client, client, sizeof(client));
		addr_local(r->fd, listener, sizeof(listener));
		access_write(&e);
	}
}
