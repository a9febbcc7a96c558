/*
 * acl.c — the rules, and the per-client counts behind
 * max_connections_per_ip: an open-addressing table keyed by address, at
 * most half full (it has room for twice the connections the loop can
 * hold), with linear probing and backward-shift deletion, so that no
 * tombstones pile up as clients come and go.
 */
#include "acl.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct slot {
	uint8_t addr[16];
	uint16_t family;
	uint32_t count;			/* open connections; 0: free */
};

static struct acl_rule rules[ACL_RULES_MAX];
static unsigned nrules;
static struct slot *slots;
static size_t mask;			/* slots - 1, a power of two less 1 */

int
acl_rule_parse(const char *text, bool allow, struct acl_rule *r, char *err,
    size_t errlen)
{
	char host[64], *slash;
	unsigned long bits;
	size_t width;

	memset(r, 0, sizeof(*r));
	r->allow = allow;
	if (strcmp(text, "all") == 0)
		return 0;
	snprintf(host, sizeof(host), "%s", text);
	slash = strchr(host, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, host, r->addr) == 1) {
		r->family = AF_INET;
	} else if (inet_pton(AF_INET6, host, r->addr) == 1) {
		r->family = AF_INET6;
	} else {
		snprintf(err, errlen, "'%.64s' is not an address, ADDRESS/BITS "
		    "or all", text);
		return -1;
	}
	width = r->family == AF_INET ? 32 : 128;
	bits = width;
	if (slash != NULL) {
		char *end;

		bits = strtoul(slash, &end, 10);
		if (*slash < '0' || *slash > '9' || *end != '\0' ||
		    bits > width) {
			snprintf(err, errlen, "'%.64s': the prefix must be 0 to "
			    "%zu bits", text, width);
			return -1;
		}
	}
	r->prefix = (uint8_t)bits;
	for (size_t i = bits; i < width; i++)
		if (r->addr[i / 8] & (0x80 >> (i % 8))) {
			snprintf(err, errlen, "'%.64s' has bits set past its "
			    "/%lu", text, bits);
			return -1;
		}
	return 0;
}

char *
acl_rule_format(const struct acl_rule *r, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (r->family == 0) {
		snprintf(buf, len, "all");
		return buf;
	}
	inet_ntop(r->family, r->addr, host, sizeof(host));
	if (r->prefix == (r->family == AF_INET ? 32 : 128))
		snprintf(buf, len, "%s", host);
	else
		snprintf(buf, len, "%s/%u", host, r->prefix);
	return buf;
}

int
acl_init(int setsize)
{
	size_t n = 16;

	while (n < 2 * (size_t)setsize)
		n *= 2;
	/* calloc maps zero pages: untouched slots cost no memory. */
	slots = calloc(n, sizeof(*slots));
	mask = n - 1;
	return slots == NULL ? -1 : 0;
}

void
acl_fini(void)
{
	free(slots);
	slots = NULL;
}

void
acl_configure(const struct acl_rule *r, unsigned n)
{
	memcpy(rules, r, n * sizeof(*r));
	nrules = n;
}

static bool
rule_matches(const struct acl_rule *r, const struct addr_packed *c)
{
	unsigned full = r->prefix / 8, rest = r->prefix % 8;

	if (r->family == 0)
		return true;
	if (r->family != c->family || memcmp(r->addr, c->addr, full) != 0)
		return false;
	return rest == 0 || ((r->addr[full] ^ c->addr[full]) &
	    (0xff00 >> rest)) == 0;
}

/* FNV-1a over the family and the address: the slot a key starts at. */
static size_t
home(uint16_t family, const uint8_t *addr)
{
	uint64_t h = 0xcbf29ce484222325ull ^ family;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 32)) & mask;
}

/* The slot that holds client, or the free one where it would go. */
static size_t
find(const struct addr_packed *c)
{
	size_t i = home(c->family, c->addr);

	while (slots[i].count != 0 && (slots[i].family != c->family ||
	    memcmp(slots[i].addr, c->addr, 16) != 0))
		i = (i + 1) & mask;
	return i;
}

/* c as rules and counts see it: an IPv4-mapped IPv6 address (a PROXY
 * header may carry one) is the IPv4 address it maps, as in nginx. */
static void
acl_key(const struct addr_packed *c, struct addr_packed *k)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	*k = *c;
	k->port = 0;
	if (c->family == AF_INET6 && memcmp(c->addr, mapped, 12) == 0) {
		k->family = AF_INET;
		memset(k->addr, 0, sizeof(k->addr));
		memcpy(k->addr, c->addr + 12, 4);
	}
}

static bool
has_address(const struct addr_packed *c)
{
	return c->family == AF_INET || c->family == AF_INET6;
}

const struct acl_rule *
acl_denies(const struct addr_packed *client)
{
	struct addr_packed key;

	if (!has_address(client))
		return NULL;
	acl_key(client, &key);
	for (unsigned r = 0; r < nrules; r++)
		if (rule_matches(&rules[r], &key))
			return rules[r].allow ? NULL : &rules[r];
	return NULL;
}

bool
acl_take(const struct addr_packed *client, unsigned limit, bool *counted)
{
	struct addr_packed key;
	size_t i;

	*counted = false;
	if (limit == 0 || !has_address(client))
		return true;
	acl_key(client, &key);
	i = find(&key);
	if (slots[i].count >= limit)
		return false;
	if (slots[i].count == 0) {
		memcpy(slots[i].addr, key.addr, 16);
		slots[i].family = key.family;
	}
	slots[i].count++;
	*counted = true;
	return true;
}

void
acl_release(const struct addr_packed *client)
{
	struct addr_packed key;
	size_t i, j;

	acl_key(client, &key);
	i = j = find(&key);
	if (slots[i].count == 0 || --slots[i].count > 0)
		return;
	/* Shift back the entries after it whose home is not between the
	 * freed slot and where they sit, so that every probe still finds
	 * them. */
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (slots[j].count == 0)
			break;
		k = home(slots[j].family, slots[j].addr);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		slots[i] = slots[j];
		i = j;
	}
	slots[i].count = 0;
}
