/*
 * main.c — upcased's start-up: options, configuration, the checks of -t and
 * -T, binding, and handing over to the server. Every start-up failure is one
 * line on stderr and an exit status: 2 for a usage error, 1 for anything else.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "server.h"
#include "signals.h"

#ifndef VERSION
#define VERSION "0.0.0"
#endif

#define EXIT_USAGE 2
#define OPTIONS_MAX 64		/* -o arguments on one command line */

static const char usage_text[] =
"usage: upcased [-f] [-c FILE] [-o KEY=VALUE]... [-t | -T]\n"
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
"  -t            check the configuration and that every listen address\n"
"                can be bound, print 'configuration ok', and exit\n"
"  -T            print the effective configuration and exit\n"
"  -h, --help    print this help and exit\n"
"  -V, --version print the version and exit\n"
"\n"
"Exit status: 0 clean stop, 1 configuration or runtime failure,\n"
"2 usage error.\n";

/* Where the configuration comes from; kept for SIGHUP. */
static const char *config_path = CONFIG_PATH;
static bool config_path_given;
static const char *options[OPTIONS_MAX];	/* -o arguments, in order */
static int noptions;
static struct config config;

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

/* -t: the file parses, and each address can be bound. */
static int
config_test(const struct config *c)
{
	char err[1024];

	if (server_listen(c, err, sizeof(err)) == -1) {
		fprintf(stderr, "upcased: %s\n", err);
		return 1;
	}
	server_unlisten();
	printf("configuration ok\n");
	return 0;
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
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:fo:tThV", longopts, NULL)) !=
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
			printf("upcased %s\n", VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'upcased --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (test && print)
		usage_error("-t and -T cannot be used together");

	rc = config_read(c, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "upcased: %s\n", err);
		return rc;
	}
	if (print) {
		config_print(c, stdout);
		return 0;
	}
	if (test)
		return config_test(c);
	(void)foreground;

	if (signals_block() == -1) {
		perror("upcased: signals");
		return 1;
	}
	log_level = c->log_level;
	if (log_open(c->log_file, err, sizeof(err)) == -1) {
		fprintf(stderr, "upcased: %s\n", err);
		return 1;
	}
	if (server_listen(c, err, sizeof(err)) == -1) {
		log_error("%s", err);
		if (!log_to_stderr())
			fprintf(stderr, "upcased: %s\n", err);
		return 1;
	}
	rc = server_run(c, config_reload, NULL);
	log_close();
	return rc;
}
