/*
 * probe_int.h — what upcase probe's parts share: the run (probe.c), the
 * case catalogue and its judgements (probe_cases.c), the reports in text,
 * JSON and JUnit (probe_report.c).
 */
#ifndef PROBE_INT_H
#define PROBE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "trial.h"

/*
 * Worst first, for the overall result: a case's verdict is the worse of
 * its data's and its close's. info is a measured figure, unsupported a
 * case this run cannot make, inconclusive runs that disagreed.
 */
enum verdict {
	V_PASS, V_INFO, V_UNSUPPORTED, V_NON_STRICT, V_INCONCLUSIVE, V_FAIL,
	V_COUNT
};

extern const char *const verdict_names[V_COUNT];

struct probe {
	const char *name;		/* the address, as given */
	struct addr addr;
	unsigned repeat;		/* runs of each case */
	uint64_t max_wait_ms;		/* HC3's longest delay */
	bool max_wait_lowered;		/* ... under the listener's
					 * drain_timeout */
	uint64_t idle_ms;		/* LT1's idle; 0: unsupported */
	double step;			/* seconds to connect, and to see a
					 * reply once it is due (--timeout) */
	double started, deadline;	/* net_now(): the run's, and the
					 * worst case it announced */
	const char *only;		/* --case: IDs and families, or NULL */
	const char *direct_name;	/* --direct: the control's address */
	struct addr direct;
	bool direct_proxied;		/* ... which reads PROXY headers */
	bool at_direct;			/* the trials go there now */
	const char *refused_name;	/* --refused: to a server that
					 * refuses, or NULL */
	struct addr refused;
	const char *black_hole_name;	/* --black-hole: to one that never
					 * answers, or NULL */
	struct addr black_hole;
	struct via via;			/* --via; VIA_NONE: none */
	uint64_t run;			/* the run's key, for the daemon */
	uint32_t conns;			/* trials so far: the last's number */
	bool reports;			/* the daemon reports what it saw ... */
	bool reports_direct;		/* ... read at --direct, the path
					 * carrying none */
	uint64_t idle_timeout_ms;	/* ... and its listener's limits */
	uint64_t drain_timeout_ms;
	bool proxied;			/* ... and it reads PROXY headers */
	bool json;
	const char *junit_path;		/* --junit FILE, or NULL */
	FILE *junit;			/* open from the start */
};

/* The ways relays fail that explain nearly every failure: upcase(1),
 * PATTERNS, names the setting that fixes each in the relays of the
 * matrix. */
enum pattern {
	PATTERN_NONE,
	PATTERN_CLOSES_BOTH,	/* closes both ways at the first FIN */
	PATTERN_FIN_TIMER,	/* a timer after the first FIN */
	PATTERN_RESET_AS_FIN,	/* resets passed on as FINs, or not at all */
	PATTERN_UPSTREAM_LEFT,	/* the server's side kept open */
	PATTERN_STALL,		/* stops moving under two-way load */
	PATTERN_COUNT
};

extern const char *const pattern_names[PATTERN_COUNT];

/* What a case found: the graded parts, the run shown as evidence, a
 * figure when it measures one, and the words. */
struct result {
	enum verdict verdict, data, close;	/* V_INFO: not graded */
	enum verdict control;			/* --direct's; V_COUNT: none */
	enum pattern pattern;			/* on fail or non-strict */
	unsigned runs;
	bool have_evidence;
	struct trial evidence;
	const char *figure_name;		/* NULL: none */
	double figure_ms;
	const char *figure2_name;
	double figure2_ms;
	char detail[384];			/* what was seen */
	char expected[160];			/* what would pass, on failure */
	double seconds;				/* the case's run time */
};

struct shape;			/* probe_cases.c's */

struct probe_case {
	const char *id;			/* stable once shipped */
	const char *name;
	const char *family;
	const char *direction;		/* whose FIN comes first, or "-" */
	const char *spec;		/* what it rests on */
	const char *requirement;	/* one line */
	void (*run)(struct probe *p, const struct probe_case *c,
	    struct result *r);
	double (*worst)(const struct probe *p,	/* seconds at most */
	    const struct probe_case *c);
	const struct shape *shape;	/* one trial repeated, or NULL */
	bool uncontrolled;		/* it does not reach the probe
					 * listener: no control run */
};

#define PROBE_CASES_MAX	32	/* the catalogue's size, at most */
#define PROBE_SERVER_WAIT 2.0	/* seconds the daemon's side may take to
				 * end after the client's */

extern const struct probe_case probe_cases[];
extern const size_t probe_ncases;

/* Is c chosen by p->only ("HC1,resets": IDs or families)? */
bool probe_chosen(const struct probe *p, const struct probe_case *c);

/* HC3's search (probe_search.c), and its worst case. */
void probe_run_hc3(struct probe *p, const struct probe_case *c,
    struct result *r);
double probe_worst_hc3(const struct probe *p, const struct probe_case *c);

/* What the daemon saw (probe_server.c). probe_hello asks once, through
 * the path or (direct) at --direct: 0 when it reports (p->reports, the
 * limits), -1 when not. probe_server fills
 * t->srv, waiting up to wait seconds for the daemon's side to close;
 * probe_fin_seen waits (--timeout) until the daemon has read t's FIN;
 * probe_server_open returns how many of the run's connections first to
 * last the daemon has open, waiting up to wait seconds for none. */
int probe_hello(struct probe *p, bool direct);
void probe_server(const struct probe *p, struct trial *t, double wait);
bool probe_fin_seen(void *arg, const struct trial *t);
unsigned probe_server_open(const struct probe *p, uint32_t first,
    uint32_t last, double wait);

/* --list: the catalogue, one case a line. */
void probe_list(FILE *out);

/* Where the trials go: the address, --via, and whether that is the
 * probe listener straight (--direct). probe_go sends p's trials to a
 * (named name; straight when direct, else through --via) and returns
 * where they went, for probe_back. */
struct probe_place {
	struct addr addr;
	const char *name;
	struct via via;
	bool at_direct;
};
struct probe_place probe_go(struct probe *p, const struct addr *a,
    const char *name, bool direct);
void probe_back(struct probe *p, const struct probe_place *was);

/* The options (probe_args.c) into p; a bad one exits 2, saying why. */
void probe_parse_options(struct probe *p, int argc, char **argv);

/* A run of t against p's address, then what the daemon saw of it
 * (t->srv), unless that would end past the run's announced worst case:
 * then false, and nothing is run. */
bool probe_trial(struct probe *p, struct trial *t);

/* The seconds probe_trial may take for t at most. */
double probe_trial_worst(const struct probe *p, const struct trial *t);

/* What a case saw, in words, into r->detail. */
void probe_seen(struct result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "12.5 ms", "1.20 s": milliseconds, as measured. */
const char *probe_ms_text(double ms, char *buf, size_t len);

/* The reports. */
void report_start(const struct probe *p, unsigned ncases, double worst);
void report_case(const struct probe *p, const struct probe_case *c,
    const struct result *r);
void report_end(const struct probe *p, const unsigned *counts,
    enum verdict overall);
int report_junit(const struct probe *p, const struct probe_case *const *c,
    const struct result *r, unsigned n, FILE *out);

#endif
