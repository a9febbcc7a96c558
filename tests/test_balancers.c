/*
 * test_balancers.c — upcased behind the real HAProxy and nginx, run from
 * the shipped conf/haproxy.cfg and conf/nginx-stream.conf with their
 * addresses replaced: every byte through each, the client's own address in
 * the access log, and three instances behind HAProxy of which one stops in
 * the middle of a churn without a client noticing.
 *
 * The balancer inherits its listening socket from the test (HAProxy's
 * bind fd@N, nginx's NGINX variable, as in its binary upgrade), so clients
 * can connect at once: the kernel queues them until the balancer accepts.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "harness.h"
#include "peers.h"

TestSuite(balancers, .timeout = 180);

static struct daemon d[3];

/* Start d[i] behind a balancer: a proxy_protocol listener, an access log. */
static void
start_backend(int i, const char *extra)
{
	char access[160];
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0 proxy_protocol", "-o", "log_level=debug", "-o",
	    access, extra != NULL ? "-o" : NULL, extra, NULL };

	daemon_init(&d[i]);
	snprintf(access, sizeof(access), "access_log=%s",
	    daemon_file(&d[i], "access.log"));
	daemon_start_args(&d[i], args);
}

/* 256 KiB through the balancer at front; the access log of d[0] names
 * this client's own port. */
static void
echo_through(const struct sockaddr_storage *front, socklen_t len,
    const char *version)
{
	enum { LEN = 256 * 1024 };
	static unsigned char src[LEN], got[LEN + 1], want[LEN];
	struct sockaddr_storage me;
	socklen_t melen = sizeof(me);
	char needle[256], client[64];
	int fd = connect_to(front, len);

	fill_pattern(src, LEN, 31);
	memcpy(want, src, LEN);
	reference_upper(want, LEN);
	getsockname(fd, (struct sockaddr *)&me, &melen);
	snprintf(client, sizeof(client), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&me)->sin_port));
	cr_assert_eq(exchange(fd, src, LEN, got, sizeof(got), 65536,
	    DEADLINE_MS), LEN, "through the balancer: %s", strerror(errno));
	cr_assert_eq(memcmp(got, want, LEN), 0);
	close(fd);

	snprintf(needle, sizeof(needle), "PROXY %s header, client %s",
	    version, client);
	cr_assert_not_null(daemon_wait_log(&d[0], needle, DEADLINE_MS),
	    "%s", daemon_log(&d[0]));
	snprintf(needle, sizeof(needle), "from %s: done, 262144 bytes in",
	    client);
	cr_assert_not_null(daemon_wait_log(&d[0], needle, DEADLINE_MS),
	    "%s", daemon_log(&d[0]));
	int afd = open(daemon_file(&d[0], "access.log"), O_RDONLY);
	static char text[1 << 16];
	ssize_t n = read(afd, text, sizeof(text) - 1);

	close(afd);
	text[n > 0 ? n : 0] = '\0';
	snprintf(needle, sizeof(needle), " client=%s listener=%s duration=",
	    client, d[0].addr);
	cr_assert_not_null(strstr(text, needle), "no line for %s:\n%s",
	    client, text);
	cr_assert_not_null(strstr(strstr(text, needle), " bytes_in=262144 "
	    "bytes_out=262144 end=done\n"), "%s", text);
}

Test(balancers, haproxy_send_proxy_v2)
{
	struct sockaddr_storage front;
	socklen_t len;
	char bind[32], server[160];
	int fd;
	pid_t pid;

	start_backend(0, NULL);
	fd = inheritable_listener(&front, &len);
	snprintf(bind, sizeof(bind), "bind fd@%d", fd);
	snprintf(server, sizeof(server), "server upcased1 %s\n", d[0].addr);
	const char *pairs[] = { "bind 127.0.0.1:1060", bind,
	    "server upcased1 127.0.0.1:1061\n", server,
	    "    server upcased2 127.0.0.1:1062\n", "",
	    "    server upcased3 127.0.0.1:1063\n", "", NULL };
	pid = start_haproxy(d[0].dir, edited_copy("conf/haproxy.cfg",
	    daemon_file(&d[0], "haproxy.cfg"), pairs));
	close(fd);
	echo_through(&front, len, "v2");
	stop_peer(pid, "haproxy");
	daemon_stop(&d[0]);
}

Test(balancers, nginx_stream_proxy_protocol_v1)
{
	struct sockaddr_storage front;
	socklen_t len;
	char listen[64], server[160];
	int fd;
	pid_t pid;

	start_backend(0, NULL);
	fd = inheritable_listener(&front, &len);
	snprintf(listen, sizeof(listen), "listen 127.0.0.1:%u;",
	    ntohs(((struct sockaddr_in *)&front)->sin_port));
	snprintf(server, sizeof(server), "server %s;\n", d[0].addr);
	const char *pairs[] = { "listen 127.0.0.1:1060;", listen,
	    "server 127.0.0.1:1061;\n", server,
	    "        server 127.0.0.1:1062;\n", "",
	    "        server 127.0.0.1:1063;\n", "", NULL };
	pid = start_nginx(d[0].dir, edited_copy("conf/nginx-stream.conf",
	    daemon_file(&d[0], "stream.conf"), pairs), fd);
	close(fd);
	echo_through(&front, len, "v1");
	stop_peer(pid, "nginx");
	daemon_stop(&d[0]);
}

/*
 * The churn's client, in a child: n short exchanges (1 KiB, half-close,
 * read to EOF) one after another through front, every byte checked. After
 * the first n/3 it writes a byte to ready. Exit status: the failures.
 */
static void
churn(const struct sockaddr_storage *front, socklen_t len, int n, int ready)
{
	unsigned char src[1024], want[1024], got[1025];
	int failures = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fill_pattern(src, sizeof(src), 41);
	memcpy(want, src, sizeof(src));
	reference_upper(want, sizeof(want));
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ssize_t got_n = -1;

		if (connect(fd, (const struct sockaddr *)front, len) == 0)
			got_n = exchange(fd, src, sizeof(src), got,
			    sizeof(got), sizeof(src), DEADLINE_MS);
		if (got_n != (ssize_t)sizeof(src) ||
		    memcmp(got, want, sizeof(want)) != 0) {
			fprintf(stderr, "exchange %d: %zd bytes (%s)\n", i,
			    got_n, strerror(errno));
			failures++;
		}
		close(fd);
		if (i == n / 3 && write(ready, "r", 1) != 1)
			_exit(100);
	}
	_exit(failures > 99 ? 99 : failures);
}

/*
 * Three instances behind HAProxy; one stops (SIGTERM) in the middle of a
 * churn and with a long transfer open on each: it finishes its own, the
 * others take the new ones, and no client sees an error.
 */
Test(balancers, haproxy_three_instances_one_stops_mid_churn)
{
	enum { LONG = 256 * 1024 };
	static unsigned char src[LONG], got[3][LONG + 1], want[LONG];
	struct sockaddr_storage front;
	socklen_t len;
	char bind[32], server[3][160];
	int fd, ready[2], longs[3];
	pid_t pid, client;
	char byte;

	for (int i = 0; i < 3; i++)
		start_backend(i, "shutdown_timeout=2m");
	fd = inheritable_listener(&front, &len);
	snprintf(bind, sizeof(bind), "bind fd@%d", fd);
	for (int i = 0; i < 3; i++)
		snprintf(server[i], sizeof(server[i]), "server upcased%d %s\n",
		    i + 1, d[i].addr);
	const char *pairs[] = { "bind 127.0.0.1:1060", bind,
	    "server upcased1 127.0.0.1:1061\n", server[0],
	    "server upcased2 127.0.0.1:1062\n", server[1],
	    "server upcased3 127.0.0.1:1063\n", server[2], NULL };
	pid = start_haproxy(d[0].dir, edited_copy("conf/haproxy.cfg",
	    daemon_file(&d[0], "haproxy.cfg"), pairs));
	close(fd);

	/* A long transfer on each instance (leastconn spreads them), a
	 * quarter sent. */
	fill_pattern(src, LONG, 43);
	memcpy(want, src, LONG);
	reference_upper(want, LONG);
	for (int i = 0; i < 3; i++) {
		longs[i] = connect_to(&front, len);
		cr_assert_eq(write_all(longs[i], src, LONG / 4, DEADLINE_MS), 0);
	}
	for (int i = 0; i < 3; i++)
		cr_assert_not_null(daemon_wait_log(&d[i], "PROXY v2 header",
		    DEADLINE_MS), "instance %d got no transfer:\n%s", i,
		    daemon_log(&d[i]));

	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	client = fork();
	cr_assert_geq(client, 0);
	if (client == 0)
		churn(&front, len, 600, ready[1]);
	close(ready[1]);
	cr_assert_eq(read(ready[0], &byte, 1), 1, "the churn did not start");

	/* The second instance stops: listeners closed at once, its long
	 * transfer still open. */
	kill(d[1].pid, SIGTERM);
	cr_assert_not_null(daemon_wait_log(&d[1], "SIGTERM: shutting down, "
	    "waiting up to 2m for", DEADLINE_MS), "%s", daemon_log(&d[1]));
	for (int i = 0; i < 3; i++) {
		ssize_t n = exchange(longs[i], src + LONG / 4, LONG - LONG / 4,
		    got[i], sizeof(got[i]), 65536, DEADLINE_MS);

		/* The first part's echo came first, then the rest's. */
		cr_assert_eq(n, LONG, "long transfer %d: %zd", i, n);
		cr_assert_eq(memcmp(got[i], want, LONG), 0);
		close(longs[i]);
	}
	expect_exit(daemon_signal_wait(&d[1], 0, DEADLINE_MS), 0,
	    daemon_log(&d[1]));
	d[1].pid = -1;
	expect_exit(wait_exit(client, NULL, DEADLINE_MS), 0, "the churn "
	    "(its status counts failed exchanges)");
	stop_peer(pid, "haproxy");
	daemon_stop(&d[0]);
	daemon_stop(&d[2]);
	daemon_kill(&d[1]);
}
