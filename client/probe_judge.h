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

judge_fn judge_fin, judge_server_fin, judge_fin_latency, judge_reset,
    judge_client_abort, judge_upstream_closed, judge_reset_half_closed,
    judge_proxy_source, judge_idle;

/* "N of M bytes back, then EOF at 1.2 ms", and any wrong byte. */
void bytes_seen(const struct trial *t, char *buf, size_t len);

/* Every byte back, and right. */
bool data_ok(const struct trial *t);

/* Bytes lost or changed, then a clean end (not a deadline, which a loaded
 * machine can miss): proof. */
bool lost(const struct trial *t);

#endif
