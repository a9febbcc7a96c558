/*
 * cycle.c — what the daemon runs with: the configuration in force and
 * the listeners it names. They are bound once at start, and on SIGHUP the
 * file is read again and committed whole (listeners, logs, keys) or not at
 * all. The loop that serves them is worker.c's, or the master's.
 */
#include "cycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admit.h"
#include "conn.h"
#include "counters.h"
#include "http.h"
#include "inherit.h"
#include "log.h"
#include "sink.h"

static struct config current;
static struct listener *listeners;
static cycle_reload_fn *reload_config;
static uint64_t reloads_ok, reloads_failed;

static void
listener_free(struct listener *l)
{
	counters_cell_free(l->accepted);
	free(l);
}

/* Close every listener of *list; drain: take their queued clients first
 * (a running daemon that stops listening). */
static void
listeners_close(struct listener **list)
{
	while (*list != NULL) {
		struct listener *l = *list;

		*list = l->next;
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
		/* Under the sandbox and without root, a socket file's mode
		 * and owner can only be set at start. */
		if (fd == -1 && list != NULL && a->ss.ss_family == AF_UNIX &&
		    (c->listen[i].perms.mode != 0 || *c->listen[i].perms.owner ||
		    *c->listen[i].perms.group)) {
			snprintf(err, errlen, "listen %s: mode=, owner= and "
			    "group= are set at start: restart to add this "
			    "listener", c->listen[i].text);
			free(l);
			return -1;
		}
		if ((fd != -1 ? listener_adopt(l, fd, c->listen[i].options, err,
		    errlen) : listener_open(l, &c->listen[i],
		    (int)c->listen_backlog, err, errlen)) == -1) {
			free(l);
			return -1;
		}
		/* Never blocked nor unlinked by us: its clients wait in the
		 * queue for the next start, as socket activation promises. */
		if (fd != -1)
			l->shared = inherit_held(fd);
		l->addr = *a;		/* a reload finds it by this */
		l->accepted = counters_cell();
		l->next = NULL;
		*added = l;
		added = &l->next;
	}
	return 0;
}

int
cycle_listen(const struct config *c, char *err, size_t errlen)
{
	struct listener *added = NULL;

	if (listeners_open_new(c, NULL, &added, err, errlen) == -1 ||
	    inherit_check(err, errlen) == -1) {
		listeners_close(&added);
		return -1;
	}
	listeners = added;
	return 0;
}

void
cycle_drain(void)
{
	for (struct listener *l = listeners; l != NULL; l = l->next)
		if (l->fd != -1) {
			listener_drain(l);
			l->loop = NULL;		/* not served here any more */
		}
}

void
cycle_unlisten(void)
{
	listeners_close(&listeners);
	listener_fini();
}

/* Who takes a listener's sockets, as its options say. */
listener_accept_fn *
cycle_acceptor(unsigned options)
{
	return options & LISTEN_METRICS ? http_accept : conn_accept;
}

static void
keep_string(enum config_key key, char *next, const char *now,
    size_t size)
{
	if (strcmp(next, now) == 0)
		return;
	log_warnx("reload: %s changes only on restart", config_key_name(key));
	snprintf(next, size, "%s", now);
}

/* A kept unix socket's mode and owner were set when it was made. */
static void
keep_perms(struct config *next)
{
	for (unsigned i = 0; i < next->nlisten; i++) {
		struct listen_perms *p = &next->listen[i].perms;

		for (unsigned j = 0; j < current.nlisten; j++) {
			const struct listen_perms *q = &current.listen[j].perms;

			if (!addr_equal(&next->listen[i].addr,
			    &current.listen[j].addr) || (p->mode == q->mode &&
			    strcmp(p->owner, q->owner) == 0 &&
			    strcmp(p->group, q->group) == 0))
				continue;
			log_warnx("reload: %s: mode, owner and group change "
			    "only when the socket is made (at restart)",
			    next->listen[i].text);
			*p = *q;
		}
	}
}

/* Keys that only a restart can change: warn and keep the running value. */
static void
keep_static(struct config *next)
{
	keep_perms(next);
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
	keep_string(KEY_PIDFILE, next->pidfile, current.pidfile,
	    sizeof(next->pidfile));
	keep_string(KEY_USER, next->user, current.user,
	    sizeof(next->user));
	keep_string(KEY_GROUP, next->group, current.group,
	    sizeof(next->group));
}

/*
 * What the log targets need that reading the configuration cannot see: a
 * syslog socket to send to. In the background, stderr is /dev/null, and
 * the logs that would go there go to syslog instead.
 */
int
cycle_check_logs(const struct config *c, bool bg, char *err, size_t errlen)
{
	const char *keys[] = { "log_file", "access_log" };
	const char *targets[] = { c->log_file, c->access_log };
	char why[256];

	sink_syslog_at(c->syslog_socket);
	for (size_t i = 0; i < 2; i++) {
		bool moved = bg && strcmp(targets[i], "stderr") == 0;

		if (sink_check(moved ? "syslog" : targets[i], why,
		    sizeof(why)) == 0)
			continue;
		if (moved)
			snprintf(err, errlen, "%s = stderr: in the background "
			    "that is syslog, and %s; set %s, or start with -f",
			    keys[i], why, keys[i]);
		else
			snprintf(err, errlen, "%s = syslog: %s", keys[i], why);
		return -1;
	}
	return 0;
}

/*
 * Switch to next's log targets where they differ (a syslog target differs
 * when syslog_socket does): both, or neither (the access log goes back to
 * the running target if the error log fails).
 */
static int
reopen_logs(const struct config *next, char *err, size_t errlen)
{
	char undo[256];
	bool moved = strcmp(next->syslog_socket, current.syslog_socket) != 0;
	bool access = strcmp(next->access_log, current.access_log) != 0 ||
	    (moved && strcmp(next->access_log, "syslog") == 0);
	bool error = strcmp(next->log_file, current.log_file) != 0 ||
	    (moved && strcmp(next->log_file, "syslog") == 0);

	sink_syslog_at(next->syslog_socket);
	if (access && access_open(next->access_log, err, errlen) == -1) {
		sink_syslog_at(current.syslog_socket);
		return -1;
	}
	if (error && log_open(next->log_file, err, errlen) == -1) {
		sink_syslog_at(current.syslog_socket);
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
cycle_reconfigure(struct loop *loop)
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
	    sizeof(err)) == -1 || reopen_logs(next, err,
	    sizeof(err)) == -1) {
		log_warnx("reload failed: %s; keeping the running "
		    "configuration", err);
		counters_reloads(reloads_ok, ++reloads_failed);
		listeners_close(&added);
		free(next);
		return false;
	}
	keep_static(next);

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
			l->on_accept = cycle_acceptor(l->options);
			lp = &l->next;
			continue;
		}
		log_info("no longer listening on %s", l->name);
		*lp = l->next;
		l->next = NULL;
		if (master)
			listener_block(l);
		else
			listener_drain(l);
		listeners_close(&l);
	}
	for (*lp = added; *lp != NULL;) {
		struct listener *l = *lp;

		if (!master && listener_start(l, loop,
		    cycle_acceptor(l->options), admit_room, false) == -1) {
			log_warn("cannot watch %s", l->name);
			*lp = l->next;
			l->next = NULL;
			listeners_close(&l);
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

void
cycle_adopt(const struct config *c, cycle_reload_fn *reload)
{
	current = *c;
	reload_config = reload;
}

const struct config *
cycle_config(void)
{
	return &current;
}

struct listener *
cycle_listeners(void)
{
	return listeners;
}

void
cycle_reopen_logs(void)
{
	char err[512];
	bool ok = true;

	/* Each log on its own: one that cannot be reopened keeps its old
	 * file, and never keeps the other from its new one. */
	if (log_reopen(err, sizeof(err)) == -1) {
		log_warnx("%s; it goes on to the old file", err);
		ok = false;
	}
	if (access_reopen(err, sizeof(err)) == -1) {
		log_warnx("%s; it goes on to the old file", err);
		ok = false;
	}
	if (ok)
		log_info("logs reopened");
}
