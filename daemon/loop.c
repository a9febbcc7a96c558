/*
 * loop.c — the epoll backend, the posted lists and the timer heap behind
 * loop.h.
 *
 * Posted fds sit on circular lists threaded through the fd table, whose
 * heads are three extra slots past the last fd: two lists that take turns
 * (the one being run this turn, and the one collecting posts for the next)
 * and the low-priority queue. An fd is on one list at most. Links are
 * stored as slot + 1 so that the zeroed table means "nothing posted"
 * without touching a page.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 512	/* epoll events taken per wait */

enum { ON_NONE, ON_TURN_A, ON_TURN_B, ON_LOW };

struct loop_file {
	loop_io_fn *fn;		/* NULL when fd is not registered */
	void *data;
	uint32_t gen;		/* bumped by loop_del; stale events carry the old value */
	uint32_t prev, next;	/* list links as slot + 1 */
	uint8_t on;		/* ON_*: the list it is on */
};

struct loop {
	int epfd;
	int setsize;			/* fds 0..setsize-1 */
	struct loop_file *files;	/* indexed by fd, then the list heads */
	uint8_t next_turn;		/* ON_TURN_A or B: posts go there */
	struct loop_timer **heap;	/* armed timers, earliest first */
	uint32_t ntimers, maxtimers;
	uint64_t now;			/* monotonic ms, refreshed each wakeup */
	loop_turn_fn *before_wait;	/* or NULL */
	bool stop;
	struct epoll_event events[LOOP_MAX_EVENTS];
};

/* The slot of list on's head. */
static uint32_t
loop_head(const struct loop *loop, uint8_t on)
{
	return (uint32_t)loop->setsize + on - 1;
}

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
	loop->files = calloc((size_t)setsize + ON_LOW, sizeof(*loop->files));
	loop->maxtimers = (uint32_t)setsize + LOOP_TIMERS_FIXED;
	loop->heap = calloc(loop->maxtimers, sizeof(*loop->heap));
	if (loop->epfd == -1 || loop->files == NULL || loop->heap == NULL) {
		loop_free(loop);
		return NULL;
	}
	for (uint8_t on = ON_TURN_A; on <= ON_LOW; on++) {
		uint32_t head = loop_head(loop, on);

		loop->files[head].prev = loop->files[head].next = head + 1;
	}
	loop->next_turn = ON_TURN_A;
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
	free(loop->heap);
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
loop_list_empty(const struct loop *loop, uint8_t on)
{
	uint32_t head = loop_head(loop, on);

	return loop->files[head].next == head + 1;
}

static void
loop_unpost(struct loop *loop, uint32_t slot)
{
	struct loop_file *f = &loop->files[slot];

	if (f->on == ON_NONE)
		return;
	loop->files[f->prev - 1].next = f->next;
	loop->files[f->next - 1].prev = f->prev;
	f->prev = f->next = 0;
	f->on = ON_NONE;
}

static void
loop_append(struct loop *loop, uint8_t on, uint32_t slot)
{
	uint32_t head = loop_head(loop, on);
	struct loop_file *h = &loop->files[head], *f = &loop->files[slot];

	loop_unpost(loop, slot);
	f->next = head + 1;
	f->prev = h->prev;
	loop->files[h->prev - 1].next = slot + 1;
	h->prev = slot + 1;
	f->on = on;
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
	struct loop_file *f = &loop->files[fd];

	if (f->fn != NULL && f->on != loop->next_turn)
		loop_append(loop, loop->next_turn, (uint32_t)fd);
}

void
loop_post_low(struct loop *loop, int fd)
{
	struct loop_file *f = &loop->files[fd];

	if (f->fn != NULL && f->on == ON_NONE)
		loop_append(loop, ON_LOW, (uint32_t)fd);
}

/* The heap: heap[0] is the earliest; a timer's slot is its index + 1. */
static void
heap_place(struct loop *loop, struct loop_timer *t, uint32_t i)
{
	loop->heap[i] = t;
	t->slot = i + 1;
}

static void
heap_up(struct loop *loop, uint32_t i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 0 && loop->heap[(i - 1) / 2]->when > t->when) {
		heap_place(loop, loop->heap[(i - 1) / 2], i);
		i = (i - 1) / 2;
	}
	heap_place(loop, t, i);
}

static void
heap_down(struct loop *loop, uint32_t i)
{
	struct loop_timer *t = loop->heap[i];

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= loop->ntimers)
			break;
		if (child + 1 < loop->ntimers &&
		    loop->heap[child + 1]->when < loop->heap[child]->when)
			child++;
		if (loop->heap[child]->when >= t->when)
			break;
		heap_place(loop, loop->heap[child], i);
		i = child;
	}
	heap_place(loop, t, i);
}

void
loop_timer_set(struct loop *loop, struct loop_timer *timer, uint64_t delay_ms)
{
	/* At least 1 ms: a timer re-armed from its own callback must not fire
	 * again in the same turn. */
	timer->when = loop->now + (delay_ms ? delay_ms : 1);
	if (timer->slot == 0) {
		/* More timers than the loop was made for is a bug of the
		 * caller's: there is one per fd and a fixed few. */
		if (loop->ntimers == loop->maxtimers)
			abort();
		heap_place(loop, timer, loop->ntimers++);
	}
	heap_up(loop, timer->slot - 1);
	heap_down(loop, timer->slot - 1);
}

void
loop_timer_cancel(struct loop *loop, struct loop_timer *timer)
{
	uint32_t i = timer->slot - 1;
	struct loop_timer *last;

	if (timer->slot == 0)
		return;
	timer->slot = 0;
	last = loop->heap[--loop->ntimers];
	if (last == timer)
		return;
	heap_place(loop, last, i);
	heap_up(loop, i);
	heap_down(loop, last->slot - 1);
}

uint64_t
loop_now(const struct loop *loop)
{
	return loop->now;
}

/* How long epoll_wait may sleep, in ms (-1: until an event). */
static int
loop_wait_ms(const struct loop *loop)
{
	uint64_t when;

	if (!loop_list_empty(loop, loop->next_turn) ||
	    !loop_list_empty(loop, ON_LOW))
		return 0;
	if (loop->ntimers == 0)
		return -1;
	when = loop->heap[0]->when;
	if (when <= loop->now)
		return 0;
	if (when - loop->now > 3600 * 1000)
		return 3600 * 1000;
	return (int)(when - loop->now);
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
		f->fn(loop, fd, loop_fold(loop->events[i].events), f->data);
	}
}

/* Run the first fd of list on, if any. */
static bool
loop_run_first(struct loop *loop, uint8_t on)
{
	uint32_t slot = loop->files[loop_head(loop, on)].next - 1;
	struct loop_file *f = &loop->files[slot];

	if (loop_list_empty(loop, on))
		return false;
	loop_unpost(loop, slot);
	f->fn(loop, (int)slot, 0, f->data);
	return true;
}

static void
loop_run_timers(struct loop *loop)
{
	while (loop->ntimers > 0 && loop->heap[0]->when <= loop->now) {
		struct loop_timer *t = loop->heap[0];

		loop_timer_cancel(loop, t);
		t->fn(loop, t);
	}
}

int
loop_run(struct loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		uint8_t this_turn;
		int n;

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
		/* The posts made so far are this turn's; those made from
		 * now on, the next one's. */
		this_turn = loop->next_turn;
		loop->next_turn = this_turn == ON_TURN_A ? ON_TURN_B :
		    ON_TURN_A;
		loop->now = loop_clock();
		loop_dispatch(loop, n);
		while (loop_run_first(loop, this_turn))
			;
		loop_run_first(loop, ON_LOW);
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
