/*
 * fuzz.h — what the libFuzzer targets share: an assertion that survives
 * -DNDEBUG, and no network (addr_parse resolves host names; a fuzzer
 * must not send its inputs to a DNS server).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);	\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
