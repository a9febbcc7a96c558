/*
 * blocking_echo.c — the baseline for one stream: the least work an
 * uppercase echo can do over loopback. One client at a time, blocking:
 * read up to 256 KiB, uppercase, write it all, until EOF. It deadlocks with
 * a client that writes everything before reading; the benchmark's client
 * reads while it writes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "upper.h"

#define BUF_SIZE (256 * 1024)

static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
main(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	unsigned char *buf = malloc(BUF_SIZE);
	int lfd, one = 1;

	signal(SIGPIPE, SIG_IGN);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (buf == NULL || bind(lfd, (struct sockaddr *)&sin, len) == -1 ||
	    listen(lfd, 511) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		perror("blocking_echo");
		return 1;
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;

		if (fd == -1)
			continue;
		while ((n = read(fd, buf, BUF_SIZE)) > 0) {
			upper_inplace(buf, (size_t)n);
			if (write_all(fd, buf, (size_t)n) == -1)
				break;
		}
		close(fd);
	}
}
