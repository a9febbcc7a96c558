/*
 * preamble.c — the PROXY header before the echo; see preamble.h.
 */
#include "preamble.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

enum preamble_status
preamble_read(int fd, bool fin, void *buf, struct proxy_header *h,
    char *why, size_t whylen)
{
	ssize_t n = recv(fd, buf, PROXY_HEADER_MAX, MSG_PEEK), len;

	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? PREAMBLE_MORE :
		    PREAMBLE_ERROR;
	len = proxy_parse(buf, (size_t)n, h, why, whylen);
	if (len == 0 && (n == 0 || fin)) {
		snprintf(why, whylen, "closed before its PROXY header was "
		    "whole");
		return PREAMBLE_BAD;
	}
	if (len == 0)
		return PREAMBLE_MORE;
	if (len < 0)
		return PREAMBLE_BAD;
	/* The bytes are there: they were just seen. */
	if (recv(fd, buf, (size_t)len, 0) != len)
		return PREAMBLE_ERROR;
	return PREAMBLE_DONE;
}
