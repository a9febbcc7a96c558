/*
 * probe.c — upcase probe: does the path to a probe listener keep TCP
 * half-close, pass resets on, keep idle connections? It first makes sure
 * something that echoes as a probe listener does is there (a short
 * exchange, closed by the client: nothing the cases test), then runs the
 * chosen cases of the catalogue (probe_cases.c) one after the other, and
 * reports them (probe_report.c).
 *
 * The run announces its worst case first, the sum of every trial's
 * deadline, and keeps to it: a trial that could end past it is not run.
 */
#include "probe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "net.h"
#include "probe_int.h"
#include "stream.h"

const char *const verdict_names[V_COUNT] = { "pass", "info", "unsupported",
    "non-strict", "inconclusive", "fail" };

/* How long the daemon's side may take to end after the trial: what is
 * still in flight through a relay when the client's side has ended. */
static double
server_wait(const struct trial *t)
{
	return t->server_wait > 0 ? t->server_wait : PROBE_SERVER_WAIT;
}

double
probe_trial_worst(const struct probe *p, const struct trial *t)
{
	/* The report: exchanges (each within a step) until the daemon's
	 * side closes or server_wait has passed, and the last one begun
	 * then. With abort after the FIN, the same with a step's wait for
	 * the daemon to have read it. */
	if (!p->reports || t->server_wait < 0)
		return t->deadline;
	return t->deadline + p->step + server_wait(t) + 0.05 +
	    (t->abort && t->shut ? 2 * p->step + 0.05 : 0);
}

bool
probe_trial(struct probe *p, struct trial *t)
{
	if (net_now() + probe_trial_worst(p, t) > p->deadline)
		return false;
	t->scenario.run = p->run;
	t->scenario.conn = ++p->conns;
	if (p->at_direct && p->direct_proxied && t->proxy == TRIAL_PROXY_NONE)
		t->proxy = TRIAL_PROXY_SELF;
	if (t->abort && t->shut) {
		t->fin_seen = probe_fin_seen;
		t->arg = p;
	}
	trial_run(&p->addr, p->name, &p->via, t);
	if (t->server_wait >= 0)
		probe_server(p, t, server_wait(t));
	return true;
}

struct probe_place
probe_go(struct probe *p, const struct addr *a, const char *name,
    bool direct)
{
	struct probe_place was = { p->addr, p->name, p->via, p->at_direct };

	p->addr = *a;
	p->name = name;
	if (direct) {
		p->via.kind = VIA_NONE;
		p->at_direct = true;
	}
	return was;
}

void
probe_back(struct probe *p, const struct probe_place *was)
{
	p->addr = was->addr;
	p->name = was->name;
	p->via = was->via;
	p->at_direct = was->at_direct;
}

void
probe_seen(struct result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

const char *
probe_ms_text(double ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%.1f ms", ms);
	else
		snprintf(buf, len, "%.2f s", ms / 1000);
	return buf;
}

/*
 * Is a probe listener there? 16 bytes sent and read back, then closed by
 * us. Returns 0, or 3 (unreachable) with one line said.
 */
static int
reach(const struct addr *addr, const char *name, const struct via *via,
    double step, bool *proxied)
{
	struct trial t = { .send = 16, .stop_echoed = true,
	    .deadline = 2 * step };
	size_t magic = strlen(SCENARIO_MAGIC);

	scenario_init(&t.scenario);
	t.proxy = proxied != NULL && *proxied ? TRIAL_PROXY_SELF :
	    TRIAL_PROXY_NONE;
	trial_run(addr, name, via, &t);
	if (proxied != NULL && t.end != TRIAL_REFUSED &&
	    !(t.end == TRIAL_DONE && t.wrong_at == SIZE_MAX)) {
		/* The other guess: a PROXY header or none. */
		struct trial again = t;

		again.proxy = *proxied ? TRIAL_PROXY_NONE : TRIAL_PROXY_SELF;
		trial_run(addr, name, via, &again);
		if (again.end == TRIAL_DONE && again.wrong_at == SIZE_MAX) {
			*proxied = !*proxied;
			return 0;
		}
	}
	if (t.end == TRIAL_REFUSED) {
		fprintf(stderr, "upcase: %s\n", t.err);
		return 3;
	}
	if (t.end == TRIAL_DONE && t.wrong_at == SIZE_MAX)
		return 0;
	if (strncmp(t.first, SCENARIO_MAGIC, magic) == 0)
		fprintf(stderr, "upcase: %s: the probe line came back as data: "
		    "%s\n", name, t.first[magic + 1] ==
		    STREAM_PATTERN_UPPER[0] ? "a plain upcased listener (a "
		    "probe needs 'listen = ADDRESS probe')" : "not upcased at "
		    "all (a plain echo?)");
	else if (t.received == 0)
		fprintf(stderr, "upcase: %s: no probe listener answers: "
		    "nothing came back, then %s after %.1f s\n", name,
		    trial_end_text(t.end), t.t_end);
	else
		fprintf(stderr, "upcase: %s: no probe listener answers: %zu "
		    "bytes came back, beginning \"%s\"\n", name,
		    t.received, t.first);
	return 3;
}

/*
 * c, straight at --direct first when given, once: a case that fails
 * there fails for the setup (the probe listener's own limits, say), not
 * for the path, and is not run through it.
 */
static void
run_case(struct probe *p, const struct probe_case *c, struct result *r)
{
	struct result control = { .data = V_PASS };
	unsigned repeat = p->repeat;

	if (p->direct_name != NULL && !c->uncontrolled) {
		struct probe_place was = probe_go(p, &p->direct,
		    p->direct_name, true);

		p->repeat = 1;
		c->run(p, c, &control);
		p->repeat = repeat;
		probe_back(p, &was);
		if (control.verdict == V_FAIL ||
		    control.verdict == V_INCONCLUSIVE) {
			*r = (struct result){ .verdict = V_UNSUPPORTED,
			    .data = V_UNSUPPORTED, .close = V_UNSUPPORTED,
			    .control = control.verdict };
			probe_seen(r, "the setup: straight at %s (--direct) it "
			    "fails too: %.300s", p->direct_name,
			    control.detail);
			return;
		}
	}
	*r = (struct result){ .data = V_PASS, .control = p->direct_name !=
	    NULL && !c->uncontrolled ? control.verdict : V_COUNT };
	c->run(p, c, r);
}

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

int
probe_main(int argc, char **argv)
{
	struct probe p = { .repeat = 3, .max_wait_ms = 10000, .step = 5 };
	const struct probe_case *chosen[PROBE_CASES_MAX];
	struct result results[PROBE_CASES_MAX];
	unsigned n = 0, counts[V_COUNT] = { 0 };
	enum verdict overall = V_PASS;
	double worst = 0;
	int status, hello;

	probe_parse_options(&p, argc, argv);
	for (size_t i = 0; i < probe_ncases; i++)
		if (probe_chosen(&p, &probe_cases[i]))
			chosen[n++] = &probe_cases[i];
	if (n == 0)
		usage_error("--case: no case is '%s' (upcase probe --list)",
		    p.only);
	/* The run's key names its connections to the daemon; its limits
	 * are learned before they can be taken for the path's. */
	if (getrandom(&p.run, sizeof(p.run), 0) != sizeof(p.run) ||
	    p.run == 0)
		p.run = (uint64_t)getpid() << 32 | (uint64_t)time(NULL);
	if ((status = reach(&p.addr, p.name, &p.via, p.step, NULL)) != 0)
		goto unreachable;
	hello = probe_hello(&p, false);
	if (p.direct_name != NULL) {
		/* The probe listener, straight: with a PROXY header when
		 * the path's report says it reads one, without otherwise,
		 * and the other way when that was wrong. */
		p.direct_proxied = hello == 0 && p.proxied;
		if ((status = reach(&p.direct, p.direct_name, NULL, p.step,
		    &p.direct_proxied)) != 0)
			goto unreachable;
		if (hello != 0)
			hello = probe_hello(&p, true);
	}
	if (hello == 0 && p.drain_timeout_ms != 0 &&
	    p.max_wait_ms >= p.drain_timeout_ms) {
		p.max_wait_ms = p.drain_timeout_ms - 1000 < 250 ? 250 :
		    p.drain_timeout_ms - 1000;
		p.max_wait_lowered = true;
	}
	for (unsigned i = 0; i < n; i++) {
		worst += chosen[i]->worst(&p, chosen[i]);
		if (p.direct_name != NULL && !chosen[i]->uncontrolled) {
			/* One control run. */
			unsigned repeat = p.repeat;

			p.repeat = 1;
			worst += chosen[i]->worst(&p, chosen[i]);
			p.repeat = repeat;
		}
	}
	/* Each trial keeps to its deadline from its own start: the time
	 * between trials, a second in all at the most, is the margin. */
	worst += 1;
	p.started = net_now();
	p.deadline = p.started + worst;
	report_start(&p, n, worst);
	for (unsigned i = 0; i < n; i++) {
		double t = net_now();

		run_case(&p, chosen[i], &results[i]);
		results[i].seconds = net_now() - t;
		report_case(&p, chosen[i], &results[i]);
		counts[results[i].verdict]++;
		if (results[i].verdict > overall)
			overall = results[i].verdict;
	}
	report_end(&p, counts, overall);
	if (p.junit != NULL && (report_junit(&p, chosen, results, n,
	    p.junit) == -1 || fclose(p.junit) == EOF)) {
		fprintf(stderr, "upcase: --junit %s: %s\n", p.junit_path,
		    strerror(errno));
		return EXIT_USAGE;
	}
	return overall >= V_INCONCLUSIVE ? 1 : 0;
unreachable:
	if (p.junit != NULL)
		fclose(p.junit);
	return status;
}
