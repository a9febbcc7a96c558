/*
 * signals.c — the signalfd behind signals.h. What each signal means is the
 * server's business.
 */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

static int signal_fd = -1;
static signals_fn *signal_handler;

static void
signals_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGCHLD);
}

int
signals_block(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigset_t set;

	signals_set(&set);
	if (sigemptyset(&sa.sa_mask) == -1 ||
	    sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

static void
signals_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	(void)data;
	/* Edge-triggered: take every queued signal. */
	for (;;) {
		ssize_t n = read(fd, &si, sizeof(si));

		if (n == sizeof(si)) {
			signal_handler((int)si.ssi_signo);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN)
			log_warn("signalfd read");
		return;
	}
}

int
signals_start(struct loop *loop, signals_fn *fn)
{
	sigset_t set;

	signals_set(&set);
	signal_handler = fn;
	signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_fd == -1)
		return -1;
	if (loop_add(loop, signal_fd, EPOLLIN, signals_on_event, NULL) == -1) {
		int err = errno;

		close(signal_fd);
		signal_fd = -1;
		errno = err;
		return -1;
	}
	return 0;
}

void
signals_stop(struct loop *loop)
{
	if (signal_fd == -1)
		return;
	loop_del(loop, signal_fd);
	close(signal_fd);
	signal_fd = -1;
}
