/*
 * test_notify.c — the sd_notify datagrams, received on a socket of the
 * test's own: READY=1 once listening, RELOADING=1 then READY=1 around a
 * reload, STOPPING=1 on SIGTERM.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

TestSuite(notify, .timeout = 60);

static void
expect_datagram(int fd, char *buf, size_t cap, const char *prefix)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	cr_assert_eq(poll(&p, 1, DEADLINE_MS), 1, "no '%s' datagram", prefix);
	n = recv(fd, buf, cap - 1, 0);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_eq(strncmp(buf, prefix, strlen(prefix)), 0,
	    "got '%s', expected '%s...'", buf, prefix);
}

Test(notify, ready_reloading_stopping)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct daemon d = { 0 };
	struct timespec ts;
	unsigned long long usec, now;
	char buf[256], want[64];
	int fd;

	daemon_init(&d);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    daemon_file(&d, "notify"));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
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

	kill(d.pid, SIGTERM);
	expect_datagram(fd, buf, sizeof(buf), "STOPPING=1");
	expect_exit(daemon_signal_wait(&d, 0, DEADLINE_MS), 0, daemon_log(&d));
	d.pid = -1;
	close(fd);
	daemon_kill(&d);
}
