/*
 * probe_cases.c — upcase probe's catalogue: each case's stable ID, what
 * it requires and what that rests on, how it is run and judged. The data
 * and the close are graded apart: a path may deliver every byte and still
 * hide the reset that said the reply was cut short.
 *
 * A case runs p->repeat times. The runs must agree, but for one that lost
 * or changed bytes before a clean end: that is proof whatever the others
 * saw (a path that loses bytes now and then loses them).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe_int.h"
#include "stream.h"

#define LARGE		(64u << 20)	/* HC2: in flight at the FIN */
#define LARGE_S		60.0		/* seconds it may take beyond a step */
#define SMALL		1024
#define AFTER_FIN	65536		/* HC4: sent after the daemon's FIN */

typedef void judge_fn(const struct probe *p, const struct trial *t,
    struct result *r);

/* "N of M bytes back, then EOF after 1.2 ms", and any wrong byte. */
static void
bytes_seen(const struct trial *t, char *buf, size_t len)
{
	char at[32], end[48];
	int n;

	if (t->stalled)
		snprintf(end, sizeof(end), "a stall (nothing moved for %.1f s)",
		    t->stall);
	else
		snprintf(end, sizeof(end), "%s", trial_end_text(t->end));
	n = snprintf(buf, len, "%zu of %zu bytes back, then %s at %s",
	    t->received, t->sent, end, probe_ms_text(t->t_end * 1000, at,
	    sizeof(at)));

	if (t->wrong_at != SIZE_MAX && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; byte %zu was not the "
		    "echo (began \"%s\")", t->wrong_at, t->first);
}

static bool
data_ok(const struct trial *t)
{
	return t->received == t->sent && t->wrong_at == SIZE_MAX;
}

/* Bytes lost or changed, then a clean end (not a deadline, which a loaded
 * machine can miss): proof. */
static bool
lost(const struct trial *t)
{
	return (t->end == TRIAL_EOF || t->end == TRIAL_RESET) && !data_ok(t);
}

static enum verdict
worse(enum verdict a, enum verdict b)
{
	return a > b ? a : b;
}

/* The client half-closes; every byte back, then EOF. */
static void
judge_fin(const struct probe *p, const struct trial *t, struct result *r)
{
	char b[256];

	(void)p;
	bytes_seen(t, b, sizeof(b));
	r->data = data_ok(t) ? V_PASS : V_FAIL;
	r->close = t->end == TRIAL_EOF ? V_PASS : V_FAIL;
	probe_seen(r, "%s", b);
	snprintf(r->expected, sizeof(r->expected), "%zu of %zu bytes back, "
	    "then EOF", t->sent, t->sent);
}

static void
judge_server_fin(const struct probe *p, const struct trial *t,
    struct result *r)
{
	(void)p;
	r->data = t->end == TRIAL_EOF && t->received == SMALL &&
	    t->wrong_at == SIZE_MAX ? V_PASS : V_FAIL;
	r->close = t->after_eof_ok && t->closed_clean ? V_PASS : V_FAIL;
	if (r->data == V_FAIL)
		bytes_seen(t, r->detail, sizeof(r->detail));
	else
		probe_seen(r, "%zu bytes, then the daemon's FIN; %d more %s, then "
		    "our FIN: %s", t->received, AFTER_FIN, t->after_eof_ok ?
		    "sent" : "could not be sent", t->closed_clean ?
		    "a clean end" : "a reset, or no end");
	snprintf(r->expected, sizeof(r->expected), "%d bytes back, EOF; %d "
	    "more sent, then a clean end", SMALL, AFTER_FIN);
}

static void
judge_fin_latency(const struct probe *p, const struct trial *t,
    struct result *r)
{
	char ms[32];

	(void)p;
	r->data = data_ok(t) ? V_PASS : V_FAIL;
	r->close = t->end == TRIAL_EOF ? V_INFO : V_FAIL;
	if (r->data == V_FAIL || r->close == V_FAIL) {
		bytes_seen(t, r->detail, sizeof(r->detail));
		snprintf(r->expected, sizeof(r->expected), "%d bytes back, "
		    "then EOF", SMALL);
		return;
	}
	r->figure_name = "fin_latency_ms";
	r->figure_ms = (t->t_end - t->t_last) * 1000;
	probe_seen(r, "EOF %s after the last byte", probe_ms_text(r->figure_ms, ms,
	    sizeof(ms)));
}

static void
judge_reset(const struct probe *p, const struct trial *t, struct result *r)
{
	char b[256];

	(void)p;
	bytes_seen(t, b, sizeof(b));
	r->data = data_ok(t) ? V_PASS : V_FAIL;
	r->close = t->end == TRIAL_RESET ? V_PASS : t->end == TRIAL_EOF ?
	    V_NON_STRICT : V_FAIL;
	if (r->close == V_NON_STRICT)
		probe_seen(r, "%zu bytes, then a clean EOF: the path hid the "
		    "daemon's reset", t->received);
	else
		probe_seen(r, "%s", b);
	snprintf(r->expected, sizeof(r->expected), "%zu bytes back, then a "
	    "reset", t->sent);
}

static void
judge_idle(const struct probe *p, const struct trial *t, struct result *r)
{
	char b[256];

	bytes_seen(t, b, sizeof(b));
	r->data = data_ok(t) ? V_PASS : V_FAIL;
	r->close = t->end == TRIAL_EOF ? V_PASS : V_FAIL;
	if (r->data == V_PASS && r->close == V_PASS)
		probe_seen(r, "idle %.1f s, then %zu bytes back and EOF",
		    (double)p->idle_ms / 1000, t->received);
	else if (t->t_end * 1000 < (double)p->idle_ms)
		probe_seen(r, "%s, within the %.1f s idle: the path's idle timeout, "
		    "or the probe listener's own idle_timeout (60s unless "
		    "raised)", b, (double)p->idle_ms / 1000);
	else
		probe_seen(r, "%s, after the %.1f s idle", b,
		    (double)p->idle_ms / 1000);
	snprintf(r->expected, sizeof(r->expected), "the connection alive "
	    "after %.1f s idle", (double)p->idle_ms / 1000);
}

/* Run t p->repeat times, judged by judge; see the top of the file. */
static void
repeated(struct probe *p, struct trial *t, judge_fn *judge, struct result *r)
{
	struct result one;

	for (unsigned i = 0; i < p->repeat; i++) {
		if (!probe_trial(p, t)) {
			r->verdict = V_INCONCLUSIVE;
			probe_seen(r, "not run: the run's announced worst case would "
			    "be passed");
			return;
		}
		r->runs = i + 1;
		one = (struct result){ .data = V_PASS, .close = V_PASS };
		if (t->end == TRIAL_REFUSED) {
			r->data = r->close = r->verdict = V_FAIL;
			probe_seen(r, "%s", t->err);
			return;
		}
		judge(p, t, &one);
		one.verdict = worse(one.data, one.close);
		if (i == 0 || (one.data == V_FAIL && lost(t))) {
			*r = (struct result){ .verdict = one.verdict,
			    .data = one.data, .close = one.close,
			    .control = r->control,
			    .runs = i + 1, .have_evidence = true,
			    .evidence = *t, .figure_name = one.figure_name,
			    .figure_ms = one.figure_ms };
			memcpy(r->detail, one.detail, sizeof(r->detail));
			memcpy(r->expected, one.expected, sizeof(r->expected));
			if (one.data == V_FAIL && lost(t))
				return;		/* proof */
		} else if (one.verdict != r->verdict) {
			char first[160];

			snprintf(first, sizeof(first), "%.150s", r->detail);
			r->verdict = V_INCONCLUSIVE;
			probe_seen(r, "runs disagree: run 1 %s (%s), run %u %s (%.150s)",
			    verdict_names[worse(r->data, r->close)], first,
			    i + 1, verdict_names[one.verdict], one.detail);
			return;
		}
	}
}

/* A case that is one trial, repeated: its shape. */
struct shape {
	size_t send;			/* bytes sent, reading meanwhile */
	bool shut, shut_echoed;		/* as the trial's */
	size_t after_eof;		/* sent after the daemon's FIN */
	uint64_t fin_after;		/* the daemon half-closes after this
					 * much echo; 0: at the client's EOF */
	bool close_rst;			/* the daemon ends with a reset */
	double extra_s;			/* the deadline's, past two steps */
	judge_fn *judge;
};

static void
run_shaped(struct probe *p, const struct probe_case *c, struct result *r)
{
	const struct shape *s = c->shape;
	struct trial t = { .send = s->send, .shut = s->shut,
	    .shut_echoed = s->shut_echoed, .after_eof = s->after_eof,
	    .deadline = 2 * p->step + s->extra_s, .stall = p->step };

	scenario_init(&t.scenario);
	if (s->fin_after > 0)
		t.scenario.fin_after = s->fin_after;
	t.scenario.close_rst = s->close_rst;
	repeated(p, &t, s->judge, r);
}

static void
run_lt1(struct probe *p, const struct probe_case *c, struct result *r)
{
	struct trial t = { .send = 16, .shut_echoed = true,
	    .idle_ms = p->idle_ms, .stall = p->step,
	    .deadline = 2 * p->step + (double)p->idle_ms / 1000 };

	(void)c;
	if (p->idle_ms == 0) {
		r->verdict = r->data = r->close = V_UNSUPPORTED;
		probe_seen(r, "give --idle DURATION");
		return;
	}
	scenario_init(&t.scenario);
	repeated(p, &t, judge_idle, r);
	if (r->verdict == V_PASS) {
		r->figure_name = "idle_ms";
		r->figure_ms = (double)p->idle_ms;
	}
}

/* ---- the worst cases: every trial's deadline, every run ---- */

static double
worst_shaped(const struct probe *p, const struct probe_case *c)
{
	return p->repeat * (2 * p->step + c->shape->extra_s);
}

static double
worst_lt1(const struct probe *p, const struct probe_case *c)
{
	(void)c;
	return p->idle_ms == 0 ? 0 : p->repeat * (2 * p->step +
	    (double)p->idle_ms / 1000);
}

/* The one-trial cases (what each requires is in the catalogue). HC6 is
 * a health check's shape, nothing but the FIN; HC7 sends the data and the
 * FIN in one flight (corked); in HC8 the daemon's FIN follows its echo at
 * once, crossing the client's. */
static const struct shape hc1 = { .send = 16, .shut_echoed = true,
	.judge = judge_fin };
static const struct shape hc2 = { .send = LARGE, .shut = true,
	.extra_s = LARGE_S, .judge = judge_fin };
static const struct shape hc4 = { .send = SMALL, .after_eof = AFTER_FIN,
	.fin_after = SMALL, .judge = judge_server_fin };
static const struct shape hc5 = { .send = SMALL, .fin_after = SMALL,
	.judge = judge_fin_latency };
static const struct shape hc6 = { .send = 0, .shut = true,
	.judge = judge_fin };
static const struct shape hc7 = { .send = SMALL, .shut = true,
	.judge = judge_fin };
static const struct shape hc8 = { .send = SMALL, .shut = true,
	.fin_after = SMALL, .judge = judge_fin };
static const struct shape rs1 = { .send = SMALL, .shut_echoed = true,
	.close_rst = true, .judge = judge_reset };

/* ---- the catalogue ---- */

const struct probe_case probe_cases[] = {
	{ "HC1", "fin-then-eof", "half-close", "client FIN first",
	    "RFC 9293 3.6",
	    "a short exchange, then the client's FIN: the echo, then EOF",
	    run_shaped, worst_shaped, &hc1 },
	{ "HC2", "fin-with-64mib-in-flight", "half-close", "client FIN first",
	    "RFC 9293 3.6",
	    "64 MiB in flight at the FIN, the last 64 KiB corked with it: "
	    "every byte back, then EOF", run_shaped, worst_shaped, &hc2 },
	{ "HC3", "reply-after-fin", "half-close", "client FIN first",
	    "RFC 9112 9.6, RFC 9293 3.6",
	    "a reply held until the FIN and delayed up to --max-wait still "
	    "arrives; the longest delivered and the shortest cut",
	    probe_run_hc3, probe_worst_hc3, NULL },
	{ "HC4", "server-fin-first", "half-close", "server FIN first",
	    "RFC 9293 3.6",
	    "the server's FIN first, the client still sending: 64 KiB more "
	    "go out, and its FIN ends the connection cleanly",
	    run_shaped, worst_shaped, &hc4 },
	{ "HC5", "fin-latency", "half-close", "server FIN first",
	    "RFC 9293 3.6",
	    "from the last byte to the EOF (a figure)", run_shaped, worst_shaped, &hc5 },
	{ "HC6", "connect-and-fin", "half-close", "client FIN first",
	    "RFC 9293 3.6",
	    "a connection with no data, the client's FIN at once (a health "
	    "check): a clean EOF, no reset", run_shaped, worst_shaped, &hc6 },
	{ "HC7", "data-and-fin-together", "half-close",
	    "client FIN first", "RFC 9293 3.10.7.4",
	    "1 KiB and the FIN sent together, corked: every byte back, then "
	    "EOF", run_shaped, worst_shaped, &hc7 },
	{ "HC8", "simultaneous-close", "half-close", "both at once",
	    "RFC 9293 3.6 (case 3)",
	    "1 KiB and the client's FIN while the server's FIN follows its "
	    "echo: every byte back, then EOF", run_shaped, worst_shaped, &hc8 },
	{ "RS1", "server-abort", "resets", "-",
	    "RFC 9293 3.6.1, RFC 1122 4.2.2.13",
	    "a server's abort reaches the client as a reset, not a clean EOF "
	    "(non-strict: hidden)", run_shaped, worst_shaped, &rs1 },
	{ "LT1", "idle", "lifetime", "-", "RFC 5382 REQ-5",
	    "a connection idle for --idle still works", run_lt1, worst_lt1, NULL },
};

const size_t probe_ncases = sizeof(probe_cases) / sizeof(probe_cases[0]);
_Static_assert(sizeof(probe_cases) / sizeof(probe_cases[0]) <=
    PROBE_CASES_MAX, "the catalogue outgrew PROBE_CASES_MAX");

bool
probe_chosen(const struct probe *p, const struct probe_case *c)
{
	const char *at = p->only;

	if (at == NULL)
		return true;
	while (*at != '\0') {
		size_t n = strcspn(at, ",");

		if ((strlen(c->id) == n && strncasecmp(at, c->id, n) == 0) ||
		    (strlen(c->family) == n && strncmp(at, c->family, n) == 0))
			return true;
		at += n + (at[n] == ',');
	}
	return false;
}

void
probe_list(FILE *out)
{
	for (size_t i = 0; i < probe_ncases; i++) {
		const struct probe_case *c = &probe_cases[i];

		fprintf(out, "%-4s %-25s %-11s %-17s %s\n     %s\n", c->id,
		    c->name, c->family, c->direction, c->spec,
		    c->requirement);
	}
}
