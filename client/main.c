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

#ifndef VERSION
#define VERSION "0.0.0"
#endif

#define EXIT_WRONG	1
#define EXIT_NETWORK	3
#define BENCH_TIMEOUT	"60s"	/* bench gives up after this, unless told */
#define CONNECT_TIMEOUT	"30s"	/* the filter's connect, unless told */
#define CONNECT_TIMEOUT_MS (30 * 1000)

static const char usage_text[] =
"usage: upcase [-a HOST:PORT] [--naive] [--timeout DURATION]\n"
"              [--connect-timeout DURATION] [--progress] [-q]\n"
"              [--proxy-protocol v1|v2] [FILE...]\n"
"       upcase [-a HOST:PORT] -n BYTES [--naive] [--timeout DURATION]\n"
"              [--connect-timeout DURATION] [--progress] [-q]\n"
"              [--proxy-protocol v1|v2]\n"
"       upcase bench [-a HOST:PORT] -c CONNS -n BYTES [--hold SECONDS]\n"
"              [bench options]\n"
"       upcase bench [-a HOST:PORT] -c CONNS --pingpong SIZE --duration SECONDS\n"
"              [bench options]\n"
"       upcase bench [-a HOST:PORT] -c CONNS -n BYTES --churn --duration SECONDS\n"
"              [bench options]\n"
"       upcase bench [-a HOST:PORT] -c CONNS -n BYTES --rate R --duration SECONDS\n"
"              [bench options]\n"
"       bench options: [--sources N] [--timeout DURATION]\n"
"              [--connect-timeout DURATION] [--interval DURATION] [--json]\n"
"       upcase probe [-a HOST:PORT] [--json] [--repeat N] [--max-wait DURATION]\n"
"              [--idle DURATION] [--timeout DURATION]\n"
"\n"
"The client of upcased. It sends stdin, or the FILEs in order ('-' is\n"
"stdin), to the daemon, half-closes, and writes everything that comes back\n"
"to stdout, sending and receiving at once so that no size can deadlock it.\n"
"\n"
"Units: sizes take k, m, g (powers of 1024) and print as KiB, MiB; every\n"
"rate printed for a person is MiB/s (1024 * 1024 bytes a second); JSON\n"
"numbers are in bytes, bytes per second and seconds. A DURATION is a\n"
"number of seconds, or with ms, s, m, h.\n"
"\n"
"  -a, --address HOST:PORT  the daemon ([IPV6]:PORT and unix:PATH too);\n"
"                           default $UPCASE_ADDRESS, else " DEFAULT_ADDRESS "\n"
"                           (an empty -a or UPCASE_ADDRESS is an error)\n"
"  -n, --bytes BYTES        send BYTES rounded up to a multiple of 16 as\n"
"                           repeated 'capitalize this!', check the echo,\n"
"                           print a summary line on stdout\n"
"      --naive              the textbook order: send everything, half-close,\n"
"                           then read (deadlocks once both sides' buffers\n"
"                           are full; use with --timeout)\n"
"      --timeout DURATION   give up when no byte moves for that long; none\n"
"                           by default\n"
"      --connect-timeout DURATION  give up connecting after that long\n"
"                           (default " CONNECT_TIMEOUT ")\n"
"      --progress           show progress on stderr even when it is not a\n"
"                           terminal: there a plain line a second, on a\n"
"                           terminal one line redrawn; either way a summary\n"
"                           line at the end\n"
"      --proxy-protocol v1|v2  open with a PROXY header (version 1 or 2)\n"
"                           naming this connection's own addresses, for a\n"
"                           listener that expects one (TCP addresses only)\n"
"  -q, --quiet              no progress, no summary\n"
"  -h, --help               print this help and exit\n"
"  -V, --version            print the version and exit\n"
"\n"
"bench opens CONNS connections at once and checks every echoed byte:\n"
"  -c, --connections CONNS  connections at once\n"
"  -n, --bytes BYTES        each sends BYTES, half-closes, reads the echo\n"
"      --pingpong SIZE      or: rounds of SIZE bytes (at most 256k) out and\n"
"                           back, for --duration SECONDS\n"
"      --churn              with -n: once a connection is done, open the next\n"
"                           on its slot, for --duration SECONDS; latency from\n"
"                           connect to EOF\n"
"      --rate R             with -n: open loop, a new connection R times a\n"
"                           second on schedule (floor(R x SECONDS) in all),\n"
"                           at most CONNS at once, for --duration SECONDS;\n"
"                           latency from the scheduled start, so a stalled\n"
"                           server cannot hide its stall\n"
"      --hold SECONDS       with -n alone: connect all CONNS, then wait until\n"
"                           SECONDS from the start before any sends: all\n"
"                           are open at once (several processes too)\n"
"      --sources N          connect from 127.0.0.1 .. 127.0.0.N, to go past\n"
"                           one ephemeral port range\n"
"      --timeout DURATION   give up when nothing moves (default " BENCH_TIMEOUT ")\n"
"      --connect-timeout DURATION  fail a connection not connected by then\n"
"                           (default: --timeout)\n"
"      --interval DURATION  a line per interval: its connections or rounds,\n"
"                           rate, MiB/s, latency p50 and p99 (stderr with\n"
"                           --json, and in the JSON as \"intervals\")\n"
"      --json               stdout: one JSON object and nothing else; the\n"
"                           summary line goes to stderr\n"
"On a terminal, bench redraws a status line on stderr during the run.\n"
"\n"
"probe checks that the path to a probe listener (listen = ADDRESS probe),\n"
"directly or through a proxy, keeps TCP half-close; each check is run N\n"
"times (--repeat, default 3) and said only when the runs agree:\n"
"      --max-wait DURATION  the longest reply delay after the EOF to try\n"
"                           (default 10s; below the listener's drain_timeout)\n"
"      --idle DURATION      also check that an idle connection lives this long\n"
"      --timeout DURATION   wait this long to connect, and for a reply once it\n"
"                           is due (default 5s)\n"
"      --json               the results as a JSON object\n"
"\n"
"Exit status: 0 ok; 1 echo wrong, short or longer than what was sent\n"
"(bench: errors counted; probe: a check did not pass); 2 usage error or\n"
"unreadable input; 3 network error or timeout, connect included (bench: no\n"
"connection made; probe: the address cannot be reached).\n";

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
			printf("upcase %s\n", VERSION);
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
