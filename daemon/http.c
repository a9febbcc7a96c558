/*
 * http.c — a deliberately small HTTP/1.x server for one resource. A request
 * is peeked at until its header is whole (HTTP_REQUEST_MAX bytes at most,
 * within the timeout), then read; the answer goes out whole, with
 * Connection: close, and the connection is read to the client's EOF before
 * it closes, shut for writing meanwhile (a lingering close: closing with
 * unread bytes would reset the connection and could take the answer with
 * it). A client that has half-closed already gets the close as our FIN.
 *
 *   GET or HEAD /metrics  200, the exposition
 *   another path          404
 *   another method        405, Allow: GET, HEAD
 *   anything else         400: a request line off RFC 9112's grammar
 *                         (one space between its parts, exactly), not
 *                         HTTP/1.x, a header too large, or one the
 *                         client's FIN cut short
 *
 * The request is read by preamble.h's step, as the echo listeners' PROXY
 * headers and probe lines are.
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
#include "preamble.h"
#include "request.h"

struct http_conn {
	int fd;			/* -1: the slot is free */
	bool answered;		/* the answer is queued: read to EOF now */
	bool shut;		/* ours is sent, and our FIN */
	struct backlog out;	/* what the socket has not taken of it */
	struct loop_timer deadline;	/* for the request, then the EOF */
};

static struct loop *http_loop;
static void (*http_on_close)(void);	/* after each close, or NULL */
static unsigned http_open;		/* connections open */
static http_render_fn *http_render;
static uint64_t http_timeout;		/* ms */
static struct http_conn conns[HTTP_CONNS_MAX];
static struct http_stats stats;
static uint64_t last_line;		/* loop ms, for log_due */

static void http_on_event(struct loop *loop, int fd, uint32_t events,
    void *data);
static void http_on_deadline(struct loop *loop, struct loop_timer *timer);

void
http_init(struct loop *loop, http_render_fn *render, void (*on_close)(void))
{
	http_loop = loop;
	http_render = render;
	http_on_close = on_close;
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
	http_open--;
	if (http_on_close != NULL)
		http_on_close();
}

unsigned
http_count(void)
{
	return http_open;
}

void
http_close_all(void)
{
	for (size_t i = 0; i < HTTP_CONNS_MAX; i++)
		if (conns[i].fd != -1)
			http_close(&conns[i]);
}

/* A request that was not GET /metrics, as line (len bytes, shown with
 * anything but printable ASCII as '?'): said once a second at most. */
static void
http_complain(struct http_conn *h, int status, const char *line,
    size_t len)
{
	char peer[ADDR_TEXT_MAX] = "?", shown[81];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	size_t n = 0;

	if (!log_due(&last_line))
		return;
	for (; n < len && n < sizeof(shown) - 1; n++)
		shown[n] = line[n] >= ' ' && line[n] < 0x7f ? line[n] : '?';
	shown[n] = '\0';
	if (getpeername(h->fd, (struct sockaddr *)&ss, &sslen) == 0)
		addr_format((struct sockaddr *)&ss, sslen, peer, sizeof(peer));
	log_warnx("metrics: %d for %s: '%s' (%llu bad requests so far)",
	    status, peer, shown, (unsigned long long)(stats.bad_request +
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

/* The request's header, for preamble_read. */
static ssize_t
http_parse(const void *buf, size_t len, void *out, char *why, size_t whylen)
{
	return request_parse(buf, len, out, why, whylen);
}

static const struct preamble_kind http_kind = { "HTTP request",
    HTTP_REQUEST_MAX, http_parse };

/* The status for r, counted. */
static int
http_status(const struct http_request *r, bool *head)
{
	*head = r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0;
	if (r->major != 1 || r->minor > 1) {
		stats.bad_request++;
		return 400;
	}
	if (!*head && (r->method_len != 3 || memcmp(r->method, "GET", 3))) {
		stats.bad_method++;
		return 405;
	}
	if (!request_targets(r, "/metrics")) {
		stats.not_found++;
		return 404;
	}
	stats.ok++;
	return 200;
}

/*
 * Take the request if its header is whole (fin: the client has
 * half-closed, and no more will come), and answer it. Returns 0, or -1 if
 * h was closed.
 */
static int
http_read_request(struct http_conn *h, bool fin)
{
	static char buf[HTTP_REQUEST_MAX + 1];
	struct http_request r;
	bool head = false;
	char why[96];
	int status;

	switch (preamble_read(h->fd, fin, &http_kind, buf, &r, why,
	    sizeof(why))) {
	case PREAMBLE_MORE:
		return 0;
	case PREAMBLE_CLOSED:	/* gone before asking */
	case PREAMBLE_ERROR:
		http_close(h);
		return -1;
	case PREAMBLE_BAD:
		stats.bad_request++;
		http_complain(h, 400, why, strlen(why));
		http_answer(h, 400, false);
		return 0;
	case PREAMBLE_DONE:
		break;
	}
	status = http_status(&r, &head);
	if (status != 200)
		http_complain(h, status, r.line, r.line_len);
	http_answer(h, status, head);
	return 0;
}

/* All the progress the socket allows (fin: as http_read_request). May
 * close h. */
static void
http_run(struct http_conn *h, bool fin)
{
	char sink[4096];
	ssize_t n;

	if (!h->answered && (http_read_request(h, fin) == -1 ||
	    !h->answered))
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
	}
	while ((n = recv(h->fd, sink, sizeof(sink), 0)) > 0)
		;			/* whatever the client still sends */
	/* At the client's EOF, with nothing unread, the close is our FIN.
	 * Before it, say we are done and wait for the client's. */
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		http_close(h);
	else if (!h->shut)
		h->shut = shutdown(h->fd, SHUT_WR) == 0;
}

static void
http_on_event(struct loop *loop, int fd, uint32_t events, void *data)
{
	(void)loop;
	(void)fd;
	http_run(data, events & EPOLLRDHUP);
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
		if (log_due(&last_line))
			log_warn("%s: refusing a metrics request", l->name);
		close(fd);
		return;
	}
	h->fd = fd;
	h->answered = h->shut = false;
	http_open++;
	loop_timer_set(http_loop, &h->deadline, http_timeout);
}
