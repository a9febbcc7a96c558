/*
 * probe_judge.c — how each case's trial is judged, from both ends: what
 * the client saw (the trial) and what the daemon saw (its report, t->srv,
 * when the probe listener gives one). The data and the close are graded
 * apart; a failure names the pattern it matches (upcase(1), PATTERNS).
 */
#include <stdio.h>
#include <string.h>

#include "probe_judge.h"

#define FIN_LATE_MS	400	/* a FIN held this long after ours ... */
#define FIN_LATE_BYTES	65536	/* ... with no more than this in flight */

const char *const pattern_names[PATTERN_COUNT] = {
	[PATTERN_NONE] = NULL,
	[PATTERN_CLOSES_BOTH] = "closes-both-ways",
	[PATTERN_FIN_TIMER] = "timer-after-fin",
	[PATTERN_RESET_AS_FIN] = "reset-as-fin",
	[PATTERN_UPSTREAM_LEFT] = "upstream-left-open",
	[PATTERN_STALL] = "stall",
};

void
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

bool
data_ok(const struct trial *t)
{
	return t->received == t->sent && t->wrong_at == SIZE_MAX;
}

bool
lost(const struct trial *t)
{
	return (t->end == TRIAL_EOF || t->end == TRIAL_RESET) && !data_ok(t);
}

/* Did the daemon receive exactly what was sent? true when it cannot say
 * (no report, or the record overwritten). */
bool
server_got_all(const struct trial *t)
{
	return !t->srv.found || (t->srv.received == t->sent &&
	    t->srv.digest == t->digest);
}

/* "; the daemon received N bytes (not the ones sent)", or "". */
void
server_bytes(const struct trial *t, char *buf, size_t len)
{
	if (!t->srv.found)
		snprintf(buf, len, "%s", t->srv.asked ? "; the daemon has "
		    "no record of it" : "");
	else
		snprintf(buf, len, "; the daemon received %llu of %zu%s%s",
		    (unsigned long long)t->srv.received, t->sent,
		    t->srv.received == t->sent && t->srv.digest != t->digest ?
		    " (not the bytes sent)" : "", t->srv.open ? ", its side "
		    "still open after ours ended" : "");
}

/* A stall says so, whatever the case: nothing moved, and nothing ended. */
void
stall_pattern(const struct trial *t, struct result *r)
{
	if (t->stalled)
		r->pattern = PATTERN_STALL;
}

void
judge_fin(const struct probe *p, const struct trial *t, struct result *r)
{
	char b[256], s[96], ms[32];

	(void)p;
	bytes_seen(t, b, sizeof(b));
	server_bytes(t, s, sizeof(s));
	r->data = data_ok(t) && server_got_all(t) ? V_PASS : V_FAIL;
	r->close = t->end == TRIAL_EOF ? V_PASS : V_FAIL;
	/* The daemon's side must have read the FIN: not a reset, not a
	 * timeout of its own. */
	if (t->srv.found && r->close == V_PASS && t->srv.eof_ms < 0)
		r->close = V_FAIL;
	if (lost(t) && t->end == TRIAL_EOF)
		r->pattern = PATTERN_CLOSES_BOTH;
	stall_pattern(t, r);
	if (t->srv.found && t->srv.eof_ms >= 0 && t->t_shut > 0) {
		r->figure2_name = "fin_to_server_ms";
		r->figure2_ms = t->srv.eof_ms - t->t_shut * 1000;
		if (r->figure2_ms < 0)
			r->figure2_ms = 0;
		probe_seen(r, "%s%s; our FIN reached the daemon after %s", b, s,
		    probe_ms_text(r->figure2_ms, ms, sizeof(ms)));
		/* With little in flight, a FIN held that long was held on
		 * purpose: passed on by the relay's close, at its timer. */
		if (r->close == V_PASS && t->sent <= FIN_LATE_BYTES &&
		    r->figure2_ms >= FIN_LATE_MS) {
			r->close = V_NON_STRICT;
			r->pattern = PATTERN_FIN_TIMER;
			probe_seen(r, "%s%s; our FIN reached the daemon only "
			    "after %s: the relay held it", b, s, probe_ms_text(
			    r->figure2_ms, ms, sizeof(ms)));
		}
	} else if (t->srv.found && t->srv.eof_ms < 0) {
		probe_seen(r, "%s%s; the daemon never read our FIN (its side "
		    "ended: %s)", b, s, t->srv.state);
	} else {
		probe_seen(r, "%s%s", b, s);
	}
	snprintf(r->expected, sizeof(r->expected), "%zu of %zu bytes back, "
	    "then EOF; the daemon received %zu and our FIN", t->sent, t->sent,
	    t->sent);
}

void
judge_server_fin(const struct probe *p, const struct trial *t,
    struct result *r)
{
	size_t back = t->sent - t->after_eof;
	char s[96];

	(void)p;
	server_bytes(t, s, sizeof(s));
	r->data = t->end == TRIAL_EOF && t->received == back &&
	    t->wrong_at == SIZE_MAX && server_got_all(t) ? V_PASS : V_FAIL;
	/* ... and the daemon's side ended, our FIN read. */
	r->close = t->after_eof_ok && t->closed_clean && !(t->srv.found &&
	    (t->srv.open || t->srv.eof_ms < 0)) ? V_PASS : V_FAIL;
	if (r->data == V_FAIL || r->close == V_FAIL)
		r->pattern = PATTERN_CLOSES_BOTH;
	stall_pattern(t, r);
	if (t->end != TRIAL_EOF || t->received != back) {
		bytes_seen(t, r->detail, sizeof(r->detail));
	} else {
		probe_seen(r, "%zu bytes, then the daemon's FIN; %zu more %s, "
		    "then our FIN: %s%s", t->received, t->after_eof,
		    t->after_eof_ok ? "sent" : "could not be sent",
		    t->closed_clean ? "a clean end" : "a reset, or no end", s);
	}
	snprintf(r->expected, sizeof(r->expected), "%zu bytes back, EOF; %zu "
	    "more sent and received by the daemon, then a clean end", back,
	    t->after_eof);
}

void
judge_fin_latency(const struct probe *p, const struct trial *t,
    struct result *r)
{
	char ms[32];

	(void)p;
	r->data = data_ok(t) ? V_PASS : V_FAIL;
	r->close = t->end == TRIAL_EOF ? V_INFO : V_FAIL;
	stall_pattern(t, r);
	if (r->data == V_FAIL || r->close == V_FAIL) {
		bytes_seen(t, r->detail, sizeof(r->detail));
		snprintf(r->expected, sizeof(r->expected), "%zu bytes back, "
		    "then EOF", t->sent);
		return;
	}
	r->figure_name = "fin_latency_ms";
	r->figure_ms = (t->t_end - t->t_last) * 1000;
	probe_seen(r, "EOF %s after the last byte", probe_ms_text(r->figure_ms,
	    ms, sizeof(ms)));
}

void
judge_reset(const struct probe *p, const struct trial *t, struct result *r)
{
	char b[256];

	(void)p;
	bytes_seen(t, b, sizeof(b));
	r->data = data_ok(t) ? V_PASS : V_FAIL;
	r->close = t->end == TRIAL_RESET ? V_PASS : t->end == TRIAL_EOF ?
	    V_NON_STRICT : V_FAIL;
	stall_pattern(t, r);
	if (r->close == V_NON_STRICT) {
		r->pattern = PATTERN_RESET_AS_FIN;
		probe_seen(r, "%zu bytes, then a clean EOF: the path hid the "
		    "daemon's reset", t->received);
	} else {
		probe_seen(r, "%s", b);
	}
	snprintf(r->expected, sizeof(r->expected), "%zu bytes back, then a "
	    "reset", t->sent);
}

void
judge_client_abort(const struct probe *p, const struct trial *t,
    struct result *r)
{
	char s[96], ms[32];

	server_bytes(t, s, sizeof(s));
	r->data = t->srv.found && server_got_all(t) ? V_PASS : V_FAIL;
	stall_pattern(t, r);
	snprintf(r->expected, sizeof(r->expected), "the daemon's side reset "
	    "within %.1f s of ours", t->server_wait);
	if (!t->srv.found) {
		r->close = V_FAIL;
		bytes_seen(t, r->detail, sizeof(r->detail));
		return;
	}
	if (t->srv.open) {
		r->close = V_FAIL;
		r->pattern = PATTERN_UPSTREAM_LEFT;
		probe_seen(r, "our reset, then the daemon's side still open "
		    "%.1f s later%s", t->server_wait, s);
	} else if (strcmp(t->srv.state, "reset") == 0) {
		r->close = V_PASS;
		probe_seen(r, "our reset reached the daemon as a reset (its "
		    "side ended %s after the probe line)%s", probe_ms_text(
		    t->srv.end_ms, ms, sizeof(ms)), s);
	} else {
		r->close = V_NON_STRICT;
		r->pattern = PATTERN_RESET_AS_FIN;
		probe_seen(r, "our reset reached the daemon as a FIN (its side "
		    "ended: %s)%s", t->srv.state, s);
	}
	(void)p;
}

void
judge_upstream_closed(const struct probe *p, const struct trial *t,
    struct result *r)
{
	char b[256], ms[32];

	(void)p;
	judge_fin(p, t, r);
	if (r->data != V_PASS || t->end != TRIAL_EOF)
		return;
	bytes_seen(t, b, sizeof(b));
	if (!t->srv.found) {
		r->close = V_UNSUPPORTED;
		probe_seen(r, "%s; the daemon has no record of it", b);
	} else if (t->srv.open) {
		r->close = V_FAIL;
		r->pattern = PATTERN_UPSTREAM_LEFT;
		probe_seen(r, "%s; the daemon's side still open %.1f s after",
		    b, t->server_wait);
	} else {
		r->close = V_PASS;
		r->pattern = PATTERN_NONE;	/* HC1 grades a late FIN */
		r->figure_name = "server_closed_ms";
		r->figure_ms = t->srv.end_ms;
		probe_seen(r, "%s; the daemon's side closed (%s) %s after the "
		    "probe line", b, t->srv.state, probe_ms_text(t->srv.end_ms,
		    ms, sizeof(ms)));
	}
	snprintf(r->expected, sizeof(r->expected), "the daemon's side closed "
	    "within %.1f s of the client's EOF", t->server_wait);
}

void
judge_reset_half_closed(const struct probe *p, const struct trial *t,
    struct result *r)
{
	char ms[32];

	(void)p;
	r->data = t->srv.found && server_got_all(t) ? V_PASS : V_FAIL;
	snprintf(r->expected, sizeof(r->expected), "the daemon's side reset "
	    "within %.1f s of ours", t->server_wait);
	if (!t->srv.found || t->srv.eof_ms < 0) {
		r->close = V_FAIL;
		probe_seen(r, "the daemon never read our FIN, so no reset "
		    "after it could be tried");
	} else if (!t->srv.open && strcmp(t->srv.state, "reset") == 0) {
		r->close = V_PASS;
		probe_seen(r, "our FIN, then our reset: the daemon's side was "
		    "reset %s after the probe line", probe_ms_text(
		    t->srv.end_ms, ms, sizeof(ms)));
	} else {
		r->close = V_NON_STRICT;
		r->pattern = PATTERN_RESET_AS_FIN;
		probe_seen(r, "our FIN, then our reset: the daemon's side %s "
		    "%.1f s later (the reset was not passed on)", t->srv.open ?
		    "still open" : t->srv.state, t->server_wait);
	}
}

void
judge_proxy_source(const struct probe *p, const struct trial *t,
    struct result *r)
{
	judge_fin(p, t, r);
	if (r->data != V_PASS)
		return;
	snprintf(r->expected, sizeof(r->expected), "the PROXY header names "
	    "%s", t->local);
	if (!t->srv.found) {
		r->close = V_UNSUPPORTED;
		probe_seen(r, "the daemon has no record of it");
	} else if (strcmp(t->srv.source, t->local) == 0) {
		r->close = V_PASS;
		probe_seen(r, "the PROXY header named the client, %s", t->local);
	} else {
		r->close = V_FAIL;
		probe_seen(r, "the PROXY header named %s; the client is %s",
		    t->srv.source, t->local);
	}
}

void
judge_idle(const struct probe *p, const struct trial *t, struct result *r)
{
	char b[256];

	bytes_seen(t, b, sizeof(b));
	r->data = data_ok(t) ? V_PASS : V_FAIL;
	r->close = t->end == TRIAL_EOF ? V_PASS : V_FAIL;
	if (r->data == V_PASS && r->close == V_PASS)
		probe_seen(r, "idle %.1f s, then %zu bytes back and EOF",
		    (double)p->idle_ms / 1000, t->received);
	else if (t->srv.found && !t->srv.open &&
	    strcmp(t->srv.state, "idle_timeout") == 0)
		probe_seen(r, "%s: the probe listener's own idle_timeout ended "
		    "it", b);
	else if (t->t_end * 1000 < (double)p->idle_ms)
		probe_seen(r, "%s, within the %.1f s idle: the path's idle "
		    "timeout", b, (double)p->idle_ms / 1000);
	else
		probe_seen(r, "%s, after the %.1f s idle", b,
		    (double)p->idle_ms / 1000);
	snprintf(r->expected, sizeof(r->expected), "the connection alive "
	    "after %.1f s idle", (double)p->idle_ms / 1000);
}
