/*
 * test_loop.c — the reactor on its own, with pipes: what must never reach a
 * handler (an event for an fd closed and reused in the same batch), when
 * posted fds run, and timers that re-arm themselves.
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
	cr_assert(stopper.armed, "the loop slept until the timer instead");
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
	cr_assert(t.armed);
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
static int order[8], norder, stop_after;

static void
on_ordered(struct loop *loop, int fd, uint32_t events, void *data)
{
	order[norder++] = fd * 2 + (events != 0);
	if (data != NULL && norder == 1) {
		loop_post(loop, fd);	/* again, behind the others */
		loop_yield(loop);
		loop_stop(loop);
	}
	if (norder == stop_after)
		loop_stop(loop);
}

/* Three idle pipes, registered (yielder: the first run yields): read ends
 * in rd, write ends in wr, each posted in that order. */
static void
posted_pipes(struct loop *loop, int rd[3], int wr[3], bool yielder)
{
	norder = 0;
	for (int i = 0; i < 3; i++) {
		int p[2];

		cr_assert_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
		rd[i] = p[0];
		wr[i] = p[1];
		cr_assert_eq(loop_add(loop, p[0], EPOLLIN, on_ordered,
		    yielder ? (void *)loop : NULL), 0);
		loop_post(loop, p[0]);
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

/* A posted run that yields: the fds not run yet go first next turn, before
 * the one that posted itself again (round-robin: no one starves). */
Test(loop, yield_leaves_the_rest_first_next_turn)
{
	struct loop *loop = loop_create(1024);
	int rd[3], wr[3];

	cr_assert_not_null(loop);
	posted_pipes(loop, rd, wr, true);
	stop_after = 4;
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(norder, 1);
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(norder, 4, "the others did not run in the next turn");
	cr_assert_eq(order[0], rd[0] * 2);
	cr_assert_eq(order[1], rd[1] * 2);
	cr_assert_eq(order[2], rd[2] * 2);
	cr_assert_eq(order[3], rd[0] * 2, "the yielder did not go last");
	loop_free(loop);
	close_pipes(rd, wr);
}

/* An event for a posted fd runs its handler and leaves it in its place. */
Test(loop, event_for_a_posted_fd_keeps_its_place)
{
	struct loop *loop = loop_create(1024);
	int rd[3], wr[3];

	cr_assert_not_null(loop);
	posted_pipes(loop, rd, wr, false);
	cr_assert_eq(write(wr[1], "x", 1), 1);
	stop_after = 4;
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(norder, 4);
	cr_assert_eq(order[0], rd[1] * 2 + 1, "the event did not run first");
	cr_assert_eq(order[1], rd[0] * 2);
	cr_assert_eq(order[2], rd[1] * 2, "the event took it off the list");
	cr_assert_eq(order[3], rd[2] * 2);
	loop_free(loop);
	close_pipes(rd, wr);
}

static int lone_calls;

static void
on_lone(struct loop *loop, int fd, uint32_t events, void *data)
{
	(void)fd;
	(void)events;
	(void)data;
	lone_calls++;
	loop_stop(loop);	/* the turn still runs to its end */
}

/* Alone in its turn, a posted fd that is also reported runs once: the
 * event's run covers the post (no second run, no extra syscalls). */
Test(loop, lone_posted_fd_with_an_event_runs_once)
{
	struct loop *loop = loop_create(1024);
	int fds[2];

	cr_assert_not_null(loop);
	make_readable_pipe(fds);
	cr_assert_eq(loop_add(loop, fds[0], EPOLLIN, on_lone, NULL), 0);
	loop_post(loop, fds[0]);
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(lone_calls, 1, "ran %d times in one turn", lone_calls);
	cr_assert_not(loop_crowded(loop), "one fd made a crowded turn");
	loop_free(loop);
	close(fds[0]);
	close(fds[1]);
}
