/*
 * loop.c — the epoll backend, the posted lists and the timers behind loop.h.
 *
 * A turn: wait (not at all if anything is posted, else until the next timer),
 * dispatch what epoll returned, run what was posted before this turn began,
 * fire expired timers. Posting during a turn defers to the next one, so a
 * connection that used up its budget waits behind everyone else once. In a
 * crowded turn (two fds or more) an fd that epoll reports while posted runs
 * for the event and keeps its place in the list: a handler that only reads
 * from its posted runs (conn.c's bulk readers) is served in turn whatever
 * events it gets. Alone, its event run covers the post. A posted run may
 * yield the rest of the turn; those not run yet go first in the next.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 512	/* epoll events taken per wait */

struct loop_file {
	loop_io_fn *fn;		/* NULL when fd is not registered */
	void *data;
	uint32_t gen;		/* bumped by loop_del; stale events carry the old value */
	uint32_t prev, next;	/* posted-list links as slot + 1; 0: not posted */
};

/*
 * Posted fds sit on one of two circular lists threaded through the files
 * table, whose heads are two extra slots past the last fd: NEXT_TURN collects
 * posts, and at the start of a turn its entries move to THIS_TURN, which runs
 * after the epoll events. Links are stored as slot + 1 so that the zeroed
 * table means "nothing posted" without touching a page.
 */
#define NEXT_TURN(loop)	((uint32_t)(loop)->setsize)
#define THIS_TURN(loop)	((uint32_t)(loop)->setsize + 1)

struct loop {
	int epfd;
	int setsize;			/* fds 0..setsize-1 */
	struct loop_file *files;	/* indexed by fd, then the two list heads */
	struct loop_timer *timers;	/* armed timers, unordered: a few */
	uint64_t now;			/* monotonic ms, refreshed each wakeup */
	loop_turn_fn *before_wait;	/* or NULL */
	uint64_t turn;			/* turns begun */
	bool crowded;			/* this turn serves two fds or more */
	bool yield;			/* run no more posted fds this turn */
	bool stop;
	struct epoll_event events[LOOP_MAX_EVENTS];
};

static uint64_t
loop_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *
loop_create(int setsize)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		return NULL;
	loop->setsize = setsize;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	/* calloc of a large table maps zero pages: untouched slots cost no
	 * memory, so sizing it for every possible fd is free. */
	loop->files = calloc((size_t)setsize + 2, sizeof(*loop->files));
	if (loop->epfd == -1 || loop->files == NULL) {
		loop_free(loop);
		return NULL;
	}
	for (uint32_t head = NEXT_TURN(loop); head <= THIS_TURN(loop); head++)
		loop->files[head].prev = loop->files[head].next = head + 1;
	loop->now = loop_clock();
	return loop;
}

void
loop_free(struct loop *loop)
{
	int saved = errno;

	if (loop == NULL)
		return;
	if (loop->epfd != -1)
		close(loop->epfd);
	free(loop->files);
	free(loop);
	errno = saved;
}

int
loop_setsize(const struct loop *loop)
{
	return loop->setsize;
}

/* epoll_event.data carries the fd and its generation. */
static uint64_t
loop_key(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

static bool
loop_posted(const struct loop *loop, uint32_t slot)
{
	return loop->files[slot].next != 0;
}

static bool
loop_list_empty(const struct loop *loop, uint32_t head)
{
	return loop->files[head].next == head + 1;
}

static void
loop_unpost(struct loop *loop, uint32_t slot)
{
	struct loop_file *f = &loop->files[slot];

	if (f->next == 0)
		return;
	loop->files[f->prev - 1].next = f->next;
	loop->files[f->next - 1].prev = f->prev;
	f->prev = f->next = 0;
}

static void
loop_append(struct loop *loop, uint32_t head, uint32_t slot)
{
	struct loop_file *h = &loop->files[head], *f = &loop->files[slot];

	f->next = head + 1;
	f->prev = h->prev;
	loop->files[h->prev - 1].next = slot + 1;
	h->prev = slot + 1;
}

/* Move every entry of list from to the end of list to. */
static void
loop_splice(struct loop *loop, uint32_t from, uint32_t to)
{
	struct loop_file *f = &loop->files[from], *t = &loop->files[to];

	if (loop_list_empty(loop, from))
		return;
	loop->files[f->next - 1].prev = t->prev;
	loop->files[t->prev - 1].next = f->next;
	loop->files[f->prev - 1].next = to + 1;
	t->prev = f->prev;
	f->prev = f->next = from + 1;
}

/* Does this turn serve two fds or more? n events (one per fd), and the
 * posted list: a lone fd both posted and reported counts once. */
static bool
loop_is_crowded(const struct loop *loop, int n)
{
	const struct loop_file *head = &loop->files[THIS_TURN(loop)];

	if (loop_list_empty(loop, THIS_TURN(loop)))
		return n >= 2;
	if (head->next != head->prev)
		return true;		/* two posted, or more */
	return n >= 2 || (n == 1 &&
	    (uint32_t)loop->events[0].data.u64 != head->next - 1);
}

int
loop_add(struct loop *loop, int fd, uint32_t events, loop_io_fn *fn,
    void *data)
{
	struct epoll_event ev = { .events = events | EPOLLET };
	struct loop_file *f;

	if (fd < 0 || fd >= loop->setsize) {
		errno = ERANGE;
		return -1;
	}
	f = &loop->files[fd];
	ev.data.u64 = loop_key(fd, f->gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	f->fn = fn;
	f->data = data;
	return 0;
}

void
loop_del(struct loop *loop, int fd)
{
	struct loop_file *f = &loop->files[fd];

	loop_unpost(loop, (uint32_t)fd);
	f->fn = NULL;
	f->data = NULL;
	f->gen++;
}

void
loop_del_shared(struct loop *loop, int fd)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop_del(loop, fd);
}

void
loop_post(struct loop *loop, int fd)
{
	if (loop->files[fd].fn == NULL || loop_posted(loop, (uint32_t)fd))
		return;
	loop_append(loop, NEXT_TURN(loop), (uint32_t)fd);
}

void
loop_timer_set(struct loop *loop, struct loop_timer *timer, uint64_t delay_ms)
{
	if (timer->armed)
		loop_timer_cancel(loop, timer);
	/* At least 1 ms: a timer re-armed from its own callback must not fire
	 * again in the same turn. */
	timer->when = loop->now + (delay_ms ? delay_ms : 1);
	timer->prev = NULL;
	timer->next = loop->timers;
	if (loop->timers != NULL)
		loop->timers->prev = timer;
	loop->timers = timer;
	timer->armed = true;
}

void
loop_timer_cancel(struct loop *loop, struct loop_timer *timer)
{
	if (!timer->armed)
		return;
	if (timer->prev != NULL)
		timer->prev->next = timer->next;
	else
		loop->timers = timer->next;
	if (timer->next != NULL)
		timer->next->prev = timer->prev;
	timer->prev = timer->next = NULL;
	timer->armed = false;
}

uint64_t
loop_now(const struct loop *loop)
{
	return loop->now;
}

bool
loop_crowded(const struct loop *loop)
{
	return loop->crowded;
}

uint64_t
loop_turn(const struct loop *loop)
{
	return loop->turn;
}

void
loop_yield(struct loop *loop)
{
	loop->yield = true;
}

static struct loop_timer *
loop_timer_earliest(const struct loop *loop)
{
	struct loop_timer *t, *first = NULL;

	for (t = loop->timers; t != NULL; t = t->next)
		if (first == NULL || t->when < first->when)
			first = t;
	return first;
}

/* How long epoll_wait may sleep, in ms (-1: until an event). */
static int
loop_wait_ms(const struct loop *loop)
{
	struct loop_timer *t;

	if (!loop_list_empty(loop, THIS_TURN(loop)))
		return 0;
	t = loop_timer_earliest(loop);
	if (t == NULL)
		return -1;
	if (t->when <= loop->now)
		return 0;
	if (t->when - loop->now > 3600 * 1000)
		return 3600 * 1000;
	return (int)(t->when - loop->now);
}

/* An error or hangup concerns both directions: whoever reads or writes next
 * learns what happened from the syscall. */
static uint32_t
loop_fold(uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP))
		events |= EPOLLIN | EPOLLOUT;
	return events;
}

static void
loop_dispatch(struct loop *loop, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t key = loop->events[i].data.u64;
		int fd = (int)(uint32_t)key;
		struct loop_file *f = &loop->files[fd];

		if (f->fn == NULL || f->gen != (uint32_t)(key >> 32))
			continue;	/* closed earlier in this batch */
		if (!loop->crowded)
			loop_unpost(loop, (uint32_t)fd);  /* this run covers it */
		f->fn(loop, fd, loop_fold(loop->events[i].events), f->data);
	}
}

/* Run what was posted before this turn; posts made now wait for the next. */
static void
loop_run_posted(struct loop *loop)
{
	while (!loop->yield && !loop_list_empty(loop, THIS_TURN(loop))) {
		uint32_t slot = loop->files[THIS_TURN(loop)].next - 1;
		struct loop_file *f = &loop->files[slot];

		loop_unpost(loop, slot);
		f->fn(loop, (int)slot, 0, f->data);
	}
}

static void
loop_run_timers(struct loop *loop)
{
	struct loop_timer *t;

	/* Rescan after each callback: it may arm or cancel others. */
	while ((t = loop_timer_earliest(loop)) != NULL && t->when <= loop->now) {
		loop_timer_cancel(loop, t);
		t->fn(loop, t);
	}
}

int
loop_run(struct loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		int n;

		loop_splice(loop, NEXT_TURN(loop), THIS_TURN(loop));
		loop->yield = false;
		loop->now = loop_clock();
		if (loop->before_wait != NULL)
			loop->before_wait(loop);
		n = epoll_wait(loop->epfd, loop->events, LOOP_MAX_EVENTS,
		    loop_wait_ms(loop));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		loop->now = loop_clock();
		loop->turn++;
		loop->crowded = loop_is_crowded(loop, n);
		loop_dispatch(loop, n);
		loop_run_posted(loop);
		loop_run_timers(loop);
	}
	return 0;
}

void
loop_before_wait(struct loop *loop, loop_turn_fn *fn)
{
	loop->before_wait = fn;
}

void
loop_stop(struct loop *loop)
{
	loop->stop = true;
}
