/*
 * test_rsyslog.c — log_file and access_log = syslog into Debian's real
 * rsyslogd, listening on a socket of the test's own and writing what it
 * receives as "FACILITY SEVERITY TAG MESSAGE": every line arrives as
 * facility daemon, with its severity and the tag upcased[PID]; and a
 * syslog that stops reading never stalls a client: the lines it cannot
 * take are dropped and counted, and flow again once it reads.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "peers.h"

TestSuite(rsyslog, .timeout = 120);

/* rsyslogd for the test: its socket and output under sys's directory,
 * the output being sys's log (so daemon_wait_log waits on it). */
struct syslog {
	struct daemon sys;		/* its dir; its log: what arrived */
	char socket[128];		/* the socket upcased sends to */
	pid_t pid;			/* rsyslogd */
};

static void
syslog_start(struct syslog *s)
{
	char conf[2048], path[160];

	daemon_init(&s->sys);
	s->sys.pid = -1;
	snprintf(s->socket, sizeof(s->socket), "%s",
	    daemon_file(&s->sys, "log"));
	/* The traditional file format's message, with the facility and the
	 * severity in front; no system socket, no kernel log, no rate
	 * limit (the test counts every line). */
	snprintf(conf, sizeof(conf),
	    "global(workDirectory=\"%s\")\n"
	    "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
	    "input(type=\"imuxsock\" Socket=\"%s\" RateLimit.Interval=\"0\")\n"
	    "template(name=\"upcased\" type=\"string\" string=\""
	    "%%syslogfacility-text%% %%syslogseverity-text%% %%syslogtag%%"
	    "%%msg:::sp-if-no-1st-sp%%%%msg%%\\n\")\n"
	    "*.* action(type=\"omfile\" file=\"%s\" template=\"upcased\")\n",
	    s->sys.dir, s->socket, s->sys.log_path);
	snprintf(path, sizeof(path), "%s", daemon_file(&s->sys,
	    "rsyslog.conf"));
	write_file(path, conf);
	s->pid = start_rsyslog(s->sys.dir, path, s->socket);
}

static void
syslog_stop(struct syslog *s)
{
	stop_peer(s->pid, "rsyslogd");
	daemon_kill(&s->sys);
}

/* upcased with both logs to s, a deny rule for 127.0.0.3 and a metrics
 * listener; waits for its listening lines, which arrive through s. */
static void
upcased_start(struct daemon *d, struct syslog *s)
{
	char sock[160], needle[64], metrics[128];
	const char *line;

	snprintf(sock, sizeof(sock), "syslog_socket=%s", s->socket);
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0", "-o", "listen=127.0.0.2:0 metrics", "-o",
	    "deny=127.0.0.3", "-o", "log_file=syslog", "-o",
	    "access_log=syslog", "-o", sock, NULL };
	daemon_spawn(d, args);
	snprintf(needle, sizeof(needle), "upcased[%d]: listening on 127.0.0.1:",
	    d->pid);
	line = daemon_wait_log(&s->sys, needle, DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&s->sys));
	parse_listen_line(line, d->addr, sizeof(d->addr), &d->ss, &d->sslen);
	snprintf(needle, sizeof(needle), "upcased[%d]: listening on 127.0.0.2:",
	    d->pid);
	line = daemon_wait_log(&s->sys, needle, DEADLINE_MS);
	cr_assert_not_null(line, "%s", daemon_log(&s->sys));
	parse_listen_line(line, metrics, sizeof(metrics), &d->mss,
	    &d->msslen);
}

/* The next line from upcased holding text: "daemon SEVERITY upcased[PID]:
 * " in front of it. Returns the message. */
static const char *
expect_line(struct syslog *s, const struct daemon *d, const char *severity,
    const char *text)
{
	char needle[256], head[64];
	const char *line;

	snprintf(needle, sizeof(needle), "upcased[%d]: *%s", d->pid, text);
	line = daemon_wait_log(&s->sys, needle, DEADLINE_MS);
	cr_assert_not_null(line, "no '%s' in:\n%s", needle,
	    daemon_log(&s->sys));
	snprintf(head, sizeof(head), "daemon %s upcased[%d]: ", severity,
	    d->pid);
	cr_assert_eq(strncmp(line, head, strlen(head)), 0, "not '%s': %s",
	    head, line);
	return line + strlen(head);
}

/* A connection's local address, as the access log names it. */
static void
local_name(int fd, char *out, size_t cap)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&me, &len), 0);
	snprintf(out, cap, "client=127.0.0.1:%u ", ntohs(me.sin_port));
}

Test(rsyslog, every_line_arrives_as_daemon_with_its_severity_and_tag)
{
	struct syslog s = { 0 };
	struct daemon d = { 0 };
	char client[64], tag[32], root[64];
	const char *msg, *all;
	int fd, lines = 0;

	syslog_start(&s);
	upcased_start(&d, &s);
	/* Written before the listening lines: the whole file has it. */
	snprintf(root, sizeof(root), "daemon warning upcased[%d]: running as "
	    "root: ", d.pid);
	cr_assert_not_null(strstr(daemon_log(&s.sys), root), "%s",
	    daemon_log(&s.sys));

	fd = daemon_connect(&d);
	local_name(fd, client, sizeof(client));
	expect_echo(fd, "to rsyslog");
	msg = expect_line(&s, &d, "info", client);
	cr_assert_eq(strncmp(msg, "time=", 5), 0, "%s", msg);
	cr_assert_not_null(strstr(msg, " bytes_in=10 bytes_out=10 end=done"),
	    "%s", msg);

	fd = connect_from("127.0.0.3", &d.ss, d.sslen);
	expect_unanswered(fd, "a denied client");
	msg = expect_line(&s, &d, "warning", "refusing 127.0.0.3:");
	cr_assert_not_null(strstr(msg, "denied by 'deny 127.0.0.3'"), "%s",
	    msg);

	cr_assert_eq(kill(d.pid, SIGTERM), 0);
	expect_line(&s, &d, "info", "SIGTERM: shutting down");
	expect_line(&s, &d, "info", "exiting: connections served 1");
	expect_exit(wait_exit(d.pid, NULL, DEADLINE_MS), 0, "stop");

	/* Every line of upcased's came as daemon.something, tagged with
	 * its pid; rsyslogd's own lines are its own. */
	snprintf(tag, sizeof(tag), " upcased[%d]: ", d.pid);
	all = daemon_log(&s.sys);
	cr_log_info("rsyslogd wrote:\n%s", all);
	for (const char *l = all; *l != '\0'; l = strchr(l, '\n') + 1) {
		const char *end = strchr(l, '\n');

		cr_assert_not_null(end, "an unfinished line: %s", l);
		if (strstr(l, "rsyslogd") != NULL && strstr(l, "rsyslogd") <
		    end)
			continue;
		cr_assert_eq(strncmp(l, "daemon ", 7), 0, "%.*s",
		    (int)(end - l), l);
		cr_assert(strstr(l, tag) != NULL && strstr(l, tag) < end,
		    "no '%s' in %.*s", tag, (int)(end - l), l);
		lines++;
	}
	cr_assert_eq(lines, 7, "7 lines (root, 2 listening, access, refusal, "
	    "SIGTERM, exiting), not %d:\n%s", lines, all);
	d.pid = -1;
	daemon_kill(&d);
	syslog_stop(&s);
}

/*
 * rsyslogd stopped (SIGSTOP): its socket's queue fills after a few
 * datagrams, and the clients after that are served as fast as ever, every
 * byte checked, their access lines dropped and counted. Once it runs
 * again, a new client's line arrives.
 */
Test(rsyslog, a_syslog_that_stops_reading_never_stalls_a_client)
{
	enum { ROUND = 500, ROUNDS = 4, BOUND_MS = 20000 };
	struct syslog s = { 0 };
	struct daemon d = { 0 };
	char client[64];
	double dropped;
	int fd;

	raise_fd_limit(ROUND + 256);
	syslog_start(&s);
	upcased_start(&d, &s);
	cr_assert_eq(kill(s.pid, SIGSTOP), 0);
	for (int i = 0; i < ROUNDS; i++) {
		long long start = now_ms();

		cr_assert_eq(load_run(&d.ss, d.sslen, ROUND, 2048, BOUND_MS), 0,
		    "round %d: clients failed", i);
		cr_assert_lt(now_ms() - start, BOUND_MS, "round %d took %lld "
		    "ms", i, now_ms() - start);
	}
	dropped = daemon_counter(&d, "upcased_access_log_dropped_lines_total");
	cr_assert_gt(dropped, 0, "the stopped syslog took every line");
	cr_log_info("%d clients served while rsyslogd was stopped, %g access "
	    "lines dropped", ROUND * ROUNDS, dropped);
	cr_assert_eq(daemon_counter(&d, daemon_sample_of(&d,
	    "upcased_connections_accepted_total")), ROUND * ROUNDS);

	/* Running again, it empties its queue: until it has, a line may
	 * still find it full. The first client whose line was not dropped
	 * must see it arrive. */
	cr_assert_eq(kill(s.pid, SIGCONT), 0);
	for (long long deadline = now_ms() + DEADLINE_MS;;) {
		double now;

		fd = daemon_connect(&d);
		local_name(fd, client, sizeof(client));
		expect_echo(fd, "after SIGCONT");
		daemon_wait_open(&d, 0);	/* its access line is written */
		now = daemon_counter(&d,
		    "upcased_access_log_dropped_lines_total");
		if (now == dropped)
			break;
		dropped = now;
		cr_assert_lt(now_ms(), deadline, "every line still dropped");
	}
	expect_line(&s, &d, "info", client);
	cr_assert_eq(kill(d.pid, SIGTERM), 0);
	expect_line(&s, &d, "info", "exiting: connections served");
	expect_exit(wait_exit(d.pid, NULL, DEADLINE_MS), 0, "stop");
	d.pid = -1;
	daemon_kill(&d);
	syslog_stop(&s);
}
