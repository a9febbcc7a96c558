/*
 * server.c — the daemon between start-up and exit.
 *
 * Stop (SIGTERM, SIGINT): drain and close the listeners (the clients the
 * kernel had queued are taken, not reset), let every connection finish
 * (draining ones flush all they owe), close what is left when
 * shutdown_timeout expires; a second stop signal closes everything at once.
 * Reload (SIGHUP): read the configuration again and apply it whole, or log
 * why not and keep the running one: new listeners are bound before anything
 * changes, and established connections are never dropped.
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "access.h"
#include "acl.h"
#include "conn.h"
#include "counters.h"
#include "http.h"
#include "inherit.h"
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
#define SERVER_FDS_RESERVED	(CONFIG_LISTEN_MAX + 48)
#define SERVER_SETSIZE_MAX	(1048576 + SERVER_FDS_RESERVED)

static struct config current;
static struct listener *listeners;
static struct loop *loop;
static server_reload_fn *reload_config;
static bool stopping;
static uint64_t reloads_ok, reloads_failed;
static struct loop_timer shutdown_timer;
static unsigned worker;		/* this worker's number; 0: not a worker */

static struct conn_config
conn_config_of(const struct config *c)
{
	struct conn_config cc = {
		.max_connections = c->max_connections,
		.max_connections_per_ip = c->max_connections_per_ip,
		.rules = c->rules,
		.nrules = c->nrules,
		.backlog_high = c->backlog_high,
		.backlog_low = c->backlog_low,
		.header_timeout = c->header_timeout,
		.idle_timeout = c->idle_timeout,
		.drain_timeout = c->drain_timeout,
	};

	return cc;
}

static void
listener_free(struct listener *l)
{
	counters_cell_free(l->accepted);
	free(l);
}

/* Close every listener of *list; drain: take their queued clients first
 * (a running daemon that stops listening). */
static void
listeners_close(struct listener **list, bool drain)
{
	while (*list != NULL) {
		struct listener *l = *list;

		*list = l->next;
		if (drain)
			listener_drain(l);
		else
			listener_close(l);
		listener_free(l);
	}
}

/* Open a listener for each address of c that list lacks, onto the end of
 * *added: in the configuration's order. */
static int
listeners_open_new(const struct config *c, struct listener *list,
    struct listener **added, char *err, size_t errlen)
{
	while (*added != NULL)
		added = &(*added)->next;
	for (unsigned i = 0; i < c->nlisten; i++) {
		const struct addr *a = &c->listen[i].addr;
		struct listener *l;
		int fd;

		for (l = list; l != NULL && !listener_is(l, a);
		    l = l->next)
			;
		if (l != NULL)
			continue;
		l = malloc(sizeof(*l));
		if (l == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		fd = inherit_claim(a);
		if ((fd != -1 ? listener_adopt(l, fd, c->listen[i].options, err,
		    errlen) : listener_open(l, a, c->listen[i].options,
		    (int)c->listen_backlog, err, errlen)) == -1) {
			free(l);
			return -1;
		}
		l->addr = *a;		/* a reload finds it by this */
		l->accepted = counters_cell();
		l->next = NULL;
		*added = l;
		added = &l->next;
	}
	return 0;
}

int
server_listen(const struct config *c, char *err, size_t errlen)
{
	struct listener *added = NULL;

	if (listeners_open_new(c, NULL, &added, err, errlen) == -1 ||
	    inherit_check(err, errlen) == -1) {
		listeners_close(&added, false);
		return -1;
	}
	listeners = added;
	return 0;
}

void
server_unlisten(void)
{
	listeners_close(&listeners, false);
	listener_fini();
}

/*
 * Raise the soft open-file limit as far as the hard one allows, and size the
 * loop for it: tables are mapped lazily, so unused slots cost nothing.
 */
static int
server_setsize(unsigned max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections + SERVER_FDS_RESERVED;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max < SERVER_SETSIZE_MAX ? rl.rlim_max :
		    SERVER_SETSIZE_MAX;
		if (rl.rlim_cur < cur || setrlimit(RLIMIT_NOFILE, &rl) == -1)
			rl.rlim_cur = cur;
	}
	if (rl.rlim_cur < want)
		log_warnx("max_connections %u needs %llu open files, the limit "
		    "is %llu: connections past that are refused",
		    max_connections, (unsigned long long)want,
		    (unsigned long long)rl.rlim_cur);
	return rl.rlim_cur < SERVER_SETSIZE_MAX ? (int)rl.rlim_cur :
	    SERVER_SETSIZE_MAX;
}

/* Who takes a listener's sockets, as its options say. */
static listener_accept_fn *
server_acceptor(unsigned options)
{
	return options & LISTEN_METRICS ? http_accept : conn_accept;
}

static void
server_render_metrics(FILE *out)
{
	struct counters t;
	struct metrics_server ms = { listeners, &t };

	counters_total(&t);
	metrics_write(out, &ms);
}

/* Shutting down, the last connection to close ends the loop. */
static void
server_on_conn_close(void)
{
	if (stopping && conn_count() == 0)
		loop_stop(loop);
}

static const char *
plural(unsigned n)
{
	return n == 1 ? "" : "s";
}

static void
server_on_shutdown_timeout(struct loop *lp, struct loop_timer *timer)
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
server_stop(const char *why)
{
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
	listeners_close(&listeners, true);
	if (conn_count() == 0) {
		log_info("%s: shutting down", why);
		loop_stop(loop);
		return;
	}
	log_info("%s: shutting down, waiting up to %s for %u connection%s",
	    why, format_duration(current.shutdown_timeout, t, sizeof(t)),
	    conn_count(), plural(conn_count()));
	shutdown_timer.fn = server_on_shutdown_timeout;
	loop_timer_set(loop, &shutdown_timer, current.shutdown_timeout);
}

/* The new binary serves (upgrade.h): it has the sockets now. */
static void
server_handed_over(void)
{
	for (struct listener *l = listeners; l != NULL; l = l->next)
		l->shared = true;
	server_stop("upgrade");
}

static void
server_keep_string(enum config_key key, char *next, const char *now,
    size_t size)
{
	if (strcmp(next, now) == 0)
		return;
	log_warnx("reload: %s changes only on restart", config_key_name(key));
	snprintf(next, size, "%s", now);
}

/* Keys that only a restart can change: warn and keep the running value. */
static void
server_keep_static(struct config *next)
{
	if (next->daemonize != current.daemonize) {
		log_warnx("reload: daemonize changes only on restart");
		next->daemonize = current.daemonize;
	}
	if ((config_workers(next) > 1) != (config_workers(&current) > 1)) {
		log_warnx("reload: workers changes between 1 and more only "
		    "on restart");
		next->workers = current.workers;
	}
	if (next->sandbox != current.sandbox) {
		log_warnx("reload: sandbox changes only on restart");
		next->sandbox = current.sandbox;
	}
	server_keep_string(KEY_PIDFILE, next->pidfile, current.pidfile,
	    sizeof(next->pidfile));
	server_keep_string(KEY_USER, next->user, current.user,
	    sizeof(next->user));
	server_keep_string(KEY_GROUP, next->group, current.group,
	    sizeof(next->group));
}

/*
 * Switch to next's log targets where they differ: both, or neither (the
 * access log goes back to the running target if the error log fails).
 */
static int
server_reopen_logs(const struct config *next, char *err, size_t errlen)
{
	char undo[256];
	bool access = strcmp(next->access_log, current.access_log) != 0;

	if (access && access_open(next->access_log, err, errlen) == -1)
		return -1;
	if (strcmp(next->log_file, current.log_file) != 0 &&
	    log_open(next->log_file, err, errlen) == -1) {
		if (access && access_open(current.access_log, undo,
		    sizeof(undo)) == -1)
			log_warnx("%s", undo);
		return -1;
	}
	return 0;
}

/*
 * Read the configuration again and commit it whole: listeners, logs and
 * keys, or none of them. In the master, a listener that goes is blocked
 * and closed (the old workers take its queue, see master.c) and a new one
 * is only bound: the next workers watch it.
 */
bool
server_reconfigure(void)
{
	struct config *next = malloc(sizeof(*next));
	struct listener *added = NULL, **lp;
	bool master = loop == NULL;
	char err[1024];

	log_info("SIGHUP: reloading the configuration");
	if (next == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (next == NULL || reload_config(next, err, sizeof(err)) == -1 ||
	    listeners_open_new(next, listeners, &added, err,
	    sizeof(err)) == -1 || server_reopen_logs(next, err,
	    sizeof(err)) == -1) {
		log_warnx("reload failed: %s; keeping the running "
		    "configuration", err);
		counters_reloads(reloads_ok, ++reloads_failed);
		listeners_close(&added, false);
		free(next);
		return false;
	}
	server_keep_static(next);

	/* Committed: nothing below can fail. */
	for (lp = &listeners; *lp != NULL;) {
		struct listener *l = *lp;
		unsigned i;

		for (i = 0; i < next->nlisten; i++)
			if (listener_is(l, &next->listen[i].addr))
				break;
		if (i < next->nlisten) {
			/* Kept: its next clients get its new options. */
			l->options = next->listen[i].options;
			l->on_accept = server_acceptor(l->options);
			lp = &l->next;
			continue;
		}
		log_info("no longer listening on %s", l->name);
		*lp = l->next;
		l->next = NULL;
		if (master)
			listener_block(l);
		listeners_close(&l, !master);
	}
	for (*lp = added; *lp != NULL;) {
		struct listener *l = *lp;

		if (!master && listener_start(l, loop,
		    server_acceptor(l->options), false) == -1) {
			log_warn("cannot watch %s", l->name);
			*lp = l->next;
			l->next = NULL;
			listeners_close(&l, false);
			continue;
		}
		log_info("listening on %s", l->name);
		lp = &l->next;
	}
	log_level = next->log_level;
	current = *next;
	free(next);
	counters_reloads(++reloads_ok, reloads_failed);
	return true;
}

static void
server_reload(void)
{
	struct conn_config cc;

	if (!server_reconfigure())
		return;
	cc = conn_config_of(&current);
	conn_configure(&cc);
	http_configure(current.header_timeout);
	log_info("configuration reloaded");
}

static void
server_on_signal(int signo)
{
	char err[512], name[16];

	/* A worker stops when the master says (SIGTERM); the terminal's
	 * SIGINT and SIGHUP reach the whole process group, and are the
	 * master's to act on. */
	if (worker != 0 && (signo == SIGINT || signo == SIGHUP))
		return;
	switch (signo) {
	case SIGTERM:
	case SIGINT:
		server_stop(signal_name(signo, name, sizeof(name)));
		break;
	case SIGHUP:
		if (stopping)
			break;
		notify_reloading();
		server_reload();
		notify_ready();
		break;
	case SIGUSR2:
		if (stopping || worker != 0)
			break;
		/* The filter stays on across exec: the new binary could not
		 * even load. A master may exec; a worker never does. */
		if (current.sandbox)
			log_warnx("SIGUSR2: upgrade refused: with sandbox = yes "
			    "a single process cannot exec (workers >= 2 can, "
			    "from the master)");
		else
			upgrade_start(loop, listeners, server_handed_over);
		break;
	case SIGCHLD:
		upgrade_reap();
		break;
	case SIGUSR1:
		if (log_reopen(err, sizeof(err)) == -1 ||
		    access_reopen(err, sizeof(err)) == -1)
			log_warnx("%s", err);
		else
			log_info("logs reopened");
		break;
	}
}

/*
 * A worker near max_connections stops watching the listeners, so that the
 * kernel wakes the others for the next clients (EPOLLEXCLUSIVE wakes the
 * waiter that slept last, which would otherwise fill up first while the
 * others have room), and watches them again once it has room for two
 * turns' worth. When every worker is full, clients wait in the kernel's queue, as
 * with HAProxy's maxconn, rather than being refused. The margin is what a
 * turn may accept: a batch per listener.
 */
static void
server_step_aside(void)
{
	static bool aside;
	unsigned margin = 0, max = current.max_connections, open = conn_count();

	for (struct listener *l = listeners; l != NULL; l = l->next)
		margin += LISTENER_BATCH;
	if (margin > max / 8)
		margin = max / 8;
	if (!aside && open + margin >= max) {
		log_debug("%u connections open: no longer accepting", open);
		for (struct listener *l = listeners; l != NULL; l = l->next)
			loop_del_shared(loop, l->fd);
		aside = true;
	} else if (aside && open + 2 * margin < max) {
		for (struct listener *l = listeners; l != NULL; l = l->next)
			if (listener_start(l, loop, l->on_accept, true) == -1)
				log_warn("cannot watch %s", l->name);
		log_debug("%u connections open: accepting again", open);
		aside = false;
	}
}

static void
server_before_wait(struct loop *lp)
{
	(void)lp;
	sandbox_report();
	counters_publish();
	if (worker != 0 && !stopping)
		server_step_aside();
}

void
server_log_summary(const struct counters *t)
{
	const struct conn_stats *cs = &t->conn;
	const struct record_stats *rs = &t->record;
	char ended[256] = "";
	size_t n = 0;

	for (int i = 0; i < END_COUNT && n < sizeof(ended); i++)
		if (rs->ended[i] != 0)
			n += (size_t)snprintf(ended + n, sizeof(ended) - n,
			    "%s%s %llu", n > 0 ? ", " : "", record_end_names[i],
			    (unsigned long long)rs->ended[i]);
	log_info("exiting: connections served %llu (%s), refused %llu; bytes "
	    "in %llu, out %llu", (unsigned long long)cs->accepted,
	    n > 0 ? ended : "none closed",
	    (unsigned long long)(cs->refused + t->listener.refused +
	    t->acl.denied + t->acl.per_ip),
	    (unsigned long long)cs->bytes_in,
	    (unsigned long long)cs->bytes_out);
}

void
server_adopt(const struct config *c, server_reload_fn *reload)
{
	current = *c;
	reload_config = reload;
}

const struct config *
server_config(void)
{
	return &current;
}

struct listener *
server_listeners(void)
{
	return listeners;
}

void
server_become_worker(unsigned number)
{
	char tag[32];

	worker = number;
	snprintf(tag, sizeof(tag), "worker %u", number);
	log_tag(tag);
	/* The master owns the sockets: whether one goes away is its call. */
	for (struct listener *l = listeners; l != NULL; l = l->next)
		l->shared = true;
}

int
server_run(const struct config *c, server_reload_fn *reload,
    server_ready_fn *ready)
{
	struct conn_config cc = conn_config_of(c);
	struct counters t;
	int status = 0;

	server_adopt(c, reload);
	loop = loop_create(server_setsize(c->max_connections));
	if (loop == NULL) {
		log_error("cannot create the event loop: %s", strerror(errno));
		server_unlisten();
		return 1;
	}
	metrics_init();
	http_init(loop, server_render_metrics);
	http_configure(c->header_timeout);
	if (conn_init(loop, &cc, server_on_conn_close) == -1 ||
	    signals_start(loop, server_on_signal) == -1) {
		log_error("cannot start: %s", strerror(errno));
		status = 1;
		goto out;
	}
	for (struct listener *l = listeners; l != NULL; l = l->next) {
		if (listener_start(l, loop, server_acceptor(l->options),
		    worker != 0) == -1) {
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
	loop_before_wait(loop, server_before_wait);
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
	server_log_summary(&t);
	server_unlisten();
	signals_stop(loop);
	loop_timer_cancel(loop, &shutdown_timer);
	conn_fini();
	loop_free(loop);
	loop = NULL;
	return status;
}
