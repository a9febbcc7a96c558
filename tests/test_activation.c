/*
 * test_activation.c — sockets a service manager passes (LISTEN_FDS): with
 * systemd-socket-activate as the launcher, the daemon serves on the passed
 * socket and refuses one no listen line names; and, as systemd keeps the
 * socket between starts, a stop leaves it open and unfiltered, so that a
 * client who connects while no daemon runs is served by the next.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

/* An upgraded master is the old one's child: ours to wait for once the
 * old one has exited. */
static void
subreaper(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

TestSuite(activation, .init = subreaper, .timeout = 120);

/* A port nobody listens on now (bound, then closed). */
static unsigned
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, len), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* systemd-socket-activate binds, waits for the first client, then execs
 * upcased with the socket as fd 3. */
static void
activate(struct daemon *d, unsigned port, const char *listen)
{
	static char bind_arg[64];

	snprintf(bind_arg, sizeof(bind_arg), "127.0.0.1:%u", port);
	snprintf(d->addr, sizeof(d->addr), "%s", bind_arg);
	const char *argv[] = { "/usr/bin/systemd-socket-activate", "-l",
	    bind_arg, "--fdname=echo", upcased_path(), "-f", "-c",
	    "/dev/null", "-o", listen, "-o", "workers=2", NULL };
	daemon_spawn_argv(d, argv);
	cr_assert_not_null(daemon_wait_log(d, "Listening on", DEADLINE_MS),
	    "%s", daemon_log(d));
	struct sockaddr_in *sin = (struct sockaddr_in *)&d->ss;
	*sin = (struct sockaddr_in){ .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	d->sslen = sizeof(*sin);
}

Test(activation, socket_activation_serves_on_the_passed_socket)
{
	struct daemon d = { 0 };
	unsigned port = free_port();
	char listen[64];

	snprintf(listen, sizeof(listen), "listen=127.0.0.1:%u", port);
	activate(&d, port, listen);
	expect_echo(daemon_connect(&d), "activated");
	cr_assert_not_null(daemon_wait_log(&d, "started 2 workers",
	    DEADLINE_MS), "%s", daemon_log(&d));
	daemon_stop(&d);
}

Test(activation, a_passed_socket_no_line_names_is_refused)
{
	struct daemon d = { 0 };
	unsigned port = free_port();
	char want[128];
	int fd;

	activate(&d, port, "listen=127.0.0.1:1");
	/* The launcher execs on the first client; that client is not
	 * served. */
	fd = daemon_connect(&d);
	expect_exit(wait_exit(d.pid, NULL, DEADLINE_MS), 1, daemon_log(&d));
	d.pid = -1;
	close(fd);
	snprintf(want, sizeof(want), "upcased: LISTEN_FDS: the socket on "
	    "127.0.0.1:%u (fd 3, 'echo') matches no listen line\n", port);
	cr_assert_not_null(strstr(daemon_log(&d), want), "%s", daemon_log(&d));
}

/* What systemd does for upcased.socket: hold the socket, and start the
 * daemon with it as fd 3 (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES). */
static void
start_on(struct daemon *d, int sock, const char *listen, const char *workers)
{
	int log;
	pid_t pid;

	daemon_init(d);
	log = open(d->log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	cr_assert_geq(log, 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char pidtext[16];

		snprintf(pidtext, sizeof(pidtext), "%d", (int)getpid());
		setenv("LISTEN_PID", pidtext, 1);
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_FDNAMES", "echo", 1);
		dup2(sock, 3);
		dup2(log, STDERR_FILENO);
		execl(upcased_path(), upcased_path(), "-f", "-c", "/dev/null",
		    "-o", listen, "-o", workers, (char *)NULL);
		_exit(127);
	}
	close(log);
	process_track(pid);
	d->pid = pid;
	cr_assert_not_null(daemon_wait_log(d, "listening on ", DEADLINE_MS),
	    "%s", daemon_log(d));
}

/* A listening socket on 127.0.0.1, as systemd's upcased.socket; its
 * address into sin and the listen line that names it into spec. */
static int
held_socket(struct sockaddr_in *sin, char *spec, size_t len)
{
	socklen_t slen = sizeof(*sin);
	int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*sin = (struct sockaddr_in){ .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(sock, (struct sockaddr *)sin, slen), 0);
	cr_assert_eq(listen(sock, 16), 0);
	cr_assert_eq(getsockname(sock, (struct sockaddr *)sin, &slen), 0);
	snprintf(spec, len, "listen=127.0.0.1:%u", ntohs(sin->sin_port));
	return sock;
}

/* With no daemon running, a client connects to the held socket (the
 * kernel completes the handshake, within a limit: a drop-every-handshake
 * filter left on it would not) and sends "queued", half-closing. */
static int
queue_client(const struct sockaddr_in *sin, const char *when)
{
	struct timeval limit = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit,
	    sizeof(limit)), 0);
	cr_assert_eq(connect(fd, (const struct sockaddr *)sin, sizeof(*sin)),
	    0, "%s: no handshake on the held socket", when);
	cr_assert_eq(write_all(fd, "queued", 6, DEADLINE_MS), 0);
	shutdown(fd, SHUT_WR);
	return fd;
}

/* The queued client gets its echo from the daemon started since. */
static void
expect_queued_served(int fd, const char *when)
{
	char got[16];

	cr_assert_eq(read_all(fd, got, sizeof(got), DEADLINE_MS), 6,
	    "%s: the queued client was not served", when);
	cr_assert_eq(memcmp(got, "QUEUED", 6), 0);
	close(fd);
}

/*
 * The socket outlives each daemon, as systemd's does. After a stop, a
 * client connects while nothing runs, and the next start serves it. Once
 * with one process, once with a master and workers.
 */
Test(activation, a_held_socket_keeps_its_clients_across_a_stop)
{
	static const char *const modes[] = { "workers=1", "workers=2" };
	struct sockaddr_in sin;
	struct daemon d = { 0 };
	char spec[64];
	int sock = held_socket(&sin, spec, sizeof(spec));

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		int fd;

		start_on(&d, sock, spec, modes[i]);
		memcpy(&d.ss, &sin, sizeof(sin));
		d.sslen = sizeof(sin);
		expect_echo(daemon_connect(&d), "first");
		daemon_stop(&d);
		fd = queue_client(&sin, modes[i]);
		start_on(&d, sock, spec, modes[i]);
		expect_queued_served(fd, modes[i]);
		daemon_stop(&d);
	}
	close(sock);
}

/*
 * The same after a binary upgrade: the new master gets the held socket
 * from the old one, and still leaves it open and unfiltered at its stop.
 */
Test(activation, a_held_socket_stays_held_across_an_upgrade)
{
	struct sockaddr_in sin;
	struct daemon d = { 0 };
	char spec[64];
	const char *line;
	int sock = held_socket(&sin, spec, sizeof(spec)), fd;
	pid_t old;

	start_on(&d, sock, spec, "workers=2");
	memcpy(&d.ss, &sin, sizeof(sin));
	d.sslen = sizeof(sin);
	old = d.pid;
	cr_assert_eq(kill(old, SIGUSR2), 0);
	line = daemon_wait_log(&d, "upgrade: the new binary (pid ", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	d.pid = (pid_t)atol(strstr(line, "(pid ") + 5);
	process_track(d.pid);
	expect_exit(wait_exit(old, NULL, DEADLINE_MS), 0, daemon_log(&d));
	expect_echo(daemon_connect(&d), "upgraded");
	daemon_stop(&d);
	fd = queue_client(&sin, "after an upgrade's stop");
	start_on(&d, sock, spec, "workers=2");
	expect_queued_served(fd, "after an upgrade's stop");
	daemon_stop(&d);
	close(sock);
}

/* A passed socket gets the options the daemon's own listeners have, so
 * that its clients are served alike: TCP_NODELAY, and TCP_NOTSENT_LOWAT
 * (what a stalled client is owed stays in its backlog, where
 * backlog_total counts it). The socket is shared: its options read back
 * on our copy. */
Test(activation, a_passed_socket_gets_the_listeners_tcp_options)
{
	struct sockaddr_in sin;
	struct daemon d = { 0 };
	char spec[64];
	int sock = held_socket(&sin, spec, sizeof(spec)), v = 0;
	socklen_t len = sizeof(v);

	cr_assert_eq(getsockopt(sock, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v,
	    &len), 0);
	cr_assert_neq(v, 128 << 10, "the kernel's default is not the test");
	start_on(&d, sock, spec, "workers=1");
	len = sizeof(v);
	cr_assert_eq(getsockopt(sock, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v,
	    &len), 0);
	cr_assert_eq(v, 128 << 10);
	len = sizeof(v);
	cr_assert_eq(getsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	cr_assert_eq(v, 1);
	daemon_stop(&d);
	close(sock);
}
