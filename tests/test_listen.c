/*
 * test_listen.c — the kinds of address a listener takes: IPv6 and Unix
 * sockets beside IPv4, brought up in the configuration's order; a Unix
 * socket file left by a crash is replaced, a live one is never taken; a
 * Unix socket's mode and owner, as the users they let in see them.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(listen, .timeout = 60);

static int
connect_unix(const char *path)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
	return connect_to(&ss, sizeof(*sun));
}

Test(listen, ipv6_and_unix_beside_ipv4_in_the_order_given)
{
	struct daemon d = { 0 };
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char sock[96], arg[160];
	const char *line, *log;
	unsigned port;

	daemon_init(&d);
	snprintf(sock, sizeof(sock), "%s", daemon_file(&d, "u.sock"));
	snprintf(arg, sizeof(arg), "listen=unix:%s", sock);
	daemon_start(&d, "-o", "listen=[::1]:0", "-o", arg, NULL);
	line = daemon_wait_log(&d, "listening on [::1]:", DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&d));
	cr_assert_eq(sscanf(strstr(line, "]:") + 2, "%u", &port), 1);
	cr_assert_not_null(daemon_wait_log(&d, "listening on unix:",
	    DEADLINE_MS), "%s", daemon_log(&d));
	log = daemon_log(&d);
	cr_assert(strstr(log, "listening on 127.0.0.1:") <
	    strstr(log, "listening on [::1]:") &&
	    strstr(log, "listening on [::1]:") <
	    strstr(log, "listening on unix:"), "out of order:\n%s", log);

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_addr = in6addr_loopback;
	expect_echo(connect_to(&ss, sizeof(*sin6)), "over ipv6");
	expect_echo(connect_unix(sock), "over a unix socket");
	expect_echo(daemon_connect(&d), "over ipv4");

	daemon_stop(&d);
	cr_assert_eq(access(sock, F_OK), -1, "socket file left behind");
}

Test(listen, stale_unix_socket_is_replaced_and_a_live_one_is_not)
{
	struct daemon first = { 0 }, second = { 0 };
	char sock[96], arg[160], out[1024], want[256];

	daemon_init(&second);
	snprintf(sock, sizeof(sock), "%s", daemon_file(&second, "u.sock"));
	snprintf(arg, sizeof(arg), "listen=unix:%s", sock);
	daemon_start(&first, "-o", arg, NULL);

	/* Someone accepts there: a second daemon refuses to start. */
	const char *args[] = { "-f", "-c", "/dev/null", "-o", arg, NULL };
	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 1, "%s",
	    out);
	snprintf(want, sizeof(want), "upcased: listen unix:%s: Address "
	    "already in use\n", sock);
	cr_assert_str_eq(out, want);
	expect_echo(connect_unix(sock), "first still serves");

	/* It crashes: the file stays, and nobody accepts on it. The next
	 * daemon takes its place. */
	cr_assert_eq(kill(first.pid, SIGKILL), 0);
	daemon_kill(&first);
	cr_assert_eq(access(sock, F_OK), 0);
	daemon_start(&second, "-o", arg, NULL);
	expect_echo(connect_unix(sock), "second serves");
	daemon_stop(&second);
}

/* Connect to path as uid:gid in a child, and echo through it: 0 when the
 * echo came back, 13 (EACCES) when the socket refused us, 1 else. */
static int
echo_as(uid_t uid, gid_t gid, const char *path)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		char buf[16];
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ssize_t n;

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		if (setgroups(0, NULL) == -1 || setgid(gid) == -1 ||
		    setuid(uid) == -1)
			_exit(1);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(errno == EACCES ? 13 : 1);
		if (write(fd, "hi", 2) != 2 || shutdown(fd, SHUT_WR) == -1)
			_exit(1);
		n = read_all(fd, buf, sizeof(buf), DEADLINE_MS);
		_exit(n == 2 && memcmp(buf, "HI", 2) == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * mode=, owner= and group= on a unix listener: the socket file has them
 * from the moment it listens, and they decide which users may connect,
 * tried as those users. Without them a root daemon's socket lets no other
 * user in.
 */
Test(listen, unix_socket_mode_owner_and_group)
{
	struct passwd *nobody = getpwnam("nobody");
	struct group *nogroup = getgrnam("nogroup");
	struct daemon d = { 0 };
	char sock[128], arg[256], conf[256], text[512];
	struct stat st;

	cr_assert_not_null(nobody);
	cr_assert_not_null(nogroup);
	cr_assert_eq(geteuid(), 0, "the test runs as root");
	daemon_init(&d);
	cr_assert_eq(chmod(d.dir, 0711), 0);
	snprintf(sock, sizeof(sock), "%s", daemon_file(&d, "u.sock"));

	/* By default: root's, and the umask's mode. */
	snprintf(arg, sizeof(arg), "listen=unix:%s", sock);
	daemon_start(&d, "-o", arg, NULL);
	cr_assert_eq(echo_as(nobody->pw_uid, nogroup->gr_gid, sock), 13);
	cr_assert_eq(echo_as(0, 0, sock), 0);
	daemon_stop(&d);

	daemon_init(&d);
	cr_assert_eq(chmod(d.dir, 0711), 0);
	snprintf(sock, sizeof(sock), "%s", daemon_file(&d, "u.sock"));
	snprintf(conf, sizeof(conf), "%s", daemon_file(&d, "u.conf"));
	snprintf(text, sizeof(text), "listen = 127.0.0.1:0\nlisten = unix:%s "
	    "mode=0660 owner=nobody group=nogroup\n", sock);
	write_file(conf, text);
	const char *args[] = { "-f", "-c", conf, NULL };
	daemon_start_args(&d, args);
	cr_assert_eq(stat(sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0660, "mode %04o",
	    (unsigned)(st.st_mode & 07777));
	cr_assert_eq(st.st_uid, nobody->pw_uid);
	cr_assert_eq(st.st_gid, nogroup->gr_gid);
	cr_assert_eq(echo_as(nobody->pw_uid, nobody->pw_gid, sock), 0,
	    "the owner");
	cr_assert_eq(echo_as(1, nogroup->gr_gid, sock), 0, "the group");
	cr_assert_eq(echo_as(1, 1, sock), 13, "anyone else");

	/* A reload keeps them, and says so: they are the socket's, set when
	 * it was made. */
	snprintf(text, sizeof(text), "listen = 127.0.0.1:0\nlisten = unix:%s "
	    "mode=0600\n", sock);
	write_file(conf, text);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	snprintf(text, sizeof(text), "warn: reload: unix:%s: mode, owner and "
	    "group change only when the socket is made (at restart)", sock);
	cr_assert_not_null(daemon_wait_log(&d, text, DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_not_null(daemon_wait_log(&d, "configuration reloaded",
	    DEADLINE_MS), "%s", daemon_log(&d));
	cr_assert_eq(stat(sock, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0660);
	cr_assert_eq(echo_as(1, nogroup->gr_gid, sock), 0, "the group");

	/* A unix listener a reload adds cannot take them (the sandbox and a
	 * dropped root forbid it): the reload is refused, saying so. */
	snprintf(text, sizeof(text), "listen = 127.0.0.1:0\nlisten = unix:%s "
	    "mode=0660 owner=nobody group=nogroup\nlisten = unix:%s.2 "
	    "mode=0600\n", sock, sock);
	write_file(conf, text);
	cr_assert_eq(kill(d.pid, SIGHUP), 0);
	snprintf(text, sizeof(text), "reload failed: listen unix:%s.2: mode=, "
	    "owner= and group= are set at start: restart to add this "
	    "listener; keeping the running configuration", sock);
	cr_assert_not_null(daemon_wait_log(&d, text, DEADLINE_MS), "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}
