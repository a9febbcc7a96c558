/*
 * test_upcase.c — the client against the real daemon: the filter in every
 * plumbing, the seed's -n check (passing, and failing against a server that
 * does not uppercase), the deadlock --naive walks into, and each error with
 * its exit status.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct daemon d;

static void
start(void)
{
	daemon_start_metered(&d, NULL);
}

static void
stop(void)
{
	daemon_stop(&d);
}

TestSuite(upcase, .init = start, .fini = stop, .timeout = 120);

Test(upcase, zero_bytes)
{
	const char *args[] = { "-a", d.addr, NULL };
	char out[256];

	/* stdin is /dev/null: nothing to send, a clean close back. */
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "");
}

Test(upcase, one_byte_and_files_in_order)
{
	char out[256], a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof(a), "%s", daemon_file(&d, "a"));
	snprintf(b, sizeof(b), "%s", daemon_file(&d, "b"));
	write_file(a, "x");
	write_file(b, "yz \xc3\xa9\n");
	const char *one[] = { "-a", d.addr, a, NULL };
	cr_assert_eq(run(upcase_path(), one, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "X");
	const char *two[] = { "-a", d.addr, b, a, b, NULL };
	cr_assert_eq(run(upcase_path(), two, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "YZ \xc3\xa9\nXYZ \xc3\xa9\n");
}

Test(upcase, address_from_the_environment)
{
	const char *args[] = { daemon_file(&d, "f"), NULL };
	char out[256];

	write_file(args[0], "env");
	setenv("UPCASE_ADDRESS", d.addr, 1);
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	unsetenv("UPCASE_ADDRESS");
	cr_assert_str_eq(out, "ENV");
}

/*
 * 200 MiB in through one pipe and out through another, both driven by this
 * test: every byte checked, and upcase's peak memory bounded.
 */
Test(upcase, two_hundred_mib_through_pipes_in_bounded_memory)
{
	enum { CHUNK = 1 << 20, TOTAL = 200 << 20 };
	const char *argv[] = { upcase_path(), "-a", d.addr, NULL };
	unsigned char *src = malloc(CHUNK), *want = malloc(CHUNK);
	unsigned char *got = malloc(CHUNK);
	size_t sent = 0, recvd = 0;
	struct rusage ru;
	int to[2], from[2], in, out;
	pid_t pid;

	cr_assert(src && want && got);
	fill_pattern(src, CHUNK, 12);
	memcpy(want, src, CHUNK);
	reference_upper(want, CHUNK);
	cr_assert_eq(pipe2(to, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(from, O_CLOEXEC), 0);
	pid = spawn(argv, to[0], from[1], -1);
	close(to[0]);
	close(from[1]);
	in = to[1];
	out = from[0];
	fcntl(in, F_SETFL, O_NONBLOCK);
	for (long long deadline = now_ms() + DEADLINE_MS;;) {
		struct pollfd p[2] = { { .fd = in, .events = POLLOUT },
		    { .fd = out, .events = POLLIN } };
		ssize_t n;

		cr_assert_lt(now_ms(), deadline, "stalled at %zu sent, %zu "
		    "received", sent, recvd);
		if (in == -1)
			p[0].fd = -1;
		poll(p, 2, 1000);
		if (p[0].revents) {
			n = write(in, src + sent % CHUNK, CHUNK - sent % CHUNK);
			if (n > 0)
				sent += (size_t)n;
			if (sent == TOTAL) {
				close(in);
				in = -1;
			}
		}
		if (p[1].revents) {
			n = read(out, got, CHUNK - recvd % CHUNK);
			if (n == 0)
				break;
			cr_assert_gt(n, 0, "read: %s", strerror(errno));
			cr_assert_eq(memcmp(got, want + recvd % CHUNK,
			    (size_t)n), 0, "echo differs near byte %zu",
			    recvd);
			recvd += (size_t)n;
		}
	}
	close(out);
	expect_exit(wait_exit(pid, &ru, DEADLINE_MS), 0, "upcase");
	cr_assert_eq(recvd, (size_t)TOTAL);
	cr_assert_lt(ru.ru_maxrss, 32 * 1024, "peak RSS %ld KiB for a "
	    "streamed 200 MiB", ru.ru_maxrss);
	free(src);
	free(want);
	free(got);
}

Test(upcase, seed_check_passes)
{
	const char *args[] = { "-a", d.addr, "-n", "1000", NULL };
	char out[512];

	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 0, "%s", out);
	/* 1000 rounds up to 1008, a multiple of 16. */
	const char *want = "sent 1008 bytes, received 1008 bytes, first bytes "
	    "\"CAPITALIZE THIS!CAPITALIZE THIS!\", ";

	cr_assert_eq(strncmp(out, want, strlen(want)), 0, "%s", out);
	cr_assert_not_null(strstr(out, " MiB/s\n"), "%s", out);
}

Test(upcase, seed_check_fails_against_a_server_that_does_not_uppercase)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char addr[64], out[1024], want[256];
	pid_t server = plain_echo_server(0, &ss, &len, addr, sizeof(addr));

	const char *args[] = { "-a", addr, "-n", "64k", "-q", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 1, "%s", out);
	snprintf(want, sizeof(want), "upcase: %s: echo differs at byte 0: got "
	    "0x63, expected 0x43 ('C')\n", addr);
	cr_assert_str_eq(out, want);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
}

Test(upcase, short_echo_is_wrong)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char addr[64], out[1024], want[256], path[PATH_MAX], text[200];
	pid_t server = plain_echo_server(100, &ss, &len, addr, sizeof(addr));

	memset(text, '7', 150);
	text[150] = '\0';
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "in"));
	write_file(path, text);
	const char *args[] = { "-a", addr, path, NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 1, "%s", out);
	snprintf(want, sizeof(want), "upcase: %s: short echo: received 100 of "
	    "150 bytes\n", addr);
	cr_assert_not_null(strstr(out, want), "%s", out);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
}

Test(upcase, refused_connection_names_the_address)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	char out[512], addr[64], want[128];
	/* Bound, not listening: nothing answers on this port. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, len), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	const char *args[] = { "-a", addr, "-n", "16", NULL };
	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 3, "%s", out);
	snprintf(want, sizeof(want), "upcase: %s: connect: Connection "
	    "refused\n", addr);
	cr_assert_str_eq(out, want);
	close(fd);
}

/* The seed's order deadlocks once both sides' buffers fill; the same
 * payload streams through when sending and receiving overlap. */
Test(upcase, naive_order_deadlocks_and_times_out)
{
	const char *naive[] = { "-a", d.addr, "--naive", "-n", "256m",
	    "--timeout", "2", "-q", NULL };
	const char *streaming[] = { "-a", d.addr, "-n", "256m", "--timeout",
	    "2", "-q", NULL };
	char out[1024];

	cr_assert_eq(run(upcase_path(), naive, out, sizeof(out)), 3, "%s", out);
	cr_assert_not_null(strstr(out, "timed out: no byte moved for 2.0 s"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "received 0); --naive reads nothing "
	    "before it has sent everything"), "%s", out);
	cr_assert_eq(run(upcase_path(), streaming, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "");
}

Test(upcase, progress_only_when_asked_or_on_a_terminal)
{
	const char *quiet[] = { "-a", d.addr, "-n", "1m", NULL };
	const char *shown[] = { "-a", d.addr, "-n", "1m", "--progress", NULL };
	char out[2048];

	cr_assert_eq(run(upcase_path(), quiet, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(strncmp(out, "sent 1048576 bytes", 18), 0,
	    "progress on a non-terminal: %s", out);
	cr_assert_eq(strchr(out, '\n')[1], '\0', "more than the check's "
	    "line: %s", out);
	/* Forced onto a pipe: lines, no terminal's control sequences. */
	cr_assert_eq(run(upcase_path(), shown, out, sizeof(out)), 0, "%s", out);
	cr_assert_null(strchr(out, '\r'), "%s", out);
	cr_assert_null(strchr(out, '\033'), "%s", out);
	cr_assert_not_null(strstr(out, "sent 1.0 MiB, received 1.0 MiB in "),
	    "%s", out);
}

Test(upcase, unreadable_file_stops_before_connecting)
{
	const char *args[] = { "-a", d.addr, "/nonexistent/input", NULL };
	char out[512];

	cr_assert_eq(run(upcase_path(), args, out, sizeof(out)), 2, "%s", out);
	cr_assert_str_eq(out, "upcase: /nonexistent/input: No such file or "
	    "directory\n");
	cr_assert_eq(daemon_counter(&d, daemon_sample_of(&d,
	    "upcased_connections_accepted_total")), 0, "it connected anyway");
}

Test(upcase, usage_errors)
{
	const char *bad_option[] = { "--frobnicate", NULL };
	const char *bad_address[] = { "-a", "localhost", NULL };
	const char *bad_size[] = { "-n", "12q", NULL };
	char out[1024];

	cr_assert_eq(run(upcase_path(), bad_option, out, sizeof(out)), 2, "%s", out);
	cr_assert_not_null(strstr(out, "unrecognized option '--frobnicate'"),
	    "%s", out);
	cr_assert_eq(run(upcase_path(), bad_address, out, sizeof(out)), 2, "%s", out);
	cr_assert_str_eq(out, "upcase: -a: invalid address 'localhost': "
	    "expected HOST:PORT, [IPV6]:PORT or unix:PATH\nTry 'upcase "
	    "--help'.\n");
	cr_assert_eq(run(upcase_path(), bad_size, out, sizeof(out)), 2, "%s", out);
	cr_assert_str_eq(out, "upcase: -n: '12q' is not a size (bytes, or a "
	    "number with k, m or g)\nTry 'upcase --help'.\n");
}

/* An upcase whose stdout is a socket we read, prefilled until it takes no
 * more: its first write already waits for us. */
struct watched {
	int out;		/* the client's output, our end */
	size_t junk;		/* bytes queued there before its own */
	pid_t pid;
};

/* Start upcase --timeout 300ms on input ("-": stdin, from in). */
static void
start_watched(struct watched *w, const char *input, int in)
{
	const char *argv[] = { upcase_path(), "-a", d.addr, "-q",
	    "--timeout", "300ms", input, NULL };
	int sv[2], small = 4096;
	char junk[4096];
	ssize_t n;

	memset(junk, '#', sizeof(junk));
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	    0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	w->junk = 0;
	while ((n = send(sv[0], junk, sizeof(junk), 0)) > 0)
		w->junk += (size_t)n;
	cr_assert(n == -1 && errno == EAGAIN);
	fcntl(sv[0], F_SETFL, 0);
	w->pid = spawn(argv, in, sv[0], -1);
	close(sv[0]);
	w->out = sv[1];
}

/* Read w's output to EOF: the junk, then in uppercased; and a clean exit. */
static void
drain_watched(struct watched *w, const void *in, size_t len)
{
	unsigned char *got = malloc(w->junk + len + 1), *want = malloc(len);
	ssize_t n;

	cr_assert(got && want);
	memcpy(want, in, len);
	reference_upper(want, len);
	n = read_all(w->out, got, w->junk + len + 1, DEADLINE_MS);
	cr_assert_eq(n, (ssize_t)(w->junk + len), "%zd of %zu bytes", n,
	    w->junk + len);
	cr_assert_eq(memcmp(got + w->junk, want, len), 0);
	expect_exit(wait_exit(w->pid, NULL, DEADLINE_MS), 0, "upcase");
	close(w->out);
	free(got);
	free(want);
}

/*
 * upcase sleeps while it waits on anything but the network, and --timeout
 * counts none of that time: A's output is slow once the daemon has closed
 * (a hangup, which poll always reports); B's output is slow while the daemon
 * still owes it; C's input is slow.
 */
Test(upcase, filter_sleeps_while_its_input_or_output_is_slow)
{
	enum { SMALL = 64 << 10, LARGE = 16 << 20 };
	unsigned char *small = malloc(SMALL), *large = malloc(LARGE);
	static const char late[] = "a producer that takes its time";
	struct watched a, b, c;
	char path_a[PATH_MAX], path_b[PATH_MAX];
	int pipe_c[2], pidfd[3];
	long cpu;

	cr_assert(small && large);
	fill_pattern(small, SMALL, 21);
	fill_pattern(large, LARGE, 22);
	snprintf(path_a, sizeof(path_a), "%s", daemon_file(&d, "small"));
	snprintf(path_b, sizeof(path_b), "%s", daemon_file(&d, "large"));
	write_bytes(path_a, small, SMALL);
	write_bytes(path_b, large, LARGE);

	/* A: its whole echo and the daemon's close wait in its buffers. */
	start_watched(&a, path_a, -1);
	daemon_wait_counter(&d, "upcased_connections_closed_total"
	    "{reason=\"done\"}", 1);
	/* B: so much that the daemon stops reading it. */
	start_watched(&b, path_b, -1);
	daemon_wait_counter(&d, "upcased_read_pauses_total", 1);
	/* C: connected, and nothing to send yet. */
	cr_assert_eq(pipe2(pipe_c, O_CLOEXEC), 0);
	start_watched(&c, "-", pipe_c[0]);
	close(pipe_c[0]);

	/* No event marks the absence of work: watch them for a second, past
	 * --timeout. A spinning client burns that second; one that exits
	 * ends the watch early and fails. */
	pidfd[0] = (int)syscall(SYS_pidfd_open, a.pid, 0);
	pidfd[1] = (int)syscall(SYS_pidfd_open, b.pid, 0);
	pidfd[2] = (int)syscall(SYS_pidfd_open, c.pid, 0);
	cr_assert(pidfd[0] >= 0 && pidfd[1] >= 0 && pidfd[2] >= 0);
	cpu = cpu_ms(a.pid);
	struct pollfd p[3] = { { .fd = pidfd[0], .events = POLLIN },
	    { .fd = pidfd[1], .events = POLLIN },
	    { .fd = pidfd[2], .events = POLLIN } };
	cr_assert_eq(poll(p, 3, 1000), 0, "a client exited while waiting");
	cr_assert_lt(cpu_ms(a.pid) - cpu, 300, "upcase used %ld ms of CPU in "
	    "a second of waiting", cpu_ms(a.pid) - cpu);
	for (int i = 0; i < 3; i++)
		close(pidfd[i]);

	cr_assert_eq(write(pipe_c[1], late, strlen(late)),
	    (ssize_t)strlen(late));
	close(pipe_c[1]);
	drain_watched(&a, small, SMALL);
	drain_watched(&b, large, LARGE);
	drain_watched(&c, late, strlen(late));
	free(small);
	free(large);
}
