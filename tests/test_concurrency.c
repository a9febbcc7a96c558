/*
 * test_concurrency.c — many clients at once, and fairness: a client sending
 * as fast as it can must not stall another's small exchange.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(concurrency, .timeout = 180);

Test(concurrency, thousand_connections_of_64k_with_half_close)
{
	struct daemon d = { 0 };
	unsigned failed;

	daemon_start(&d, "-o", "listen_backlog=4096", NULL);
	failed = load_run(&d.ss, d.sslen, 1000, 64 * 1024, DEADLINE_MS * 2);
	cr_assert_eq(failed, 0, "%u of 1000 connections failed", failed);
	daemon_stop(&d);
}

/*
 * Stream through the daemon for ever, faster than it can go: large sends,
 * and the echo discarded in the kernel (MSG_TRUNC copies nothing), so the
 * daemon always finds more to read and room to write. Without a read budget
 * it would never leave this connection.
 */
static void
blast(const struct daemon *d)
{
	enum { CHUNK = 4 << 20 };
	char *buf = calloc(1, CHUNK);
	int fd = daemon_connect(d);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

		poll(&p, 1, -1);
		while (recv(fd, NULL, CHUNK, MSG_TRUNC) > 0)
			;
		if (send(fd, buf, CHUNK, MSG_NOSIGNAL) == -1 &&
		    errno != EAGAIN)
			_exit(1);
	}
}

Test(concurrency, blasting_client_does_not_stall_a_small_one)
{
	struct daemon d = { 0 };
	pid_t blasters[3];

	daemon_start(&d, "-o", "log_level=debug", NULL);
	for (int i = 0; i < 3; i++) {
		blasters[i] = fork();
		cr_assert_geq(blasters[i], 0);
		if (blasters[i] == 0)
			blast(&d);
	}
	/* The daemon cuts a blaster off at its budget, and each small
	 * exchange ends although the blasters never stop. */
	cr_assert_not_null(daemon_wait_log(&d, "read budget spent",
	    DEADLINE_MS), "no blaster was made to yield");
	for (int i = 0; i < 50; i++) {
		char got[16];
		int fd = daemon_connect(&d);

		cr_assert_eq(exchange(fd, "ping", 4, got, sizeof(got), 4,
		    DEADLINE_MS), 4, "exchange %d stalled behind the "
		    "blasters", i);
		cr_assert_eq(memcmp(got, "PING", 4), 0);
		close(fd);
	}
	for (int i = 0; i < 3; i++) {
		cr_assert(process_alive(blasters[i]), "blaster %d died", i);
		kill(blasters[i], SIGKILL);
		waitpid(blasters[i], NULL, 0);
	}
	daemon_stop(&d);
}
