/*
 * request.h — an HTTP/1.x request's header, read as RFC 9112 writes it
 * (request.c): its end (an empty line), and its request line, METHOD SP
 * TARGET SP HTTP/D.D with exactly one space between the parts. The header
 * fields are not looked at. What a request asks for is http.h's.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HTTP_REQUEST_MAX	4096	/* bytes of a request's header */

/* The request line, as pointers into the bytes parsed. */
struct http_request {
	const char *line;		/* the request line, without its CRLF */
	const char *method, *target;
	size_t line_len, method_len, target_len;
	int major, minor;		/* of HTTP/major.minor */
};

/*
 * Parse the header at the start of buf, of which len bytes have arrived.
 * Returns its length once it is whole, 0 while more may complete it
 * (fewer than HTTP_REQUEST_MAX bytes and no empty line yet), or -1 with
 * why: too large, a NUL byte, or a request line off the grammar. r->line
 * is set whatever the outcome (for messages); the rest once whole.
 */
ssize_t request_parse(const void *buf, size_t len, struct http_request *r,
    char *why, size_t whylen);

/* Is r's target path? In origin form (path?QUERY, the query ignored) or
 * absolute form (http://HOST/path). */
bool request_targets(const struct http_request *r, const char *path);

#endif
