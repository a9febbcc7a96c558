/*
 * notify.c — one datagram per state change. Failures are logged at debug
 * and otherwise ignored: systemd's supervision is a convenience, never a
 * reason to stop serving.
 */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void
notify_send(const char *message)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t n;
	int fd;

	if (path == NULL || path[0] == '\0')
		return;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sun.sun_path)) {
		log_debug("NOTIFY_SOCKET %s: not a socket path", path);
		return;
	}
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || sendto(fd, message, strlen(message), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_debug("notify %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
}

void
notify_ready(void)
{
	char message[64];

	snprintf(message, sizeof(message), "READY=1\nMAINPID=%ld",
	    (long)getpid());
	notify_send(message);
}

void
notify_mainpid(pid_t pid)
{
	char message[64];

	snprintf(message, sizeof(message), "MAINPID=%ld\nREADY=1", (long)pid);
	notify_send(message);
}

void
notify_reloading(void)
{
	struct timespec ts;
	char message[80];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(message, sizeof(message), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ull +
	    (unsigned long long)ts.tv_nsec / 1000);
	notify_send(message);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}
