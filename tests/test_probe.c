/*
 * test_probe.c — the probe listener and upcase probe: against the listener
 * itself every check passes; behind the real nginx, HAProxy and socat each
 * finds what those do to half-close; bad lines and wrong peers end
 * quickly, with a line saying what was seen.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "peers.h"

TestSuite(probe, .timeout = 240);

static struct daemon d;
static char out[16384];

/* upcase probe -a addr, quick settings, JSON; its exit status. */
static int
probe(const char *addr, const char *extra)
{
	const char *args[] = { "probe", "-a", addr, "--json", "--repeat", "2",
	    "--max-wait", "2s", "--timeout", "2s", extra != NULL ? "--idle" :
	    NULL, extra, NULL };

	return run(upcase_path(), args, out, sizeof(out));
}

/* The result the JSON gives check. */
static void
expect_result(const char *check, const char *result)
{
	char want[96];

	snprintf(want, sizeof(want), "\"check\": \"%s\", \"result\": \"%s\"",
	    check, result);
	cr_assert_not_null(strstr(out, want), "%s is not %s:\n%s", check,
	    result, out);
}

/* The cut reply-after-eof reports, in seconds. */
static double
cut_at(void)
{
	const char *at = strstr(out, "\"a reply ");
	double s = -1;

	cr_assert_not_null(at, "%s", out);
	cr_assert_eq(sscanf(at, "\"a reply %lf s after the EOF is lost", &s),
	    1, "%s", out);
	return s;
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
	for (const char *c = "echo\0half-close\0reply-after-eof\0"
	    "server-fin-first\0reset\0fin-delay\0idle\0"; *c != '\0';
	    c += strlen(c) + 1)
		expect_result(c, "pass");
	cr_assert_not_null(strstr(out, "\"worst_case_s\": "), "%s", out);
	/* And the daemon closed every one of the probe's connections (a
	 * FIN after ours once left one waiting for an edge). */
	daemon_wait_open(&d, 0);
	daemon_stop(&d);
}

/* An idle check longer than the probe listener's own idle_timeout fails,
 * and says that this limit may be the cause. */
Test(probe, an_idle_check_past_the_listeners_idle_timeout_names_it)
{
	const char *args[] = { "-f", "-c", "/dev/null", "-o",
	    "listen=127.0.0.1:0 probe", "-o", "idle_timeout=1s", NULL };

	daemon_start_args(&d, args);
	cr_assert_eq(probe(d.addr, "3s"), 1, "%s", out);
	expect_result("idle", "fail");
	cr_assert_not_null(strstr(out, " s idle (the path's idle timeout, or "
	    "the probe listener's own idle_timeout: 60s unless raised)"), "%s",
	    out);
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
	cr_assert_eq(probe(d.addr, NULL), 1, "%s", out);
	cr_assert_not_null(strstr(out, "a plain upcased listener"), "%s", out);
	daemon_stop(&d);

	echo = plain_echo_server(0, &ss, &len, addr, sizeof(addr));
	cr_assert_eq(probe(addr, NULL), 1, "%s", out);
	cr_assert_not_null(strstr(out, "not upcased at all (a plain echo?)"),
	    "%s", out);
	kill(echo, SIGKILL);
	wait_exit(echo, NULL, DEADLINE_MS);

	/* A queue nobody accepts from: connected, and never an answer. */
	quiet = inheritable_listener(&ss, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	cr_assert_eq(probe(addr, NULL), 1, "%s", out);
	cr_assert_not_null(strstr(out, "then nothing (timed out)"), "%s", out);
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
	expect_result("echo", "pass");
	expect_result("half-close", "fail");
}

Test(probe, nginx_with_proxy_half_close_on_passes_half_close)
{
	through_nginx("on");
	expect_result("half-close", "pass");
	expect_result("reply-after-eof", "pass");
}

/* HAProxy mode tcp in front, with extra lines in its defaults. */
static void
through_haproxy(const char *defaults)
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
	probe(addr, NULL);
	stop_peer(pid, "haproxy");
	daemon_stop(&d);
}

Test(probe, haproxy_defaults_keep_half_close)
{
	through_haproxy("");
	expect_result("half-close", "pass");
	expect_result("reply-after-eof", "pass");
	expect_result("server-fin-first", "pass");
}

Test(probe, haproxy_fin_timeouts_cut_the_reply_near_one_second)
{
	double cut;

	through_haproxy("    timeout client-fin 1s\n    timeout server-fin "
	    "1s\n");
	expect_result("half-close", "pass");
	expect_result("reply-after-eof", "fail");
	cut = cut_at();
	cr_assert(cut > 0.5 && cut <= 1.5, "cut at %.2f s:\n%s", cut, out);
}

/* socat forwarding: its -t decides how long it waits after an EOF. */
static void
through_socat(const char *options)
{
	struct sockaddr_storage front;
	socklen_t len;
	char addr[64];
	pid_t pid;

	start_probe_listener("probe");
	pid = start_socat(d.addr, options, &front, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u",
	    ntohs(((struct sockaddr_in *)&front)->sin_port));
	probe(addr, NULL);
	stop_peer(pid, "socat");
	daemon_stop(&d);
}

Test(probe, socat_default_cuts_the_reply_at_half_a_second)
{
	double cut;

	through_socat(NULL);
	expect_result("half-close", "pass");
	expect_result("reply-after-eof", "fail");
	cut = cut_at();
	cr_assert(cut > 0.25 && cut <= 0.75, "cut at %.2f s:\n%s", cut, out);
}

Test(probe, socat_with_t_30_keeps_the_reply)
{
	through_socat("-t 30");
	expect_result("reply-after-eof", "pass");
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
