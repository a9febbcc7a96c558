/*
 * fuzz_addr.c — addr_parse on any text: an address it takes formats to
 * text it takes again, as the same address.
 */
#include <string.h>

#include "addr.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512], err[256], formatted[ADDR_TEXT_MAX];
	struct addr a, b;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (addr_parse(text, &a, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	addr_format((struct sockaddr *)&a.ss, a.len, formatted,
	    sizeof(formatted));
	if (strcmp(text, "*") == 0 || strncmp(text, "*:", 2) == 0)
		return 0;	/* "*" formats as 0.0.0.0 */
	FUZZ_CHECK(addr_parse(formatted, &b, err, sizeof(err)) == 0);
	FUZZ_CHECK(addr_equal(&a, &b));
	return 0;
}
