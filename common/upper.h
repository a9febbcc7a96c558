/*
 * upper.h — the protocol's transform: ASCII 'a'..'z' become 'A'..'Z', every
 * other byte value (0x00..0xff, UTF-8 sequences included) is left as it is.
 * Bytes, not characters: never the locale's toupper(3).
 */
#ifndef UPPER_H
#define UPPER_H

#include <stddef.h>

/* Uppercase len bytes at buf in place. */
void upper_inplace(unsigned char *buf, size_t len);

#endif
