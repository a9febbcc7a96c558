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

#define WORDS	(sizeof(struct counters) / sizeof(uint64_t))

_Static_assert(sizeof(struct counters) % sizeof(uint64_t) == 0,
    "struct counters is uint64_t fields only");

struct shared {
	struct counters slot[COUNTERS_SLOTS];
	struct counters retired;	/* workers gone, added up */
	uint64_t reloads_ok, reloads_failed;
	uint64_t cell[COUNTERS_CELLS];
	bool cell_taken[COUNTERS_CELLS];	/* written by the master */
};

static struct shared local;	/* no workers: the cells live here */
static struct shared *area = &local;
static struct counters *mine;	/* a worker's slot */
static uint64_t reloads[2];	/* a single process's */

void
counters_collect(struct counters *out)
{
	memset(out, 0, sizeof(*out));
	out->conn = *conn_stats();
	out->record = *record_stats();
	out->listener = *listener_stats();
	out->acl = *acl_stats();
	out->http = *http_stats();
	out->access_dropped = access_dropped();
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

void
counters_publish(void)
{
	if (mine != NULL)
		counters_collect(mine);
}

static void
add(struct counters *to, const struct counters *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;

	for (size_t i = 0; i < WORDS; i++)
		t[i] += f[i];
}

void
counters_retire(unsigned slot)
{
	struct counters *s = &area->slot[slot];

	add(&area->retired, s);
	/* Its connections are gone with it. */
	area->retired.open = 0;
	area->retired.conn.owed = 0;
	memset(s, 0, sizeof(*s));
}

void
counters_reloads(uint64_t ok, uint64_t failed)
{
	reloads[0] = ok;
	reloads[1] = failed;
	area->reloads_ok = ok;
	area->reloads_failed = failed;
}

void
counters_total(struct counters *out)
{
	if (area == &local) {
		counters_collect(out);
		return;
	}
	*out = area->retired;
	for (unsigned i = 0; i < COUNTERS_SLOTS; i++)
		add(out, &area->slot[i]);
	out->reloads_ok = area->reloads_ok;
	out->reloads_failed = area->reloads_failed;
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
