/*
 * test_proxy.c — the PROXY protocol parser and builder (common/proxy.c):
 * every header kind HAProxy's specification names, each byte count short
 * of whole, and what must be refused.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

TestSuite(proxy, .timeout = 30);

static const char v2_sig[] = "\r\n\r\n\0\r\nQUIT\n";

static const char *
text_of(const struct addr *a, char *buf, size_t len)
{
	if (a->len == 0)
		return "-";
	return addr_format((const struct sockaddr *)&a->ss, a->len, buf, len);
}

/* Every proper prefix of a whole header asks for more; the whole parses to
 * its length, whatever follows it. */
static void
expect_whole(const void *h, size_t len, const char *source, const char *dest)
{
	unsigned char buf[PROXY_HEADER_MAX + 16];
	struct proxy_header ph;
	char err[128], a[ADDR_TEXT_MAX], b[ADDR_TEXT_MAX];

	memcpy(buf, h, len);
	memcpy(buf + len, "payload", 7);
	for (size_t n = 0; n < len; n++)
		cr_assert_eq(proxy_parse(buf, n, &ph, err, sizeof(err)), 0,
		    "a prefix of %zu of %zu bytes: %s", n, len, err);
	cr_assert_eq(proxy_parse(buf, len + 7, &ph, err, sizeof(err)),
	    (ssize_t)len, "%s", err);
	cr_assert_str_eq(text_of(&ph.source, a, sizeof(a)), source);
	cr_assert_str_eq(text_of(&ph.dest, b, sizeof(b)), dest);
}

static void
expect_refused(const void *h, size_t len, const char *why)
{
	struct proxy_header ph;
	char err[128] = "";

	cr_assert_eq(proxy_parse(h, len, &ph, err, sizeof(err)), -1,
	    "accepted: %.*s", (int)len, (const char *)h);
	cr_assert_not_null(strstr(err, why), "'%s' does not say '%s'", err,
	    why);
}

Test(proxy, v1_tcp4_tcp6_unknown)
{
	static const char tcp4[] = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 "
	    "1060\r\n";
	static const char tcp6[] = "PROXY TCP6 2001:db8::1 ::1 65535 0\r\n";
	static const char unknown[] = "PROXY UNKNOWN\r\n";
	static const char unknown_more[] = "PROXY UNKNOWN ffff::1 ::1 1 2\r\n";

	expect_whole(tcp4, strlen(tcp4), "192.0.2.1:56324",
	    "198.51.100.7:1060");
	expect_whole(tcp6, strlen(tcp6), "[2001:db8::1]:65535", "[::1]:0");
	expect_whole(unknown, strlen(unknown), "-", "-");
	expect_whole(unknown_more, strlen(unknown_more), "-", "-");
}

Test(proxy, v1_malformed)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "GET / HTTP/1.0\r\n", "no PROXY header" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "not ended by CRLF" },
		{ "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "is not TCP4, TCP6" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "six fields" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "six fields" },
		{ "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "extra spaces" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "extra spaces" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", "bad TCP4" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "bad TCP4" },
		{ "PROXY TCP4 ::1 ::1 1 2\r\n", "bad TCP4" },
		{ "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", "bad TCP6" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n", "bad TCP4" },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n", "bad TCP4" },
	};
	char longline[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_refused(cases[i].text, strlen(cases[i].text),
		    cases[i].why);
	expect_refused("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33, "NUL");
	/* No CRLF in the first 107 bytes: it can only be too long. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY UNKNOWN ", 14);
	expect_refused(longline, PROXY_V1_MAX, "first 107 bytes");
	memcpy(longline + 150, "\r\n", 2);
	expect_refused(longline, 152, "longer than 107");
}

/* A v2 header: signature, version and command, family and transport,
 * length, then body (addresses, TLVs). */
static size_t
v2(unsigned char *out, unsigned ver_cmd, unsigned fam, const void *body,
    size_t len)
{
	memcpy(out, v2_sig, 12);
	out[12] = (unsigned char)ver_cmd;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	memcpy(out + 16, body, len);
	return 16 + len;
}

Test(proxy, v2_families_commands_and_tlvs)
{
	unsigned char h[PROXY_HEADER_MAX + 16], body[256] = { 0 };
	size_t n;

	/* IPv4: 192.0.2.1:56324 -> 198.51.100.7:1060, then a TLV. */
	memcpy(body, "\xc0\x00\x02\x01\xc6\x33\x64\x07\xdc\x04\x04\x24", 12);
	memcpy(body + 12, "\x04\x00\x03xyz", 6);
	n = v2(h, 0x21, 0x11, body, 18);
	expect_whole(h, n, "192.0.2.1:56324", "198.51.100.7:1060");

	/* IPv6: 2001:db8::1 port 1 -> ::1 port 2. */
	memset(body, 0, sizeof(body));
	inet_pton(AF_INET6, "2001:db8::1", body);
	inet_pton(AF_INET6, "::1", body + 16);
	memcpy(body + 32, "\x00\x01\x00\x02", 4);
	n = v2(h, 0x21, 0x21, body, 36);
	expect_whole(h, n, "[2001:db8::1]:1", "[::1]:2");

	/* LOCAL (a health check): addresses, if any, are not the client's. */
	n = v2(h, 0x20, 0x11, body, 12);
	expect_whole(h, n, "-", "-");
	n = v2(h, 0x20, 0x00, body, 0);
	expect_whole(h, n, "-", "-");
	/* PROXY over an unspecified family or Unix: no client named. */
	n = v2(h, 0x21, 0x00, body, 5);
	expect_whole(h, n, "-", "-");
	n = v2(h, 0x21, 0x31, body, 216);
	expect_whole(h, n, "-", "-");

	/* The largest taken, and one byte more. */
	memset(body, 0, sizeof(body));
	n = v2(h, 0x21, 0x00, body, 0);
	h[14] = (PROXY_HEADER_MAX - 16) >> 8;
	h[15] = (PROXY_HEADER_MAX - 16) & 0xff;
	memset(h + 16, 0, PROXY_HEADER_MAX - 16);
	expect_whole(h, PROXY_HEADER_MAX, "-", "-");
	h[15] += 1;
	expect_refused(h, 16, "more than 4096");
}

Test(proxy, v2_malformed)
{
	unsigned char h[64], body[36] = { 0 };

	v2(h, 0x11, 0x11, body, 12);
	expect_refused(h, 28, "version 1");
	v2(h, 0x22, 0x11, body, 12);
	expect_refused(h, 28, "command 2");
	v2(h, 0x21, 0x41, body, 12);
	expect_refused(h, 28, "family 4");
	v2(h, 0x21, 0x13, body, 12);
	expect_refused(h, 28, "transport 3");
	v2(h, 0x21, 0x11, body, 11);
	expect_refused(h, 27, "too short for its addresses");
	v2(h, 0x21, 0x21, body, 12);
	expect_refused(h, 28, "too short for its addresses");
	/* A signature that goes wrong late is not v1 either. */
	memcpy(h, v2_sig, 12);
	h[11] = 'X';
	expect_refused(h, 16, "no PROXY header");
}

/* What upcase sends reads back as the addresses it was built from. */
Test(proxy, built_headers_parse_back)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET,
	    .sin_port = htons(40000) }, d4 = { .sin_family = AF_INET,
	    .sin_port = htons(1060) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(1) }, d6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(65535) };
	unsigned char buf[PROXY_V1_MAX + 1];
	ssize_t n;

	inet_pton(AF_INET, "127.0.0.2", &s4.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &d4.sin_addr);
	inet_pton(AF_INET6, "fe80::1", &s6.sin6_addr);
	inet_pton(AF_INET6, "::1", &d6.sin6_addr);
	for (int version = 1; version <= 2; version++) {
		n = proxy_build(version, (struct sockaddr *)&s4,
		    (struct sockaddr *)&d4, buf);
		cr_assert_gt(n, 0);
		expect_whole(buf, (size_t)n, "127.0.0.2:40000",
		    "127.0.0.1:1060");
		n = proxy_build(version, (struct sockaddr *)&s6,
		    (struct sockaddr *)&d6, buf);
		cr_assert_gt(n, 0);
		expect_whole(buf, (size_t)n, "[fe80::1]:1", "[::1]:65535");
	}
	n = proxy_build(1, (struct sockaddr *)&s4, (struct sockaddr *)&d6,
	    buf);
	cr_assert_eq(n, -1, "mixed families built a header");
}
