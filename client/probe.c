/*
 * probe.c — upcase probe's checks. Each is a kind of trial (trial.h),
 * repeated: a result is reported only when every run agrees, else the
 * check is inconclusive. The echo goes first, as the control: when it
 * fails nothing else can be told, and the run stops there.
 *
 *   echo              a short exchange back exactly, and after it a
 *                     half-close answered by EOF
 *   half-close        8 MiB sent while reading, the last 64 KiB of it
 *                     with the half-close: all of it back, then EOF
 *   reply-after-eof   the reply held until the client's EOF and longer
 *                     (delay stepping up to --max-wait): the longest the
 *                     path still delivers, the shortest at which it cuts
 *   server-fin-first  the daemon half-closes first; the client goes on
 *                     sending, then half-closes: no reset
 *   reset             a reset from the daemon arrives as a reset
 *   fin-delay         from the last byte to the EOF
 *   idle              (--idle) an idle connection survives that long
 */
#include "probe.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "stream.h"
#include "trial.h"

#define PROBE_LARGE	(8u << 20)	/* the half-close check's bytes */
#define PROBE_SMALL	1024		/* the others' */
#define PROBE_LARGE_S	30.0		/* extra seconds the large may take */

enum verdict { PASS, FAIL, INCONCLUSIVE, SKIP };

static const char *const verdicts[] = { "pass", "fail", "inconclusive",
    "skip" };

struct probe {
	const char *name;		/* the address, as given */
	struct addr addr;
	unsigned repeat;		/* runs of each check */
	uint64_t max_wait_ms;		/* reply-after-eof's longest delay */
	uint64_t idle_ms;		/* 0: no idle check */
	double step;			/* seconds to connect, and to see a
					 * reply once it is due (--timeout) */
	bool json;
	bool first;			/* no check printed yet (JSON) */
};

/* The judgement of one run: its verdict, and what was seen, in words. */
typedef enum verdict judge_fn(const struct trial *t, char *seen,
    size_t len);

/* One check: its name, the trial it runs, and how to judge it. */
struct check {
	const char *name;
	struct trial trial;
	judge_fn *judge;
};

static void
report(struct probe *p, const char *name, enum verdict v, const char *seen)
{
	if (!p->json) {
		printf("%-17s %-12s %s\n", name, verdicts[v], seen);
		fflush(stdout);
		return;
	}
	printf("%s\n    {\"check\": \"%s\", \"result\": \"%s\", \"seen\": \"",
	    p->first ? "" : ",", name, verdicts[v]);
	for (const char *c = seen; *c != '\0'; c++)
		printf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
	printf("\"}");
	p->first = false;
}

/* "N of M bytes back" and how it ended, with any wrong byte. */
static void
describe(const struct trial *t, char *seen, size_t len)
{
	int n = snprintf(seen, len, "sent %zu bytes, %zu back, then %s after "
	    "%.3f s", t->sent, t->received, trial_end_text(t->end), t->t_end);

	if (t->wrong_at != SIZE_MAX && n > 0 && (size_t)n < len)
		snprintf(seen + n, len - (size_t)n, "; byte %zu was not the "
		    "echo (began \"%s\")", t->wrong_at, t->first);
}

static bool
all_back(const struct trial *t)
{
	return t->end == TRIAL_EOF && t->received == t->sent &&
	    t->wrong_at == SIZE_MAX;
}

static enum verdict
judge_echo(const struct trial *t, char *seen, size_t len)
{
	size_t magic = strlen(SCENARIO_MAGIC);

	describe(t, seen, len);
	/* The line came back: nobody read it as a probe line. After it, the
	 * pattern's first letter says whether upcased echoed it. */
	if (strncmp(t->first, SCENARIO_MAGIC, magic) == 0)
		snprintf(seen, len, "the probe line came back as data: %s",
		    t->first[magic + 1] == STREAM_PATTERN_UPPER[0] ? "a plain "
		    "upcased listener (a probe needs 'listen = ADDRESS probe')" :
		    "not upcased at all (a plain echo?)");
	return all_back(t) ? PASS : FAIL;
}

static enum verdict
judge_server_fin(const struct trial *t, char *seen, size_t len)
{
	if (t->end != TRIAL_EOF || t->received != PROBE_SMALL ||
	    t->wrong_at != SIZE_MAX) {
		describe(t, seen, len);
		return FAIL;
	}
	snprintf(seen, len, "%zu bytes, then EOF; %zu more %s, then the "
	    "half-close: %s", t->received, t->after_eof, t->after_eof_ok ?
	    "sent" : "could not be sent", t->closed_clean ? "a clean end" :
	    "a reset, or no end");
	return t->after_eof_ok && t->closed_clean ? PASS : FAIL;
}

static enum verdict
judge_reset(const struct trial *t, char *seen, size_t len)
{
	describe(t, seen, len);
	if (t->end == TRIAL_EOF && t->received == t->sent)
		snprintf(seen, len, "%zu bytes, then a clean EOF: the path hid "
		    "the daemon's reset", t->received);
	return t->end == TRIAL_RESET && t->received == t->sent &&
	    t->wrong_at == SIZE_MAX ? PASS : FAIL;
}

static enum verdict
judge_fin_delay(const struct trial *t, char *seen, size_t len)
{
	if (t->end != TRIAL_EOF || t->received != PROBE_SMALL) {
		describe(t, seen, len);
		return FAIL;
	}
	snprintf(seen, len, "EOF %.1f ms after the last byte",
	    (t->t_end - t->t_last) * 1000);
	return PASS;
}

static enum verdict
judge_idle(const struct trial *t, char *seen, size_t len)
{
	describe(t, seen, len);
	if (all_back(t))
		snprintf(seen, len, "idle %.1f s, then %zu bytes back and EOF",
		    (double)t->idle_ms / 1000, t->received);
	else if (t->t_end < (double)t->idle_ms / 1000)
		snprintf(seen, len, "%s after %.3f s of the %.1f s idle (the "
		    "path's idle timeout, or the probe listener's own "
		    "idle_timeout: 60s unless raised)", trial_end_text(t->end),
		    t->t_end, (double)t->idle_ms / 1000);
	return all_back(t) ? PASS : FAIL;
}

/* Did t see bytes lost or changed, and then a clean end (an EOF, a reset:
 * not a deadline, which a loaded machine can miss)? */
static bool
lost_bytes(const struct trial *t)
{
	return (t->end == TRIAL_EOF || t->end == TRIAL_RESET) &&
	    (t->received < t->sent || t->wrong_at != SIZE_MAX);
}

/* Run c p->repeat times; every run must agree, but for a run that lost
 * bytes: that is proof, whatever the others saw (a path that loses them
 * only now and then still loses them). */
static enum verdict
run_check(struct probe *p, struct check *c, char *seen, size_t len)
{
	enum verdict v = SKIP;
	char one[256], first[256] = "";

	for (unsigned i = 0; i < p->repeat; i++) {
		enum verdict w;

		trial_run(&p->addr, p->name, &c->trial);
		if (c->trial.end == TRIAL_REFUSED) {
			snprintf(seen, len, "%s", c->trial.err);
			return FAIL;
		}
		w = c->judge(&c->trial, one, sizeof(one));
		if (w == FAIL && lost_bytes(&c->trial)) {
			snprintf(seen, len, "%s%.200s (run %u of %u)", i > 0 &&
			    v == PASS ? "earlier runs passed; then " : "", one,
			    i + 1, p->repeat);
			return FAIL;
		}
		if (i == 0) {
			v = w;
			memcpy(first, one, sizeof(first));
		} else if (w != v) {
			snprintf(seen, len, "runs disagree: %s (%.160s), then "
			    "%s (%.160s)", verdicts[v], first, verdicts[w],
			    one);
			return INCONCLUSIVE;
		}
	}
	snprintf(seen, len, "%s", first);
	return v;
}

/* One reply-after-eof run at delay ms: delivered whole after the delay? */
static bool
delivered(struct probe *p, uint64_t ms, struct trial *t)
{
	*t = (struct trial){ .send = PROBE_SMALL, .shut = true,
	    .deadline = 2 * p->step + (double)ms / 1000 };
	scenario_init(&t->scenario);
	t->scenario.hold = true;
	t->scenario.delay_ms = ms;
	trial_run(&p->addr, p->name, t);
	return all_back(t) && t->t_last - t->t_shut >= (double)ms / 1000 * 0.9;
}

/* 0, 300 ms, then doubling, to max at the most. Round figures are what
 * proxies' timeouts are set to: a delay next to one is a coin toss. */
static uint64_t
next_delay(uint64_t ms, uint64_t max)
{
	ms = ms == 0 ? 300 : ms * 2;
	return ms < max ? ms : max;
}

/*
 * The delays go from 0 (the reply at the EOF) and 300 ms, doubling, up to
 * --max-wait until one is cut; the boundary is then halved while it is
 * wider than a quarter of the cut (closer, the timer's jitter decides),
 * and both ends of it are run again (repeat - 1 times) before anything is
 * said.
 */
static enum verdict
check_reply_after_eof(struct probe *p, char *seen, size_t len)
{
	uint64_t ok = 0, cut = 0, ms = 0;
	bool have_ok = false, have_cut = false;
	struct trial t, at_cut = { .end = TRIAL_TIMEOUT };
	int n;

	for (;; ms = next_delay(ms, p->max_wait_ms)) {
		if (delivered(p, ms, &t)) {
			ok = ms;
			have_ok = true;
		} else {
			cut = ms;
			have_cut = true;
			at_cut = t;
			break;
		}
		if (ms >= p->max_wait_ms)
			break;
	}
	while (have_ok && have_cut && cut - ok > cut / 4) {
		uint64_t mid = (ok + cut) / 2;

		if (delivered(p, mid, &t))
			ok = mid;
		else {
			cut = mid;
			at_cut = t;
		}
	}
	for (unsigned i = 1; i < p->repeat; i++) {
		if ((have_ok && !delivered(p, ok, &t)) ||
		    (have_cut && delivered(p, cut, &t))) {
			snprintf(seen, len, "the boundary moved between runs "
			    "(delivered %.2f s, cut %.2f s before)",
			    (double)ok / 1000, (double)cut / 1000);
			return INCONCLUSIVE;
		}
	}
	if (!have_cut) {
		snprintf(seen, len, "a reply %.2f s after the EOF still "
		    "arrives whole (--max-wait)", (double)ok / 1000);
		return PASS;
	}
	n = snprintf(seen, len, "a reply %.2f s after the EOF is lost (%zu of "
	    "%zu bytes, then %s %.2f s after the EOF)", (double)cut / 1000,
	    at_cut.received, at_cut.sent, trial_end_text(at_cut.end),
	    at_cut.t_end - at_cut.t_shut);
	if (have_ok && n > 0 && (size_t)n < len)
		snprintf(seen + n, len - (size_t)n, "; one %.2f s after it "
		    "arrives", (double)ok / 1000);
	return FAIL;
}

/* Seconds the reply-after-eof check can take at the most. */
static double
reply_worst(const struct probe *p)
{
	double s = 0, max = (double)p->max_wait_ms / 1000;
	uint64_t ms = 0;

	for (;; ms = next_delay(ms, p->max_wait_ms)) {
		s += 2 * p->step + (double)ms / 1000;
		if (ms >= p->max_wait_ms)
			break;
	}
	return s + 2 * (2 * p->step + max) +
	    (p->repeat - 1) * 2 * (2 * p->step + max);
}

static void
usage_probe(void)
{
	puts("usage: upcase probe [-a ADDRESS] [--json] [--repeat N] "
	    "[--max-wait DURATION]\n"
	    "                    [--idle DURATION] [--timeout DURATION]");
}

static void
parse_options(struct probe *p, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_REPEAT, OPT_MAX_WAIT, OPT_IDLE,
	    OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "max-wait", required_argument, NULL, OPT_MAX_WAIT },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *address = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "a:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			address = optarg;
			break;
		case OPT_JSON:
			p->json = true;
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
}

int
probe_main(int argc, char **argv)
{
	struct probe p = { .repeat = 3, .max_wait_ms = 10000, .step = 5,
	    .first = true };
	struct check checks[] = {
		{ "echo", { .send = 16, .shut_echoed = true }, judge_echo },
		{ "half-close", { .send = PROBE_LARGE, .shut = true },
		    judge_echo },
		{ "server-fin-first", { .send = PROBE_SMALL,
		    .after_eof = 65536 }, judge_server_fin },
		/* These two are not about half-close: their clients close
		 * only once their echo is back. */
		{ "reset", { .send = PROBE_SMALL, .shut_echoed = true },
		    judge_reset },
		{ "fin-delay", { .send = PROBE_SMALL }, judge_fin_delay },
		{ "idle", { .send = 16, .shut_echoed = true }, judge_idle },
	};
	size_t nchecks = sizeof(checks) / sizeof(checks[0]);
	double worst;
	unsigned w;
	char seen[512];
	int status = 0;

	parse_options(&p, argc, argv);
	worst = reply_worst(&p);
	for (size_t i = 0; i < nchecks; i++) {
		struct trial *t = &checks[i].trial;

		scenario_init(&t->scenario);
		t->deadline = 2 * p.step + (i == 1 ? PROBE_LARGE_S : 0);
		if (i == 5)
			t->idle_ms = p.idle_ms;
		t->deadline += (double)t->idle_ms / 1000;
		if (i != 5 || p.idle_ms > 0)
			worst += p.repeat * t->deadline;
	}
	checks[2].trial.scenario.fin_after = PROBE_SMALL;
	checks[3].trial.scenario.close_rst = true;
	checks[4].trial.scenario.fin_after = PROBE_SMALL;

	w = (unsigned)(worst + 0.5);
	if (p.json)
		printf("{\"address\": \"%s\", \"repeat\": %u, \"worst_case_s\": "
		    "%u, \"checks\": [", p.name, p.repeat, w);
	else
		printf("upcase probe %s: %u runs of each check, at most "
		    "%um%02us\n", p.name, p.repeat, w / 60, w % 60);
	for (size_t i = 0; i < nchecks; i++) {
		enum verdict v;

		if (i == 2) {
			v = check_reply_after_eof(&p, seen, sizeof(seen));
			report(&p, "reply-after-eof", v, seen);
			status |= v != PASS;
		}
		if (i == 5 && p.idle_ms == 0) {
			report(&p, checks[i].name, SKIP, "(give --idle)");
			continue;
		}
		v = run_check(&p, &checks[i], seen, sizeof(seen));
		report(&p, checks[i].name, v, seen);
		if (i == 0 && checks[0].trial.end == TRIAL_REFUSED) {
			status = 3;
			break;
		}
		if (i == 0 && v != PASS) {
			status = 1;
			report(&p, "(stopped)", SKIP, "the echo is the control: "
			    "nothing else can be told");
			break;
		}
		status |= v != PASS;
	}
	if (p.json)
		printf("\n]}\n");
	return status;
}
