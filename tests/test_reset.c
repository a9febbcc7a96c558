/*
 * test_reset.c — peers that vanish: resets in the middle of a flush free
 * their connections, never the daemon (no SIGPIPE death, no fd leak).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(reset, .timeout = 120);

Test(reset, twenty_clients_reset_mid_flush)
{
	enum { CLIENTS = 20, LEN = 256 * 1024 };
	unsigned char *src = malloc(LEN);
	struct linger hard = { .l_onoff = 1, .l_linger = 0 };
	struct daemon d = { 0 };
	int fds[CLIENTS], baseline;

	cr_assert_not_null(src);
	fill_pattern(src, LEN, 6);
	daemon_start_metered(&d, "-o", "backlog_high=64k", "-o",
	    "backlog_low=16k", NULL);
	baseline = fd_count(d.pid);

	/* Each sends and reads nothing until the daemon owes it bytes it
	 * cannot flush: a backlog, and a pause. */
	for (int i = 0; i < CLIENTS; i++) {
		fds[i] = daemon_connect(&d);
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		pump_until_counter(&d, fds[i], src, LEN, 0,
		    "upcased_read_pauses_total", i + 1);
	}
	/* Then each resets: close with a zero linger sends RST. */
	for (int i = 0; i < CLIENTS; i++) {
		setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
		close(fds[i]);
	}
	/* Reset by peer, or a broken pipe if a write saw it first: a
	 * reset either way. */
	daemon_wait_open(&d, 0);
	cr_assert_eq(daemon_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"reset\"}"), CLIENTS);

	cr_assert(process_alive(d.pid));
	cr_assert_eq(fd_count(d.pid), baseline, "fds: %d, were %d",
	    fd_count(d.pid), baseline);
	expect_echo(daemon_connect(&d), "still here");
	daemon_stop(&d);
	free(src);
}
