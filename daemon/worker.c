/*
 * worker.c — one process serving, between start-up and exit: a single
 * process, or one worker of a master's.
 *
 * Stop (SIGTERM, SIGINT): drain and close the listeners (the clients the
 * kernel had queued are taken as far as there is room; on a socket the
 * process shares, the rest stay queued for whoever holds it), let every
 * connection finish
 * (draining ones flush all they owe), close what is left when
 * shutdown_timeout expires; a second stop signal closes everything at once.
 * Reload (SIGHUP): cycle_reconfigure commits the file whole or not at
 * all; the connections' limits and timeouts then follow it, and
 * established connections are never dropped.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "admit.h"
#include "conn.h"
#include "counters.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "notify.h"
#include "parse.h"
#include "sandbox.h"
#include "signals.h"
#include "upgrade.h"

/* Descriptors that are not connections: listeners, epoll, signalfd, the
 * logs, the pidfile, the spare, HTTP_CONNS_MAX metrics requests. */
#define WORKER_FDS_RESERVED	(CONFIG_LISTEN_MAX + 48)
#define WORKER_SETSIZE_MAX	(1048576 + WORKER_FDS_RESERVED)

static struct loop *loop;
static bool stopping;
static struct loop_timer shutdown_timer;
static unsigned worker;		/* this worker's number; 0: not a worker */

/* The configuration's parts that each module takes. */
static void
worker_configure(const struct config *c)
{
	struct admit_config ac = {
		.max_connections = c->max_connections,
		.max_connections_per_ip = c->max_connections_per_ip,
		.rules = c->rules,
		.nrules = c->nrules,
	};
	struct conn_config cc = {
		.backlog_high = c->backlog_high,
		.backlog_low = c->backlog_low,
		.backlog_total = c->backlog_total,
		.header_timeout = c->header_timeout,
		.idle_timeout = c->idle_timeout,
		.drain_timeout = c->drain_timeout,
	};

	admit_configure(&ac);
	conn_configure(&cc);
	http_configure(c->header_timeout);
}

int
worker_fd_limit(unsigned max_connections, char *warn, size_t warnlen)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections + WORKER_FDS_RESERVED;

	*warn = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max < WORKER_SETSIZE_MAX ? rl.rlim_max :
		    WORKER_SETSIZE_MAX;
		if (rl.rlim_cur < cur || setrlimit(RLIMIT_NOFILE, &rl) == -1)
			rl.rlim_cur = cur;
	}
	if (rl.rlim_cur < want)
		snprintf(warn, warnlen, "max_connections %u needs %llu open "
		    "files, the limit is %llu: %llu connections at most, the "
		    "next clients wait", max_connections,
		    (unsigned long long)want, (unsigned long long)rl.rlim_cur,
		    (unsigned long long)(rl.rlim_cur > WORKER_FDS_RESERVED ?
		    rl.rlim_cur - WORKER_FDS_RESERVED : 0));
	return rl.rlim_cur < WORKER_SETSIZE_MAX ? (int)rl.rlim_cur :
	    WORKER_SETSIZE_MAX;
}

/* Size the loop for the open-file limit: tables are mapped lazily, so
 * unused slots cost nothing. */
static int
worker_setsize(unsigned max_connections)
{
	char warn[256];
	int n = worker_fd_limit(max_connections, warn, sizeof(warn));

	if (*warn != '\0')
		log_warnx("%s", warn);
	return n;
}

static void
worker_render_metrics(FILE *out)
{
	struct counters t;
	struct metrics_server ms = { cycle_listeners(), &t };

	counters_total(&t);
	metrics_write(out, &ms);
}

/* Shutting down, the last connection to close ends the loop: a metrics
 * request taken from the queue is answered too, not reset. */
static void
worker_on_conn_close(void)
{
	if (stopping && conn_count() == 0 && http_count() == 0)
		loop_stop(loop);
}

static const char *
plural(unsigned n)
{
	return n == 1 ? "" : "s";
}

static void
worker_on_shutdown_timeout(struct loop *lp, struct loop_timer *timer)
{
	(void)timer;
	log_info("shutdown timeout: closing %u connection%s", conn_count(),
	    plural(conn_count()));
	conn_close_all();
	loop_stop(lp);
}

static const char *
signal_name(int signo, char *buf, size_t buflen)
{
	const char *abbrev = sigabbrev_np(signo);

	snprintf(buf, buflen, "SIG%s", abbrev != NULL ? abbrev : "?");
	return buf;
}

/* Stop taking clients and finish; why: the signal, or "upgrade". */
static void
worker_stop(const char *why)
{
	uint64_t timeout = cycle_config()->shutdown_timeout;
	char t[32];

	if (stopping) {
		log_info("%s again: closing %u connection%s now", why,
		    conn_count(), plural(conn_count()));
		conn_close_all();
		loop_stop(loop);
		return;
	}
	stopping = true;
	if (worker == 0 && strcmp(why, "upgrade") != 0)
		notify_stopping();
	cycle_drain();
	if (conn_count() == 0 && http_count() == 0) {
		log_info("%s: shutting down", why);
		loop_stop(loop);
		return;
	}
	log_info("%s: shutting down, waiting up to %s for %u connection%s",
	    why, format_duration(timeout, t, sizeof(t)), conn_count(),
	    plural(conn_count()));
	shutdown_timer.fn = worker_on_shutdown_timeout;
	loop_timer_set(loop, &shutdown_timer, timeout);
}

/* The new binary serves (upgrade.h): it has the sockets now. */
static void
worker_handed_over(void)
{
	for (struct listener *l = cycle_listeners(); l != NULL; l = l->next)
		l->shared = true;
	worker_stop("upgrade");
}

static void
worker_reload(void)
{
	if (!cycle_reconfigure(loop))
		return;
	worker_configure(cycle_config());
	log_info("configuration reloaded");
}

static void
worker_on_signal(int signo)
{
	char name[16];

	/* A worker stops when the master says (SIGTERM); the terminal's
	 * SIGINT and SIGHUP reach the whole process group, and are the
	 * master's to act on. */
	if (worker != 0 && (signo == SIGINT || signo == SIGHUP))
		return;
	switch (signo) {
	case SIGTERM:
	case SIGINT:
		worker_stop(signal_name(signo, name, sizeof(name)));
		break;
	case SIGHUP:
		if (stopping)
			break;
		notify_reloading();
		worker_reload();
		notify_ready();
		break;
	case SIGUSR2:
		if (stopping || worker != 0)
			break;
		/* The filter stays on across exec: the new binary could not
		 * even load. A master may exec; a worker never does. */
		if (cycle_config()->sandbox)
			log_warnx("SIGUSR2: upgrade refused: with sandbox = yes "
			    "a single process cannot exec (workers >= 2 can, "
			    "from the master)");
		else
			upgrade_start(loop, cycle_listeners(),
			    worker_handed_over);
		break;
	case SIGCHLD:
		upgrade_reap();
		break;
	case SIGUSR1:
		cycle_reopen_logs();
		break;
	}
}

static void
worker_before_wait(struct loop *lp)
{
	(void)lp;
	sandbox_report();
	counters_publish();
	admit_before_wait(cycle_listeners());
}

void
worker_log_summary(const struct counters *t)
{
	const struct conn_stats *cs = &t->conn;
	const struct record_stats *rs = &t->record;
	char ended[256] = "";
	uint64_t served = 0;
	size_t n = 0;

	/* Served: every connection closed, by how it ended (a client
	 * refused once its PROXY header named it is a refusal). */
	for (int i = 0; i < END_COUNT && n < sizeof(ended); i++)
		if (rs->ended[i] != 0) {
			served += rs->ended[i];
			n += (size_t)snprintf(ended + n, sizeof(ended) - n,
			    "%s%s %llu", n > 0 ? ", " : "", record_end_names[i],
			    (unsigned long long)rs->ended[i]);
		}
	log_info("exiting: connections served %llu (%s), refused %llu; bytes "
	    "in %llu, out %llu", (unsigned long long)served,
	    n > 0 ? ended : "none closed",
	    (unsigned long long)(t->listener.refused + t->admit.denied +
	    t->admit.per_ip + t->admit.fd_table),
	    (unsigned long long)cs->bytes_in,
	    (unsigned long long)cs->bytes_out);
}

void
worker_become(unsigned number)
{
	char tag[32];

	worker = number;
	/* The pid tells a finishing worker from its successor, which has
	 * the same number. */
	snprintf(tag, sizeof(tag), "worker %u (pid %ld)", number,
	    (long)getpid());
	log_tag(tag);
	/* The master owns the sockets: whether one goes away is its call. */
	for (struct listener *l = cycle_listeners(); l != NULL; l = l->next)
		l->shared = true;
}

int
worker_run(const struct config *c, cycle_reload_fn *reload,
    worker_ready_fn *ready)
{
	struct counters t;
	int status = 0, setsize;

	cycle_adopt(c, reload);
	setsize = worker_setsize(c->max_connections);
	loop = loop_create(setsize);
	if (loop == NULL) {
		log_error("cannot create the event loop: %s", strerror(errno));
		cycle_unlisten();
		return 1;
	}
	metrics_init();
	http_init(loop, worker_render_metrics, worker_on_conn_close);
	if (admit_init(loop, setsize > WORKER_FDS_RESERVED ?
	    (unsigned)(setsize - WORKER_FDS_RESERVED) : 0) == -1 ||
	    conn_init(loop, worker_on_conn_close) == -1 ||
	    signals_start(loop, worker_on_signal) == -1) {
		log_error("cannot start: %s", strerror(errno));
		status = 1;
		goto out;
	}
	worker_configure(c);
	for (struct listener *l = cycle_listeners(); l != NULL; l = l->next) {
		if (listener_start(l, loop, cycle_acceptor(l->options),
		    admit_room, worker != 0) == -1) {
			log_error("cannot watch %s: %s", l->name,
			    strerror(errno));
			status = 1;
			goto out;
		}
		if (worker == 0)
			log_info("listening on %s", l->name);
	}
	/* Started: from here on, only what serving needs. */
	if (c->sandbox) {
		char err[256];

		if (sandbox_enter(false, err, sizeof(err)) == -1) {
			log_error("%s", err);
			status = 1;
			goto out;
		}
	}
	loop_before_wait(loop, worker_before_wait);
	if (ready != NULL)
		ready();
	if (worker != 0)
		log_debug("serving");
	if (loop_run(loop) == -1) {
		log_error("epoll_wait: %s", strerror(errno));
		status = 1;
	}
out:
	conn_close_all();
	http_close_all();
	sandbox_report();
	counters_publish();
	counters_collect(&t);
	worker_log_summary(&t);
	cycle_unlisten();
	signals_stop(loop);
	loop_timer_cancel(loop, &shutdown_timer);
	conn_fini();
	admit_fini();
	loop_free(loop);
	loop = NULL;
	return status;
}
