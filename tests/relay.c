/*
 * relay.c — a stand-in relay for upcase probe's tests, with the flaws
 * real relays have, one at a time; see relay.h.
 */
#include "relay.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peers.h"
#include "process.h"
#include "sock.h"

#define CLEAN	65536		/* bytes each way a flaw leaves alone */
#define RESET	-2		/* copy's: reset both sides now */

/* n bytes of buf to fd (down: to the client) as flaw has them. Each
 * connection is a process: the counts are its own. */
static int
copy(int fd, char *buf, size_t n, enum relay_flaw flaw, bool down)
{
	static size_t moved[2], cut;

	moved[down] += n;
	switch (flaw) {
	case FLAW_OVERFLOW:
		return send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN ? -1 : 0;
	case FLAW_CORRUPT:
		if (down && moved[1] > CLEAN)
			buf[n / 2] ^= 0x20;
		break;
	case FLAW_DUPLICATE:
		if (down && moved[1] > CLEAN && write_all(fd, buf, n, 30000))
			return -1;
		break;
	case FLAW_RESET:
		if (cut == 0)
			cut = CLEAN + (size_t)getpid() * 2654435761u % (3 * CLEAN);
		if (moved[0] + moved[1] >= cut)
			return RESET;
		break;
	default:
		break;
	}
	return write_all(fd, buf, n, 30000);
}

/* The end of a connection's process after copy failed with rc. */
static void
quit(int c, int u, int rc)
{
	struct linger now = { .l_onoff = 1, .l_linger = 0 };

	if (rc == RESET) {
		setsockopt(c, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
		setsockopt(u, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	}
	_exit(rc == RESET ? 0 : 1);
}

pid_t
stand_in_relay(const struct daemon *to, const char *header,
    enum relay_flaw flaw, int slow_ms, char *addr, size_t addrlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd = inheritable_listener(&ss, &len);
	pid_t pid;

	snprintf(addr, addrlen, "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	if ((pid = fork()) != 0) {
		cr_assert_gt(pid, 0);
		close(lfd);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(lfd, NULL, NULL), u;
		bool server_done = false, client_done = false;
		bool drop = flaw == FLAW_DROP, hold_fin = flaw == FLAW_HOLD_FIN;
		char buf[65536];

		if (c == -1 || fork() != 0) {
			close(c);
			continue;
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* not inherited */
		close(lfd);
		u = connect_to(&to->ss, to->sslen);
		if (u == -1 || (header != NULL &&
		    write(u, header, strlen(header)) < 0))
			_exit(1);
		while (!server_done || !client_done) {
			struct pollfd p[2] = { { c, client_done ? 0 : POLLIN, 0 },
			    { u, server_done ? 0 : POLLIN, 0 } };
			ssize_t n;
			int rc = 0;

			if (poll(p, 2, -1) < 0)
				_exit(1);
			if (p[0].revents) {
				n = read(c, buf, sizeof(buf));
				if (n > 0 && server_done)
					poll(NULL, 0, slow_ms);
				if (n <= 0 && flaw == FLAW_LEAK) {
					shutdown(c, SHUT_WR);
					for (;;)
						pause();
				}
				if (n <= 0) {
					client_done = true;
					shutdown(u, SHUT_WR);
					if (hold_fin && server_done)
						shutdown(c, SHUT_WR);
				} else if (!(drop && server_done) && (rc = copy(u,
				    buf, (size_t)n, flaw, false)) != 0) {
					quit(c, u, rc);
				}
			}
			if (p[1].revents) {
				n = read(u, buf, sizeof(buf));
				if (n <= 0) {
					server_done = true;
					if (!hold_fin || client_done)
						shutdown(c, SHUT_WR);
				} else if ((rc = copy(c, buf, (size_t)n, flaw,
				    true)) != 0) {
					quit(c, u, rc);
				}
			}
		}
		_exit(0);
	}
}

void
stop_relay(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_exit(pid, NULL, DEADLINE_MS);
}
