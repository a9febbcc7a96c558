/*
 * fuzz_proxy.c — the PROXY header parser (common/proxy.c) on any bytes. It
 * must never read past len, never claim more than it was given or than
 * PROXY_HEADER_MAX, ask for more on every proper prefix of a header it
 * takes, and read back what proxy_build writes from the addresses it found.
 */
#include <string.h>

#include "fuzz.h"
#include "proxy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h, again;
	unsigned char built[PROXY_V1_MAX + 1];
	char err[256];
	ssize_t n = proxy_parse(data, size, &h, err, sizeof(err));

	FUZZ_CHECK(n >= -1 && n <= (ssize_t)size && n <= PROXY_HEADER_MAX);
	if (n <= 0)
		return 0;
	for (size_t len = 0; len < (size_t)n; len += 1 + len / 8)
		FUZZ_CHECK(proxy_parse(data, len, &again, err,
		    sizeof(err)) == 0);
	if (h.source.len == 0 ||
	    h.source.ss.ss_family != h.dest.ss.ss_family)
		return 0;
	for (int version = 1; version <= 2; version++) {
		ssize_t m = proxy_build(version,
		    (const struct sockaddr *)&h.source.ss,
		    (const struct sockaddr *)&h.dest.ss, built);

		FUZZ_CHECK(m > 0);
		FUZZ_CHECK(proxy_parse(built, (size_t)m, &again, err,
		    sizeof(err)) == m);
		FUZZ_CHECK(addr_equal(&again.source, &h.source) &&
		    addr_equal(&again.dest, &h.dest));
	}
	return 0;
}
