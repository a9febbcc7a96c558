/*
 * fuzz_request.c — the HTTP request parser (daemon/request.c) on any
 * bytes. It must never read past len, never claim more than it was given,
 * ask for more on every proper prefix of a header it takes (short of
 * HTTP_REQUEST_MAX), and hand back a request line made of its three parts
 * and the spaces between them, inside the header.
 */
#include <string.h>

#include "fuzz.h"
#include "request.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request r, again;
	const char *buf = (const char *)data;
	char why[128];
	ssize_t n = request_parse(data, size, &r, why, sizeof(why));

	FUZZ_CHECK(n >= -1 && n <= (ssize_t)size);
	FUZZ_CHECK(r.line == buf && r.line_len <= size);
	if (n <= 0)
		return 0;
	for (size_t len = 0; len < (size_t)n; len += 1 + len / 8)
		FUZZ_CHECK(request_parse(data, len, &again, why,
		    sizeof(why)) == (len < HTTP_REQUEST_MAX ? 0 : -1));
	FUZZ_CHECK(r.method == buf && r.method_len > 0);
	FUZZ_CHECK(r.target == r.method + r.method_len + 1);
	FUZZ_CHECK(r.target_len > 0 && memchr(r.target, ' ',
	    r.target_len) == NULL);
	FUZZ_CHECK(r.line_len == r.method_len + r.target_len + 10);
	FUZZ_CHECK(r.line_len + 4 <= (size_t)n);
	FUZZ_CHECK(r.major >= 0 && r.major <= 9 && r.minor >= 0 &&
	    r.minor <= 9);
	(void)request_targets(&r, "/metrics");
	return 0;
}
