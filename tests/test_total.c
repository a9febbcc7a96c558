/*
 * test_total.c — backlog_total, the bound on what all of a process's
 * connections owe together: clients that write and never read push it to
 * the bound, stop being read, and the one stalled longest is closed each
 * time the total passes it (counted); a client that reads what it is sent
 * meanwhile gets every byte, and the total never passes the bound by more
 * than one read; and what a stalled TCP client is owed is in its backlog,
 * not in the kernel's send queue, where the bound would not see it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "harness.h"

TestSuite(total, .timeout = 120);

#define ATTACKERS	16
#define TOTAL		(1 << 20)	/* backlog_total */
#define READ_MAX	(256 << 10)	/* one read: the most it can pass by */

static const char shed_name[] =
    "upcased_connections_closed_total{reason=\"backlog_total\"}";

/* A client that sends and never reads, on the unix listener: there the
 * kernel holds little of what the daemon sends (the socket's send buffer,
 * about 200 KiB), and the rest is the daemon's to owe. */
static int
attacker(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* A metered daemon with a unix listener (its path into sock), that
 * backlog_high, and backlog_total at TOTAL. */
static void
start_total(struct daemon *d, char *sock, size_t len, const char *high)
{
	char unix_arg[128], total[32];

	daemon_init(d);
	snprintf(sock, len, "%s", daemon_file(d, "u.sock"));
	snprintf(unix_arg, sizeof(unix_arg), "listen=unix:%s", sock);
	snprintf(total, sizeof(total), "backlog_total=%d", TOTAL);
	daemon_start_metered(d, "-o", unix_arg, "-o", high, "-o",
	    "backlog_low=64k", "-o", total, NULL);
}

Test(total, the_stalled_pay_and_a_reader_keeps_its_service)
{
	static unsigned char chunk[64 << 10], out[4 << 20], in[(4 << 20) + 1];
	struct daemon d = { 0 };
	int fds[ATTACKERS], reader;
	char sock[100];

	start_total(&d, sock, sizeof(sock), "backlog_high=256k");
	memset(chunk, 'a', sizeof(chunk));
	for (int i = 0; i < ATTACKERS; i++)
		fds[i] = attacker(sock);

	/* Each writes what its socket takes, round after round, until the
	 * daemon has closed a few of them; the total stays within one read
	 * of the bound all along. */
	for (long long deadline = now_ms() + DEADLINE_MS;
	    daemon_counter(&d, shed_name) < 4;) {
		cr_assert_lt(now_ms(), deadline, "nobody was closed; %g owed",
		    daemon_counter(&d, "upcased_owed_bytes"));
		for (int i = 0; i < ATTACKERS; i++)
			if (fds[i] != -1 && write(fds[i], chunk,
			    sizeof(chunk)) == -1 && errno != EAGAIN) {
				close(fds[i]);	/* closed by the daemon */
				fds[i] = -1;
			}
		cr_assert_leq(daemon_counter(&d, "upcased_owed_bytes"),
		    TOTAL + READ_MAX, "the total passed the bound");
	}

	/* Under the bound's pressure, a reader gets every byte back. */
	fill_pattern(out, sizeof(out), 9);
	reader = daemon_connect(&d);
	cr_assert_eq(exchange(reader, out, sizeof(out), in, sizeof(in),
	    64 << 10, DEADLINE_MS), (ssize_t)sizeof(out), "the reader lost "
	    "its service: %s", strerror(errno));
	reference_upper(out, sizeof(out));
	cr_assert_eq(memcmp(in, out, sizeof(out)), 0);
	close(reader);
	cr_assert_leq(daemon_counter(&d, "upcased_owed_bytes"),
	    TOTAL + READ_MAX);
	cr_assert_not_null(daemon_wait_log(&d, "backlog_total 1m reached: "
	    "closing unix, which owes", DEADLINE_MS), "%s", daemon_log(&d));
	for (int i = 0; i < ATTACKERS; i++)
		if (fds[i] != -1)
			close(fds[i]);
	daemon_stop(&d);
}

/*
 * One client that never reads, and a backlog_high far above the total:
 * what it is owed stops growing at the total (it stops being read, with
 * nobody else to close), not at backlog_high.
 */
Test(total, an_owing_client_stops_being_read_at_the_total)
{
	static unsigned char chunk[64 << 10];
	struct daemon d = { 0 };
	char sock[100];
	int fd;

	start_total(&d, sock, sizeof(sock), "backlog_high=8m");
	memset(chunk, 'a', sizeof(chunk));
	fd = attacker(sock);
	for (long long deadline = now_ms() + DEADLINE_MS;
	    daemon_counter(&d, "upcased_read_pauses_total") < 1;) {
		cr_assert_lt(now_ms(), deadline, "never paused; %g owed",
		    daemon_counter(&d, "upcased_owed_bytes"));
		while (write(fd, chunk, sizeof(chunk)) > 0)
			;
		cr_assert_leq(daemon_counter(&d, "upcased_owed_bytes"),
		    TOTAL + READ_MAX, "owed past the total");
	}
	cr_assert_geq(daemon_counter(&d, "upcased_owed_bytes"), TOTAL);
	cr_assert_leq(daemon_counter(&d, "upcased_owed_bytes"),
	    TOTAL + READ_MAX);
	cr_assert_eq(daemon_counter(&d, shed_name), 0);
	close(fd);
	daemon_stop(&d);
}


/*
 * A TCP client that never reads, with a small receive buffer: what the
 * daemon has sent it and it has not read stays in the daemon's kernel
 * send queue, which backlog_total does not see. Autotuning grows that
 * queue to a megabyte or so for such a client, and the kernel's TCP memory
 * is shared by every socket on the machine; the daemon keeps what it
 * sends ahead of the client's window small (TCP_NOTSENT_LOWAT), so that
 * what such a client is owed is held in its backlog, where the bound
 * counts it.
 */
Test(total, a_stalled_client_is_owed_in_the_backlog_not_the_kernel)
{
	static unsigned char chunk[64 << 10];
	struct daemon d = { 0 };
	int fd, rcvbuf = 4096, inq = 0;
	double in, owed;
	size_t sent;

	daemon_init(&d);
	daemon_start_metered(&d, NULL);
	memset(chunk, 'a', sizeof(chunk));
	fd = socket(d.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)), 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&d.ss, d.sslen), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* Until the daemon stops reading it at backlog_high (256 KiB owed),
	 * and then until it has taken all it will. */
	sent = pump_until_counter(&d, fd, chunk, sizeof(chunk), 0,
	    "upcased_read_pauses_total", 1);
	for (double last = -1; (in = daemon_counter(&d,
	    "upcased_received_bytes_total")) != last; last = in)
		usleep(200 * 1000);
	owed = daemon_counter(&d, "upcased_owed_bytes");
	cr_assert_eq(ioctl(fd, SIOCINQ, &inq), 0);
	/* Read by the daemon = owed + in its send queue + in ours. */
	cr_assert_leq(in - owed - inq, 256 << 10, "%g bytes read, %g owed, "
	    "%d in our receive queue, %zu sent: %g in the daemon's send "
	    "queue", in, owed, inq, sent, in - owed - inq);
	cr_assert_geq(owed, 128 << 10);
	close(fd);
	daemon_stop(&d);
}
