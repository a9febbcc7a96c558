/*
 * upper.c — the transform, written so that the compiler turns it into vector
 * code: no branch on the data, and a main loop whose trip count is a multiple
 * of any vector width, which GCC's -O2 cost model requires before it will
 * vectorise at all. On x86-64 the same loop is also built for AVX2 (32 bytes
 * a step instead of SSE2's 16), used when the CPU has it.
 */
#include "upper.h"

#define UPPER_BLOCK 64

static inline unsigned char
upper_byte(unsigned char c)
{
	/* c - 'a' wraps below 'a', so one unsigned compare tests the range;
	 * the result (0 or 1) selects bit 5, the ASCII case bit. */
	return c ^ (unsigned char)(((unsigned char)(c - 'a') < 26) << 5);
}

static inline __attribute__((always_inline)) void
upper_loop(unsigned char *buf, size_t len)
{
	size_t i = 0;

	for (; len - i >= UPPER_BLOCK; i += UPPER_BLOCK)
		for (size_t j = 0; j < UPPER_BLOCK; j++)
			buf[i + j] = upper_byte(buf[i + j]);
	for (; i < len; i++)
		buf[i] = upper_byte(buf[i]);
}

void
upper_inplace_portable(unsigned char *buf, size_t len)
{
	upper_loop(buf, len);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void
upper_avx2(unsigned char *buf, size_t len)
{
	upper_loop(buf, len);
}
#endif

void
upper_inplace(unsigned char *buf, size_t len)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("avx2")) {
		upper_avx2(buf, len);
		return;
	}
#endif
	upper_inplace_portable(buf, len);
}
