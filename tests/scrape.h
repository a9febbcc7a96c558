/*
 * scrape.h — reading a daemon's metrics the way Prometheus would: GET
 * /metrics over HTTP, the exposition checked by the official client's
 * parser (tests/promparse.py), and one sample's value looked up.
 */
#ifndef SCRAPE_H
#define SCRAPE_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * Send request (raw bytes) to ss, half-close, and read the answer to EOF
 * into out (NUL-terminated). Returns its length; fails the test at the
 * deadline.
 */
size_t http_request(const struct sockaddr_storage *ss, socklen_t len,
    const char *request, char *out, size_t cap);

/*
 * GET /metrics from ss; the body, written to dir/metrics.txt, must pass
 * tests/promparse.py. out receives its samples, one a line:
 * NAME{LABEL="VALUE",...} VALUE.
 */
void scrape(const struct sockaddr_storage *ss, socklen_t len,
    const char *dir, char *out, size_t cap);

/* One sample's value from a GET /metrics, without the parser's check:
 * for a test that polls a counter. */
double scrape_value(const struct sockaddr_storage *ss, socklen_t len,
    const char *name);

/* The value of sample (NAME, or NAME{LABELS} as printed) in samples;
 * fails the test when there is none. */
double sample(const char *samples, const char *name);

#endif
