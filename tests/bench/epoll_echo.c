/*
 * epoll_echo.c — the baseline for many connections: a minimal
 * level-triggered epoll uppercase echo. One read per readiness event into a
 * shared 256 KiB buffer, uppercase, write; what the socket refuses waits in
 * a per-connection buffer while the connection polls for writing only.
 * Nothing else: no budget, no timeouts, no limits, no logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "upper.h"

#define BUF_SIZE (256 * 1024)

struct pending {
	unsigned char *buf;	/* NULL: nothing owed */
	size_t off, len;
};

static struct pending *pending;	/* indexed by fd */
static int ep;

static void
drop(int fd)
{
	free(pending[fd].buf);
	pending[fd].buf = NULL;
	close(fd);
}

static void
watch(int fd, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	epoll_ctl(ep, op, fd, &ev);
}

static void
on_readable(int fd, unsigned char *buf)
{
	ssize_t n = read(fd, buf, BUF_SIZE), k;

	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		drop(fd);
		return;
	}
	if (n < 0)
		return;
	upper_inplace(buf, (size_t)n);
	k = write(fd, buf, (size_t)n);
	if (k < 0 && errno != EAGAIN) {
		drop(fd);
		return;
	}
	if (k < 0)
		k = 0;
	if (k < n) {
		struct pending *p = &pending[fd];

		p->len = (size_t)(n - k);
		p->off = 0;
		p->buf = malloc(p->len);
		memcpy(p->buf, buf + k, p->len);
		watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
	}
}

static void
on_writable(int fd)
{
	struct pending *p = &pending[fd];
	ssize_t k = write(fd, p->buf + p->off, p->len - p->off);

	if (k < 0 && errno != EAGAIN) {
		drop(fd);
		return;
	}
	if (k > 0)
		p->off += (size_t)k;
	if (p->off == p->len) {
		free(p->buf);
		p->buf = NULL;
		watch(fd, EPOLLIN, EPOLL_CTL_MOD);
	}
}

int
main(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	unsigned char *buf = malloc(BUF_SIZE);
	struct epoll_event events[512];
	struct rlimit rl;
	int lfd, one = 1;

	signal(SIGPIPE, SIG_IGN);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	pending = calloc(rl.rlim_cur, sizeof(*pending));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ep = epoll_create1(0);
	if (buf == NULL || pending == NULL || ep == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, len) == -1 ||
	    listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		perror("epoll_echo");
		return 1;
	}
	watch(lfd, EPOLLIN, EPOLL_CTL_ADD);
	printf("listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, events, 512, -1);

		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1)
					watch(c, EPOLLIN, EPOLL_CTL_ADD);
			} else if (pending[fd].buf != NULL) {
				on_writable(fd);
			} else {
				on_readable(fd, buf);
			}
		}
	}
}
