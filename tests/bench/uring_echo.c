/*
 * uring_echo.c — the completion-model baseline: a minimal io_uring
 * uppercase echo (liburing). One multishot accept; per connection one
 * operation in flight at a time, a receive into its own 256 KiB buffer,
 * then sends until all of it is out, then the next receive; the client's
 * end of file (everything already sent back) closes it; closed connections
 * are kept for the next, as a server's pool would. Submissions and
 * completions are batched: one io_uring_enter per loop turn, however
 * many connections moved. Nothing else: no budget, timeouts, limits or
 * logs. It is context for make bench, not a model for upcased.
 */
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "upper.h"

#define BUF_SIZE	(256 * 1024)
#define QUEUE_DEPTH	4096
#define ACCEPT_TAG	((uint64_t)1)	/* a conn pointer is never odd */

struct conn {
	int fd;
	size_t len, off;		/* received, and sent of it */
	struct conn *next;		/* on the free list */
	unsigned char buf[BUF_SIZE];
};

static struct io_uring ring;
static struct conn *spare;	/* closed ones, kept: no allocator churn */
static int lfd;

/* An SQE, submitting what is queued first if the ring is full. */
static struct io_uring_sqe *
sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (sqe == NULL) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	return sqe;
}

static void
arm_accept(void)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, 0);
	io_uring_sqe_set_data64(sqe, ACCEPT_TAG);
}

static void
arm_recv(struct conn *c)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_recv(sqe, c->fd, c->buf, BUF_SIZE, 0);
	io_uring_sqe_set_data(sqe, c);
	c->len = c->off = 0;
}

static void
arm_send(struct conn *c)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_send(sqe, c->fd, c->buf + c->off, c->len - c->off,
	    MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, c);
}

static void
drop(struct conn *c)
{
	close(c->fd);
	c->next = spare;
	spare = c;
}

/* A receive (len == 0) or a send completed with res. */
static void
on_done(struct conn *c, int res)
{
	if (res <= 0) {			/* EOF, all sent back, or an error */
		drop(c);
		return;
	}
	if (c->len == 0) {
		c->len = (size_t)res;
		upper_inplace(c->buf, c->len);
	} else {
		c->off += (size_t)res;
	}
	if (c->off < c->len)
		arm_send(c);
	else
		arm_recv(c);
}

int
main(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
	    IORING_SETUP_DEFER_TASKRUN };
	struct rlimit rl;
	int one = 1, rc;

	signal(SIGPIPE, SIG_IGN);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((rc = io_uring_queue_init_params(QUEUE_DEPTH, &ring, &p)) < 0) {
		fprintf(stderr, "uring_echo: io_uring: %s\n", strerror(-rc));
		return 1;
	}
	if (bind(lfd, (struct sockaddr *)&sin, len) == -1 ||
	    listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		perror("uring_echo");
		return 1;
	}
	arm_accept();
	printf("listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		io_uring_submit_and_wait(&ring, 1);
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t tag = io_uring_cqe_get_data64(cqe);

			seen++;
			if (tag != ACCEPT_TAG) {
				on_done((struct conn *)(uintptr_t)tag,
				    cqe->res);
				continue;
			}
			if (cqe->res >= 0) {
				struct conn *c = spare;

				if (c != NULL)
					spare = c->next;
				else
					c = malloc(sizeof(*c));
				if (c == NULL) {
					close(cqe->res);
				} else {
					c->fd = cqe->res;
					arm_recv(c);
				}
			}
			if (!(cqe->flags & IORING_CQE_F_MORE))
				arm_accept();
		}
		io_uring_cq_advance(&ring, seen);
	}
}
