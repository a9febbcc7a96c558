/*
 * probe_log.c — the rings of what probe connections saw, and the report
 * read from them; see probe_log.h.
 */
#include "probe_log.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "counters.h"

/* A record: a sequence lock (counters.c's kind) around what was seen. Its
 * one writer makes seq odd, stores word by word, makes it even again; a
 * reader retries while seq is odd or has moved. */
struct seen_record {
	uint64_t seq;
	uint64_t words[sizeof(struct probe_seen) / sizeof(uint64_t)];
};

_Static_assert(sizeof(struct probe_seen) % sizeof(uint64_t) == 0 &&
    offsetof(struct probe_seen, run) == 0,
    "struct probe_seen is a whole number of words, run the first");

struct shared {
	uint64_t next[COUNTERS_SLOTS];	/* records each slot ever claimed */
	struct seen_record records[COUNTERS_SLOTS][PROBE_LOG_WORKER_RING];
};

#define READ_TRIES	1000		/* a writer killed halfway */

static struct seen_record local_records[PROBE_LOG_RING];
static uint64_t local_next;
static struct shared *area;		/* with workers */

/* This process's ring: the local one, or its worker slot's. */
static struct seen_record *ring = local_records;
static unsigned ring_size = PROBE_LOG_RING;
static uint64_t *ring_next = &local_next;

int
probe_log_share(void)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	area = p;
	return 0;
}

void
probe_log_unshare(void)
{
	if (area != NULL)
		munmap(area, sizeof(struct shared));
	area = NULL;
	ring = local_records;
	ring_size = PROBE_LOG_RING;
	ring_next = &local_next;
}

void
probe_log_attach(unsigned slot)
{
	struct seen_record *r;

	if (area == NULL)
		return;
	r = area->records[slot];
	/* A worker killed while writing left a record's seq odd: even it,
	 * or the next write would make it look whole while it is written. */
	for (uint64_t i = 0; i < PROBE_LOG_WORKER_RING && i < area->next[slot];
	    i++)
		if (r[i].seq % 2 == 1) {
			/* Half written: run 0, which no key matches. */
			__atomic_store_n(&r[i].words[0], 0, __ATOMIC_RELAXED);
			__atomic_store_n(&r[i].seq, r[i].seq + 1,
			    __ATOMIC_RELEASE);
		}
	ring = r;
	ring_size = PROBE_LOG_WORKER_RING;
	ring_next = &area->next[slot];
}

uint32_t
probe_log_claim(const struct probe_seen *s)
{
	uint32_t index = (uint32_t)(*ring_next % ring_size);

	/* Counted first: a reader may then see the record half written,
	 * which its seq says. */
	__atomic_store_n(ring_next, *ring_next + 1, __ATOMIC_RELEASE);
	probe_log_write(index, s);
	return index;
}

void
probe_log_write(uint32_t index, const struct probe_seen *s)
{
	struct seen_record *r = &ring[index];
	uint64_t w[sizeof(r->words) / sizeof(uint64_t)];

	memcpy(w, s, sizeof(w));
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		__atomic_store_n(&r->words[i], w[i], __ATOMIC_RELAXED);
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELEASE);
}

/* One consistent copy of r; false if a writer never let go. */
static bool
record_read(const struct seen_record *r, struct probe_seen *out)
{
	uint64_t w[sizeof(r->words) / sizeof(uint64_t)], begun;

	for (int tries = 0; tries < READ_TRIES; tries++) {
		begun = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
			w[i] = __atomic_load_n(&r->words[i], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (begun % 2 == 0 &&
		    __atomic_load_n(&r->seq, __ATOMIC_RELAXED) == begun) {
			memcpy(out, w, sizeof(w));
			return true;
		}
	}
	return false;
}

/* "12.5", or "-" for none. */
static const char *
tenths_text(uint32_t t, char *buf, size_t len)
{
	if (t == UINT32_MAX)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%u.%u", t / 10, t % 10);
	return buf;
}

struct report {
	uint64_t run;
	char *buf;
	size_t len;
	unsigned records, open;
};

static void
report_ring(struct report *rep, const struct seen_record *records, unsigned size,
    uint64_t claimed)
{
	char eof[16], end[16], source[ADDR_TEXT_MAX];
	struct probe_seen s;

	/* Newest first: past the cap, the oldest are what a report leaves
	 * out, and the connection just ended is never among them. */
	for (uint64_t k = claimed; k > 0 && claimed - k < size; k--) {
		int n;

		if (rep->records == PROBE_LOG_REPORT_RECORDS)
			return;
		if (!record_read(&records[(k - 1) % size], &s) ||
		    s.run != rep->run)
			continue;
		rep->records++;
		rep->open += s.end == 0;
		n = snprintf(rep->buf + rep->len,
		    PROBE_LOG_LINE_MAX, "conn=%lu state=%s received=%llu "
		    "digest=%016llx sent=%llu eof_ms=%s end_ms=%s source=%s\n",
		    (unsigned long)s.conn, s.end == 0 ? "open" :
		    record_end_names[s.end - 1], (unsigned long long)s.received,
		    (unsigned long long)s.digest, (unsigned long long)s.sent,
		    tenths_text(s.eof_tenths, eof, sizeof(eof)),
		    tenths_text(s.end_tenths, end, sizeof(end)),
		    addr_packed_format(&s.source, source, sizeof(source)));
		rep->len += n < PROBE_LOG_LINE_MAX ? (size_t)n :
		    PROBE_LOG_LINE_MAX - 1;
	}
}

size_t
probe_log_report(uint64_t run, const struct conn_config *config,
    bool proxied, char *buf)
{
	struct report rep = { run, buf + PROBE_LOG_LINE_MAX, 0, 0, 0 };
	char head[PROBE_LOG_LINE_MAX];
	size_t n;

	if (area == NULL) {
		report_ring(&rep, local_records, PROBE_LOG_RING, local_next);
	} else {
		for (unsigned slot = 0; slot < COUNTERS_SLOTS; slot++)
			report_ring(&rep, area->records[slot],
			    PROBE_LOG_WORKER_RING, __atomic_load_n(
			    &area->next[slot], __ATOMIC_ACQUIRE));
	}
	n = (size_t)snprintf(head, sizeof(head), "UPCASE-PROBE/1 REPORT "
	    "run=%016llx records=%u open=%u idle_timeout=%llu "
	    "drain_timeout=%llu proxy_protocol=%s\n", (unsigned long long)run,
	    rep.records, rep.open, (unsigned long long)config->idle_timeout,
	    (unsigned long long)config->drain_timeout, proxied ? "yes" : "no");
	/* The head goes where the lines begin. */
	memmove(buf + n, rep.buf, rep.len);
	memcpy(buf, head, n);
	memcpy(buf + n + rep.len, "END\n", 4);
	return n + rep.len + 4;
}
