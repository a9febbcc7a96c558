/*
 * master.c — workers = N: the master process. It holds every listening
 * socket (bound or inherited by cycle_listen, as a single process would),
 * forks N workers that each run worker_run on their own loop, and does no
 * client I/O itself.
 *
 * The workers share each listening socket and wait on it with
 * EPOLLEXCLUSIVE: the kernel wakes one of them per connection. As long as
 * the master holds a socket, its queue lives, whichever workers come and
 * go: that is what makes replacing them safe.
 *
 * Supervision (the processes: forking, replacing the dead, killing the
 * wedged) is supervise.c's.
 *
 * Reload (SIGHUP): cycle_reconfigure commits the new configuration or
 * changes nothing; then a new generation of workers starts with it, and the
 * old ones are told to stop (SIGTERM): they stop accepting, take what they
 * have room for of what was queued, leave the rest to the new ones, and
 * finish their connections, up to shutdown_timeout. The sockets stay open
 * throughout: nobody is refused.
 *
 * Stop (SIGTERM, SIGINT): block new handshakes on every socket, close the
 * master's copies, tell every worker to stop, and exit once the last one
 * has; the same signal again makes them close at once.
 */
#include "master.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "counters.h"
#include "probe_log.h"
#include "cycle.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "sandbox.h"
#include "signals.h"
#include "supervise.h"
#include "upgrade.h"
#include "worker.h"

static struct loop *loop;
static bool stopping;

/* Told to stop, and the last worker gone: the master's loop ends. */
static void
master_check_done(void)
{
	if (stopping && supervise_alive() == 0)
		loop_stop(loop);
}

static void
master_stop(int signo)
{
	const char *name = signo == SIGINT ? "SIGINT" : "SIGTERM";

	if (stopping) {
		log_info("%s again: workers close their connections now",
		    name);
		supervise_signal(SIGTERM, false, true, 0);
		return;
	}
	stopping = true;
	notify_stopping();
	upgrade_abandon();
	/* Not one systemd holds: its queue waits for the next start. */
	for (struct listener *l = cycle_listeners(); l != NULL; l = l->next)
		if (!l->shared)
			listener_block(l);
	cycle_unlisten();
	supervise_stop();
	log_info("%s: shutting down, waiting for %u worker%s", name,
	    supervise_alive(), supervise_alive() == 1 ? "" : "s");
	supervise_signal(SIGTERM, false, false,
	    cycle_config()->shutdown_timeout);
	master_check_done();
}

static void
master_reload(void)
{
	uint64_t timeout = cycle_config()->shutdown_timeout;
	unsigned old = supervise_alive();

	if (!cycle_reconfigure(NULL))
		return;
	supervise_start();
	supervise_signal(SIGTERM, true, false, timeout);
	log_info("configuration reloaded: %u new worker%s, %u finishing",
	    supervise_generation_size(), supervise_generation_size() == 1 ?
	    "" : "s", old);
}

/* The new binary is serving: let it have everything. */
static void
master_handed_over(void)
{
	stopping = true;
	/* Shared: the new master keeps them, Unix sockets' files too. */
	for (struct listener *l = cycle_listeners(); l != NULL; l = l->next)
		l->shared = true;
	cycle_unlisten();
	supervise_stop();
	supervise_signal(SIGTERM, false, false,
	    cycle_config()->shutdown_timeout);
	master_check_done();
}

static void
master_on_signal(int signo)
{
	switch (signo) {
	case SIGTERM:
	case SIGINT:
		master_stop(signo);
		break;
	case SIGHUP:
		if (stopping)
			break;
		notify_reloading();
		master_reload();
		notify_ready();
		break;
	case SIGUSR1:
		cycle_reopen_logs();
		supervise_signal(SIGUSR1, false, false, 0);
		break;
	case SIGUSR2:
		if (!stopping)
			upgrade_start(loop, cycle_listeners(),
			    master_handed_over);
		break;
	case SIGCHLD:
		supervise_reap();
		master_check_done();
		break;
	}
}

static void
master_before_wait(struct loop *lp)
{
	(void)lp;
	sandbox_report();
}

int
master_run(const struct config *c, cycle_reload_fn *reload,
    worker_ready_fn *ready)
{
	struct counters t;
	int status = 0;

	cycle_adopt(c, reload);
	loop = loop_create(64);
	if (loop == NULL || signals_start(loop, master_on_signal) == -1) {
		log_error("cannot start: %s", strerror(errno));
		cycle_unlisten();
		loop_free(loop);
		return 1;
	}
	supervise_init(loop);
	for (struct listener *l = cycle_listeners(); l != NULL; l = l->next)
		log_info("listening on %s", l->name);
	if (c->sandbox) {
		char err[256];

		if (sandbox_enter(true, err, sizeof(err)) == -1) {
			log_error("%s", err);
			cycle_unlisten();
			signals_stop(loop);
			loop_free(loop);
			return 1;
		}
		loop_before_wait(loop, master_before_wait);
	}
	supervise_start();
	log_info("started %u worker%s", supervise_generation_size(),
	    supervise_generation_size() == 1 ? "" : "s");
	if (ready != NULL)
		ready();
	if (loop_run(loop) == -1) {
		log_error("epoll_wait: %s", strerror(errno));
		status = 1;
	}
	sandbox_report();
	counters_total(&t);
	worker_log_summary(&t);
	cycle_unlisten();
	signals_stop(loop);
	supervise_fini();
	loop_free(loop);
	loop = NULL;
	counters_unshare();
	probe_log_unshare();
	return status;
}
