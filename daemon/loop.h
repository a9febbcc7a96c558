/*
 * loop.h — the reactor: one edge-triggered epoll instance, a handler per fd,
 * timers, and fds "posted" to run again without an event. It knows nothing
 * of connections, listeners or the protocol, and has no policy: who runs
 * how much is the handlers' business.
 *
 * A turn: wait (not at all while anything is posted, else until the next
 * timer), run the handlers of what epoll reported, then the fds posted
 * before the turn began, in the order they were posted, then the first fd
 * of the low-priority queue, then the timers that are due.
 *
 * Costs: loop_add, loop_del, loop_post and loop_post_low are O(1), and so
 * is finding the next timer; arming and cancelling a timer are O(log n) in
 * the timers armed (a binary heap), so a timer per connection is fine.
 */
#ifndef LOOP_H
#define LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_timer;

/*
 * Called with the epoll events that fired for fd, or with events == 0 when
 * fd runs because it was posted. EPOLLERR and EPOLLHUP come with EPOLLIN and
 * EPOLLOUT added: an error concerns both directions. The handler may close
 * fd (after loop_del): events still queued for it in this turn are dropped,
 * not delivered to whatever reuses the number.
 */
typedef void loop_io_fn(struct loop *loop, int fd, uint32_t events,
    void *data);
typedef void loop_timer_fn(struct loop *loop, struct loop_timer *timer);
typedef void loop_turn_fn(struct loop *loop);

struct loop_timer {
	uint64_t when;			/* loop_now() at which it fires */
	loop_timer_fn *fn;
	void *data;			/* for fn; the loop never touches it */
	uint32_t slot;			/* in the loop's heap + 1; 0: not armed */
};

/*
 * A loop for fds 0..setsize-1, and for up to setsize + LOOP_TIMERS_FIXED
 * timers armed at once (one per fd, and a fixed few more). NULL with errno
 * set on failure.
 */
#define LOOP_TIMERS_FIXED	256
struct loop *loop_create(int setsize);
void loop_free(struct loop *loop);
int loop_setsize(const struct loop *loop);

/*
 * Register fd for events (EPOLLET is added). What is ready already (bytes,
 * queued clients, pending signals) is reported on the next turn, which is
 * also how a handler that stopped watching fd (loop_del_shared) takes it
 * up again. Returns 0, or -1 with errno: ERANGE when fd >= setsize, or
 * epoll_ctl's.
 */
int loop_add(struct loop *loop, int fd, uint32_t events, loop_io_fn *fn,
    void *data);

/*
 * Forget fd: no handler runs for it again, posted or pending. The caller must
 * close fd right after; closing is what removes it from epoll, which saves a
 * syscall per connection (no connection's fd is ever duplicated).
 */
void loop_del(struct loop *loop, int fd);

/*
 * loop_del for an fd that stays open: one whose open file other processes
 * share (a listening socket a master holds for its workers), or one to be
 * watched again later. Closing this process's copy would leave a shared
 * one registered, and with EPOLLEXCLUSIVE this loop would go on taking
 * wakeups meant for the processes still accepting.
 */
void loop_del_shared(struct loop *loop, int fd);

/*
 * Run fd's handler in the next turn, with events == 0, after the fds posted
 * before it: for a handler that stopped before EAGAIN (edge triggering will
 * not report what is already waiting). Posting an fd that is already posted
 * for the next turn keeps its place; one posted for this turn, or queued at
 * low priority, moves to the next turn's end. Events for a posted fd run
 * its handler as well: a post is never taken back.
 */
void loop_post(struct loop *loop, int fd);

/*
 * Queue fd at low priority: each turn runs the first fd of this queue,
 * with events == 0, after the events and the posts, so that the queued
 * take turns, one a turn, and nobody else waits for more than one of
 * them. For bulk work. An fd posted either way stays where it is.
 */
void loop_post_low(struct loop *loop, int fd);

/* Arm timer to fire after delay_ms (at least 1), replacing any earlier
 * arming. fn and data must be set. */
void loop_timer_set(struct loop *loop, struct loop_timer *timer,
    uint64_t delay_ms);
void loop_timer_cancel(struct loop *loop, struct loop_timer *timer);

static inline bool
loop_timer_armed(const struct loop_timer *timer)
{
	return timer->slot != 0;
}

/* Monotonic milliseconds, read once per turn. */
uint64_t loop_now(const struct loop *loop);

/* Call fn (NULL: nothing) at the end of each turn, before waiting for the
 * next events (Redis's beforeSleep): for work a handler must not do. */
void loop_before_wait(struct loop *loop, loop_turn_fn *fn);

/* Run turns until loop_stop. Returns 0, or -1 if epoll_wait fails. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif
