/*
 * inherit.c — the receiving side of socket activation, written from
 * sd_listen_fds(3): LISTEN_PID must be this process (the variables may have
 * been meant for a parent), LISTEN_FDS counts sockets from fd 3, and
 * LISTEN_FDNAMES, if set, names them, colon-separated, for messages.
 */
#include "inherit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define INHERIT_START	3	/* SD_LISTEN_FDS_START */
#define INHERIT_MAX	64

static struct {
	char addr[ADDR_TEXT_MAX];	/* bound to, formatted */
	char name[64];			/* from LISTEN_FDNAMES, or "" */
	bool claimed;
} passed[INHERIT_MAX];
static int npassed;

static long
env_number(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL)
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno != 0 || end == v || *end != '\0' || n < 0 ? -1 : n;
}

int
inherit_start(char *err, size_t errlen)
{
	long pid = env_number("LISTEN_PID"), n = env_number("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");

	if (pid != (long)getpid() || n <= 0) {
		npassed = 0;
		goto out;
	}
	if (n > INHERIT_MAX) {
		snprintf(err, errlen, "LISTEN_FDS: %ld sockets, more than %d",
		    n, INHERIT_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int fd = INHERIT_START + i, type = 0, on = 0;
		socklen_t len = sizeof(type), onlen = sizeof(on);
		size_t k = names != NULL ? strcspn(names, ":") : 0;

		snprintf(passed[i].name, sizeof(passed[i].name), "%.*s",
		    (int)(k < 63 ? k : 63), names != NULL ? names : "");
		names = names != NULL && names[k] == ':' ? names + k + 1 :
		    NULL;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
		    type != SOCK_STREAM || getsockopt(fd, SOL_SOCKET,
		    SO_ACCEPTCONN, &on, &onlen) == -1 || !on ||
		    addr_local(fd, passed[i].addr,
		    sizeof(passed[i].addr)) == -1) {
			snprintf(err, errlen, "LISTEN_FDS: fd %d%s%s%s is not "
			    "a listening stream socket", fd,
			    passed[i].name[0] ? " ('" : "", passed[i].name,
			    passed[i].name[0] ? "')" : "");
			return -1;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	npassed = (int)n;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return npassed;
}

/* a and b name the same host, whatever their ports. */
static bool
same_host(const char *a, const char *b)
{
	const char *ca = strrchr(a, ':'), *cb = strrchr(b, ':');

	return ca != NULL && cb != NULL && ca - a == cb - b &&
	    strncmp(a, b, (size_t)(ca - a)) == 0;
}

int
inherit_claim(const struct addr *addr)
{
	char text[ADDR_TEXT_MAX];
	const char *colon;
	bool any_port;

	addr_format((const struct sockaddr *)&addr->ss, addr->len, text,
	    sizeof(text));
	colon = strrchr(text, ':');
	any_port = addr->ss.ss_family != AF_UNIX && colon != NULL &&
	    strcmp(colon, ":0") == 0;
	for (int i = 0; i < npassed; i++) {
		if (passed[i].claimed || !(strcmp(passed[i].addr, text) == 0 ||
		    (any_port && same_host(passed[i].addr, text))))
			continue;
		passed[i].claimed = true;
		return INHERIT_START + i;
	}
	return -1;
}

bool
inherit_held(int fd)
{
	int i = fd - INHERIT_START;

	return i >= 0 && i < npassed && strcmp(passed[i].name, "upgrade") != 0;
}

int
inherit_check(char *err, size_t errlen)
{
	for (int i = 0; i < npassed; i++) {
		if (passed[i].claimed)
			continue;
		snprintf(err, errlen, "LISTEN_FDS: the socket on %s (fd %d%s%s"
		    "%s) matches no listen line", passed[i].addr,
		    INHERIT_START + i, passed[i].name[0] ? ", '" : "",
		    passed[i].name, passed[i].name[0] ? "'" : "");
		return -1;
	}
	return 0;
}
