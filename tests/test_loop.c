/*
 * test_loop.c — the reactor on its own, with pipes: what must never reach a
 * handler (an event for an fd closed and reused in the same batch), when
 * posted and low-priority fds run, and timers (re-armed from their own
 * callback, and thousands at once).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "loop.h"

TestSuite(loop, .timeout = 30);

struct probe {
	int calls;		/* handler invocations */
	uint32_t events;	/* of the last one */
	int other;		/* the fd it replaces on its first call */
	int turn_calls;		/* the other's calls when this one ran */
};

static struct probe probes[2], stale;

static void
on_stale(struct loop *loop, int fd, uint32_t events, void *data)
{
	(void)loop;
	(void)fd;
	(void)data;
	stale.calls++;
	stale.events = events;
	loop_stop(loop);
}

/*
 * Whichever of the two readable pipes runs first closes the other and
 * registers a fresh, idle pipe end under the same number: the other's event
 * is still in this batch and must not reach the newcomer.
 */
static void
on_ready(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct probe *p = data;
	int idle[2];

	(void)fd;
	p->calls++;
	p->events = events;
	if (probes[0].calls + probes[1].calls > 1)
		return;		/* the other one ran: the test has failed */
	loop_del(loop, p->other);
	cr_assert_eq(pipe2(idle, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(dup3(idle[0], p->other, O_CLOEXEC), p->other);
	close(idle[0]);
	close(idle[1]);		/* at EOF at once, but registered after the
				 * batch: its own event comes next turn */
	cr_assert_eq(loop_add(loop, p->other, EPOLLIN, on_stale, NULL), 0);
	loop_stop(loop);
}

static void
make_readable_pipe(int fds[2])
{
	cr_assert_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(write(fds[1], "x", 1), 1);
}

Test(loop, stale_event_after_close_and_reuse_is_dropped)
{
	struct loop *loop = loop_create(1024);
	int a[2], b[2];

	cr_assert_not_null(loop);
	make_readable_pipe(a);
	make_readable_pipe(b);
	probes[0].other = b[0];
	probes[1].other = a[0];
	cr_assert_eq(loop_add(loop, a[0], EPOLLIN, on_ready, &probes[0]), 0);
	cr_assert_eq(loop_add(loop, b[0], EPOLLIN, on_ready, &probes[1]), 0);

	/* One turn: both pipes are ready in the same batch. */
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(probes[0].calls + probes[1].calls, 1,
	    "the closed fd's handler ran too");
	cr_assert_eq(stale.calls, 0, "an event of the closed fd reached the "
	    "handler that took its number");

	/* The newcomer's own event (its pipe is at EOF) comes next turn. */
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(stale.calls, 1);
	cr_assert(stale.events & EPOLLHUP);
	loop_free(loop);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static struct loop_timer stopper;

static void
on_stopper(struct loop *loop, struct loop_timer *timer)
{
	(void)timer;
	loop_stop(loop);
}

static void
on_posting(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct probe *p = data;

	p->calls++;
	p->events = events;
	if (p->calls == 1) {
		loop_post(loop, fd);
		loop_post(loop, fd);	/* twice: it still runs once */
		loop_stop(loop);
	} else {
		loop_stop(loop);
	}
}

Test(loop, posted_fd_runs_next_turn_once_without_an_event)
{
	struct loop *loop = loop_create(1024);
	struct probe p = { 0 };
	int fds[2];

	cr_assert_not_null(loop);
	make_readable_pipe(fds);
	cr_assert_eq(loop_add(loop, fds[0], EPOLLIN, on_posting, &p), 0);
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(p.calls, 1, "the post ran in the turn that made it");
	cr_assert(p.events & EPOLLIN);

	/* Edge-triggered, the pipe raises no new event: only the post can
	 * run the handler again, and the loop must not sleep meanwhile. */
	stopper.fn = on_stopper;
	loop_timer_set(loop, &stopper, 10000);
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(p.calls, 2, "the posted fd did not run");
	cr_assert_eq(p.events, 0, "a posted run carries no events");
	cr_assert(loop_timer_armed(&stopper), "the loop slept until the timer "
	    "instead");
	loop_timer_cancel(loop, &stopper);
	loop_free(loop);
}

static int rearm_calls;

static void
on_rearm(struct loop *loop, struct loop_timer *timer)
{
	rearm_calls++;
	loop_timer_set(loop, timer, 0);
	loop_stop(loop);
}

Test(loop, timer_rearmed_from_its_callback_fires_once_per_turn)
{
	struct loop *loop = loop_create(64);
	struct loop_timer t = { .fn = on_rearm };

	cr_assert_not_null(loop);
	loop_timer_set(loop, &t, 0);
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(rearm_calls, 1, "fired %d times in one turn",
	    rearm_calls);
	cr_assert(loop_timer_armed(&t));
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(rearm_calls, 2);
	loop_timer_cancel(loop, &t);
	loop_free(loop);
}

static void
on_error(struct loop *loop, int fd, uint32_t events, void *data)
{
	uint32_t *seen = data;

	(void)fd;
	*seen = events;
	loop_stop(loop);
}

Test(loop, hangup_is_reported_as_both_directions)
{
	struct loop *loop = loop_create(1024);
	uint32_t seen = 0;
	int fds[2];

	cr_assert_not_null(loop);
	cr_assert_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	/* The read end of a pipe whose writer is gone: EPOLLHUP alone. */
	close(fds[1]);
	cr_assert_eq(loop_add(loop, fds[0], EPOLLIN, on_error, &seen), 0);
	cr_assert_eq(loop_run(loop), 0);
	cr_assert(seen & EPOLLHUP);
	cr_assert_eq(seen & (EPOLLIN | EPOLLOUT), EPOLLIN | EPOLLOUT,
	    "events 0x%x", seen);
	close(fds[0]);
	loop_free(loop);
}

/* The order handlers ran in, each as fd * 2, plus 1 for an event run;
 * the loop stops after stop_after of them. */
static int order[16], norder, stop_after;
static bool repost;	/* a run posts its fd again (a spent batch) */
static bool relow;	/* a run queues its fd at low priority again */
static int relow_not;	/* ... unless it is this fd */

static void
on_ordered(struct loop *loop, int fd, uint32_t events, void *data)
{
	(void)data;
	order[norder++] = fd * 2 + (events != 0);
	if (repost)
		loop_post(loop, fd);
	if (relow && fd != relow_not)
		loop_post_low(loop, fd);
	if (norder == stop_after)
		loop_stop(loop);
}

/* Three idle pipes, registered: read ends in rd, write ends in wr. */
static void
idle_pipes(struct loop *loop, int rd[3], int wr[3])
{
	norder = 0;
	repost = relow = false;
	for (int i = 0; i < 3; i++) {
		int p[2];

		cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
		rd[i] = p[0];
		wr[i] = p[1];
		cr_assert_eq(loop_add(loop, p[0], EPOLLIN, on_ordered, NULL),
		    0);
	}
}

static void
close_pipes(const int rd[3], const int wr[3])
{
	for (int i = 0; i < 3; i++) {
		close(rd[i]);
		close(wr[i]);
	}
}

/* An event for a posted fd runs its handler, and the post runs too, in
 * its place: an event never takes a post back. */
Test(loop, an_event_never_takes_a_post_back)
{
	struct loop *loop = loop_create(1024);
	int rd[3], wr[3];

	cr_assert_not_null(loop);
	idle_pipes(loop, rd, wr);
	for (int i = 0; i < 3; i++)
		loop_post(loop, rd[i]);
	cr_assert_eq(write(wr[1], "x", 1), 1);
	stop_after = 4;
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(norder, 4);
	cr_assert_eq(order[0], rd[1] * 2 + 1, "the event did not run first");
	cr_assert_eq(order[1], rd[0] * 2);
	cr_assert_eq(order[2], rd[1] * 2, "the event took the post back");
	cr_assert_eq(order[3], rd[2] * 2);
	loop_free(loop);
	close_pipes(rd, wr);
}

/* A handler that posts itself again runs once a turn, whatever events it
 * gets meanwhile: posted from this turn's run, its post moves to the next
 * turn (a listener whose batch is spent every time never runs twice in a
 * turn, and never starves the others). */
Test(loop, a_post_from_a_run_waits_for_the_next_turn)
{
	struct loop *loop = loop_create(1024);
	int rd[3], wr[3];

	cr_assert_not_null(loop);
	idle_pipes(loop, rd, wr);
	loop_post(loop, rd[0]);
	loop_post(loop, rd[2]);
	cr_assert_eq(write(wr[0], "x", 1), 1);	/* an event for rd[0] too */
	repost = true;
	stop_after = 3;
	cr_assert_eq(loop_run(loop), 0);
	/* Turn 1: rd[0]'s event, which posts it for turn 2 (taking it off
	 * turn 1's list), then rd[2]'s post; turn 2, which the stop lets
	 * end: rd[0], then rd[2] again. */
	cr_assert_eq(norder, 4);
	cr_assert_eq(order[0], rd[0] * 2 + 1);
	cr_assert_eq(order[1], rd[2] * 2, "rd[0] ran twice in one turn");
	cr_assert_eq(order[2], rd[0] * 2);
	cr_assert_eq(order[3], rd[2] * 2);
	loop_free(loop);
	close_pipes(rd, wr);
}

/* The low-priority queue: one fd a turn, after the posts, round-robin. */
Test(loop, low_priority_fds_take_turns_one_a_turn)
{
	struct loop *loop = loop_create(1024);
	int rd[3], wr[3];

	cr_assert_not_null(loop);
	idle_pipes(loop, rd, wr);
	loop_post_low(loop, rd[0]);
	loop_post_low(loop, rd[1]);
	loop_post_low(loop, rd[0]);	/* queued already: keeps its place */
	relow = true;
	relow_not = rd[2];
	for (int turn = 0; turn < 4; turn++) {
		/* A post goes before the queue, in the same turn. */
		loop_post(loop, rd[2]);
		stop_after = norder + 2;
		cr_assert_eq(loop_run(loop), 0);
	}
	cr_assert_eq(norder, 8);
	for (int turn = 0; turn < 4; turn++) {
		cr_assert_eq(order[2 * turn], rd[2] * 2, "turn %d", turn);
		cr_assert_eq(order[2 * turn + 1], rd[turn % 2] * 2,
		    "turn %d ran fd %d", turn, order[2 * turn + 1] / 2);
	}
	loop_free(loop);
	close_pipes(rd, wr);
}

/* Timers fire in the order of their deadlines, however they were armed,
 * re-armed and cancelled. */
enum { NTIMERS = 2000 };
static struct loop_timer many[NTIMERS];
static uint64_t fired[NTIMERS];
static int nfired;

static void
on_many(struct loop *loop, struct loop_timer *timer)
{
	fired[nfired++] = timer->when;
	if (nfired == NTIMERS * 3 / 4)
		loop_stop(loop);
}

Test(loop, timers_fire_in_deadline_order)
{
	struct loop *loop = loop_create(NTIMERS);
	unsigned seed = 1;

	cr_assert_not_null(loop);
	for (int i = 0; i < NTIMERS; i++) {
		seed = seed * 1103515245 + 12345;
		many[i].fn = on_many;
		loop_timer_set(loop, &many[i], 1 + (seed >> 16) % 40);
	}
	/* Every other one re-armed, every fourth cancelled. */
	for (int i = 0; i < NTIMERS; i += 2) {
		seed = seed * 1103515245 + 12345;
		loop_timer_set(loop, &many[i], 1 + (seed >> 16) % 40);
	}
	for (int i = 0; i < NTIMERS; i += 4)
		loop_timer_cancel(loop, &many[i]);
	for (int i = 0; i < NTIMERS; i++)
		cr_assert_eq(loop_timer_armed(&many[i]), i % 4 != 0);
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(nfired, NTIMERS * 3 / 4, "%d fired", nfired);
	for (int i = 1; i < nfired; i++)
		cr_assert_leq(fired[i - 1], fired[i], "timer %d fired out of "
		    "order", i);
	for (int i = 0; i < NTIMERS; i++)
		cr_assert_not(loop_timer_armed(&many[i]));
	loop_free(loop);
}
