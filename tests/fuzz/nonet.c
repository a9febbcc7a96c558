/*
 * nonet.c — linked into the fuzz targets in place of libc's resolver: every
 * name is unknown, as on a machine without one. addr_parse's path for
 * names is still taken; nothing leaves the process.
 */
#include <netdb.h>
#include <stddef.h>

int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	(void)node;
	(void)service;
	(void)hints;
	*res = NULL;
	return EAI_NONAME;
}

void
freeaddrinfo(struct addrinfo *res)
{
	(void)res;
}
