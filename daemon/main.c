/*
 * main.c — upcased's start-up: options, configuration, the checks of -t and
 * -T, the pidfile, binding, detaching and the privilege drop, then the
 * server. Every start-up failure is one line on stderr and an exit status:
 * 2 for a usage error, 1 for anything else.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "control.h"
#include "counters.h"
#include "probe_log.h"
#include "detach.h"
#include "inherit.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "pidfile.h"
#include "privs.h"
#include "worker.h"
#include "signals.h"
#include "upgrade.h"

#include "commit.h"

#ifndef VERSION
#define VERSION "0.0.0"
#endif

#define EXIT_USAGE 2
#define OPTIONS_MAX 64		/* -o arguments on one command line */

static const char usage_text[] =
"usage: upcased [-f] [-c FILE] [-o KEY=VALUE]... [-t | -T]\n"
"       upcased [-c FILE] [-o KEY=VALUE]... -s stop|reload|reopen|upgrade\n"
"\n"
"Serve the uppercase echo: every byte a client sends comes back with ASCII\n"
"a-z uppercased; once the client half-closes and all is sent, the\n"
"connection closes.\n"
"\n"
"  -c FILE       configuration file (default " CONFIG_PATH ";\n"
"                built-in defaults when that file does not exist)\n"
"  -f            stay in the foreground, whatever daemonize says\n"
"  -o KEY=VALUE  set one configuration key as a line of the file would;\n"
"                repeatable, wins over the file\n"
"  -t            check the configuration without binding (values, host\n"
"                names, directories, the syslog socket), warn of what\n"
"                the start would, print 'configuration ok', and exit\n"
"  -T            print the effective configuration and exit\n"
"  -s ACTION     signal the daemon that holds the configured pidfile, and\n"
"                exit: stop (SIGTERM), reload (SIGHUP), reopen the logs\n"
"                (SIGUSR1), upgrade the binary (SIGUSR2)\n"
"  -h, --help    print this help and exit\n"
"  -V, --version print the version and exit\n"
"\n"
"Exit status: 0 clean stop (-s: the signal was delivered), 1 configuration\n"
"or runtime failure (-s: no daemon holds the pidfile, or the signal could\n"
"not be sent), 2 usage error.\n";

/* Where the configuration comes from; kept for SIGHUP. */
static const char *config_path = CONFIG_PATH;
static char config_path_buf[PATH_MAX];	/* a relative -c made absolute */
static bool config_path_given;
static const char *options[OPTIONS_MAX];	/* -o arguments, in order */
static int noptions;
static struct config config;
static bool detached;		/* in the background since detach_start */
static bool upgrading;		/* started by a running upcased (SIGUSR2) */
static int inherited_pidfile = -1;	/* its pidfile, locked */
static char exe_path[PATH_MAX];	/* this binary, for an upgrade */
static char *exe_argv[2 * OPTIONS_MAX + 8];	/* and its options */

static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "upcased: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'upcased --help'.\n");
	exit(EXIT_USAGE);
}

/*
 * Defaults, then the file, then -o, then the checks across keys. Returns 0,
 * 1 (the file or a check is wrong) or EXIT_USAGE (an -o is).
 */
static int
config_read(struct config *c, char *err, size_t errlen)
{
	config_defaults(c);
	if (config_load(c, config_path, !config_path_given, err, errlen) == -1)
		return 1;
	for (int i = 0; i < noptions; i++)
		if (config_option(c, options[i], err, errlen) == -1)
			return EXIT_USAGE;
	if (config_check(c, err, errlen) == -1)
		return 1;
	return 0;
}

static int
config_reload(struct config *c, char *err, size_t errlen)
{
	return config_read(c, err, errlen) == 0 ? 0 : -1;
}

/*
 * A relative -c is taken from where upcased starts, once: the daemon moves
 * to / when it detaches, and reloads from there. (Not realpath: a symlink
 * pointed at a new file before a reload must be followed.)
 */
static int
config_path_resolve(void)
{
	size_t len;

	if (config_path[0] == '/')
		return 0;
	if (getcwd(config_path_buf, sizeof(config_path_buf)) == NULL)
		return -1;
	len = strlen(config_path_buf);
	if (snprintf(config_path_buf + len, sizeof(config_path_buf) - len,
	    "/%s", config_path) >= (int)(sizeof(config_path_buf) - len)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	config_path = config_path_buf;
	return 0;
}

/* How to start this binary again on SIGUSR2: from the same path, with
 * the same options (-c made absolute). */
static void
upgrade_prepare(bool foreground)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	int k = 0;

	exe_path[n > 0 ? n : 0] = '\0';
	exe_argv[k++] = exe_path;
	if (config_path_given) {
		exe_argv[k++] = "-c";
		exe_argv[k++] = (char *)config_path;
	}
	for (int i = 0; i < noptions; i++) {
		exe_argv[k++] = "-o";
		exe_argv[k++] = (char *)options[i];
	}
	if (foreground)
		exe_argv[k++] = "-f";
	exe_argv[k] = NULL;
	upgrade_init(exe_path, exe_argv);
}

/* The daemon serves: release whoever waits for that. */
static void
ready(void)
{
	char err[256];

	/* Detached, stderr is about to be /dev/null: log to syslog. The
	 * log must let go of the starter's stderr in any case, or whoever
	 * reads it would wait for an EOF that never comes. */
	if (detached && log_to_stderr() &&
	    log_open("syslog", err, sizeof(err)) == -1) {
		log_warnx("%s: no log once detached", err);
		log_close();
	}
	log_echo_errors(false);
	detach_ready();
	if (!upgrading) {
		notify_ready();
		return;
	}
	/* The old binary lets go once told; then the pidfile is ours. */
	if (pidfile_write(getpid(), err, sizeof(err)) == -1)
		log_warnx("%s", err);
	upgrade_child_report(true, NULL);
}

/* A start-up failure: "upcased: ..." on the terminal (and the log, when
 * that is elsewhere), exit 1. */
static int
startup_fail(const char *err)
{
	if (log_to_stderr())
		fprintf(stderr, "upcased: %s\n", err);
	else
		log_error("%s", err);
	upgrade_child_report(false, err);
	if (upgrading)
		pidfile_forget();	/* still the old binary's */
	else
		pidfile_remove();
	return 1;
}

/*
 * Lock the pidfile, bind, detach, write the pid, give up root, serve. The
 * order matters: a second instance is refused before it touches the
 * listeners, binding and the pidfile may need root, and every failure up to
 * ready() reaches the terminal while the starter still waits.
 */
static int
start(const struct config *c, bool foreground)
{
	char err[1024];
	int rc;

	/* A detached daemon must not keep its starter's pipes open: whoever
	 * reads them would wait for an EOF that never comes. */
	if (c->daemonize && !foreground && !upgrading)
		close_range(STDERR_FILENO + 1, ~0u, 0);
	log_level = c->log_level;
	log_echo_errors(true);
	if (cycle_check_logs(c, c->daemonize && !foreground, err,
	    sizeof(err)) == -1 ||
	    log_open(c->log_file, err, sizeof(err)) == -1)
		return startup_fail(err);
	/* Detached, stderr is /dev/null: the access log goes to syslog, as
	 * the error log does. */
	if (access_open(c->daemonize && !foreground &&
	    strcmp(c->access_log, "stderr") == 0 ? "syslog" : c->access_log,
	    err, sizeof(err)) == -1)
		return startup_fail(err);
	if (inherited_pidfile != -1 && c->pidfile[0] != '\0')
		pidfile_adopt(inherited_pidfile, c->pidfile);
	else if (c->pidfile[0] != '\0' &&
	    pidfile_lock(c->pidfile, err, sizeof(err)) == -1)
		return startup_fail(err);
	/* Workers count into a shared area, the listeners' cells included. */
	if (config_workers(c) > 1 && (counters_share() == -1 ||
	    probe_log_share() == -1)) {
		snprintf(err, sizeof(err), "shared counters: %s",
		    strerror(errno));
		return startup_fail(err);
	}
	if (cycle_listen(c, err, sizeof(err)) == -1)
		return startup_fail(err);
	/* An upgrade's new binary is already where the old one was. */
	if (c->daemonize && !foreground && !upgrading) {
		if (detach_start(err, sizeof(err)) == -1) {
			cycle_unlisten();
			return startup_fail(err);
		}
		detached = true;
	}
	detached |= c->daemonize && upgrading;
	if ((!upgrading && pidfile_write(getpid(), err, sizeof(err)) == -1) ||
	    (c->user[0] != '\0' &&
	    privs_drop(c->user, c->group, err, sizeof(err)) == -1)) {
		cycle_unlisten();
		return startup_fail(err);
	}
	if (c->user[0] != '\0')
		pidfile_check_removable(c->user);
	if (c->user[0] == '\0' && geteuid() == 0)
		log_warnx("running as root: set user to give up privileges "
		    "after binding");
	rc = config_workers(c) > 1 ? master_run(c, config_reload, ready) :
	    worker_run(c, config_reload, ready);
	pidfile_remove();
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *c = &config;
	char err[1024];
	bool foreground = false, test = false, print = false;
	int ch, rc, action = -1;

	while ((ch = getopt_long(argc, argv, "c:fo:s:tThV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			config_path_given = true;
			break;
		case 'f':
			foreground = true;
			break;
		case 'o':
			if (noptions == OPTIONS_MAX)
				usage_error("more than %d -o options",
				    OPTIONS_MAX);
			options[noptions++] = optarg;
			break;
		case 's':
			if ((action = control_action(optarg)) == -1)
				usage_error("-s: '%s' is not stop, reload, "
				    "reopen or upgrade", optarg);
			break;
		case 't':
			test = true;
			break;
		case 'T':
			print = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("upcased %s%s%s%s\n", VERSION,
			    *COMMIT ? " (git " : "", COMMIT,
			    *COMMIT ? ")" : "");
			return 0;
		default:
			fprintf(stderr, "Try 'upcased --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (test + print + (action != -1) > 1)
		usage_error("-t, -T and -s cannot be used together");
	if (config_path_resolve() == -1) {
		fprintf(stderr, "upcased: %s: %s\n", config_path,
		    strerror(errno));
		return 1;
	}

	upgrading = upgrade_child_start(&inherited_pidfile);
	rc = config_read(c, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "upcased: %s\n", err);
		upgrade_child_report(false, err);
		return rc;
	}
	if (print) {
		config_print(c, stdout);
		return 0;
	}
	if (action != -1) {
		if (control_send(c->pidfile, action, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "upcased: %s\n", err);
		return 1;
	}
	/* -t: everything but binding, which belongs to start and reload (the
	 * addresses may well be taken: by the instance about to reload). */
	if (test) {
		if (cycle_check_logs(c, c->daemonize && !foreground, err,
	    sizeof(err)) == -1) {
			fprintf(stderr, "upcased: %s\n", err);
			return 1;
		}
		worker_fd_limit(c->max_connections, err, sizeof(err));
		if (*err != '\0')
			fprintf(stderr, "upcased: warning: %s\n", err);
		printf("configuration ok\n");
		return 0;
	}
	/* Before anything can be interrupted: signals wait for the loop. */
	if (signals_block() == -1) {
		fprintf(stderr, "upcased: signals: %s\n", strerror(errno));
		return 1;
	}
	if (inherit_start(err, sizeof(err)) == -1)
		return startup_fail(err);
	upgrade_prepare(foreground);
	rc = start(c, foreground);
	access_close();
	log_close();
	return rc;
}
