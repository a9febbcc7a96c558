/*
 * loop.h — the reactor: one edge-triggered epoll instance, a handler per fd,
 * a few timers, and a list of fds "posted" to run again on the next turn.
 * It knows nothing of connections, listeners or the protocol.
 */
#ifndef LOOP_H
#define LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_timer;

/*
 * Called with the epoll events that fired for fd, or with events == 0 when fd
 * runs because it was posted. EPOLLERR and EPOLLHUP come with EPOLLIN and
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
	struct loop_timer *prev, *next;	/* in the loop's list while armed */
	bool armed;
};

/* A loop for fds 0..setsize-1. NULL with errno set on failure. */
struct loop *loop_create(int setsize);
void loop_free(struct loop *loop);
int loop_setsize(const struct loop *loop);

/*
 * Register fd once for events (EPOLLET is added). What is ready already
 * (bytes, queued clients, pending signals) is reported on the next turn.
 * Returns 0, or -1 with errno: ERANGE when fd >= setsize, or epoll_ctl's.
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
 * loop_del for an fd whose open file other processes share (a listening
 * socket a master holds for its workers): closing this process's copy
 * would leave it registered, and with EPOLLEXCLUSIVE this loop would go on
 * taking wakeups meant for the processes still accepting.
 */
void loop_del_shared(struct loop *loop, int fd);

/*
 * Run fd's handler again on the next turn, with events == 0. For a handler
 * that stopped before EAGAIN (a budget, a pause): edge triggering will not
 * report data that is already waiting. Posted fds run in the order they were
 * posted; posting one already posted keeps its place. In a crowded turn an
 * event for it runs the handler without taking it off the list; in a turn
 * that serves it alone, the event's run covers the post. While anything is
 * posted the loop polls without sleeping.
 */
void loop_post(struct loop *loop, int fd);

/* From a posted run: run no more posted fds this turn. Those left run
 * first in the next, before the fds posted during this one. */
void loop_yield(struct loop *loop);

/* Does this turn serve two fds or more (events and posts together)? A
 * handler then keeps its share of the turn small: the others wait for it. */
bool loop_crowded(const struct loop *loop);

/* The turn's number, counting from 1: to tell a new turn from this one. */
uint64_t loop_turn(const struct loop *loop);

/* Arm timer to fire after delay_ms (at least 1), replacing any earlier
 * arming. fn and data must be set. */
void loop_timer_set(struct loop *loop, struct loop_timer *timer,
    uint64_t delay_ms);
void loop_timer_cancel(struct loop *loop, struct loop_timer *timer);

/* Monotonic milliseconds, read once per turn. */
uint64_t loop_now(const struct loop *loop);

/* Call fn (NULL: nothing) at the end of each turn, before waiting for the
 * next events (Redis's beforeSleep): for work a handler must not do. */
void loop_before_wait(struct loop *loop, loop_turn_fn *fn);

/* Run turns until loop_stop. Returns 0, or -1 if epoll_wait fails. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif
