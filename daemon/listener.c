/*
 * listener.c — accepting. Each wakeup accepts what the owner has room for,
 * LISTENER_BATCH at most, then posts the listener to go on next turn:
 * accept is edge-triggered like everything else, so a queue left non-empty
 * raises no new event. With no room it accepts nothing: its owner stops
 * watching it (listener_stop) and resumes it when room comes.
 *
 * Running out of descriptors (EMFILE, ENFILE) must neither spin nor strand
 * the queued clients, who would wait for an edge that never comes. The
 * listener keeps one spare descriptor: it frees it, accepts, closes the
 * client at once (who sees the connection refused) and takes the spare
 * back, for every client queued past what fits. Any other failure (the
 * kernel out of memory, or the spare lost to another process) pauses
 * accepting, and a timer tries again: no retry helps before then.
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define LISTENER_BATCH		64	/* accepts per listener per turn */
#define LISTENER_RETRY_MS	100	/* paused: try again this often */

static int spare_fd = -1;		/* held for the out-of-fds case */
static struct listener_stats stats;
static uint64_t last_refusal_line;	/* loop ms, for log_due */
static uint64_t last_pause_line;	/* the same, for pauses */

static void listener_on_event(struct loop *loop, int fd, uint32_t events,
    void *data);
static void listener_on_retry(struct loop *loop, struct loop_timer *timer);

int
listener_start(struct listener *l, struct loop *loop,
    listener_accept_fn *on_accept, listener_room_fn *room, bool exclusive)
{
	if (spare_fd == -1)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	l->loop = loop;
	l->on_accept = on_accept;
	l->room = room;
	l->exclusive = exclusive;
	l->retry.fn = listener_on_retry;
	l->retry.data = l;
	return listener_resume(l);
}

int
listener_resume(struct listener *l)
{
	if (loop_add(l->loop, l->fd, EPOLLIN | (l->exclusive ? EPOLLEXCLUSIVE :
	    0), listener_on_event, l) == -1)
		return -1;
	l->watching = true;
	return 0;
}

void
listener_stop(struct listener *l)
{
	if (!l->watching)
		return;
	loop_timer_cancel(l->loop, &l->retry);
	loop_del_shared(l->loop, l->fd);
	l->watching = false;
}

void
listener_close(struct listener *l)
{
	if (l->fd == -1)
		return;			/* drained already */
	listener_stop(l);
	/* A pause's retry, armed while not watched (in a drain), must not
	 * fire on a closed listener. */
	if (l->loop != NULL)
		loop_timer_cancel(l->loop, &l->retry);
	close(l->fd);
	l->fd = -1;
	if (!l->shared && l->addr.ss.ss_family == AF_UNIX &&
	    unlink(((struct sockaddr_un *)&l->addr.ss)->sun_path) == -1)
		log_debug("unlink %s: %s", l->name, strerror(errno));
}

void
listener_fini(void)
{
	if (spare_fd != -1)
		close(spare_fd);
	spare_fd = -1;
}

const struct listener_stats *
listener_stats(void)
{
	return &stats;
}

/* Stop accepting until the retry timer fires. */
static void
listener_pause(struct listener *l, int err)
{
	stats.paused++;
	if (log_due(&last_pause_line))
		log_warnx("%s: accept: %s: pausing accept, retrying every "
		    "%d ms (%llu pauses so far)", l->name, strerror(err),
		    LISTENER_RETRY_MS, (unsigned long long)stats.paused);
	loop_timer_set(l->loop, &l->retry, LISTENER_RETRY_MS);
}

/*
 * Out of descriptors, with the spare in hand: refuse the first queued
 * client. The spare is reopened only after the client's descriptor is
 * closed, so that it gets that number back. Returns true if the caller may
 * go on accepting; false when the queue is empty (the next client raises an
 * edge) or accepting is paused.
 */
static bool
listener_refuse_queued(struct listener *l, int err)
{
	int fd, accept_err;

	close(spare_fd);
	fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
	accept_err = errno;
	if (fd != -1) {
		close(fd);
		stats.refused++;
		if (log_due(&last_refusal_line))
			log_warnx("%s: refusing connections: %s (%llu so far)",
			    l->name, strerror(err),
			    (unsigned long long)stats.refused);
	}
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (spare_fd == -1) {
		/* Another process took the number (ENFILE is system-wide). */
		listener_pause(l, err);
		return false;
	}
	return fd != -1 || accept_err != EAGAIN;
}

/* Accept a batch, as large as there is room for. Returns true if it was
 * spent: more may be queued. */
static bool
listener_accept(struct listener *l)
{
	unsigned room = l->room(l);

	if (room > LISTENER_BATCH)
		room = LISTENER_BATCH;
	for (unsigned i = 0; i < room; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd;

		fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			if (l->accepted != NULL)
				__atomic_fetch_add(l->accepted, 1,
				    __ATOMIC_RELAXED);
			l->on_accept(l, fd, (struct sockaddr *)&ss, len);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			return false;	/* drained: the next client raises a
					 * new edge */
		case EINTR:
		case ECONNABORTED:	/* gone before we got to it */
		case EPROTO:
		case EPERM:		/* refused by a firewall rule */
			continue;
		case EMFILE:
		case ENFILE:
			if (spare_fd != -1) {
				if (!listener_refuse_queued(l, errno))
					return false;
				continue;
			}
			/* FALLTHROUGH */
		default:	/* ENOMEM, ENOBUFS: only time helps */
			listener_pause(l, errno);
			return false;
		}
	}
	return room > 0;
}

static void
listener_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct listener *l = data;

	(void)loop;
	(void)fd;
	(void)events;
	/* A spent batch goes on next turn: edge-triggered, a queue left
	 * non-empty raises no new event. */
	if (!loop_timer_armed(&l->retry) && listener_accept(l))
		loop_post(loop, fd);
}

static void
listener_on_retry(struct loop *loop, struct loop_timer *timer)
{
	struct listener *l = timer->data;

	(void)loop;
	if (spare_fd == -1)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (listener_accept(l))
		loop_post(l->loop, l->fd);
}

void
listener_block(struct listener *l)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };

	if (l->addr.ss.ss_family != AF_UNIX &&
	    setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) == -1)
		log_warn("%s: cannot stop new handshakes", l->name);
}

void
listener_drain(struct listener *l)
{
	if (!l->shared)
		listener_block(l);
	/* Out of epoll before the last accepts: a connection arriving from
	 * now on wakes a process still serving (EPOLLEXCLUSIVE gives each
	 * arrival's wakeup to one waiter), and whatever woke this one is
	 * taken below, as far as there is room. */
	listener_stop(l);
	while (l->room != NULL && listener_accept(l))
		;
	listener_close(l);
}
