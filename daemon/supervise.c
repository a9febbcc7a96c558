/*
 * supervise.c — the worker processes behind supervise.h. Each lives in a
 * slot of the shared counters' (its index here), and a number of its
 * generation (seats, for the logs and the respawn delays). A worker that
 * dies unasked is logged with its status and replaced at once; one that
 * dies within RESPAWN_QUICK_MS of its start is replaced after a delay that
 * doubles each time, up to RESPAWN_DELAY_MAX_MS (a worker that crashes on
 * start must not become a fork loop).
 */
#include "supervise.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "access.h"
#include "counters.h"
#include "probe_log.h"
#include "cycle.h"
#include "log.h"
#include "loop.h"
#include "pidfile.h"
#include "signals.h"
#include "upgrade.h"
#include "worker.h"

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
	uint64_t kill_at;	/* stopping: loop_now() past which it is
				 * killed (shutdown_timeout + grace) */
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
static bool stopping;		/* no more replacements */
static pid_t master_pid;
static struct loop_timer kill_timer;

static void on_respawn(struct loop *lp, struct loop_timer *timer);
static void on_kill_timer(struct loop *lp, struct loop_timer *timer);

void
supervise_init(struct loop *lp)
{
	loop = lp;
	master_pid = getpid();
	kill_timer.fn = on_kill_timer;
}

void
supervise_fini(void)
{
	loop_timer_cancel(loop, &kill_timer);
	for (unsigned n = 1; n <= CONFIG_WORKERS_MAX; n++)
		loop_timer_cancel(loop, &seats[n].respawn);
}

unsigned
supervise_generation_size(void)
{
	return nworkers;
}

unsigned
supervise_alive(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < COUNTERS_SLOTS; i++)
		n += workers[i].pid != 0;
	return n;
}

/* Arm the kill timer for the earliest deadline of a stopping worker. */
static void
arm_kill_timer(void)
{
	uint64_t first = UINT64_MAX;

	for (unsigned i = 0; i < COUNTERS_SLOTS; i++)
		if (workers[i].pid != 0 && workers[i].stopping &&
		    workers[i].kill_at < first)
			first = workers[i].kill_at;
	if (first == UINT64_MAX)
		loop_timer_cancel(loop, &kill_timer);
	else
		loop_timer_set(loop, &kill_timer, first > loop_now(loop) ?
		    first - loop_now(loop) : 0);
}

/* A wedged worker must not hold its counters slot for good. */
void
supervise_signal(int signo, bool old_only, bool again, uint64_t timeout)
{
	for (unsigned i = 0; i < COUNTERS_SLOTS; i++) {
		struct worker *w = &workers[i];

		if (w->pid == 0 || (old_only && w->generation == generation) ||
		    (signo == SIGTERM && w->stopping && !again))
			continue;
		if (signo == SIGTERM && !w->stopping)
			w->kill_at = loop_now(loop) + timeout + KILL_GRACE_MS;
		w->stopping |= signo == SIGTERM;
		kill(w->pid, signo);
	}
	arm_kill_timer();
}

/* In the child: shed the master's state and serve. Never returns. */
static void __attribute__((noreturn))
child_main(unsigned slot, unsigned number)
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
	probe_log_attach(slot);
	worker_become(number);
	c = *cycle_config();
	int rc = worker_run(&c, NULL, NULL);
	access_close();
	log_close();
	exit(rc);
}

static int
spawn(unsigned number)
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
		child_main(i, number);
	workers[i] = (struct worker){ .pid = pid, .number = number,
	    .generation = generation, .started = loop_now(loop) };
	log_debug("worker %u is pid %ld", number, (long)pid);
	return 0;
}

/* Start number now, or after a delay if it keeps dying at once. */
static void
respawn(unsigned number, uint64_t lived, const char *why)
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
	if (delay == 0 && spawn(number) == 0)
		return;
	s->respawn.fn = on_respawn;
	s->respawn.data = s;
	loop_timer_set(loop, &s->respawn, delay > 0 ? delay :
	    RESPAWN_DELAY_MS);
}

static void
on_respawn(struct loop *lp, struct loop_timer *timer)
{
	unsigned number = (unsigned)((struct seat *)timer->data - seats);

	(void)lp;
	if (spawn(number) == -1)
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

void
supervise_reap(void)
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
			respawn(w.number, loop_now(loop) - w.started,
			    why);
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			log_debug("worker %u %s", w.number, why);
		else	/* a crash while finishing costs its clients */
			log_warnx("worker %u %s while finishing", w.number,
			    why);
	}
}

static void
on_kill_timer(struct loop *lp, struct loop_timer *timer)
{
	(void)timer;
	for (unsigned i = 0; i < COUNTERS_SLOTS; i++) {
		struct worker *w = &workers[i];

		if (w->pid == 0 || !w->stopping || w->kill_at > loop_now(lp))
			continue;
		log_warnx("worker %u (pid %ld) still running past "
		    "shutdown_timeout: killing it", w->number, (long)w->pid);
		kill(w->pid, SIGKILL);
		w->kill_at = UINT64_MAX;	/* once */
	}
	arm_kill_timer();
}

void
supervise_start(void)
{
	if (nworkers != 0)
		generation++;
	nworkers = config_workers(cycle_config());
	for (unsigned n = 1; n <= CONFIG_WORKERS_MAX; n++) {
		loop_timer_cancel(loop, &seats[n].respawn);
		seats[n].quick_deaths = 0;
	}
	for (unsigned n = 1; n <= nworkers; n++)
		if (spawn(n) == -1)
			respawn(n, 0, "could not start");
}

void
supervise_stop(void)
{
	stopping = true;
	for (unsigned n = 1; n <= CONFIG_WORKERS_MAX; n++)
		loop_timer_cancel(loop, &seats[n].respawn);
}
