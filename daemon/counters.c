/*
 * counters.c — the snapshot, and the shared area behind counters.h: one
 * anonymous shared mapping, made before the first fork, so that every
 * worker and the master see the same pages.
 */
#include "counters.h"

#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "access.h"
#include "log.h"

#define WORDS	(sizeof(struct counters) / sizeof(uint64_t))

_Static_assert(sizeof(struct counters) % sizeof(uint64_t) == 0,
    "struct counters is uint64_t fields only");

/*
 * Each slot, and the retired total with every slot beside it, is a
 * sequence lock: the one writer makes seq odd, stores, and makes it even
 * again; a reader retries while seq is odd or has moved. Every word is
 * read and written atomically (relaxed), so a reader racing a writer in
 * another process sees old or new words, never torn ones, and the retry
 * makes the snapshot consistent.
 */
struct slot {
	uint64_t seq;		/* odd: its worker is writing */
	struct counters c;
};

struct shared {
	struct slot slot[COUNTERS_SLOTS];
	uint64_t seq;		/* odd: the master is retiring a slot */
	struct counters retired;	/* workers gone, added up */
	uint64_t reloads_ok, reloads_failed;
	uint64_t cell[COUNTERS_CELLS];
	bool cell_taken[COUNTERS_CELLS];	/* written by the master */
};

/* A writer killed halfway leaves seq odd until the master retires its
 * slot: past this many tries a reader takes the words as they are. */
#define READ_TRIES	1000

static struct shared local;	/* no workers: the cells live here */
static struct shared *area = &local;
static struct slot *mine;	/* a worker's slot */
static uint64_t reloads[2];	/* a single process's */

void
counters_collect(struct counters *out)
{
	memset(out, 0, sizeof(*out));
	out->conn = *conn_stats();
	out->record = *record_stats();
	out->listener = *listener_stats();
	out->admit = *admit_stats();
	out->http = *http_stats();
	out->access_dropped = access_dropped();
	out->log_dropped = log_dropped();
	out->open = conn_count();
	out->reloads_ok = reloads[0];
	out->reloads_failed = reloads[1];
}

int
counters_share(void)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	area = p;
	return 0;
}

void
counters_unshare(void)
{
	if (area != &local)
		munmap(area, sizeof(struct shared));
	area = &local;
	mine = NULL;
}

void
counters_attach(unsigned slot)
{
	mine = &area->slot[slot];
}

static void
seq_begin(uint64_t *seq)
{
	__atomic_store_n(seq, __atomic_load_n(seq, __ATOMIC_RELAXED) + 1,
	    __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
seq_end(uint64_t *seq)
{
	__atomic_store_n(seq, __atomic_load_n(seq, __ATOMIC_RELAXED) + 1,
	    __ATOMIC_RELEASE);
}

/* Whether a read that began at seq value begun saw no write. */
static bool
seq_unchanged(const uint64_t *seq, uint64_t begun)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return begun % 2 == 0 &&
	    __atomic_load_n(seq, __ATOMIC_RELAXED) == begun;
}

static void
store(struct counters *to, const struct counters *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;

	for (size_t i = 0; i < WORDS; i++)
		__atomic_store_n(&t[i], f[i], __ATOMIC_RELAXED);
}

/* to += from, from read word by word as another process writes it. */
static void
add(struct counters *to, const struct counters *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;

	for (size_t i = 0; i < WORDS; i++)
		t[i] += __atomic_load_n(&f[i], __ATOMIC_RELAXED);
}

void
counters_publish(void)
{
	struct counters now;

	if (mine == NULL)
		return;
	counters_collect(&now);
	seq_begin(&mine->seq);
	store(&mine->c, &now);
	seq_end(&mine->seq);
}

/* One consistent snapshot of s, added to out. */
static void
add_slot(struct counters *out, const struct slot *s)
{
	struct counters c;
	uint64_t begun;
	int tries = 0;

	do {
		begun = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		memset(&c, 0, sizeof(c));
		add(&c, &s->c);
	} while (!seq_unchanged(&s->seq, begun) && ++tries < READ_TRIES);
	add(out, &c);
}

void
counters_retire(unsigned slot)
{
	struct slot *s = &area->slot[slot];
	struct counters sum = area->retired, zero = { 0 };

	/* Its worker is gone: nobody writes the slot but us now. */
	add(&sum, &s->c);
	sum.open = 0;		/* its connections are gone with it */
	sum.conn.owed = 0;
	seq_begin(&area->seq);
	store(&area->retired, &sum);
	store(&s->c, &zero);
	/* Even again for the next worker, had this one died mid-write. */
	__atomic_store_n(&s->seq, 0, __ATOMIC_RELAXED);
	seq_end(&area->seq);
}

void
counters_reloads(uint64_t ok, uint64_t failed)
{
	reloads[0] = ok;
	reloads[1] = failed;
	__atomic_store_n(&area->reloads_ok, ok, __ATOMIC_RELAXED);
	__atomic_store_n(&area->reloads_failed, failed, __ATOMIC_RELAXED);
}

void
counters_total(struct counters *out)
{
	uint64_t begun;
	int tries = 0;

	if (area == &local) {
		counters_collect(out);
		return;
	}
	/* A slot retired while we add would count twice, or not at all. */
	do {
		begun = __atomic_load_n(&area->seq, __ATOMIC_ACQUIRE);
		memset(out, 0, sizeof(*out));
		add(out, &area->retired);
		for (unsigned i = 0; i < COUNTERS_SLOTS; i++)
			add_slot(out, &area->slot[i]);
	} while (!seq_unchanged(&area->seq, begun) && ++tries < READ_TRIES);
	out->reloads_ok = __atomic_load_n(&area->reloads_ok, __ATOMIC_RELAXED);
	out->reloads_failed = __atomic_load_n(&area->reloads_failed,
	    __ATOMIC_RELAXED);
}

uint64_t *
counters_cell(void)
{
	for (unsigned i = 0; i < COUNTERS_CELLS; i++) {
		if (area->cell_taken[i])
			continue;
		area->cell_taken[i] = true;
		area->cell[i] = 0;
		return &area->cell[i];
	}
	return NULL;
}

void
counters_cell_free(uint64_t *cell)
{
	if (cell == NULL || mine != NULL || cell < area->cell ||
	    cell >= area->cell + COUNTERS_CELLS)
		return;		/* a worker's listeners are the master's */
	area->cell_taken[cell - area->cell] = false;
}
