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

#include "probe_judge.h"

#define LARGE		(64u << 20)	/* HC2: in flight at the FIN */
#define LARGE_S		60.0		/* seconds it may take beyond a step */
#define SMALL		1024
#define AFTER_FIN	65536		/* HC4: sent after the daemon's FIN */
#define SERVER_WAIT	PROBE_SERVER_WAIT
#define HOLD_MS		4000		/* RS3: the echo held this long */
#define TRICKLE		64		/* FL1: bytes, ... */
#define TRICKLE_RATE	50		/* ... at this many a second */
#define WRITE_FIRST	(1u << 20)	/* FL2: sent before reading */
#define EARLY		65536		/* CN2: sent at once, with the FIN */
#define SLOW		(16u << 20)	/* FL3, FL4: this much ... */
#define SLOW_RATE	(8u << 20)	/* ... at this rate, read by one end */

static enum verdict
worse(enum verdict a, enum verdict b)
{
	return a > b ? a : b;
}

bool
probe_trial_in_time(struct probe *p, struct trial *t, struct result *r)
{
	if (probe_trial(p, t))
		return true;
	r->verdict = V_INCONCLUSIVE;
	probe_seen(r, "not run: the run's announced worst case would be passed");
	return false;
}

void
probe_repeated(struct probe *p, struct trial *t, judge_fn *judge, struct result *r)
{
	struct result one;

	for (unsigned i = 0; i < p->repeat; i++) {
		if (!probe_trial_in_time(p, t, r))
			return;
		r->runs = i + 1;
		one = (struct result){ .data = V_PASS, .close = V_PASS,
		    .verdict = V_PASS };
		if (t->end == TRIAL_REFUSED && !t->may_refuse) {
			r->data = r->close = r->verdict = V_FAIL;
			probe_seen(r, "%s", t->err);
			return;
		}
		judge(p, t, &one);
		one.verdict = worse(one.data, one.close);
		if (i == 0 || (one.data == V_FAIL && lost(t))) {
			one.control = r->control;
			one.runs = i + 1;
			one.have_evidence = true;
			one.evidence = *t;
			*r = one;
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
	bool fin_first;			/* the daemon half-closes ... */
	uint64_t fin_after;		/* ... after this much echo */
	bool close_rst;			/* the daemon ends with a reset */
	uint64_t hold_ms;		/* the echo held this long after our
					 * FIN; 0: not held */
	uint64_t rate;			/* the echo's bytes a second; 0: all */
	bool stop_echoed, abort;	/* as the trial's */
	bool write_first, close_unread;
	uint64_t read_rate;		/* as the trial's */
	double server_wait;		/* ... */
	bool needs_report;		/* judged on what the daemon saw */
	bool needs_proxy;		/* ... of a PROXY header */
	double extra_s;			/* the deadline's, past two steps */
	judge_fn *judge;
};

/* Why p cannot run s, or NULL. */
static const char *
shape_unsupported(const struct probe *p, const struct shape *s)
{
	if ((s->needs_report || s->needs_proxy) && !p->reports)
		return PROBE_NO_REPORT;
	if (s->needs_proxy && !p->proxied)
		return "the probe listener reads no PROXY header ('listen = "
		    "ADDRESS probe proxy_protocol')";
	if (s->hold_ms > 0 && p->drain_timeout_ms != 0 &&
	    s->hold_ms >= p->drain_timeout_ms)
		return "the probe listener's drain_timeout is shorter than "
		    "the case's hold";
	return NULL;
}

static void
run_shaped(struct probe *p, const struct probe_case *c, struct result *r)
{
	const struct shape *s = c->shape;
	const char *why = shape_unsupported(p, s);
	struct trial t = { .send = s->send, .shut = s->shut,
	    .shut_echoed = s->shut_echoed, .after_eof = s->after_eof,
	    .stop_echoed = s->stop_echoed, .abort = s->abort,
	    .write_first = s->write_first, .close_unread = s->close_unread,
	    .read_rate = s->read_rate,
	    .server_wait = s->server_wait,
	    .deadline = 2 * p->step + s->extra_s, .stall = p->step };

	if (why != NULL) {
		r->verdict = r->data = r->close = V_UNSUPPORTED;
		probe_seen(r, "%s", why);
		return;
	}
	scenario_init(&t.scenario);
	if (s->fin_first)
		t.scenario.fin_after = s->fin_after;
	t.scenario.close_rst = s->close_rst;
	t.scenario.hold = s->hold_ms > 0;
	t.scenario.delay_ms = s->hold_ms;
	t.scenario.rate = s->rate;
	probe_repeated(p, &t, s->judge, r);
}

/* ---- the worst cases: every trial's deadline, every run ---- */

static double
worst_shaped(const struct probe *p, const struct probe_case *c)
{
	const struct shape *s = c->shape;
	struct trial t = { .deadline = 2 * p->step + s->extra_s,
	    .server_wait = s->server_wait, .abort = s->abort,
	    .shut = s->shut };

	return shape_unsupported(p, s) != NULL ? 0 :
	    p->repeat * probe_trial_worst(p, &t);
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
	.fin_first = true, .fin_after = SMALL, .judge = judge_server_fin };
static const struct shape hc5 = { .send = SMALL, .fin_first = true,
	.fin_after = SMALL, .judge = judge_fin_latency };
static const struct shape hc6 = { .send = 0, .shut = true,
	.judge = judge_fin };
static const struct shape hc7 = { .send = SMALL, .shut = true,
	.judge = judge_fin };
static const struct shape hc8 = { .send = SMALL, .shut = true,
	.fin_first = true, .fin_after = SMALL, .judge = judge_fin };
static const struct shape rs1 = { .send = SMALL, .shut_echoed = true,
	.close_rst = true, .judge = judge_reset };
static const struct shape rs2 = { .send = SMALL, .stop_echoed = true,
	.abort = true, .server_wait = SERVER_WAIT, .needs_report = true,
	.judge = judge_client_abort };
static const struct shape rs3 = { .send = SMALL, .shut = true,
	.abort = true, .hold_ms = HOLD_MS, .server_wait = SERVER_WAIT,
	.needs_report = true, .judge = judge_reset_half_closed };
static const struct shape rs4 = { .send = SMALL, .close_unread = true,
	.server_wait = SERVER_WAIT, .needs_report = true,
	.judge = judge_close_unread };
static const struct shape lt2 = { .send = 16, .shut_echoed = true,
	.server_wait = SERVER_WAIT, .needs_report = true,
	.judge = judge_upstream_closed };
static const struct shape cn1 = { .send = 0, .fin_first = true,
	.fin_after = 0, .after_eof = 16, .judge = judge_server_fin };
static const struct shape cn2 = { .send = EARLY, .shut = true,
	.write_first = true, .judge = judge_fin };
static const struct shape fl1 = { .send = TRICKLE, .shut = true,
	.rate = TRICKLE_RATE, .extra_s = (double)TRICKLE / TRICKLE_RATE,
	.judge = judge_fin };
static const struct shape fl2 = { .send = WRITE_FIRST, .shut = true,
	.write_first = true, .judge = judge_fin };
static const struct shape fl3 = { .send = SLOW, .shut = true,
	.rate = SLOW_RATE, .extra_s = (double)SLOW / SLOW_RATE,
	.judge = judge_fin };
static const struct shape fl4 = { .send = SLOW, .shut = true,
	.read_rate = SLOW_RATE, .extra_s = (double)SLOW / SLOW_RATE,
	.judge = judge_fin };
static const struct shape pp1 = { .send = 16, .shut_echoed = true,
	.needs_proxy = true, .judge = judge_proxy_source };
static const struct shape pp2 = { .send = 0, .shut = true,
	.needs_proxy = true, .judge = judge_proxy_source };

/* ---- the catalogue ---- */

const struct probe_case probe_cases[] = {
	{ "HC1", "fin-then-eof", "half-close", "client FIN first",
	    "RFC 9293 3.6",
	    "a short exchange, then the client's FIN: the echo, then EOF",
	    run_shaped, worst_shaped, &hc1, false },
	{ "HC2", "fin-with-64mib-in-flight", "half-close", "client FIN first",
	    "RFC 9293 3.6",
	    "64 MiB in flight at the FIN, the last 64 KiB corked with it: "
	    "every byte back, then EOF", run_shaped, worst_shaped, &hc2, false },
	{ "HC3", "reply-after-fin", "half-close", "client FIN first",
	    "RFC 9112 9.6, RFC 9293 3.6",
	    "a reply held until the FIN and delayed up to --max-wait still "
	    "arrives; the longest delivered and the shortest cut",
	    probe_run_hc3, probe_worst_hc3, NULL, false },
	{ "HC4", "server-fin-first", "half-close", "server FIN first",
	    "RFC 9293 3.6",
	    "the server's FIN first, the client still sending: 64 KiB more "
	    "go out, and its FIN ends the connection cleanly",
	    run_shaped, worst_shaped, &hc4, false },
	{ "HC5", "fin-latency", "half-close", "server FIN first",
	    "RFC 9293 3.6",
	    "from the last byte to the EOF (a figure)", run_shaped, worst_shaped, &hc5, false },
	{ "HC6", "connect-and-fin", "half-close", "client FIN first",
	    "RFC 9293 3.6",
	    "a connection with no data, the client's FIN at once (a health "
	    "check): a clean EOF, no reset", run_shaped, worst_shaped, &hc6, false },
	{ "HC7", "data-and-fin-together", "half-close",
	    "client FIN first", "RFC 9293 3.10.7.4",
	    "1 KiB and the FIN sent together, corked: every byte back, then "
	    "EOF", run_shaped, worst_shaped, &hc7, false },
	{ "HC8", "simultaneous-close", "half-close", "both at once",
	    "RFC 9293 3.6 (case 3)",
	    "1 KiB and the client's FIN while the server's FIN follows its "
	    "echo: every byte back, then EOF", run_shaped, worst_shaped, &hc8, false },
	{ "RS1", "server-abort", "resets", "-",
	    "RFC 9293 3.6.1, RFC 1122 4.2.2.13",
	    "a server's abort reaches the client as a reset, not a clean EOF "
	    "(non-strict: hidden)", run_shaped, worst_shaped, &rs1, false },
	{ "RS2", "client-abort", "resets", "-",
	    "RFC 9293 3.6.1, RFC 1122 4.2.2.13",
	    "a client's abort reaches the server as a reset, and the relay "
	    "frees the server's side (non-strict: as a FIN)", run_shaped,
	    worst_shaped, &rs2, false },
	{ "RS3", "reset-after-fin", "resets", "client FIN first",
	    "RFC 9293 3.6.1, 3.10.7.4",
	    "a reset after the client's FIN, the reply still held, reaches "
	    "the server (non-strict: it learns only when it writes)",
	    run_shaped, worst_shaped, &rs3, false },
	{ "RS4", "close-with-unread-data", "resets", "-",
	    "RFC 1122 4.2.2.13, RFC 9293 3.6.1",
	    "the client closes with the echo unread, which its TCP turns "
	    "into a reset: what reaches the server, and when (a figure)",
	    run_shaped, worst_shaped, &rs4, false },
	{ "LT1", "idle", "lifetime", "-", "RFC 5382 REQ-5",
	    "a connection idle for --idle still works", probe_run_lt1, probe_worst_lt1, NULL, false },
	{ "LT2", "server-side-closed", "lifetime", "client FIN first",
	    "RFC 9293 3.6",
	    "once the client's connection has ended, the server's side is "
	    "closed too (within 2 s)", run_shaped, worst_shaped, &lt2, false },
	{ "LT3", "no-leak", "lifetime", "-", "RFC 9293 3.6",
	    "after 8 exchanges none of their connections is still open on "
	    "the server's side", probe_run_lt3, probe_worst_lt3, NULL, false },
	{ "CN1", "server-closes-at-once", "connecting", "server FIN first",
	    "RFC 9293 3.6",
	    "a server that accepts and half-closes at once: the client sees "
	    "EOF, can still send, and its FIN ends it cleanly", run_shaped,
	    worst_shaped, &cn1, false },
	{ "CN2", "data-before-connect", "connecting",
	    "client FIN first", "RFC 9293 3.5, 3.10.7.3",
	    "64 KiB and the FIN sent the moment the connection is up, before "
	    "the relay can have connected upstream: every byte back, then "
	    "EOF", run_shaped, worst_shaped, &cn2, false },
	{ "CN3", "server-refuses", "connecting", "-",
	    "RFC 9293 3.10.7.3, RFC 1122 4.2.2.13",
	    "through a front whose server refuses (--refused): the connection "
	    "refused, or reset (non-strict: a clean EOF, an empty reply)",
	    probe_run_cn3, probe_worst_cn3, NULL, true },
	{ "CN4", "server-never-answers", "connecting", "-", "RFC 9293 3.8.3",
	    "through a front whose server never answers (--black-hole): how "
	    "long the relay keeps the client (a figure; waited for 30 s more "
	    "than other cases)",
	    probe_run_cn4, probe_worst_cn4, NULL, true },
	{ "FL1", "trickle-after-fin", "flow", "client FIN first",
	    "RFC 9293 3.6, RFC 9112 9.6",
	    "a reply of 64 bytes trickled at 50 bytes a second, a segment "
	    "or two at a time, after the client's FIN: every byte, then EOF", run_shaped, worst_shaped,
	    &fl1, false },
	{ "FL2", "write-all-then-read", "flow", "client FIN first",
	    "RFC 9293 3.8.6",
	    "the textbook client: 1 MiB and the FIN sent before reading a "
	    "byte, which the buffers on the way must hold: every byte back, "
	    "then EOF (a stall otherwise)", run_shaped, worst_shaped, &fl2, false },
	{ "FL3", "slow-server-reader", "flow", "client FIN first",
	    "RFC 9293 3.8.6",
	    "16 MiB to a server reading at 8 MiB a second: the relay holds "
	    "back rather than drop or reset: every byte back, then EOF",
	    run_shaped, worst_shaped, &fl3, false },
	{ "FL4", "slow-client-reader", "flow", "client FIN first",
	    "RFC 9293 3.8.6",
	    "16 MiB back to a client reading at 8 MiB a second: every byte, "
	    "then EOF", run_shaped, worst_shaped, &fl4, false },
	{ "PP1", "proxy-source", "proxy", "-", "proxy-protocol.txt 2.1, 2.2",
	    "the PROXY header a relay sends comes once, before any payload, "
	    "and names the client's own address (unsupported unless the "
	    "probe listener reads PROXY headers)",
	    run_shaped, worst_shaped, &pp1, false },
	{ "PP2", "proxy-then-fin", "proxy", "client FIN first",
	    "proxy-protocol.txt 2.1, 2.2",
	    "a connection with no data, the client's FIN at once (a health "
	    "check): the PROXY header still names the client, then EOF",
	    run_shaped, worst_shaped, &pp2, false },
	{ "PP3", "proxy-local-check", "proxy", "-",
	    "proxy-protocol.txt 2.2",
	    "a relay's own health check, a version 2 LOCAL header, sent "
	    "straight to the probe listener (--direct): taken as a check, "
	    "echoed, its client the connection's own end",
	    probe_run_pp3, probe_worst_pp3, NULL, true },
};

const size_t probe_ncases = sizeof(probe_cases) / sizeof(probe_cases[0]);
_Static_assert(sizeof(probe_cases) / sizeof(probe_cases[0]) <=
    PROBE_CASES_MAX, "the catalogue outgrew PROBE_CASES_MAX");
