/*
 * master.c — workers = N: the master process. It holds every listening
 * socket (bound or inherited by running_listen, as a single process would),
 * forks N workers that each run server_run on their own loop, and does no
 * client I/O itself.
 *
 * The workers share each listening socket and wait on it with
 * EPOLLEXCLUSIVE: the kernel wakes one of them per connection. As long as
 * the master holds a socket, its queue lives, whichever workers come and
 * go: that is what makes replacing them safe.
 *
 * Supervision: a worker that dies unasked is logged with its status and
 * replaced at once; one that dies within RESPAWN_QUICK_MS of its start is
 * replaced after a delay that doubles each time, up to RESPAWN_DELAY_MAX_MS
 * (a worker that crashes on start must not become a fork loop).
 *
 * Reload (SIGHUP): running_reconfigure commits the new configuration or
 * changes nothing; then a new generation of workers starts with it, and the
 * old ones are told to stop (SIGTERM): they stop accepting, take what was
 * already queued for them, and finish their connections, up to
 * shutdown_timeout. The sockets stay open throughout: nobody is refused.
 *
 * Stop (SIGTERM, SIGINT): block new handshakes on every socket, close the
 * master's copies, tell every worker to stop, and exit once the last one
 * has; the same signal again makes them close at once.
 */
#include "master.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "access.h"
#include "counters.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "pidfile.h"
#include "running.h"
#include "sandbox.h"
#include "server.h"
#include "signals.h"
#include "upgrade.h"

#define RESPAWN_QUICK_MS	1000	/* died younger than this: at once */
#define RESPAWN_DELAY_MS	100	/* the first delay after such deaths */
#define RESPAWN_DELAY_MAX_MS	10000
#define KILL_GRACE_MS		5000	/* past shutdown_timeout: SIGKILL */

/* A worker process, alive, or a number waiting to be respawned. */
struct worker {
	pid_t pid;		/* 0: the entry is free */
	unsigned number;	/* 1..N in its generation, for the logs */
	unsigned generation;	/* reloads before it started */
	uint64_t started;	/* loop_now() */
	bool stopping;		/* told to stop: its exit is expected */
};

/* The current generation's numbers: when each respawns, and why late. */
struct seat {
	struct loop_timer respawn;	/* armed while waiting to respawn */
	unsigned quick_deaths;		/* in a row, for the delay */
};

static struct worker workers[COUNTERS_SLOTS];	/* index: counters slot */
static struct seat seats[CONFIG_WORKERS_MAX + 1];	/* by number */
static struct loop *loop;
static unsigned generation, nworkers;
static bool stopping;
static pid_t master_pid;
static struct loop_timer kill_timer;

static void master_on_respawn(struct loop *lp, struct loop_timer *timer);

static unsigned
alive(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < COUNTERS_SLOTS; i++)
		n += workers[i].pid != 0;
	return n;
}

/*
 * Send signo to the workers (only the old generations': old_only). A
 * second SIGTERM makes a worker close its connections at once, so one
 * already stopping gets it only when that is meant (again).
 */
static void
signal_workers(int signo, bool old_only, bool again)
{
	for (unsigned i = 0; i < COUNTERS_SLOTS; i++) {
		struct worker *w = &workers[i];

		if (w->pid == 0 || (old_only && w->generation == generation) ||
		    (signo == SIGTERM && w->stopping && !again))
			continue;
		w->stopping |= signo == SIGTERM;
		kill(w->pid, signo);
	}
}

/* In the child: shed the master's state and serve. Never returns. */
static void __attribute__((noreturn))
worker_main(unsigned slot, unsigned number)
{
	static struct config c;

	/* The master gone, nobody would stop or replace this worker. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
	    getppid() != master_pid)
		_exit(1);
	signals_stop(loop);
	loop_free(loop);
	pidfile_forget();
	upgrade_forget();
	unsetenv("NOTIFY_SOCKET");	/* the master speaks to systemd */
	counters_attach(slot);
	server_become_worker(number);
	c = *running_config();
	int rc = server_run(&c, NULL, NULL);
	access_close();
	log_close();
	exit(rc);
}

static int
master_spawn(unsigned number)
{
	unsigned i;
	pid_t pid;

	for (i = 0; i < COUNTERS_SLOTS && workers[i].pid != 0; i++)
		;
	if (i == COUNTERS_SLOTS) {
		log_warnx("cannot start worker %u: %d workers are still "
		    "finishing", number, COUNTERS_SLOTS);
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		log_warn("cannot start worker %u: fork", number);
		return -1;
	}
	if (pid == 0)
		worker_main(i, number);
	workers[i] = (struct worker){ pid, number, generation,
	    loop_now(loop), false };
	log_debug("worker %u is pid %ld", number, (long)pid);
	return 0;
}

/* Start number now, or after a delay if it keeps dying at once. */
static void
master_respawn(unsigned number, uint64_t lived, const char *why)
{
	struct seat *s = &seats[number];
	uint64_t delay = 0;

	/* The first death is replaced at once; only a replacement that
	 * dies at once again waits, longer each time. */
	s->quick_deaths = lived < RESPAWN_QUICK_MS ? s->quick_deaths + 1 : 0;
	if (s->quick_deaths > 1) {
		delay = RESPAWN_DELAY_MS << (s->quick_deaths < 9 ?
		    s->quick_deaths - 2 : 7);
		if (delay > RESPAWN_DELAY_MAX_MS)
			delay = RESPAWN_DELAY_MAX_MS;
	}
	if (delay == 0)
		log_warnx("worker %u %s; starting another now", number, why);
	else
		log_warnx("worker %u %s; starting another in %llu ms", number,
		    why, (unsigned long long)delay);
	if (delay == 0 && master_spawn(number) == 0)
		return;
	s->respawn.fn = master_on_respawn;
	s->respawn.data = s;
	loop_timer_set(loop, &s->respawn, delay > 0 ? delay :
	    RESPAWN_DELAY_MS);
}

static void
master_on_respawn(struct loop *lp, struct loop_timer *timer)
{
	unsigned number = (unsigned)((struct seat *)timer->data - seats);

	(void)lp;
	if (master_spawn(number) == -1)
		loop_timer_set(loop, timer, RESPAWN_DELAY_MAX_MS);
}

static void
describe(pid_t pid, int status, char *buf, size_t buflen)
{
	if (WIFSIGNALED(status))
		snprintf(buf, buflen, "(pid %ld) was killed by signal %d "
		    "(%s)", (long)pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(buf, buflen, "(pid %ld) exited with status %d",
		    (long)pid, WEXITSTATUS(status));
}

static void
master_reap(void)
{
	char why[128];
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		unsigned i;

		if (upgrade_reaped(pid, status))
			continue;
		for (i = 0; i < COUNTERS_SLOTS && workers[i].pid != pid; i++)
			;
		if (i == COUNTERS_SLOTS)
			continue;
		struct worker w = workers[i];

		workers[i].pid = 0;
		counters_retire(i);
		describe(pid, status, why, sizeof(why));
		if (!w.stopping && !stopping && w.generation == generation)
			master_respawn(w.number, loop_now(loop) - w.started,
			    why);
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			log_debug("worker %u %s", w.number, why);
		else	/* a crash while finishing costs its clients */
			log_warnx("worker %u %s while finishing", w.number,
			    why);
	}
	if (stopping && alive() == 0)
		loop_stop(loop);
}

static void
master_on_kill_timer(struct loop *lp, struct loop_timer *timer)
{
	(void)lp;
	(void)timer;
	log_warnx("%u worker%s still running past shutdown_timeout: "
	    "killing", alive(), alive() == 1 ? "" : "s");
	signal_workers(SIGKILL, false, true);
}

static void
master_stop(int signo)
{
	const char *name = signo == SIGINT ? "SIGINT" : "SIGTERM";

	if (stopping) {
		log_info("%s again: workers close their connections now",
		    name);
		signal_workers(SIGTERM, false, true);
		return;
	}
	stopping = true;
	notify_stopping();
	upgrade_abandon();
	for (struct listener *l = running_listeners(); l != NULL; l = l->next)
		listener_block(l);
	running_unlisten(false);
	for (unsigned n = 1; n <= CONFIG_WORKERS_MAX; n++)
		loop_timer_cancel(loop, &seats[n].respawn);
	log_info("%s: shutting down, waiting for %u worker%s", name, alive(),
	    alive() == 1 ? "" : "s");
	signal_workers(SIGTERM, false, false);
	kill_timer.fn = master_on_kill_timer;
	loop_timer_set(loop, &kill_timer, running_config()->shutdown_timeout +
	    KILL_GRACE_MS);
	if (alive() == 0)
		loop_stop(loop);
}

/* Start a generation of workers with the running configuration. */
static void
master_start_generation(void)
{
	nworkers = config_workers(running_config());
	for (unsigned n = 1; n <= CONFIG_WORKERS_MAX; n++) {
		loop_timer_cancel(loop, &seats[n].respawn);
		seats[n].quick_deaths = 0;
	}
	for (unsigned n = 1; n <= nworkers; n++)
		if (master_spawn(n) == -1)
			master_respawn(n, 0, "could not start");
}

static void
master_reload(void)
{
	unsigned old = alive();

	if (!running_reconfigure(NULL))
		return;
	generation++;
	master_start_generation();
	signal_workers(SIGTERM, true, false);
	log_info("configuration reloaded: %u new worker%s, %u finishing",
	    nworkers, nworkers == 1 ? "" : "s", old);
}

/* The new binary is serving: let it have everything. */
static void
master_handed_over(void)
{
	stopping = true;
	/* Shared: the new master keeps them, Unix sockets' files too. */
	for (struct listener *l = running_listeners(); l != NULL; l = l->next)
		l->shared = true;
	running_unlisten(false);
	for (unsigned n = 1; n <= CONFIG_WORKERS_MAX; n++)
		loop_timer_cancel(loop, &seats[n].respawn);
	signal_workers(SIGTERM, false, false);
	if (alive() == 0)
		loop_stop(loop);
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
		running_reopen_logs();
		signal_workers(SIGUSR1, false, false);
		break;
	case SIGUSR2:
		if (!stopping)
			upgrade_start(loop, running_listeners(),
			    master_handed_over);
		break;
	case SIGCHLD:
		master_reap();
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
master_run(const struct config *c, running_reload_fn *reload,
    server_ready_fn *ready)
{
	struct counters t;
	int status = 0;

	running_adopt(c, reload);
	master_pid = getpid();
	loop = loop_create(64);
	if (loop == NULL || signals_start(loop, master_on_signal) == -1) {
		log_error("cannot start: %s", strerror(errno));
		running_unlisten(false);
		loop_free(loop);
		return 1;
	}
	for (struct listener *l = running_listeners(); l != NULL; l = l->next)
		log_info("listening on %s", l->name);
	if (c->sandbox) {
		char err[256];

		if (sandbox_enter(true, err, sizeof(err)) == -1) {
			log_error("%s", err);
			running_unlisten(false);
			signals_stop(loop);
			loop_free(loop);
			return 1;
		}
		loop_before_wait(loop, master_before_wait);
	}
	master_start_generation();
	log_info("started %u worker%s", nworkers, nworkers == 1 ? "" : "s");
	if (ready != NULL)
		ready();
	if (loop_run(loop) == -1) {
		log_error("epoll_wait: %s", strerror(errno));
		status = 1;
	}
	sandbox_report();
	counters_total(&t);
	server_log_summary(&t);
	running_unlisten(false);
	signals_stop(loop);
	loop_timer_cancel(loop, &kill_timer);
	loop_free(loop);
	loop = NULL;
	counters_unshare();
	return status;
}
