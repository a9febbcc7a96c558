/*
 * http.h — the one HTTP/1.x resource the daemon serves, GET /metrics, on a
 * listener marked metrics. Each request is answered once and the
 * connection closed; a request that is malformed, too large or too slow
 * costs only its own connection. What the body says is the caller's
 * (http_render_fn).
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "listener.h"

struct loop;

#define HTTP_CONNS_MAX		16	/* open at once; more wait (admit.h) */

/* Write the metrics exposition to out. */
typedef void http_render_fn(FILE *out);

/* Answers by status, for the metrics themselves. */
struct http_stats {
	uint64_t ok;		/* 200 */
	uint64_t bad_request;	/* 400: malformed or too large */
	uint64_t not_found;	/* 404 */
	uint64_t bad_method;	/* 405 */
	uint64_t dropped;	/* closed unanswered: too slow, or gone */
};

/* on_close, if set, runs after each close (a stopping worker waits for
 * its last request there, as for its last connection). */
void http_init(struct loop *loop, http_render_fn *render,
    void (*on_close)(void));

/* A request's header must be whole within timeout_ms of the accept, and
 * the client gone within as long again after the answer. */
void http_configure(uint64_t timeout_ms);

/* The listener's callback for a metrics listener. */
void http_accept(struct listener *l, int fd, const struct sockaddr *peer,
    socklen_t peerlen);

/* Close every HTTP connection (the daemon stops). */
void http_close_all(void);

/* HTTP connections open now. */
unsigned http_count(void);

const struct http_stats *http_stats(void);

#endif
