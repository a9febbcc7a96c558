/*
 * test_upper.c — the transform against an independent reference: every byte
 * value, and every length and alignment around the vector block size.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"
#include "upper.h"

/* Both builds of the loop: the dispatched one and the portable one. */
static void (*const variants[])(unsigned char *, size_t) = {
	upper_inplace, upper_inplace_portable,
};

Test(upper, every_byte_value)
{
	for (size_t v = 0; v < 2; v++) {
		unsigned char buf[256];

		for (int i = 0; i < 256; i++)
			buf[i] = (unsigned char)i;
		variants[v](buf, sizeof(buf));
		for (int i = 0; i < 256; i++) {
			int want = i >= 'a' && i <= 'z' ? i - 32 : i;

			cr_assert_eq(buf[i], want, "variant %zu: byte 0x%02x "
			    "became 0x%02x", v, i, buf[i]);
		}
	}
}

Test(upper, lengths_and_alignments_match_reference)
{
	unsigned char src[512], got[512 + 32], want[512];

	fill_pattern(src, sizeof(src), 7);
	for (size_t v = 0; v < 2; v++)
		for (size_t off = 0; off < 32; off++)
			for (size_t len = 0; len <= 300; len++) {
				memcpy(got + off, src, len);
				memcpy(want, src, len);
				variants[v](got + off, len);
				reference_upper(want, len);
				cr_assert_eq(memcmp(got + off, want, len), 0,
				    "variant %zu, offset %zu, length %zu "
				    "differs", v, off, len);
			}
}

Test(upper, utf8_left_alone)
{
	unsigned char s[] = "stra\xc3\x9f" "e \xc3\xa9t\xc3\xa9 \xe2\x82\xac";
	unsigned char w[] = "STRA\xc3\x9f" "E \xc3\xa9T\xc3\xa9 \xe2\x82\xac";

	upper_inplace(s, sizeof(s) - 1);
	cr_assert_str_eq((char *)s, (char *)w);
}

Test(upper, zero_length_touches_nothing)
{
	unsigned char c = 'a';

	upper_inplace(&c, 0);
	cr_assert_eq(c, 'a');
}
