/*
 * test_metrics.c — the metrics listener: after known traffic every counter
 * says what was sent, in an exposition the official Prometheus parser
 * reads; bad, oversized and slow requests cost only their own connection.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "scrape.h"

TestSuite(metrics, .timeout = 120);

struct metered {
	struct daemon d;
	struct sockaddr_storage ss;	/* the metrics listener */
	socklen_t sslen;
	char addr[128];
	char samples[1 << 16];
};

/* Start with a metrics listener, and up to two more -o settings. */
static void
start_metered(struct metered *m, const char *extra, const char *more)
{
	const char *line;

	daemon_start(&m->d, "-o", "listen=127.0.0.2:0 metrics", "-o",
	    "log_level=debug", extra != NULL ? "-o" : NULL, extra,
	    more != NULL ? "-o" : NULL, more, NULL);
	line = daemon_wait_log(&m->d, "listening on 127.0.0.2:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&m->d));
	parse_listen_line(line, m->addr, sizeof(m->addr), &m->ss, &m->sslen);
	m->d.mss = m->ss;
	m->d.msslen = m->sslen;
}

static double
scrape_sample(struct metered *m, const char *name)
{
	scrape(&m->ss, m->sslen, m->d.dir, m->samples, sizeof(m->samples));
	return sample(m->samples, name);
}

Test(metrics, counters_match_the_traffic_sent)
{
	static struct metered m;
	struct linger hard = { .l_onoff = 1, .l_linger = 0 };
	char name[200], got[16];
	double scrapes;
	int fd;

	start_metered(&m, NULL, NULL);
	/* Three clients that finish, 1000 bytes each ... */
	for (int i = 0; i < 3; i++) {
		unsigned char in[1000], out[1001];

		fill_pattern(in, sizeof(in), (unsigned)i);
		fd = daemon_connect(&m.d);
		cr_assert_eq(exchange(fd, in, sizeof(in), out, sizeof(out),
		    sizeof(in), DEADLINE_MS), 1000);
		close(fd);
		daemon_wait_open(&m.d, 0);
	}
	/* ... one that sends 10 bytes, gets them back, and resets ... */
	fd = daemon_connect(&m.d);
	cr_assert_eq(write_all(fd, "abcdefghij", 10, DEADLINE_MS), 0);
	cr_assert_eq(read(fd, got, sizeof(got)), 10);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
	close(fd);
	daemon_wait_open(&m.d, 0);
	/* ... and one still open, that has said nothing. */
	fd = daemon_connect(&m.d);
	daemon_wait_open(&m.d, 1);

	snprintf(name, sizeof(name), "upcased_connections_accepted_total"
	    "{listener=\"%s\"}", m.d.addr);
	cr_assert_eq(scrape_sample(&m, name), 5, "%s", m.samples);
	snprintf(name, sizeof(name), "upcased_connections_accepted_total"
	    "{listener=\"%s\"}", m.addr);
	scrapes = sample(m.samples, name);	/* the waits' and this one */
	cr_assert_eq(sample(m.samples, "upcased_connections_open"), 1);
	cr_assert_eq(sample(m.samples, "upcased_connections_closed_total"
	    "{reason=\"done\"}"), 3);
	cr_assert_eq(sample(m.samples, "upcased_connections_closed_total"
	    "{reason=\"reset\"}"), 1);
	cr_assert_eq(sample(m.samples, "upcased_connections_closed_total"
	    "{reason=\"idle_timeout\"}"), 0);
	cr_assert_eq(sample(m.samples, "upcased_received_bytes_total"), 3010);
	cr_assert_eq(sample(m.samples, "upcased_sent_bytes_total"), 3010);
	cr_assert_eq(sample(m.samples, "upcased_owed_bytes"), 0);
	cr_assert_eq(sample(m.samples, "upcased_half_closes_total"), 3);
	cr_assert_eq(sample(m.samples,
	    "upcased_connection_duration_seconds_count"), 4);
	cr_assert_eq(sample(m.samples, "upcased_connection_duration_seconds_"
	    "bucket{le=\"+Inf\"}"), 4);
	cr_assert_eq(sample(m.samples, "upcased_metrics_requests_total"
	    "{code=\"200\"}"), scrapes);
	cr_assert_eq(sample(m.samples, "upcased_connections_refused_total"
	    "{reason=\"fd_limit\"}"), 0);
	cr_assert_eq(sample(m.samples, "upcased_listener_full_total"), 0);
	cr_assert_eq(sample(m.samples, "upcased_build_info"
	    "{version=\"" VERSION "\"}"), 1);
	cr_assert_eq(scrape_sample(&m, name), scrapes + 1, "a scrape is one "
	    "accept on its listener");
	/* The process: the scrape's own connection was open while it was
	 * counted, and may still be. */
	cr_assert(sample(m.samples, "process_open_fds") - fd_count(m.d.pid)
	    <= 1 && sample(m.samples, "process_open_fds") >=
	    fd_count(m.d.pid), "%g fds, /proc says %d",
	    sample(m.samples, "process_open_fds"), fd_count(m.d.pid));
	cr_assert_gt(sample(m.samples, "process_resident_memory_bytes"),
	    rss_kib(m.d.pid) * 1024 / 2);
	cr_assert_gt(sample(m.samples, "process_start_time_seconds"),
	    1.7e9);
	close(fd);
	daemon_stop(&m.d);
}

/* A full backlog is visible while it lasts: owed bytes, a read pause. */
Test(metrics, owed_bytes_and_read_pauses)
{
	static struct metered m;
	static unsigned char src[256 * 1024];
	int fd;

	start_metered(&m, "backlog_high=64k", "backlog_low=16k");
	fill_pattern(src, sizeof(src), 3);
	fd = daemon_connect(&m.d);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	pump_until_counter(&m.d, fd, src, sizeof(src), 0,
	    "upcased_read_pauses_total", 1);
	cr_assert_eq(scrape_sample(&m, "upcased_read_pauses_total"), 1);
	cr_assert_gt(sample(m.samples, "upcased_owed_bytes"), 0);
	cr_assert_leq(sample(m.samples, "upcased_owed_bytes"), 64 * 1024);
	close(fd);
	daemon_stop(&m.d);
}

Test(metrics, bad_requests_cost_only_their_connection)
{
	static const struct {
		const char *request;
		const char *status;
	} cases[] = {
		{ "GET /nope HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n" },
		{ "POST /metrics HTTP/1.1\r\n\r\n",
		    "HTTP/1.1 405 Method Not Allowed\r\n" },
		{ "HELLO\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n" },
		{ "GET /metrics HTTP/2.0\r\n\r\n",
		    "HTTP/1.1 400 Bad Request\r\n" },
		/* RFC 9112's request line: one SP between its parts. */
		{ "GET/metrics HTTP/1.1\r\n\r\n",
		    "HTTP/1.1 400 Bad Request\r\n" },
		{ "GET  /metrics HTTP/1.1\r\n\r\n",
		    "HTTP/1.1 400 Bad Request\r\n" },
		{ "GET /metrics HTTP/1.1 \r\n\r\n",
		    "HTTP/1.1 400 Bad Request\r\n" },
		/* The absolute form, which a server must take. */
		{ "GET http://upcased/metrics HTTP/1.1\r\n\r\n",
		    "HTTP/1.1 200 OK\r\n" },
	};
	static struct metered m;
	static char answer[8192], big[6000];
	long long start;
	ssize_t n;
	int fd;

	start_metered(&m, "header_timeout=300ms", NULL);
	start = now_ms();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_request(&m.ss, m.sslen, cases[i].request, answer,
		    sizeof(answer));
		cr_assert_eq(strncmp(answer, cases[i].status,
		    strlen(cases[i].status)), 0, "%s: %s", cases[i].request,
		    answer);
	}
	cr_assert_not_null(strstr(answer, "Connection: close\r\n"));

	/* A header past 4 KiB is answered 400, not read to the end. */
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	http_request(&m.ss, m.sslen, big, answer, sizeof(answer));
	cr_assert_eq(strncmp(answer, "HTTP/1.1 400 ", 13), 0, "%s", answer);

	/* HEAD: the headers alone. */
	http_request(&m.ss, m.sslen, "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n",
	    answer, sizeof(answer));
	cr_assert_eq(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17), 0, "%s",
	    answer);
	cr_assert_str_eq(strstr(answer, "\r\n\r\n"), "\r\n\r\n");

	/* Half a request, then the client's FIN: answered 400 at once
	 * (the timeout is 300 ms; the test's deadline 60 s). */
	fd = connect_to(&m.ss, m.sslen);
	cr_assert_eq(write_all(fd, "GET /met", 8, DEADLINE_MS), 0);
	shutdown(fd, SHUT_WR);
	cr_assert_gt(read_all(fd, answer, sizeof(answer), DEADLINE_MS), 0);
	cr_assert_eq(strncmp(answer, "HTTP/1.1 400 ", 13), 0, "%s", answer);
	close(fd);

	/* Half a request, then nothing: closed at header_timeout,
	 * unanswered. Meanwhile the echo serves. */
	fd = connect_to(&m.ss, m.sslen);
	cr_assert_eq(write_all(fd, "GET /met", 8, DEADLINE_MS), 0);
	expect_echo(daemon_connect(&m.d), "still serving");
	n = read_all(fd, answer, sizeof(answer), DEADLINE_MS);
	cr_assert(n == 0 || (n == -1 && errno == ECONNRESET), "expected the "
	    "daemon to close without a word: %zd", n);
	close(fd);

	cr_assert_eq(scrape_sample(&m, "upcased_metrics_requests_total"
	    "{code=\"404\"}"), 1, "%s", m.samples);
	cr_assert_eq(sample(m.samples, "upcased_metrics_requests_total"
	    "{code=\"405\"}"), 1);
	cr_assert_eq(sample(m.samples, "upcased_metrics_requests_total"
	    "{code=\"400\"}"), 7);
	cr_assert_eq(sample(m.samples, "upcased_metrics_requests_total"
	    "{code=\"200\"}"), 3);
	cr_assert_eq(sample(m.samples, "upcased_metrics_dropped_total"), 1);
	/* Bad requests are logged, once a second at most. */
	cr_assert_geq(daemon_count_log(&m.d, "metrics: 404 for 127.0.0.1:"),
	    1, "%s", daemon_log(&m.d));
	cr_assert_leq(daemon_count_log(&m.d, "bad requests so far"),
	    1 + (now_ms() - start) / 1000, "%s", daemon_log(&m.d));
	daemon_stop(&m.d);
}
