/*
 * probe_runs.c — the cases of upcase probe's catalogue that are more than
 * one trial repeated: LT1 (an idle connection, unsupported without --idle
 * or above the probe listener's own idle_timeout), LT3 (a count of the
 * daemon's open connections after several exchanges), PP3 (a header
 * only --direct can send), CN3 and CN4 (to other addresses than the
 * probe listener's).
 */
#include <stdio.h>
#include <string.h>

#include "probe_judge.h"

#define LEAK_RUNS	8		/* LT3 */
#define SERVER_WAIT	PROBE_SERVER_WAIT

/* LT3: LEAK_RUNS exchanges, then none of their connections may be open
 * on the daemon's side (others of the run, still held, do not count). */
void
probe_run_lt3(struct probe *p, const struct probe_case *c, struct result *r)
{
	struct trial t;
	uint32_t first = p->conns + 1;
	unsigned left;

	(void)c;
	if (!p->reports) {
		r->verdict = r->data = r->close = V_UNSUPPORTED;
		probe_seen(r, "%s", PROBE_NO_REPORT);
		return;
	}
	for (unsigned i = 0; i < LEAK_RUNS; i++) {
		/* Counted once, at the end: no record asked for. */
		t = (struct trial){ .send = 16, .shut_echoed = true,
		    .deadline = 2 * p->step, .stall = p->step,
		    .server_wait = -1 };
		scenario_init(&t.scenario);
		if (!probe_trial_in_time(p, &t, r))
			return;
		r->runs++;
		if (t.end != TRIAL_EOF || !data_ok(&t)) {
			r->data = r->close = r->verdict = V_FAIL;
			bytes_seen(&t, r->detail, sizeof(r->detail));
			return;
		}
	}
	left = probe_server_open(p, first, p->conns, SERVER_WAIT);
	r->close = r->verdict = left == 0 ? V_PASS : V_FAIL;
	r->figure_name = "left_open";
	r->figure_ms = left;
	if (left > 0)
		r->pattern = PATTERN_UPSTREAM_LEFT;
	probe_seen(r, "%u exchanges: %u of them still open on the daemon's "
	    "side after them (waited up to %.1f s)", LEAK_RUNS, left,
	    SERVER_WAIT);
	snprintf(r->expected, sizeof(r->expected), "none of the %u open",
	    LEAK_RUNS);
}

/* Would the probe listener itself end LT1's idle connection? */
static bool
idle_past_listener(const struct probe *p)
{
	return p->reports && p->idle_timeout_ms != 0 &&
	    p->idle_ms >= p->idle_timeout_ms;
}

void
probe_run_lt1(struct probe *p, const struct probe_case *c, struct result *r)
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
	if (idle_past_listener(p)) {
		r->verdict = r->data = r->close = V_UNSUPPORTED;
		probe_seen(r, "the probe listener's own idle_timeout (%.1f s) "
		    "is not above --idle %.1f s: raise it to test the path",
		    (double)p->idle_timeout_ms / 1000,
		    (double)p->idle_ms / 1000);
		return;
	}
	scenario_init(&t.scenario);
	probe_repeated(p, &t, judge_idle, r);
	if (r->verdict == V_PASS) {
		r->figure_name = "idle_ms";
		r->figure_ms = (double)p->idle_ms;
	}
}


double
probe_worst_lt3(const struct probe *p, const struct probe_case *c)
{
	struct trial t = { .deadline = 2 * p->step, .server_wait = -1 };

	(void)c;
	/* The trials ask for no record; the count at the end asks until
	 * none is open or SERVER_WAIT has passed, the last begun then. */
	return !p->reports ? 0 : LEAK_RUNS * probe_trial_worst(p, &t) +
	    p->step + 0.05 + SERVER_WAIT;
}

double
probe_worst_lt1(const struct probe *p, const struct probe_case *c)
{
	struct trial t = { .deadline = 2 * p->step +
	    (double)p->idle_ms / 1000 };

	(void)c;
	return p->idle_ms == 0 || idle_past_listener(p) ? 0 :
	    p->repeat * probe_trial_worst(p, &t);
}

/* PP3: a relay's own health check, a version 2 LOCAL header, sent
 * straight to the probe listener: echoed as any connection is, and
 * the client the daemon knows is the connection's own end. */
static const char *
pp3_unsupported(const struct probe *p)
{
	if (p->direct_name == NULL)
		return "give --direct: a LOCAL header goes straight to the "
		    "probe listener";
	if (!p->direct_proxied)
		return "the probe listener reads no PROXY header ('listen = "
		    "ADDRESS probe proxy_protocol')";
	return NULL;
}

static struct trial
pp3_trial(const struct probe *p)
{
	struct trial t = { .send = 16, .shut_echoed = true,
	    .proxy = TRIAL_PROXY_LOCAL, .deadline = 2 * p->step,
	    .stall = p->step };

	scenario_init(&t.scenario);
	return t;
}

void
probe_run_pp3(struct probe *p, const struct probe_case *c, struct result *r)
{
	const char *why = pp3_unsupported(p);
	struct trial t = pp3_trial(p);
	struct probe_place was;

	(void)c;
	if (why != NULL) {
		r->verdict = r->data = r->close = V_UNSUPPORTED;
		probe_seen(r, "%s", why);
		return;
	}
	was = probe_go(p, &p->direct, p->direct_name, true);
	probe_repeated(p, &t, judge_proxy_local, r);
	probe_back(p, &was);
}

double
probe_worst_pp3(const struct probe *p, const struct probe_case *c)
{
	struct trial t = pp3_trial(p);

	(void)c;
	return pp3_unsupported(p) != NULL ? 0 :
	    p->repeat * probe_trial_worst(p, &t);
}

/*
 * CN3 and CN4: through the path to a server that refuses (--refused) or
 * never answers (--black-hole): how the relay ends the client's
 * connection. The client sends nothing (bytes the relay never read would
 * make its close a reset, whatever it meant), and nothing there reports;
 * CN4 runs once, its wait being long.
 */
#define BLACK_HOLE_S	30.0	/* CN4: how long the relay may take */

static struct trial
dead_end_trial(const struct probe *p, bool hole)
{
	struct trial t = { .bare = true, .may_refuse = true,
	    .server_wait = -1, .deadline = 2 * p->step +
	    (hole ? BLACK_HOLE_S : 0) };

	scenario_init(&t.scenario);
	return t;
}

static void
dead_end(struct probe *p, bool hole, struct result *r)
{
	const char *name = hole ? p->black_hole_name : p->refused_name;
	struct trial t = dead_end_trial(p, hole);
	unsigned repeat = p->repeat;
	struct probe_place was;

	if (name == NULL) {
		r->verdict = r->data = r->close = V_UNSUPPORTED;
		probe_seen(r, "give %s ADDRESS: a front of the relay whose "
		    "server %s", hole ? "--black-hole" : "--refused", hole ?
		    "never answers" : "refuses connections");
		return;
	}
	if (hole)
		p->repeat = 1;
	was = probe_go(p, hole ? &p->black_hole : &p->refused, name, false);
	probe_repeated(p, &t, hole ? judge_black_hole : judge_refused, r);
	probe_back(p, &was);
	p->repeat = repeat;
}

static double
dead_end_worst(const struct probe *p, bool hole)
{
	struct trial t = dead_end_trial(p, hole);

	if ((hole ? p->black_hole_name : p->refused_name) == NULL)
		return 0;
	return (hole ? 1 : p->repeat) * probe_trial_worst(p, &t);
}

void
probe_run_cn3(struct probe *p, const struct probe_case *c, struct result *r)
{
	(void)c;
	dead_end(p, false, r);
}

void
probe_run_cn4(struct probe *p, const struct probe_case *c, struct result *r)
{
	(void)c;
	dead_end(p, true, r);
}

double
probe_worst_cn3(const struct probe *p, const struct probe_case *c)
{
	(void)c;
	return dead_end_worst(p, false);
}

double
probe_worst_cn4(const struct probe *p, const struct probe_case *c)
{
	(void)c;
	return dead_end_worst(p, true);
}
