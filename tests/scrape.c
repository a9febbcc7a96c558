/*
 * scrape.c — see scrape.h.
 */
#include "scrape.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

size_t
http_request(const struct sockaddr_storage *ss, socklen_t len,
    const char *request, char *out, size_t cap)
{
	int fd = connect_to(ss, len), one = 1;
	ssize_t n;

	/* Corked, the request and our FIN leave in one segment: the daemon
	 * sees both at once and closes as it answers, instead of waiting for
	 * our close (which a test counting its descriptors would race). */
	if (ss->ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	cr_assert_eq(write_all(fd, request, strlen(request), DEADLINE_MS), 0,
	    "send: %s", strerror(errno));
	shutdown(fd, SHUT_WR);
	n = read_all(fd, out, cap - 1, DEADLINE_MS);
	cr_assert_geq(n, 0, "answer: %s", strerror(errno));
	out[n] = '\0';
	close(fd);
	return (size_t)n;
}

void
scrape(const struct sockaddr_storage *ss, socklen_t len, const char *dir,
    char *out, size_t cap)
{
	static char answer[1 << 16];
	char path[PATH_MAX];
	const char *body;

	http_request(ss, len, "GET /metrics HTTP/1.1\r\nHost: upcased\r\n\r\n",
	    answer, sizeof(answer));
	cr_assert_eq(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17), 0, "%s",
	    answer);
	cr_assert_not_null(strstr(answer, "\r\nContent-Type: text/plain; "
	    "version=0.0.4"), "%s", answer);
	body = strstr(answer, "\r\n\r\n");
	cr_assert_not_null(body);
	snprintf(path, sizeof(path), "%s/metrics.txt", dir);
	write_file(path, body + 4);
	const char *args[] = { "tests/promparse.py", path, NULL };
	cr_assert_eq(run("/usr/bin/python3", args, out, cap), 0, "%s\n%s",
	    out, body + 4);
}

double
sample(const char *samples, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = samples; p != NULL && *p != '\0';
	    p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, name, len) == 0 && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	cr_assert_fail("no sample %s in:\n%s", name, samples);
	return 0;
}

double
scrape_value(const struct sockaddr_storage *ss, socklen_t len,
    const char *name)
{
	static char answer[1 << 16];

	http_request(ss, len, "GET /metrics HTTP/1.1\r\nHost: upcased\r\n\r\n",
	    answer, sizeof(answer));
	return sample(answer, name);
}
