/*
 * test_probe.c — the probe listener and upcase probe: against the listener
 * itself every check passes; behind the real nginx, HAProxy and socat each
 * finds what those do to half-close; bad lines and wrong peers end
 * quickly, with a line saying what was seen.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "harness.h"
#include "peers.h"
#include "scenario.h"
#include "sock.h"
#include "upper.h"

TestSuite(probe, .timeout = 240);

static struct daemon d;
static char out[32768];
static int probe_status;		/* the last probe()'s */

/* upcase probe -a addr, quick settings, JSON, with opt value when opt is
 * not NULL; its exit status. */
static int
probe_with(const char *addr, const char *opt, const char *value)
{
	const char *args[] = { "probe", "-a", addr, "--json", "--repeat", "2",
	    "--max-wait", "2s", "--timeout", "2s", opt, value, NULL };

	probe_status = run(upcase_path(), args, out, sizeof(out));
	return probe_status;
}

/* Every case, and LT1 with --idle idle (when not NULL). */
static int
probe(const char *addr, const char *idle)
{
	return probe_with(addr, idle != NULL ? "--idle" : NULL, idle);
}

/* Only cases (IDs and families; NULL: every one). */
static int
probe_some(const char *addr, const char *cases)
{
	return probe_with(addr, cases != NULL ? "--case" : NULL, cases);
}

/* The verdict the JSON gives case id (its "verdict" follows its "id"
 * before the next case's). */
static void
expect_result(const char *id, const char *verdict)
{
	char key[32], want[48];
	const char *at, *next;

	snprintf(key, sizeof(key), "{\"id\": \"%s\"", id);
	snprintf(want, sizeof(want), "\"verdict\": \"%s\"", verdict);
	at = strstr(out, key);
	cr_assert_not_null(at, "no case %s:\n%s", id, out);
	next = strstr(at + 1, "{\"id\": ");
	at = strstr(at, want);
	cr_assert(at != NULL && (next == NULL || at < next), "%s is not %s:"
	    "\n%s", id, verdict, out);
}

/* A figure of the JSON, in ms; fails when it is not there. */
static double
figure(const char *name)
{
	char key[64];
	const char *at;
	double v = -1;

	snprintf(key, sizeof(key), "\"%s\": ", name);
	at = strstr(out, key);
	cr_assert_not_null(at, "no %s:\n%s", name, out);
	cr_assert_eq(sscanf(at + strlen(key), "%lf", &v), 1, "%s", out);
	return v;
}

static void
start_probe_listener(const char *options)
{
	char listen[64];

	snprintf(listen, sizeof(listen), "listen=127.0.0.1:0 %s", options);
	const char *args[] = { "-f", "-c", "/dev/null", "-o", listen, "-o",
	    "listen=127.0.0.2:0 metrics", "-o", "log_level=debug", NULL };
	daemon_start_args(&d, args);
	daemon_find_metrics(&d);
}

Test(probe, the_listener_itself_passes_every_check)
{
	start_probe_listener("probe");
	cr_assert_eq(probe(d.addr, "500ms"), 0, "%s", out);
	for (const char *c = "HC1\0HC2\0HC3\0HC4\0HC6\0HC7\0HC8\0RS1\0RS2\0"
	    "RS3\0LT1\0LT2\0LT3\0CN1\0CN2\0FL1\0FL2\0FL3\0FL4\0";
	    *c != '\0';
	    c += strlen(c) + 1)
		expect_result(c, "pass");
	expect_result("HC5", "info");
	expect_result("RS4", "info");
	expect_result("PP1", "unsupported");
	expect_result("PP2", "unsupported");
	expect_result("PP3", "unsupported");
	expect_result("CN3", "unsupported");
	expect_result("CN4", "unsupported");
	cr_assert_geq(figure("fin_latency_ms"), 0);
	cr_assert_eq(figure("longest_delivered_ms"), 2000, "%s", out);
	cr_assert_not_null(strstr(out, "\"schema\": \"upcase-probe/1\", "
	    "\"version\": \"" VERSION "\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"result\": \"pass\"}"), "%s", out);
	/* The run kept to the worst case it announced. */
	cr_assert_leq(figure("elapsed_s"), figure("worst_case_s"), "%s", out);
	/* And the daemon closed every one of the probe's connections (a
	 * FIN after ours once left one waiting for an edge). */
	daemon_wait_open(&d, 0);
	daemon_stop(&d);
}

/* The probe listener's own limits are learned from its report before
 * they can be taken for the path's: an idle check it would end itself is
 * not run, and HC3's search stays under its drain_timeout. */
Test(probe, the_listeners_own_limits_are_not_blamed_on_the_path)
{
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0 probe", "-o", "idle_timeout=1s", "-o",
	    "drain_timeout=2s", NULL };
	const char *pargs[] = { "probe", "-a", NULL, "--json", "--case",
	    "LT1,HC3", "--idle", "3s", "--max-wait", "5s", "--repeat", "1",
	    "--timeout", "2s", NULL };

	daemon_start_args(&d, args);
	pargs[2] = d.addr;
	cr_assert_eq(run(upcase_path(), pargs, out, sizeof(out)), 0, "%s",
	    out);
	expect_result("LT1", "unsupported");
	cr_assert_not_null(strstr(out, "the probe listener's own idle_timeout "
	    "(1.0 s) is not above --idle 3.0 s"), "%s", out);
	expect_result("HC3", "pass");
	cr_assert_not_null(strstr(out, "\"max_wait_ms\": 1000,"), "%s", out);
	cr_assert_not_null(strstr(out, "the longest the probe listener's "
	    "drain_timeout allows"), "%s", out);
	cr_assert_eq(daemon_count_log(&d, "bad_header"), 0, "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}

/* The pacing: never faster than the rate (a lower bound, which a slow
 * machine cannot break), every byte back. */
Test(probe, rate_paces_the_echo)
{
	static const char line[] = "UPCASE-PROBE/1 rate=20k\n";
	static char data[10240 + sizeof(line)], got[10241];
	long long start;
	int fd;

	start_probe_listener("probe");
	memcpy(data, line, sizeof(line) - 1);
	memset(data + sizeof(line) - 1, 'p', 10240);
	fd = daemon_connect(&d);
	start = now_ms();
	cr_assert_eq(exchange(fd, data, sizeof(line) - 1 + 10240, got,
	    sizeof(got), 65536, DEADLINE_MS), 10240);
	cr_assert_geq(now_ms() - start, 450, "10 KiB at 20 KiB/s took %lld "
	    "ms", now_ms() - start);
	for (int i = 0; i < 10240; i++)
		cr_assert_eq(got[i], 'P');
	close(fd);
	daemon_stop(&d);
}

Test(probe, bad_lines_cost_only_their_connection)
{
	static const char *const bad[] = {
		"UPCASE-PROBE/2\n", "UPCASE-PROBE/1 delay=soon\n",
		"UPCASE-PROBE/1 colour=blue\n", "UPCASE-PROBE/1 delay=2m\n",
		"hello\n",
	};
	char got[64];
	int held, fd;

	start_probe_listener("probe");
	held = daemon_connect(&d);
	cr_assert_eq(write_all(held, "UPCASE-PROBE/1\nfirst", 20,
	    DEADLINE_MS), 0);
	cr_assert_eq(read(held, got, 5), 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ssize_t n;

		fd = daemon_connect(&d);
		cr_assert_eq(write_all(fd, bad[i], strlen(bad[i]),
		    DEADLINE_MS), 0);
		n = read_all(fd, got, sizeof(got), DEADLINE_MS);
		cr_assert(n == 0 || (n == -1 && errno == ECONNRESET),
		    "'%s' was answered: %zd", bad[i], n);
		close(fd);
	}
	expect_echo(held, " and the rest");
	cr_assert_not_null(daemon_wait_log(&d, "bad probe line: no "
	    "UPCASE-PROBE/1 line (1 so far)", DEADLINE_MS), "%s",
	    daemon_log(&d));
	cr_assert_geq(daemon_count_log(&d, "bad_header: delay 2m is not below "
	    "drain_timeout 1m"), 1, "%s", daemon_log(&d));
	cr_assert_eq(daemon_count_log(&d, ": bad_header: "), 5, "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}

/* A wrong address or peer ends within the bound, saying what it saw. */
Test(probe, wrong_peers_are_told_apart)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char addr[64];
	int quiet;
	pid_t echo;

	start_probe_listener("");	/* a plain listener */
	cr_assert_eq(probe(d.addr, NULL), 3, "%s", out);
	cr_assert_not_null(strstr(out, "a plain upcased listener"), "%s", out);
	/* A web server (its metrics listener), waiting for the rest of a
	 * request that never comes: bounded by --timeout. */
	addr_format((struct sockaddr *)&d.mss, sizeof(struct sockaddr_in),
	    addr, sizeof(addr));
	cr_assert_eq(probe(addr, NULL), 3, "%s", out);
	cr_assert_not_null(strstr(out, "no probe listener answers: nothing "
	    "came back, then nothing (timed out) after "), "%s", out);
	daemon_stop(&d);

	echo = plain_echo_server(0, &ss, &len, addr, sizeof(addr));
	cr_assert_eq(probe(addr, NULL), 3, "%s", out);
	cr_assert_not_null(strstr(out, "not upcased at all (a plain echo?)"),
	    "%s", out);
	kill(echo, SIGKILL);
	wait_exit(echo, NULL, DEADLINE_MS);

	/* A queue nobody accepts from: connected, and never an answer. */
	quiet = inheritable_listener(&ss, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	cr_assert_eq(probe(addr, NULL), 3, "%s", out);
	cr_assert_not_null(strstr(out, "nothing came back, then nothing (timed "
	    "out)"), "%s", out);
	close(quiet);

	cr_assert_eq(probe(addr, NULL), 3, "%s", out);
	cr_assert_not_null(strstr(out, "connect: Connection refused"), "%s",
	    out);
}

/* nginx stream in front: proxy_half_close decides. */
/* Start the daemon with a probe listener, and the listening socket a proxy
 * in front of it will inherit; its address into addr. Returns the socket. */
static int
start_behind_front(char *addr, size_t addrlen)
{
	struct sockaddr_storage front;
	socklen_t len;
	int fd;

	start_probe_listener("probe");
	fd = inheritable_listener(&front, &len);
	snprintf(addr, addrlen, "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&front)->sin_port));
	return fd;
}

/* Write conf to the daemon's directory under name; its path (static). */
static const char *
proxy_config(const char *name, const char *conf)
{
	static char path[160];

	snprintf(path, sizeof(path), "%s", daemon_file(&d, name));
	write_file(path, conf);
	return path;
}

static void
through_nginx(const char *half_close)
{
	char conf[512], addr[64];
	int fd = start_behind_front(addr, sizeof(addr));
	pid_t pid;

	snprintf(conf, sizeof(conf), "stream {\n    server {\n        listen "
	    "%s;\n        proxy_pass %s;\n        proxy_half_close %s;\n    "
	    "}\n}\n", addr, d.addr, half_close);
	pid = start_nginx(d.dir, proxy_config("stream.conf", conf), fd);
	close(fd);
	probe(addr, NULL);
	stop_peer(pid, "nginx");
	daemon_stop(&d);
}

Test(probe, nginx_with_proxy_half_close_off_fails_half_close)
{
	through_nginx("off");
	expect_result("HC2", "fail");
	expect_result("HC3", "fail");
}

Test(probe, nginx_with_proxy_half_close_on_passes_half_close)
{
	through_nginx("on");
	expect_result("HC2", "pass");
	expect_result("HC3", "pass");
	/* nginx passes no reset on: non-strict, which a CI can live with. */
	expect_result("RS1", "non-strict");
	cr_assert_eq(probe_status, 0, "%s", out);
}

/* HAProxy mode tcp in front, with extra lines in its defaults. */
static void
through_haproxy(const char *defaults, const char *cases)
{
	char conf[512], addr[64];
	int fd = start_behind_front(addr, sizeof(addr));
	pid_t pid;

	snprintf(conf, sizeof(conf), "defaults\n    mode tcp\n    timeout "
	    "connect 5s\n    timeout client 30s\n    timeout server 30s\n%s"
	    "frontend probe\n    bind fd@%d\n    default_backend upcased\n"
	    "backend upcased\n    server u %s\n", defaults, fd, d.addr);
	pid = start_haproxy(d.dir, proxy_config("haproxy.cfg", conf));
	close(fd);
	probe_some(addr, cases);
	stop_peer(pid, "haproxy");
	daemon_stop(&d);
}

/* Every case but FL4, through a conformant relay. HAProxy 2.6 loses
 * bytes both ways in some of FL4's runs (docs/matrix.md): it half-closes
 * its server side with part of the client's bytes still unread, then
 * resets the client. */
Test(probe, haproxy_defaults_keep_half_close)
{
	through_haproxy("", "half-close,resets,lifetime,connecting,FL1,FL2,FL3,"
	    "proxy");
	for (const char *c = "HC1\0HC2\0HC3\0HC4\0HC6\0HC7\0HC8\0LT2\0LT3\0"
	    "CN1\0CN2\0FL1\0FL2\0FL3\0"; *c != '\0'; c += strlen(c) + 1)
		expect_result(c, "pass");
	expect_result("RS4", "info");
	cr_assert_eq(count_in(out, "{\"id\": "), 25, "%s", out);
	/* The server's reset is not passed on (non-strict, which a CI can
	 * live with); the client's is. */
	expect_result("RS1", "non-strict");
	expect_result("RS2", "pass");
	cr_assert_eq(probe_status, 0, "%s", out);
}

Test(probe, haproxy_fin_timeouts_cut_the_reply_near_one_second)
{
	double cut;

	through_haproxy("    timeout client-fin 1s\n    timeout server-fin "
	    "1s\n", "HC2,HC3");
	expect_result("HC2", "pass");
	expect_result("HC3", "fail");
	cut = figure("shortest_cut_ms");
	cr_assert(cut > 500 && cut <= 1500, "cut at %.0f ms:\n%s", cut, out);
	cr_assert_lt(figure("longest_delivered_ms"), cut);
}

/* socat forwarding: its -t decides how long it waits after an EOF. */
static void
through_socat(const char *options, const char *cases)
{
	struct sockaddr_storage front;
	socklen_t len;
	char addr[64];
	pid_t pid;

	start_probe_listener("probe");
	pid = start_socat(d.addr, options, &front, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&front)->sin_port));
	probe_some(addr, cases);
	stop_peer(pid, "socat");
	daemon_stop(&d);
}

Test(probe, socat_default_cuts_the_reply_at_half_a_second)
{
	double cut;

	through_socat(NULL, "HC2,HC3");
	expect_result("HC2", "pass");
	expect_result("HC3", "fail");
	cut = figure("shortest_cut_ms");
	cr_assert(cut > 250 && cut <= 750, "cut at %.0f ms:\n%s", cut, out);
}

/*
 * A path that cuts any delayed reply, exactly: a stand-in for a probe
 * listener that echoes at once, or at the client's EOF for delay=0, and
 * closes at the EOF without a byte for any longer delay. In whole
 * milliseconds the search's midpoint of 0 and 1 is 0, which once made it
 * run for ever; it stops at its floor, within the worst case it announced,
 * with the cut found below 10 ms.
 */
static pid_t
cutting_server(char *addr, size_t addrlen, size_t stall_after)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd = inheritable_listener(&ss, &len);
	pid_t pid;

	snprintf(addr, addrlen, "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		static char buf[1 << 16], held[1 << 16];
		struct scenario sc;
		char err[128];
		size_t have = 0, kept = 0, echoed = 0, off;
		bool parsed = false;
		ssize_t n, line;
		int fd = accept(lfd, NULL, NULL);

		while (fd != -1 && (n = read(fd, buf + have, sizeof(buf) -
		    have)) > 0) {
			have += (size_t)n;
			off = 0;
			if (!parsed) {
				line = scenario_parse(buf, have, &sc, err,
				    sizeof(err));
				if (line == 0)
					continue;
				if (line < 0)
					break;
				parsed = true;
				off = (size_t)line;
			}
			upper_inplace((unsigned char *)buf + off, have - off);
			if (!sc.hold && write(fd, buf + off, have - off) < 0)
				break;
			echoed += have - off;
			if (stall_after > 0 && echoed >= stall_after) {
				fd = -1;	/* kept open, never read again */
				break;
			}
			if (sc.hold && kept + have - off <= sizeof(held)) {
				memcpy(held + kept, buf + off, have - off);
				kept += have - off;
			}
			have = 0;
		}
		if (fd != -1 && parsed && sc.hold && sc.delay_ms == 0 &&
		    write(fd, held, kept) < 0)
			kept = 0;
		if (fd != -1)
			close(fd);
	}
}

Test(probe, a_cut_within_milliseconds_ends_the_search)
{
	char addr[64];
	pid_t pid = cutting_server(addr, sizeof(addr), 0);
	const char *args[] = { "probe", "-a", addr, "--json", "--case", "HC3",
	    "--repeat", "2", "--max-wait", "2s", "--timeout", "2s", NULL };

	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 1, "%s", out);
	expect_result("HC3", "fail");
	cr_assert_leq(figure("shortest_cut_ms"), 10, "%s", out);
	cr_assert_eq(figure("longest_delivered_ms"), 0, "%s", out);
	cr_assert_leq(figure("elapsed_s"), figure("worst_case_s"), "%s", out);
	kill(pid, SIGKILL);
	wait_exit(pid, NULL, DEADLINE_MS);
}

/* A path that stops moving bytes, and never ends the connection: the case
 * ends as a stall once nothing has moved for --timeout, not at its 62 s
 * deadline, and says so. */
Test(probe, a_stall_is_reported_as_a_stall)
{
	char addr[64];
	pid_t pid = cutting_server(addr, sizeof(addr), 1 << 20);
	const char *args[] = { "probe", "-a", addr, "--json", "--case", "HC2",
	    "--repeat", "1", "--timeout", "1s", NULL };

	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 1, "%s", out);
	expect_result("HC2", "fail");
	cr_assert_not_null(strstr(out, "\"end\": \"stall\""), "%s", out);
	cr_assert_not_null(strstr(out, "then a stall (nothing moved for 1.0 "
	    "s)"), "%s", out);
	cr_assert_lt(figure("elapsed_s"), 30, "%s", out);
	kill(pid, SIGKILL);
	wait_exit(pid, NULL, DEADLINE_MS);
}

/* --direct: each case runs straight at the probe listener first; one that
 * fails there is the setup's, reported unsupported, not the relay's fail,
 * and not run through it. Here --direct names another daemon's listener,
 * whose idle_timeout (1 s) the path's daemon (60 s) does not have: the
 * limits learned through the path cannot foresee it. */
Test(probe, a_case_that_fails_its_control_is_the_setups)
{
	struct sockaddr_storage front;
	socklen_t len;
	char addr[64];
	const char *dargs[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0 probe", "-o", "idle_timeout=1s", NULL };
	static struct daemon other;
	pid_t pid;

	daemon_start_args(&other, dargs);
	start_probe_listener("probe");
	pid = start_socat(d.addr, "-t 30", &front, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&front)->sin_port));
	const char *args[] = { "probe", "-a", addr, "--direct", other.addr,
	    "--json", "--case", "HC1,LT1", "--idle", "3s", "--repeat", "1",
	    "--timeout", "2s", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	expect_result("HC1", "pass");
	expect_result("LT1", "unsupported");
	cr_assert_not_null(strstr(out, "\"control\": \"pass\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"control\": \"fail\""), "%s", out);
	cr_assert_not_null(strstr(out, "the setup: straight at 127.0.0.1:"),
	    "%s", out);
	stop_peer(pid, "socat");
	daemon_stop(&d);
	daemon_stop(&other);
}

Test(probe, socat_with_t_30_keeps_the_reply)
{
	through_socat("-t 30", "HC3");
	expect_result("HC3", "pass");
}

/*
 * After fin_after, the daemon has half-closed; bytes the client sends then
 * are read and dropped, and the client's FIN (which now comes with
 * EPOLLHUP, both directions being shut) must still be read to the end:
 * when it arrives with bytes, the read that takes them is short, and no
 * new edge will come for the end. The daemon is stopped (SIGSTOP) while
 * both arrive, so they come as one event.
 */
Test(probe, client_fin_after_ours_is_read_to_the_end)
{
	static const char line[] = "UPCASE-PROBE/1 fin_after=16\n";
	char got[64];
	int fd, status;

	start_probe_listener("probe");
	fd = daemon_connect(&d);
	cr_assert_eq(write_all(fd, line, sizeof(line) - 1, DEADLINE_MS), 0);
	cr_assert_eq(write_all(fd, "sixteen bytes!!!", 16, DEADLINE_MS), 0);
	cr_assert_eq(read_all(fd, got, sizeof(got), DEADLINE_MS), 16);
	kill(d.pid, SIGSTOP);
	cr_assert_eq(waitpid(d.pid, &status, WUNTRACED), d.pid);
	cr_assert_eq(write_all(fd, "after the daemon's FIN", 22, DEADLINE_MS),
	    0);
	shutdown(fd, SHUT_WR);
	kill(d.pid, SIGCONT);
	cr_assert_not_null(daemon_wait_log(&d, ": done, 38 bytes in, 16 bytes "
	    "out", DEADLINE_MS), "%s", daemon_log(&d));
	close(fd);
	daemon_stop(&d);
}

/* The catalogue: every case's ID, family and the spec it rests on. */
Test(probe, list_names_every_case)
{
	const char *args[] = { "probe", "--list", NULL };

	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	for (const char *c = "HC1 \0HC2 \0HC3 \0HC4 \0HC5 \0HC6 \0HC7 \0HC8 \0"
	    "RS1 \0RS2 \0RS3 \0RS4 \0LT1 \0LT2 \0LT3 \0CN1 \0CN2 \0CN3 \0"
	    "CN4 \0FL1 \0"
	    "FL2 \0FL3 \0FL4 \0PP1 \0PP2 \0PP3 \0"
	    "RFC 9293 3.6\0RFC 1122 4.2.2.13\0RFC 5382 REQ-5\0"
	    "proxy-protocol.txt\0"; *c != '\0';
	    c += strlen(c) + 1)
		cr_assert_not_null(strstr(out, c), "no %s:\n%s", c, out);
}

/* --case runs what it names, IDs and families alike, and nothing else;
 * one that names nothing, or a --junit file that cannot be written, is a
 * usage error before anything runs. */
Test(probe, case_chooses_and_bad_choices_are_usage_errors)
{
	start_probe_listener("probe");
	const char *some[] = { "probe", "-a", d.addr, "--json", "--repeat",
	    "1", "--case", "rs1,lifetime", NULL };
	cr_assert_eq(run(upcase_path(), some, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(count_in(out, "{\"id\": "), 4, "%s", out);
	expect_result("RS1", "pass");
	expect_result("LT1", "unsupported");
	/* The usage errors below make no connection at all. */
	daemon_wait_open(&d, 0);
	double before = daemon_counter(&d, daemon_sample_of(&d,
	    "upcased_connections_accepted_total"));

	const char *none[] = { "probe", "-a", d.addr, "--case", "XX9", NULL };
	cr_assert_eq(run(upcase_path(), none, out, sizeof(out)), 2, "%s", out);
	cr_assert_not_null(strstr(out, "upcase: --case: no case is 'XX9' "
	    "(upcase probe --list)"), "%s", out);
	const char *junit[] = { "probe", "-a", d.addr, "--junit",
	    "/nonexistent/j.xml", NULL };
	cr_assert_eq(run(upcase_path(), junit, out, sizeof(out)), 2, "%s", out);
	cr_assert_not_null(strstr(out, "upcase: --junit /nonexistent/j.xml: No "
	    "such file or directory"), "%s", out);
	cr_assert_eq(daemon_counter(&d, daemon_sample_of(&d,
	    "upcased_connections_accepted_total")), before, "%s",
	    daemon_log(&d));
	daemon_stop(&d);
}

/* The JUnit file, read by a real consumer (Debian's python3-junitparser):
 * one testcase per case, a failure for each fail, a skip for each
 * unsupported, and a non-strict case is no failure. */
Test(probe, junit_through_nginx_off_is_read_by_junitparser)
{
	char conf[512], addr[64], junit[160], script[1024];
	int fd = start_behind_front(addr, sizeof(addr));
	pid_t pid;

	snprintf(conf, sizeof(conf), "stream {\n    server {\n        listen "
	    "%s;\n        proxy_pass %s;\n    }\n}\n", addr, d.addr);
	pid = start_nginx(d.dir, proxy_config("stream.conf", conf), fd);
	close(fd);
	snprintf(junit, sizeof(junit), "%s", daemon_file(&d, "probe.xml"));
	const char *args[] = { "probe", "-a", addr, "--repeat", "1",
	    "--max-wait", "1s", "--timeout", "2s", "--junit", junit, NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 1, "%s", out);
	stop_peer(pid, "nginx");
	snprintf(script, sizeof(script), "import junitparser, sys\n"
	    "x = junitparser.JUnitXml.fromfile(sys.argv[1])\n"
	    "for s in x:\n"
	    "  for c in s:\n"
	    "    r = c.result[0] if c.result else None\n"
	    "    print(c.name, type(r).__name__ if r else 'ok', "
	    "r.type if r is not None and hasattr(r, 'type') else '')\n");
	const char *py[] = { "-c", script, junit, NULL };
	cr_assert_eq(run("/usr/bin/python3", py, out, sizeof(out)), 0, "%s",
	    out);
	cr_assert_not_null(strstr(out, "HC1 fin-then-eof ok"), "%s", out);
	cr_assert_not_null(strstr(out, "HC2 fin-with-64mib-in-flight Failure "
	    "fail"), "%s", out);
	cr_assert_not_null(strstr(out, "RS1 server-abort ok"), "%s", out);
	cr_assert_not_null(strstr(out, "LT1 idle Skipped"), "%s", out);
	cr_assert_eq(count_in(out, "\n"), 26, "one per case:\n%s", out);
	daemon_stop(&d);
}

/* A free loopback port now (bound, read, closed), for a peer that takes
 * a number; and a wait until something accepts there. */
static unsigned
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, len), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
wait_listening(unsigned port, const char *who)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	    .sin_port = htons((uint16_t)port) };
	long long deadline = now_ms() + DEADLINE_MS;

	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin));

		close(fd);
		if (ok == 0)
			return;
		cr_assert_lt(now_ms(), deadline, "%s never listened", who);
		usleep(20000);
	}
}

/* --via: a SOCKS5 proxy (Debian's microsocks) and an HTTP CONNECT one
 * (tinyproxy) in front of the listener: the probe reaches it through
 * their handshakes, with --direct as the control; both close both ways
 * at the client's FIN (HC7 loses the reply). A CONNECT the proxy refuses
 * (nothing listens there) is exit 3, saying so. */
Test(probe, via_socks5_and_http_connect)
{
	char socks[64], http[64], conf[256], dead[64];
	unsigned sp = free_port(), hp = free_port();
	pid_t ms, tp;

	start_probe_listener("probe");
	snprintf(socks, sizeof(socks), "%u", sp);
	const char *margv[] = { "/usr/bin/microsocks", "-i", "127.0.0.1", "-p",
	    socks, NULL };
	ms = spawn(margv, -1, -1, -1);
	snprintf(conf, sizeof(conf), "Port %u\nListen 127.0.0.1\nTimeout 600\n"
	    "Allow 127.0.0.1\nMaxClients 100\n", hp);
	write_file(daemon_file(&d, "tinyproxy.conf"), conf);
	const char *targv[] = { "/usr/sbin/tinyproxy", "-d", "-c",
	    daemon_file(&d, "tinyproxy.conf"), NULL };
	if (access(targv[0], X_OK) != 0)
		targv[0] = "/usr/bin/tinyproxy";
	tp = spawn(targv, -1, -1, -1);
	wait_listening(sp, "microsocks");
	wait_listening(hp, "tinyproxy");

	snprintf(socks, sizeof(socks), "socks5://127.0.0.1:%u", sp);
	snprintf(http, sizeof(http), "http-connect://127.0.0.1:%u", hp);
	for (int i = 0; i < 2; i++) {
		const char *args[] = { "probe", "-a", d.addr, "--via", i == 0 ?
		    socks : http, "--direct", d.addr, "--json", "--repeat",
		    "1", "--case", "HC1,HC7,RS1", NULL };

		cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 1,
		    "%s", out);
		expect_result("HC1", "pass");
		expect_result("HC7", "fail");
		expect_result("RS1", "non-strict");
	}
	snprintf(dead, sizeof(dead), "127.0.0.1:%u", free_port());
	const char *refused[] = { "probe", "-a", dead, "--via", socks, NULL };
	cr_assert_eq(run(upcase_path(), refused, out, sizeof(out)), 3, "%s",
	    out);
	cr_assert_not_null(strstr(out, "SOCKS5: the proxy refused the "
	    "CONNECT: "), "%s", out);
	const char *bad[] = { "probe", "-a", d.addr, "--via", "socks4://x:1",
	    NULL };
	cr_assert_eq(run(upcase_path(), bad, out, sizeof(out)), 2, "%s", out);
	stop_peer(ms, "microsocks");
	stop_peer(tp, "tinyproxy");
	daemon_stop(&d);
}

/* A SOCKS5 proxy may name the address it bound by a host name of up to
 * 255 bytes: the reply is read whole (a stand-in that answers so, then
 * closes), and the probe goes on to say nothing answers behind it. */
Test(probe, via_socks5_takes_a_bound_address_given_by_name)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char addr[64], via[64];
	int lfd = inheritable_listener(&ss, &len);
	pid_t pid;

	snprintf(via, sizeof(via), "socks5://127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		unsigned char in[64], rep[5 + 255 + 2] = { 5, 0, 0, 3, 255 };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(rep + 5, 'n', 255);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);

			if (fd == -1)
				continue;
			if (read(fd, in, 3) == 3 && write(fd, "\5\0", 2) == 2 &&
			    read(fd, in, 10) == 10)
				(void)!write(fd, rep, sizeof(rep));
			/* A FIN, and what comes read to the client's end: a
			 * close with the probe line unread would reset. */
			shutdown(fd, SHUT_WR);
			while (read(fd, in, sizeof(in)) > 0)
				;
			close(fd);
		}
	}
	close(lfd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", free_port());
	const char *args[] = { "probe", "-a", addr, "--via", via, "--timeout",
	    "1s", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 3, "%s", out);
	cr_assert_not_null(strstr(out, "no probe listener answers: nothing "
	    "came back, then EOF"), "%s", out);
	kill(pid, SIGKILL);
	wait_exit(pid, NULL, DEADLINE_MS);
}

/* A listening socket nobody accepts from, its queue full: a connect to
 * it is never answered. Its address into addr; returns the socket. A
 * queue of 0 holds one connection, which is let go once it is queued (a
 * listener's TCP_INFO counts its queue in tcpi_unacked). */
static int
black_hole(char *addr, size_t addrlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c;
	long long deadline = now_ms() + DEADLINE_MS;
	struct tcp_info ti = { 0 };
	socklen_t tlen = sizeof(ti);
	struct sockaddr_storage ss = { 0 };

	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, len), 0);
	cr_assert_eq(listen(fd, 0), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memcpy(&ss, &sin, len);
	c = connect_to(&ss, len);
	for (;;) {
		cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen),
		    0);
		if (ti.tcpi_unacked >= 1)
			break;
		cr_assert_lt(now_ms(), deadline, "the queue never filled");
		poll(NULL, 0, 5);
	}
	close(c);
	snprintf(addr, addrlen, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

/*
 * CN3 and CN4, through HAProxy fronts whose servers refuse (a closed
 * port) and never answer: HAProxy ends the client's side with a clean
 * EOF (non-strict: an empty reply), the second no sooner than its
 * timeout connect; a closed port with no relay refuses at once (pass).
 * Without the options the cases are unsupported.
 */
Test(probe, dead_ends_are_judged_by_how_the_relay_lets_go)
{
	char conf[1024], addr[64], refused[64], hole[64];
	struct sockaddr_storage ss[2];
	socklen_t len;
	int fd = start_behind_front(addr, sizeof(addr));
	int fr = inheritable_listener(&ss[0], &len);
	int fb = inheritable_listener(&ss[1], &len);
	int dead = black_hole(hole, sizeof(hole));
	unsigned closed = free_port();
	pid_t pid;

	snprintf(conf, sizeof(conf), "defaults\n    mode tcp\n    retries 0\n"
	    "    timeout connect 1s\n    timeout client 30s\n    timeout "
	    "server 30s\nfrontend probe\n    bind fd@%d\n    default_backend "
	    "upcased\nfrontend refused\n    bind fd@%d\n    default_backend "
	    "closed\nfrontend hole\n    bind fd@%d\n    default_backend hole\n"
	    "backend upcased\n    server u %s\nbackend closed\n    server c "
	    "127.0.0.1:%u\nbackend hole\n    server h %s\n", fd, fr, fb,
	    d.addr, closed, hole);
	pid = start_haproxy(d.dir, proxy_config("haproxy.cfg", conf));
	close(fd);
	snprintf(refused, sizeof(refused), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&ss[0])->sin_port));
	snprintf(hole, sizeof(hole), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&ss[1])->sin_port));
	close(fr);
	close(fb);
	const char *args[] = { "probe", "-a", addr, "--refused", refused,
	    "--black-hole", hole, "--json", "--case", "CN3,CN4", "--repeat",
	    "1", "--timeout", "2s", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	expect_result("CN3", "non-strict");
	cr_assert_not_null(strstr(out, "a clean EOF "), "%s", out);
	expect_result("CN4", "info");
	cr_assert_not_null(strstr(out, "the relay gave up after "), "%s", out);
	cr_assert_geq(figure("gave_up_ms"), 1000, "%s", out);
	stop_peer(pid, "haproxy");
	close(dead);

	snprintf(refused, sizeof(refused), "127.0.0.1:%u", closed);
	const char *straight[] = { "probe", "-a", d.addr, "--refused", refused,
	    "--json", "--case", "CN3,CN4", NULL };
	cr_assert_eq(run(upcase_path(), straight, out, sizeof(out)), 0, "%s",
	    out);
	expect_result("CN3", "pass");
	cr_assert_not_null(strstr(out, "no connection: "), "%s", out);
	expect_result("CN4", "unsupported");
	cr_assert_not_null(strstr(out, "give --black-hole ADDRESS"), "%s", out);
	daemon_stop(&d);
}
