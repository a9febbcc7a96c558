/*
 * addr.h — socket addresses as people write them: "HOST:PORT", "[IPV6]:PORT"
 * and "unix:PATH", parsed into a sockaddr and formatted back. Errors go into
 * the caller's buffer; nothing here logs or opens a socket.
 */
#ifndef ADDR_H
#define ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define ADDR_TEXT_MAX 128	/* longest formatted address, NUL included */

struct addr {
	struct sockaddr_storage ss;	/* AF_INET, AF_INET6 or AF_UNIX */
	socklen_t len;			/* bytes of ss in use */
};

/* An IPv4 or IPv6 address and port in 20 bytes, for a table with one per
 * connection; another family keeps only its number. */
struct addr_packed {
	uint16_t family;	/* AF_INET, AF_INET6, another, or 0 */
	uint16_t port;		/* network order */
	uint8_t addr[16];
};

void addr_pack(struct addr_packed *p, const struct sockaddr *sa);

/* Format p as addr_format does; "unix" for a Unix peer, "-" for none. */
char *addr_packed_format(const struct addr_packed *p, char *buf,
    size_t buflen);

/* The same address: what a listener is known by across reloads. */
static inline bool
addr_equal(const struct addr *a, const struct addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/*
 * Parse text into *out. HOST is a numeric IPv4 address, "*" (all IPv4
 * interfaces), a bracketed IPv6 address, or a name resolved once here (the
 * first address wins). PORT is 0..65535; 0 lets the kernel pick. Returns 0,
 * or -1 with a one-line reason in err.
 */
int addr_parse(const char *text, struct addr *out, char *err, size_t errlen);

/* Format sa as addr_parse reads it. Returns buf. */
char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t buflen);

/* The address a socket is bound to (after port 0 was resolved), formatted. */
int addr_local(int fd, char *buf, size_t buflen);

#endif
