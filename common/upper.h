/*
 * upper.h — the protocol's transform: ASCII 'a'..'z' become 'A'..'Z', every
 * other byte value (0x00..0xff, UTF-8 sequences included) is left as it is.
 * Bytes, not characters: never the locale's toupper(3).
 */
#ifndef UPPER_H
#define UPPER_H

#include <stddef.h>

/* Uppercase len bytes at buf in place, with the widest vectors the CPU has. */
void upper_inplace(unsigned char *buf, size_t len);

/* The same with the baseline instruction set only: what upper_inplace runs
 * on a CPU without AVX2. Exposed so that tests cover both. */
void upper_inplace_portable(unsigned char *buf, size_t len);

#endif
