/*
 * probe_search.c — HC3, reply-after-fin: how long after the client's FIN
 * does the path still deliver a reply? A ladder of delays up to
 * --max-wait, then halving the step where the cut lies, down to a floor,
 * then the cut confirmed on every further run.
 */
#include <stdio.h>
#include <string.h>

#include "probe_int.h"

#define SMALL		1024
#define FLOOR_MS	10		/* the boundary's resolution */

/* One HC3 run at delay ms: delivered whole, after the delay? */
static bool
delivered(struct probe *p, uint64_t ms, struct trial *t, bool *ran)
{
	*t = (struct trial){ .send = SMALL, .shut = true,
	    .deadline = 2 * p->step + (double)ms / 1000 };
	scenario_init(&t->scenario);
	t->scenario.hold = true;
	t->scenario.delay_ms = ms;
	*ran = probe_trial(p, t);
	return *ran && t->end == TRIAL_EOF && t->received == t->sent &&
	    t->wrong_at == SIZE_MAX &&
	    t->t_last - t->t_shut >= (double)ms / 1000 * 0.9;
}

/* 0, 300 ms, then doubling, to max at the most. Round figures are what
 * proxies' timeouts are set to: a delay next to one is a coin toss. */
static uint64_t
next_delay(uint64_t ms, uint64_t max)
{
	ms = ms == 0 ? 300 : ms * 2;
	return ms < max ? ms : max;
}

/* Is the boundary (ok, cut] still worth halving? Not closer than a
 * quarter of the cut (there the timer's jitter decides) nor than
 * FLOOR_MS: in whole milliseconds the midpoint of 0 and 1 is 0. */
static bool
wide(uint64_t ok, uint64_t cut)
{
	uint64_t gap = cut - ok;

	return gap > cut / 4 && gap > FLOOR_MS;
}

/*
 * The delays go from 0 (the reply at the FIN) and 300 ms, doubling, up to
 * --max-wait until one is cut; the boundary is then halved while wide(),
 * and both ends of it are run again (repeat - 1 times).
 */
void
probe_run_hc3(struct probe *p, const struct probe_case *c, struct result *r)
{
	uint64_t ok = 0, cut = 0, ms = 0;
	bool have_ok = false, have_cut = false, ok_moved = false, ran;
	struct trial t, at_cut = { .end = TRIAL_TIMEOUT };
	char a[32], b[32], e[32], s[32], at[48], tail[96], srv[96];

	(void)c;
	for (;; ms = next_delay(ms, p->max_wait_ms)) {
		r->runs++;
		if (delivered(p, ms, &t, &ran)) {
			ok = ms;
			have_ok = true;
		} else if (ran) {
			cut = ms;
			have_cut = true;
			at_cut = t;
			break;
		} else
			goto out_of_time;
		if (ms >= p->max_wait_ms)
			break;
	}
	while (have_ok && have_cut && wide(ok, cut)) {
		uint64_t mid = ok + (cut - ok) / 2;

		r->runs++;
		if (delivered(p, mid, &t, &ran))
			ok = mid;
		else if (ran) {
			cut = mid;
			at_cut = t;
		} else
			goto out_of_time;
	}
	/* The verdict rests on the cut: run again, it must cut again. The
	 * longest delivered is a figure, given only when it held too. */
	for (unsigned i = 1; i < p->repeat; i++) {
		if (have_cut) {
			r->runs++;
			if (delivered(p, cut, &t, &ran)) {
				r->verdict = V_INCONCLUSIVE;
				probe_seen(r, "a reply %s after the FIN was cut, then "
				    "delivered on run %u", probe_ms_text(
				    (double)cut, a, sizeof(a)), i + 1);
				return;
			}
			if (!ran)
				goto out_of_time;
		}
		if (have_ok && !ok_moved) {
			r->runs++;
			ok_moved = !delivered(p, ok, &t, &ran);
			if (!ran)
				goto out_of_time;
		}
	}
	r->data = V_PASS;
	r->close = V_PASS;
	if (have_ok && !ok_moved) {
		r->figure_name = "longest_delivered_ms";
		r->figure_ms = (double)ok;
	}
	if (!have_cut && ok_moved) {
		r->verdict = V_INCONCLUSIVE;
		probe_seen(r, "a reply %s after the FIN arrived, then was cut on a "
		    "later run", probe_ms_text((double)ok, a, sizeof(a)));
		return;
	}
	if (!have_cut) {
		r->verdict = V_PASS;
		probe_seen(r, "a reply %s after the FIN still arrives whole "
		    "(%s)", probe_ms_text((double)ok, a, sizeof(a)),
		    p->max_wait_lowered ? "the longest the probe listener's "
		    "drain_timeout allows" : "--max-wait");
		return;
	}
	r->figure2_name = "shortest_cut_ms";
	r->figure2_ms = (double)cut;
	r->have_evidence = true;
	r->evidence = at_cut;
	r->data = r->verdict = V_FAIL;
	if (!have_ok)
		tail[0] = '\0';
	else if (ok_moved)
		snprintf(tail, sizeof(tail), "; one %s after it arrived once, "
		    "not every time", probe_ms_text((double)ok, b, sizeof(b)));
	else
		snprintf(tail, sizeof(tail), "; one %s after it arrives",
		    probe_ms_text((double)ok, b, sizeof(b)));
	if (cut == 0)
		snprintf(at, sizeof(at), "at the FIN");
	else
		snprintf(at, sizeof(at), "%s after the FIN", probe_ms_text(
		    (double)cut, a, sizeof(a)));
	r->pattern = cut == 0 ? PATTERN_CLOSES_BOTH : PATTERN_FIN_TIMER;
	if (at_cut.srv.found && !at_cut.srv.open)
		snprintf(srv, sizeof(srv), "; the daemon's side: our FIN "
		    "read, then %s %s after the probe line", at_cut.srv.state,
		    probe_ms_text(at_cut.srv.end_ms, s, sizeof(s)));
	else
		srv[0] = '\0';
	probe_seen(r, "a reply %s is lost (%zu of %zu bytes, then "
	    "%s %s after the FIN)%s%s", at, at_cut.received, at_cut.sent,
	    trial_end_text(at_cut.end), probe_ms_text((at_cut.t_end -
	    at_cut.t_shut) * 1000, e, sizeof(e)), tail, srv);
	snprintf(r->expected, sizeof(r->expected), "a reply %s after the FIN "
	    "delivered", probe_ms_text((double)p->max_wait_ms, a, sizeof(a)));
	return;
out_of_time:
	r->verdict = V_INCONCLUSIVE;
	probe_seen(r, "not finished: the run's announced worst case would be "
	    "passed");
}

/* The ladder up to --max-wait, the halvings of its widest step (each at
 * most as long as a run at the top), both ends again repeat - 1 times. */
double
probe_worst_hc3(const struct probe *p, const struct probe_case *c)
{
	double top = 2 * p->step + (double)p->max_wait_ms / 1000, s = 0;
	uint64_t ms = 0, gap = p->max_wait_ms;

	(void)c;
	for (;; ms = next_delay(ms, p->max_wait_ms)) {
		s += 2 * p->step + (double)ms / 1000;
		if (ms >= p->max_wait_ms)
			break;
	}
	for (; gap > FLOOR_MS; gap -= gap / 2)	/* as the midpoint does */
		s += top;
	return s + (p->repeat - 1) * 2 * top;
}

