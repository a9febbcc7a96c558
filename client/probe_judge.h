/*
 * probe_judge.h — the judges of the cases (probe_judge.c), for the
 * catalogue (probe_cases.c): each grades one trial's data and close into
 * a result, with what was seen and, on failure, what was expected.
 */
#ifndef PROBE_JUDGE_H
#define PROBE_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe_int.h"

typedef void judge_fn(const struct probe *p, const struct trial *t,
    struct result *r);

#define PROBE_NO_REPORT	"no report of what the daemon saw came back (an " \
			"older upcased, or a path that cannot carry one: " \
			"give --direct)"

/* probe_trial, or r inconclusive when t would end past the worst case. */
bool probe_trial_in_time(struct probe *p, struct trial *t, struct result *r);

/* Run t p->repeat times, judged by judge (probe_cases.c, at the top). */
void probe_repeated(struct probe *p, struct trial *t, judge_fn *judge,
    struct result *r);

/* The cases that are more than one trial repeated (probe_runs.c). */
void probe_run_lt1(struct probe *p, const struct probe_case *c,
    struct result *r);
void probe_run_lt3(struct probe *p, const struct probe_case *c,
    struct result *r);
void probe_run_pp3(struct probe *p, const struct probe_case *c,
    struct result *r);
void probe_run_cn3(struct probe *p, const struct probe_case *c,
    struct result *r);
void probe_run_cn4(struct probe *p, const struct probe_case *c,
    struct result *r);
double probe_worst_lt1(const struct probe *p, const struct probe_case *c);
double probe_worst_lt3(const struct probe *p, const struct probe_case *c);
double probe_worst_pp3(const struct probe *p, const struct probe_case *c);
double probe_worst_cn3(const struct probe *p, const struct probe_case *c);
double probe_worst_cn4(const struct probe *p, const struct probe_case *c);

judge_fn judge_fin, judge_server_fin, judge_fin_latency, judge_reset,
    judge_client_abort, judge_upstream_closed, judge_reset_half_closed,
    judge_proxy_source, judge_idle, judge_close_unread, judge_proxy_local, judge_refused, judge_black_hole;

/* "N of M bytes back, then EOF at 1.2 ms", and any wrong byte. */
void bytes_seen(const struct trial *t, char *buf, size_t len);

/* Every byte back, and right. */
bool data_ok(const struct trial *t);

/* Bytes lost or changed, then a clean end (not a deadline, which a loaded
 * machine can miss): proof. */
bool lost(const struct trial *t);

/* Did the daemon receive exactly what was sent? true when it cannot say
 * (no report, or the record overwritten). */
bool server_got_all(const struct trial *t);

/* "; the daemon received N of M", or "" when it has no record. */
void server_bytes(const struct trial *t, char *buf, size_t len);

/* A stall says so, whatever the case: its pattern. */
void stall_pattern(const struct trial *t, struct result *r);

#endif
