/*
 * request.c — an HTTP/1.x request's header and its request line; see
 * request.h.
 */
#include "request.h"

#include <stdio.h>
#include <string.h>

/* A token's characters (RFC 9110, section 5.6.2). */
static bool
is_tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

ssize_t
request_parse(const void *buf, size_t len, struct http_request *r,
    char *why, size_t whylen)
{
	const char *p = buf, *end = memmem(buf, len, "\r\n\r\n", 4), *eol;

	for (r->line = p, r->line_len = 0; r->line_len < len &&
	    p[r->line_len] != '\r' && p[r->line_len] != '\n'; r->line_len++)
		;
	if (end == NULL && len < HTTP_REQUEST_MAX)
		return 0;
	if (end == NULL) {
		snprintf(why, whylen, "a header larger than %d bytes",
		    HTTP_REQUEST_MAX);
		return -1;
	}
	if (memchr(p, '\0', (size_t)(end - p)) != NULL) {
		snprintf(why, whylen, "a NUL byte");
		return -1;
	}
	eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
	r->line_len = (size_t)(eol - p);
	for (r->method = p; p < eol && is_tchar(*p); p++)
		;
	r->method_len = (size_t)(p - r->method);
	if (r->method_len == 0 || p == eol || *p++ != ' ')
		goto bad;
	for (r->target = p; p < eol && *p > ' ' && *p < 0x7f; p++)
		;
	r->target_len = (size_t)(p - r->target);
	if (r->target_len == 0 || p == eol || *p++ != ' ' || eol - p != 8 ||
	    memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' ||
	    p[6] != '.' || p[7] < '0' || p[7] > '9')
		goto bad;
	r->major = p[5] - '0';
	r->minor = p[7] - '0';
	return end + 4 - (const char *)buf;
bad:
	snprintf(why, whylen, "not METHOD SP TARGET SP HTTP/D.D");
	return -1;
}


bool
request_targets(const struct http_request *r, const char *path)
{
	const char *t = r->target, *end = r->target + r->target_len, *query;

	if ((end - t > 7 && strncmp(t, "http://", 7) == 0) ||
	    (end - t > 8 && strncmp(t, "https://", 8) == 0)) {
		t = memchr(t + 8, '/', (size_t)(end - t - 8));
		if (t == NULL)
			return false;
	}
	if ((query = memchr(t, '?', (size_t)(end - t))) != NULL)
		end = query;
	return (size_t)(end - t) == strlen(path) &&
	    memcmp(t, path, (size_t)(end - t)) == 0;
}
