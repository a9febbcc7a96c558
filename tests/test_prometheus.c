/*
 * test_prometheus.c — the real Prometheus server scrapes a running
 * upcased (two workers) from a configuration made from the shipped
 * conf/prometheus.yml: after N clients it answers, through its query API,
 * that the echo listener accepted N and that the target is up; a
 * Prometheus that scrapes every 100 ms costs no client a byte; promtool
 * finds nothing to say of the exposition, of conf/upcased.rules.yml or of
 * conf/prometheus.yml.
 *
 * Each test runs in a network namespace of its own, so Prometheus's web
 * port can be a fixed one.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "peers.h"
#include "scrape.h"

TestSuite(prometheus, .timeout = 120);

#define PROMTOOL	"/usr/bin/promtool"
#define WEB_HOST	"127.0.0.1"
#define WEB_PORT	9090

/* d's metrics listener as HOST:PORT (a static buffer). */
static const char *
metrics_addr(const struct daemon *d)
{
	static char addr[64];
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&d->mss;

	snprintf(addr, sizeof(addr), "%s:%u", inet_ntoa(sin->sin_addr),
	    ntohs(sin->sin_port));
	return addr;
}

/* The shipped scrape configuration, aimed at d's metrics listener every
 * interval, without its rules (checked on their own below). */
static const char *
prometheus_config(const struct daemon *d, const char *interval)
{
	static char path[160];
	char target[200], every[64];

	snprintf(path, sizeof(path), "%s", daemon_file(d, "prometheus.yml"));
	snprintf(target, sizeof(target), "targets: ['%s']", metrics_addr(d));
	snprintf(every, sizeof(every), "    scrape_interval: %s\n", interval);
	const char *pairs[] = { "targets: ['127.0.0.1:9106']", target,
	    "rule_files:\n  - upcased.rules.yml\n", "",
	    "    scrape_interval: 15s\n", every, NULL };
	return edited_copy("conf/prometheus.yml", path, pairs);
}

/* GET target from Prometheus's web port into out (NUL-terminated): false
 * if it cannot be reached. No half-close: Go's server takes the client's
 * EOF for a cancelled request. */
static bool
web_get(const char *target, char *out, size_t cap)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(WEB_PORT) };
	char request[2048];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, WEB_HOST, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return false;
	}
	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: "
	    WEB_HOST "\r\nConnection: close\r\n\r\n", target);
	cr_assert_eq(write_all(fd, request, strlen(request), DEADLINE_MS), 0);
	n = read_all(fd, out, cap - 1, DEADLINE_MS);
	close(fd);
	cr_assert_geq(n, 0, "reading Prometheus's answer: %s",
	    strerror(errno));
	out[n] = '\0';
	return true;
}

/* /api/v1/query?query=expr (percent-encoded); the answer's body. */
static const char *
query(const char *expr)
{
	static char answer[1 << 16];
	char target[1024] = "/api/v1/query?query=";
	size_t at = strlen(target);

	for (const char *c = expr; *c != '\0' && at + 4 < sizeof(target); c++)
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("_-.", *c) != NULL)
			target[at++] = *c;
		else
			at += (size_t)snprintf(target + at, 4, "%%%02X",
			    (unsigned char)*c);
	target[at] = '\0';
	if (!web_get(target, answer, sizeof(answer)))
		return "";
	return strstr(answer, "\r\n\r\n") != NULL ?
	    strstr(answer, "\r\n\r\n") + 4 : answer;
}

/* The value of a one-sample answer ("value":[T,"V"]), or NULL when the
 * answer has none (yet). */
static const char *
answer_value(const char *body)
{
	static char value[64];
	const char *v = strstr(body, "\"value\":[");

	if (v == NULL || strstr(v + 1, "\"value\":[") != NULL ||
	    (v = strchr(v, ',')) == NULL || v[1] != '"')
		return NULL;
	snprintf(value, sizeof(value), "%s", v + 2);
	value[strcspn(value, "\"")] = '\0';
	return value;
}

/* Ask expr until its one sample says want; fails at the deadline with
 * the last answer. Returns the answer. */
static const char *
query_until(const char *expr, const char *want)
{
	long long deadline = now_ms() + DEADLINE_MS;
	const char *body, *value;

	for (;;) {
		body = query(expr);
		value = answer_value(body);
		if (value != NULL && strcmp(value, want) == 0)
			return body;
		cr_assert_lt(now_ms(), deadline, "%s: not %s by the deadline: "
		    "%s", expr, want, body);
		usleep(50 * 1000);	/* the next scrape is what we wait for */
	}
}

/* Ask expr until its one sample is at least min; returns that value. */
static double
query_at_least(const char *expr, double min)
{
	long long deadline = now_ms() + DEADLINE_MS;
	const char *body, *value;

	for (;;) {
		body = query(expr);
		value = answer_value(body);
		if (value != NULL && atof(value) >= min)
			return atof(value);
		cr_assert_lt(now_ms(), deadline, "%s: not %g by the deadline: "
		    "%s", expr, min, body);
		usleep(50 * 1000);
	}
}

/* The daemon's exposition, as a scrape gets it: promtool checks it and
 * says nothing. */
static void
expect_promtool_quiet(const struct daemon *d)
{
	char samples[1 << 16], out[4096], cmd[256];
	const char *args[] = { "-c", cmd, NULL };

	scrape(&d->mss, d->msslen, d->dir, samples, sizeof(samples));
	snprintf(cmd, sizeof(cmd), "exec " PROMTOOL " check metrics < %s",
	    daemon_file(d, "metrics.txt"));
	cr_assert_eq(run("/bin/sh", args, out, sizeof(out)), 0,
	    "promtool check metrics: %s", out);
	cr_assert_str_eq(out, "", "promtool check metrics said something");
}

/*
 * Prometheus scraping every interval while n clients (rounds of at most
 * 1000 at once) are served, every byte checked; then its answers. Returns
 * how many scrapes came while the clients were served.
 */
static double
scraped_while_serving(const char *interval, unsigned n)
{
	struct daemon d = { 0 };
	char expr[256], want[32], scrapes[128];
	const char *body;
	double before, during, total;
	pid_t prometheus;

	private_loopback();
	raise_fd_limit(2 * 1000 + 256);
	daemon_start_metered(&d, "-o", "workers=2", NULL);
	prometheus = start_prometheus(d.dir, prometheus_config(&d, interval),
	    WEB_HOST ":9090");
	/* Scraping already, so that scrapes and clients meet. */
	query_until("up{job=\"upcased\"}", "1");
	snprintf(scrapes, sizeof(scrapes), "upcased_connections_accepted_total"
	    "{listener=\"%s\"}", metrics_addr(&d));
	before = daemon_counter(&d, scrapes);
	for (unsigned done = 0; done < n; done += 1000) {
		unsigned round = n - done < 1000 ? n - done : 1000;

		cr_assert_eq(load_run(&d.ss, d.sslen, round, 4096,
		    DEADLINE_MS), 0, "%u of %u clients failed", round, n);
	}
	during = daemon_counter(&d, scrapes) - before - 1;	/* not ours */

	/* The label set the exposition gives: listener, to which Prometheus
	 * adds job and instance. */
	snprintf(expr, sizeof(expr), "sum(upcased_connections_accepted_total"
	    "{job=\"upcased\",listener=\"%s\"})", d.addr);
	snprintf(want, sizeof(want), "%u", n);
	body = query_until(expr, want);
	cr_log_info("%s -> %s", expr, body);
	body = query_until("up{job=\"upcased\"}", "1");
	cr_assert_not_null(strstr(body, metrics_addr(&d)), "up for another "
	    "instance: %s", body);
	cr_log_info("up{job=\"upcased\"} -> %s", body);
	/* Every scrape was answered (a failed one would have made up 0). */
	/* A few more scrapes, every one of them answered (a failed one
	 * makes up 0). */
	total = query_at_least("count_over_time(up{job=\"upcased\"}[1h])",
	    3);
	query_until("min_over_time(up{job=\"upcased\"}[1h])", "1");
	cr_log_info("every %s: %g scrapes, %g of them while %u clients were "
	    "served; none failed", interval, total, during, n);
	cr_assert_eq(daemon_counter(&d, "upcased_metrics_requests_total"
	    "{code=\"400\"}"), 0);
	expect_promtool_quiet(&d);
	stop_peer(prometheus, "prometheus");
	daemon_stop(&d);
	return during;
}

Test(prometheus, scrapes_what_was_served)
{
	scraped_while_serving("500ms", 300);
}

/* Scrapes every 100 ms go to the metrics listener: thousands of clients
 * meanwhile lose nothing. */
Test(prometheus, scraping_often_costs_no_client_a_byte)
{
	cr_assert_geq(scraped_while_serving("100ms", 4000), 1, "no scrape "
	    "came while the clients were served");
}

/* promtool on what ships: the rules, and the configuration with them. */
Test(prometheus, promtool_checks_the_shipped_files)
{
	char out[4096];
	const char *rules[] = { "check", "rules", "conf/upcased.rules.yml",
	    NULL };
	const char *config[] = { "check", "config", "conf/prometheus.yml",
	    NULL };

	cr_assert_eq(access(PROMTOOL, X_OK), 0, PROMTOOL " is missing: make "
	    "test installs Debian's prometheus");
	cr_assert_eq(run(PROMTOOL, rules, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "SUCCESS: "), "%s", out);
	cr_assert_null(strstr(out, "WARNING"), "%s", out);
	cr_assert_eq(run(PROMTOOL, config, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "SUCCESS: 1 rule files found"), "%s",
	    out);
	cr_assert_null(strstr(out, "WARNING"), "%s", out);
}
