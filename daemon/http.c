/*
 * http.c — a deliberately small HTTP/1.x server for one resource. A request
 * is peeked at until its header is whole (HTTP_REQUEST_MAX bytes at most,
 * within the timeout), then read; the answer goes out whole, with
 * Connection: close, and the connection is shut for writing and read to
 * the client's EOF before it closes (a lingering close: closing with unread
 * bytes would reset the connection and could take the answer with it).
 *
 *   GET or HEAD /metrics  200, the exposition
 *   another path          404
 *   another method        405, Allow: GET, HEAD
 *   anything else         400 (not HTTP/1.x, or a header too large)
 */
#include "http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "admit.h"
#include "backlog.h"
#include "log.h"
#include "loop.h"

struct http_conn {
	int fd;			/* -1: the slot is free */
	bool answered;		/* the answer is queued: read to EOF now */
	struct backlog out;	/* what the socket has not taken of it */
	struct loop_timer deadline;	/* for the request, then the EOF */
};

static struct loop *http_loop;
static http_render_fn *http_render;
static uint64_t http_timeout;		/* ms */
static struct http_conn conns[HTTP_CONNS_MAX];
static struct http_stats stats;
static uint64_t last_line;		/* loop ms, for log_due */

static void http_on_event(struct loop *loop, int fd, uint32_t events,
    void *data);
static void http_on_deadline(struct loop *loop, struct loop_timer *timer);

void
http_init(struct loop *loop, http_render_fn *render)
{
	http_loop = loop;
	http_render = render;
	for (size_t i = 0; i < HTTP_CONNS_MAX; i++) {
		conns[i].fd = -1;
		conns[i].deadline.fn = http_on_deadline;
		conns[i].deadline.data = &conns[i];
	}
}

void
http_configure(uint64_t timeout_ms)
{
	http_timeout = timeout_ms;
}

const struct http_stats *
http_stats(void)
{
	return &stats;
}

static void
http_close(struct http_conn *h)
{
	if (!h->answered)
		stats.dropped++;
	admit_release(NULL, &(struct admit_ticket){ .metrics = true });
	loop_timer_cancel(http_loop, &h->deadline);
	loop_del(http_loop, h->fd);
	close(h->fd);
	backlog_free(&h->out);
	h->fd = -1;
}

void
http_close_all(void)
{
	for (size_t i = 0; i < HTTP_CONNS_MAX; i++)
		if (conns[i].fd != -1)
			http_close(&conns[i]);
}

/* A request that was not GET /metrics: said once a second at most. */
static void
http_complain(struct http_conn *h, int status, const char *line)
{
	char peer[ADDR_TEXT_MAX] = "?";
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!log_due(&last_line, loop_now(http_loop)))
		return;
	if (getpeername(h->fd, (struct sockaddr *)&ss, &len) == 0)
		addr_format((struct sockaddr *)&ss, len, peer, sizeof(peer));
	log_warnx("metrics: %d for %s: '%.80s' (%llu bad requests so far)",
	    status, peer, line, (unsigned long long)(stats.bad_request +
	    stats.not_found + stats.bad_method));
}

/* Queue the whole answer; http_run sends it. */
static void
http_answer(struct http_conn *h, int status, bool head)
{
	static const char *const reasons[] = { [0] = "OK",
	    [1] = "Bad Request", [2] = "Not Found", [3] = "Method Not Allowed" };
	int r = status == 200 ? 0 : status == 400 ? 1 : status == 404 ? 2 : 3;
	char *body = NULL, header[256];
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	int n;

	if (f != NULL) {
		if (status == 200)
			http_render(f);
		else
			fprintf(f, "%d %s\n", status, reasons[r]);
		fclose(f);
	}
	n = snprintf(header, sizeof(header), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: "
	    "%zu\r\n%sConnection: close\r\n\r\n", status, reasons[r], len,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (backlog_append(&h->out, header, (size_t)n) == -1 ||
	    (!head && backlog_append(&h->out, body, len) == -1))
		backlog_free(&h->out);	/* out of memory: close unanswered */
	else
		h->answered = true;
	free(body);
	loop_timer_set(http_loop, &h->deadline, http_timeout);
}

/* The status for a request line: "METHOD TARGET HTTP/1.x". */
static int
http_status(const char *line, bool *head)
{
	static char target[HTTP_REQUEST_MAX];
	char method[16], minor[2];
	int used = 0;

	if (sscanf(line, "%15[A-Z] %4095[^ ] HTTP/1.%1[01]%n", method, target,
	    minor, &used) != 3 || line[used] != '\0') {
		stats.bad_request++;
		return 400;
	}
	*head = strcmp(method, "HEAD") == 0;
	if (!*head && strcmp(method, "GET") != 0) {
		stats.bad_method++;
		return 405;
	}
	target[strcspn(target, "?")] = '\0';	/* a query is ignored */
	if (strcmp(target, "/metrics") != 0) {
		stats.not_found++;
		return 404;
	}
	stats.ok++;
	return 200;
}

/*
 * Take the request if its header is whole, and answer it. Returns 0, or -1
 * if h was closed.
 */
static int
http_read_request(struct http_conn *h)
{
	static char buf[HTTP_REQUEST_MAX + 1];
	bool head = false;
	char *end;
	int status;
	ssize_t n = recv(h->fd, buf, HTTP_REQUEST_MAX, MSG_PEEK);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {			/* gone before asking */
		http_close(h);
		return -1;
	}
	end = memmem(buf, (size_t)n, "\r\n\r\n", 4);
	if (end == NULL && n < HTTP_REQUEST_MAX)
		return 0;		/* more is coming */
	if (end == NULL || memchr(buf, '\0', (size_t)(end - buf)) != NULL) {
		stats.bad_request++;
		http_complain(h, 400, end == NULL ? "(header too large)" :
		    "(a NUL byte)");
		http_answer(h, 400, false);
		return 0;
	}
	if (recv(h->fd, buf, (size_t)(end + 4 - buf), 0) != end + 4 - buf) {
		http_close(h);
		return -1;
	}
	buf[strcspn(buf, "\r\n")] = '\0';	/* the request line */
	status = http_status(buf, &head);
	if (status != 200)
		http_complain(h, status, buf);
	http_answer(h, status, head);
	return 0;
}

/* All the progress the socket allows. May close h. */
static void
http_run(struct http_conn *h)
{
	char sink[4096];
	ssize_t n;

	if (!h->answered && (http_read_request(h) == -1 || !h->answered))
		return;
	while (backlog_len(&h->out) > 0) {
		n = send(h->fd, backlog_data(&h->out), backlog_len(&h->out),
		    MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;		/* EPOLLOUT will come */
		if (n == -1) {
			http_close(h);
			return;
		}
		backlog_consume(&h->out, (size_t)n);
		if (backlog_len(&h->out) == 0)
			shutdown(h->fd, SHUT_WR);
	}
	while ((n = recv(h->fd, sink, sizeof(sink), 0)) > 0)
		;			/* whatever the client still sends */
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		http_close(h);
}

static void
http_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	(void)loop;
	(void)fd;
	(void)events;
	http_run(data);
}

static void
http_on_deadline(struct loop *loop, struct loop_timer *timer)
{
	(void)loop;
	http_close(timer->data);
}

void
http_accept(struct listener *l, int fd, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct http_conn *h = conns;
	struct addr_packed client;
	struct admit_ticket t;

	(void)peerlen;
	addr_pack(&client, peer);
	if (!admit_accept(l, fd, &client, &t)) {
		close(fd);
		return;
	}
	/* admit.h gives a metrics listener no more room than there are
	 * slots: one is free. */
	while (h->fd != -1)
		h++;
	if (loop_add(http_loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP,
	    http_on_event, h) == -1) {
		stats.dropped++;
		admit_release(&client, &t);
		if (log_due(&last_line, loop_now(http_loop)))
			log_warn("%s: refusing a metrics request", l->name);
		close(fd);
		return;
	}
	h->fd = fd;
	h->answered = false;
	loop_timer_set(http_loop, &h->deadline, http_timeout);
}
