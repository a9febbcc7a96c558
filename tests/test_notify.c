/*
 * test_notify.c — the sd_notify datagrams, received on a socket of the
 * test's own: READY=1 once listening, RELOADING=1 then READY=1 around a
 * reload, STOPPING=1 on SIGTERM.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

TestSuite(notify, .timeout = 60);

Test(notify, ready_reloading_stopping)
{
	struct daemon d = { 0 };
	struct timespec ts;
	unsigned long long usec, now;
	char buf[256], want[64];
	int fd;

	daemon_init(&d);
	fd = notify_listen(daemon_file(&d, "notify"));
	daemon_start(&d, NULL);
	unsetenv("NOTIFY_SOCKET");

	expect_datagram(fd, buf, sizeof(buf), "READY=1\n");
	snprintf(want, sizeof(want), "READY=1\nMAINPID=%d", (int)d.pid);
	cr_assert_str_eq(buf, want);

	kill(d.pid, SIGHUP);
	expect_datagram(fd, buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=");
	usec = strtoull(buf + strlen("RELOADING=1\nMONOTONIC_USEC="), NULL,
	    10);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000;
	cr_assert(usec <= now && now - usec < DEADLINE_MS * 1000ull,
	    "MONOTONIC_USEC=%llu, now %llu", usec, now);
	expect_datagram(fd, buf, sizeof(buf), "READY=1\n");

	daemon_stop_notified(&d, fd);
}
