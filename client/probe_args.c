/*
 * probe_args.c — upcase probe's options, read into struct probe: each bad
 * one is a usage error naming it, before anything connects (exit 2).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "probe_int.h"

static void
usage_probe(void)
{
	puts("usage: upcase probe [-a ADDRESS] [--via socks5://HOST:PORT | "
	    "http-connect://HOST:PORT]\n"
	    "                    [--direct ADDRESS] [--refused ADDRESS] "
	    "[--black-hole ADDRESS]\n                    "
	    "[--case ID,FAMILY...] [--repeat N] [--max-wait DURATION]\n"
	    "                    [--idle DURATION] [--timeout DURATION] "
	    "[--json] [--junit FILE]\n"
	    "       upcase probe --list");
}

/* An address given to option opt; a bad one is a usage error naming it. */
static const char *
addr_arg(const char *opt, const char *text, struct addr *out)
{
	char err[256];

	if (*text == '\0')
		usage_error("%s: empty address", opt);
	if (addr_parse(text, out, err, sizeof(err)) == -1)
		usage_error("%s: %s", opt, err);
	return text;
}

void
probe_parse_options(struct probe *p, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_REPEAT, OPT_MAX_WAIT, OPT_IDLE,
	    OPT_TIMEOUT, OPT_CASE, OPT_LIST, OPT_JUNIT, OPT_DIRECT, OPT_VIA,
	    OPT_REFUSED, OPT_BLACK_HOLE };
	static const struct option longopts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "case", required_argument, NULL, OPT_CASE },
		{ "direct", required_argument, NULL, OPT_DIRECT },
		{ "via", required_argument, NULL, OPT_VIA },
		{ "refused", required_argument, NULL, OPT_REFUSED },
		{ "black-hole", required_argument, NULL, OPT_BLACK_HOLE },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "max-wait", required_argument, NULL, OPT_MAX_WAIT },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *address = NULL, *direct = NULL, *refused = NULL;
	const char *black_hole = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "a:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			address = optarg;
			break;
		case OPT_CASE:
			p->only = optarg;
			break;
		case OPT_DIRECT:
			direct = optarg;
			break;
		case OPT_REFUSED:
			refused = optarg;
			break;
		case OPT_BLACK_HOLE:
			black_hole = optarg;
			break;
		case OPT_VIA:
			if (via_parse(optarg, &p->via) == -1)
				usage_error("--via: '%s' is not socks5://HOST:PORT "
				    "or http-connect://HOST:PORT", optarg);
			break;
		case OPT_LIST:
			probe_list(stdout);
			exit(0);
		case OPT_JSON:
			p->json = true;
			break;
		case OPT_JUNIT:
			p->junit_path = optarg;
			break;
		case OPT_REPEAT:
			p->repeat = (unsigned)size_arg("--repeat", optarg, 1,
			    100);
			break;
		case OPT_MAX_WAIT:
			p->max_wait_ms = seconds_arg("--max-wait", optarg);
			if (p->max_wait_ms < 250)
				usage_error("--max-wait: at least 250ms");
			break;
		case OPT_IDLE:
			p->idle_ms = seconds_arg("--idle", optarg);
			break;
		case OPT_TIMEOUT:
			p->step = (double)seconds_arg("--timeout", optarg) /
			    1000;
			if (p->step < 0.1)
				usage_error("--timeout: at least 100ms");
			break;
		case 'h':
			usage_probe();
			exit(0);
		default:
			fprintf(stderr, "Try 'upcase --help'.\n");
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		usage_error("probe: unexpected argument '%s'", argv[optind]);
	p->name = address_of(address, &p->addr);
	if (p->via.kind != VIA_NONE) {
		addr_arg("--via", p->via.name, &p->via.proxy);
		if (p->addr.ss.ss_family == AF_UNIX)
			usage_error("--via: the proxy connects to a TCP address, "
			    "not %s", p->name);
	}
	if (direct != NULL)
		p->direct_name = addr_arg("--direct", direct, &p->direct);
	if (refused != NULL)
		p->refused_name = addr_arg("--refused", refused, &p->refused);
	if (black_hole != NULL)
		p->black_hole_name = addr_arg("--black-hole", black_hole,
		    &p->black_hole);
	/* Opened before the run, so that a file that cannot be written
	 * costs no run. */
	if (p->junit_path != NULL &&
	    (p->junit = fopen(p->junit_path, "w")) == NULL) {
		fprintf(stderr, "upcase: --junit %s: %s\n", p->junit_path,
		    strerror(errno));
		exit(EXIT_USAGE);
	}
}
