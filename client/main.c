/*
 * main.c — upcase's command line: the filter, the seed's -n check and its
 * --naive order, and the bench subcommand. Exit status: 0 ok, 1 echo wrong,
 * short or long, 2 usage (or an input that cannot be read), 3 network
 * error or timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "args.h"
#include "bench.h"
#include "probe.h"
#include "parse.h"
#include "progress.h"
#include "stream.h"
#include "usage.h"

#include "commit.h"

#ifndef VERSION
#define VERSION "0.0.0"
#endif

#define EXIT_WRONG	1
#define EXIT_NETWORK	3

static int
bench_main(int argc, char **argv)
{
	enum { OPT_PINGPONG = 256, OPT_DURATION, OPT_SOURCES, OPT_TIMEOUT,
	    OPT_JSON, OPT_CHURN, OPT_RATE, OPT_HOLD, OPT_INTERVAL,
	    OPT_CONNECT_TIMEOUT };
	static const struct option longopts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "connections", required_argument, NULL, 'c' },
		{ "bytes", required_argument, NULL, 'n' },
		{ "pingpong", required_argument, NULL, OPT_PINGPONG },
		{ "churn", no_argument, NULL, OPT_CHURN },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "sources", required_argument, NULL, OPT_SOURCES },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "connect-timeout", required_argument, NULL,
		    OPT_CONNECT_TIMEOUT },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_options o = { .timeout_ms = 60 * 1000 };
	const char *address = NULL;
	bool have_bytes = false, have_connect_timeout = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "a:c:n:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'a':
			address = optarg;
			break;
		case 'c':
			o.connections = (unsigned)size_arg("-c", optarg, 1,
			    10000000);
			break;
		case 'n':
			o.bytes = size_arg("-n", optarg, 1, UINT64_MAX / 2);
			have_bytes = true;
			break;
		case OPT_PINGPONG:
			o.pingpong = (uint32_t)size_arg("--pingpong", optarg,
			    1, 256 * 1024);
			break;
		case OPT_CHURN:
			o.churn = true;
			break;
		case OPT_RATE:
			o.rate = (double)size_arg("--rate", optarg, 1, 1000000);
			break;
		case OPT_DURATION:
			o.duration_ms = seconds_arg("--duration", optarg);
			break;
		case OPT_HOLD:
			o.hold_ms = seconds_arg("--hold", optarg);
			break;
		case OPT_SOURCES:
			o.sources = (unsigned)size_arg("--sources", optarg, 1,
			    254);
			break;
		case OPT_TIMEOUT:
			o.timeout_ms = seconds_arg("--timeout", optarg);
			break;
		case OPT_CONNECT_TIMEOUT:
			o.connect_timeout_ms = seconds_arg("--connect-timeout",
			    optarg);
			have_connect_timeout = true;
			break;
		case OPT_INTERVAL:
			o.interval_ms = seconds_arg("--interval", optarg);
			if (o.interval_ms < 100)
				usage_error("--interval: at least 100ms");
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'upcase --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("bench: unexpected argument '%s'", argv[optind]);
	if (o.connections == 0)
		usage_error("bench: -c CONNS is required");
	if (have_bytes == (o.pingpong != 0))
		usage_error("bench: give -n BYTES or --pingpong SIZE (one)");
	if ((o.churn || o.rate > 0) && o.pingpong != 0)
		usage_error("bench: --%s goes with -n BYTES, not --pingpong",
		    o.churn ? "churn" : "rate");
	if (o.churn && o.rate > 0)
		usage_error("bench: --churn or --rate (one)");
	if ((o.pingpong != 0 || o.churn || o.rate > 0) && o.duration_ms == 0)
		usage_error("bench: --%s needs --duration SECONDS", o.churn ?
		    "churn" : o.rate > 0 ? "rate" : "pingpong");
	if (o.pingpong == 0 && !o.churn && o.rate == 0 && o.duration_ms != 0)
		usage_error("bench: --duration goes with --pingpong, --churn or "
		    "--rate");
	if (o.hold_ms != 0 && (o.pingpong != 0 || o.churn || o.rate > 0))
		usage_error("bench: --hold goes with -n BYTES alone");
	if (!have_connect_timeout)
		o.connect_timeout_ms = o.timeout_ms;
	o.name = address_of(address, &o.addr);
	if (o.sources > 0 && (o.addr.ss.ss_family != AF_INET ||
	    (ntohl(((struct sockaddr_in *)&o.addr.ss)->sin_addr.s_addr) >>
	    24) != 127))
		usage_error("bench: --sources needs an address in "
		    "127.0.0.0/8, not %s", o.name);
	return bench_run(&o);
}

/* Print "first bytes" printably: escapes for what is not. */
static void
print_quoted(const unsigned char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			putchar(s[i]);
		else
			printf("\\x%02x", s[i]);
	}
	putchar('"');
}

static void
close_inputs(int *inputs, int n)
{
	for (int i = 0; i < n; i++)
		if (inputs[i] != STDIN_FILENO)
			close(inputs[i]);
	free(inputs);
}

int
main(int argc, char **argv)
{
	enum { OPT_NAIVE = 256, OPT_TIMEOUT, OPT_PROGRESS, OPT_PROXY,
	    OPT_CONNECT_TIMEOUT };
	static const struct option longopts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "bytes", required_argument, NULL, 'n' },
		{ "naive", no_argument, NULL, OPT_NAIVE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "connect-timeout", required_argument, NULL,
		    OPT_CONNECT_TIMEOUT },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "proxy-protocol", required_argument, NULL, OPT_PROXY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct stream_options o = { .output = STDOUT_FILENO,
	    .connect_timeout_ms = CONNECT_TIMEOUT_MS };
	struct stream_result r;
	struct progress progress;
	const char *address = NULL;
	bool check = false, quiet = false, force_progress = false;
	uint64_t total = 0;
	int ch, status, *inputs = NULL;
	static char progname[] = "upcase";

	/* getopt starts its messages with argv[0]: "upcase", whatever the
	 * path, for the subcommands too (not "bench: ..."). */
	argv[0] = progname;
	if (argc > 1 && strcmp(argv[1], "bench") == 0) {
		argv[1] = progname;
		return bench_main(argc - 1, argv + 1);
	}
	if (argc > 1 && strcmp(argv[1], "probe") == 0) {
		argv[1] = progname;
		return probe_main(argc - 1, argv + 1);
	}
	while ((ch = getopt_long(argc, argv, "a:n:qhV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'a':
			address = optarg;
			break;
		case 'n':
			o.generate = size_arg("-n", optarg, 0, UINT64_MAX / 2);
			check = true;
			break;
		case OPT_NAIVE:
			o.naive = true;
			break;
		case OPT_TIMEOUT:
			o.timeout_ms = seconds_arg("--timeout", optarg);
			break;
		case OPT_CONNECT_TIMEOUT:
			o.connect_timeout_ms = seconds_arg("--connect-timeout",
			    optarg);
			break;
		case OPT_PROGRESS:
			force_progress = true;
			break;
		case OPT_PROXY:
			if (strcmp(optarg, "v1") != 0 &&
			    strcmp(optarg, "v2") != 0)
				usage_error("--proxy-protocol: '%s' is not v1 "
				    "or v2", optarg);
			o.proxy_version = optarg[1] - '0';
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("upcase %s%s%s%s\n", VERSION,
			    *COMMIT ? " (git " : "", COMMIT,
			    *COMMIT ? ")" : "");
			return 0;
		default:
			fprintf(stderr, "Try 'upcase --help'.\n");
			return EXIT_USAGE;
		}
	}
	o.name = address_of(address, &o.addr);
	if (o.proxy_version != 0 && o.addr.ss.ss_family == AF_UNIX)
		usage_error("--proxy-protocol: a PROXY header names TCP "
		    "addresses, not %s", o.name);
	if (check) {
		if (optind < argc)
			usage_error("-n sends its own bytes: no FILE ('%s')",
			    argv[optind]);
		o.generate = (o.generate + STREAM_PATTERN_LEN - 1) /
		    STREAM_PATTERN_LEN * STREAM_PATTERN_LEN;
		o.output = -1;
		total = o.generate;
	} else {
		/* Open every input first: a bad one stops us before we
		 * connect, and before a byte of output. */
		int n = argc > optind ? argc - optind : 1;
		static const char *const dash[] = { "-" };
		const char *const *names = argc > optind ?
		    (const char *const *)argv + optind : dash;
		bool sized = true;

		inputs = calloc((size_t)n, sizeof(*inputs));
		if (inputs == NULL) {
			perror("upcase");
			return EXIT_USAGE;
		}
		for (int i = 0; i < n; i++) {
			struct stat st;

			inputs[i] = strcmp(names[i], "-") == 0 ? STDIN_FILENO :
			    open(names[i], O_RDONLY | O_CLOEXEC);
			if (inputs[i] == -1) {
				fprintf(stderr, "upcase: %s: %s\n", names[i],
				    strerror(errno));
				close_inputs(inputs, i);
				return EXIT_USAGE;
			}
			if (fstat(inputs[i], &st) == 0 && S_ISREG(st.st_mode))
				total += (uint64_t)st.st_size;
			else
				sized = false;
		}
		if (!sized)
			total = 0;
		o.inputs = inputs;
		o.input_names = names;
		o.ninputs = n;
	}
	progress_init(&progress, !quiet && (force_progress ||
	    isatty(STDERR_FILENO)), isatty(STDERR_FILENO), total);
	o.progress = &progress;

	status = stream_run(&o, &r);
	if (check && !quiet && (r.sent > 0 || status == STREAM_OK)) {
		printf("sent %llu bytes, received %llu bytes, first bytes ",
		    (unsigned long long)r.sent,
		    (unsigned long long)r.received);
		print_quoted(r.first, r.nfirst);
		printf(", %.1f MiB/s\n", r.seconds > 0 ?
		    (double)r.received / r.seconds / (1024 * 1024) : 0.0);
	}
	if (status != STREAM_OK)
		fprintf(stderr, "upcase: %s\n", r.err);
	close_inputs(inputs, o.ninputs);
	if (fflush(stdout) == EOF && status == STREAM_OK)
		status = EXIT_WRONG;
	return status;
}
