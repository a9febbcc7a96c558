/*
 * probe_judge_ends.c — the judges of the cases about how a connection
 * ends away from the echo: a close with the echo unread (RS4), a relay's
 * own LOCAL check (PP3), and fronts whose server refuses or never answers
 * (CN3, CN4). The rest are probe_judge.c's.
 */
#include <stdio.h>
#include <string.h>

#include "probe_judge.h"

void
judge_close_unread(const struct probe *p, const struct trial *t,
    struct result *r)
{
	char s[96], ms[32];

	(void)p;
	server_bytes(t, s, sizeof(s));
	r->data = t->end == TRIAL_DONE && server_got_all(t) ? V_PASS : V_FAIL;
	stall_pattern(t, r);
	snprintf(r->expected, sizeof(r->expected), "the daemon's side ended "
	    "within %.1f s of our close", t->server_wait);
	if (t->end != TRIAL_DONE || !t->srv.found) {
		r->close = V_FAIL;
		bytes_seen(t, r->detail, sizeof(r->detail));
		if (t->end == TRIAL_DONE)
			probe_seen(r, "our close with the echo unread%s", s);
	} else if (t->srv.open) {
		r->close = V_FAIL;
		r->pattern = PATTERN_UPSTREAM_LEFT;
		probe_seen(r, "our close with the echo unread, then the "
		    "daemon's side still open %.1f s later%s",
		    t->server_wait, s);
	} else {
		r->close = V_INFO;
		r->figure_name = "server_end_ms";
		r->figure_ms = t->srv.end_ms - t->t_end * 1000;
		if (r->figure_ms < 0)
			r->figure_ms = 0;
		probe_seen(r, "our close with the echo unread (a reset) reached "
		    "the daemon as %s, %s later%s", strcmp(t->srv.state,
		    "reset") == 0 ? "a reset" : t->srv.eof_ms >= 0 ? "a FIN" :
		    t->srv.state, probe_ms_text(r->figure_ms, ms, sizeof(ms)),
		    s);
	}
}

void
judge_proxy_local(const struct probe *p, const struct trial *t,
    struct result *r)
{
	judge_fin(p, t, r);
	snprintf(r->expected, sizeof(r->expected), "the echo, then EOF; the "
	    "daemon's client the connection's own end, %s", t->local);
	if (r->data != V_PASS || r->close != V_PASS) {
		if (t->received == 0)
			probe_seen(r, "nothing came back: the probe listener "
			    "refused the LOCAL header (%s)",
			    trial_end_text(t->end));
	} else if (!t->srv.found) {
		r->close = V_UNSUPPORTED;
		probe_seen(r, "the daemon has no record of it");
	} else if (strcmp(t->srv.source, t->local) != 0) {
		r->close = V_FAIL;
		probe_seen(r, "the daemon took the LOCAL header's connection "
		    "for %s; it is %s", t->srv.source, t->local);
	} else {
		probe_seen(r, "the LOCAL header was taken as a check: echoed, "
		    "then EOF, the client its own end (%s)", t->local);
	}
}

/* CN3 and CN4 both: bytes back from a dead end are a fail. */
static bool
dead_end_answered(const struct trial *t, struct result *r)
{
	r->data = t->received == 0 ? V_PASS : V_FAIL;
	if (t->received == 0)
		return false;
	r->close = V_FAIL;
	probe_seen(r, "%zu bytes came back: the address reaches a server, not "
	    "a dead end", t->received);
	return true;
}

void
judge_refused(const struct probe *p, const struct trial *t, struct result *r)
{
	char ms[32];

	(void)p;
	snprintf(r->expected, sizeof(r->expected), "the connection refused, "
	    "or reset");
	if (dead_end_answered(t, r))
		return;
	r->figure_name = "end_ms";
	r->figure_ms = t->t_end * 1000;
	probe_ms_text(r->figure_ms, ms, sizeof(ms));
	if (t->end == TRIAL_REFUSED) {
		r->close = V_PASS;
		r->figure_name = NULL;
		probe_seen(r, "no connection: %s", t->err);
	} else if (t->end == TRIAL_RESET) {
		r->close = V_PASS;
		probe_seen(r, "a reset %s after the connect", ms);
	} else if (t->end == TRIAL_EOF) {
		r->close = V_NON_STRICT;
		r->pattern = PATTERN_RESET_AS_FIN;
		probe_seen(r, "a clean EOF %s after the connect: to the client, "
		    "an empty reply", ms);
	} else {
		r->close = V_FAIL;
		r->figure_name = NULL;
		probe_seen(r, "nothing ended the connection within %.1f s",
		    t->deadline);
	}
}

void
judge_black_hole(const struct probe *p, const struct trial *t,
    struct result *r)
{
	char ms[32];

	(void)p;
	if (dead_end_answered(t, r))
		return;
	r->close = V_INFO;
	r->figure_name = "gave_up_ms";
	r->figure_ms = t->t_end * 1000;
	probe_ms_text(r->figure_ms, ms, sizeof(ms));
	if (t->end == TRIAL_REFUSED) {
		r->figure_name = NULL;
		probe_seen(r, "no connection: %s", t->err);
	} else if (t->end == TRIAL_RESET || t->end == TRIAL_EOF) {
		probe_seen(r, "the relay gave up after %s: %s", ms,
		    t->end == TRIAL_RESET ? "a reset" : "a clean EOF");
	} else {
		r->figure_name = NULL;
		probe_seen(r, "still open after %.1f s: the relay waits on the "
		    "server longer", t->deadline);
	}
}
