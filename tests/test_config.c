/*
 * test_config.c — configuration files against the real binary: each mistake
 * is refused with FILE:LINE, the key and the reason, exit 1, before anything
 * starts; -t and -T report what a good file means.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

TestSuite(config, .timeout = 60);

struct bad_file {
	const char *text;	/* the file */
	const char *error;	/* stderr after "upcased: FILE:" */
};

static const struct bad_file bad_files[] = {
	{ "listen = 127.0.0.1:0\ncolour = blue\n",
	    "2: colour: unknown key" },
	/* Bytes a terminal would act on come back escaped. */
	{ "k\x1b[2J\xff = 1\n", "1: k\\x1b[2J\\xff: unknown key" },
	{ "idle_timeout = 5\x07s\n",
	    "1: idle_timeout: '5\\x07s' is not a duration (like 30s, 1.5s, "
	    "1m30s or 250ms; a bare number is seconds)" },
	{ "# a comment\n\nbacklog_high = lots\n",
	    "3: backlog_high: 'lots' is not a size (bytes, or a number with k, "
	    "m or g)" },
	{ "max_connections = 0\n",
	    "1: max_connections: 0 is out of range 1..1048576" },
	{ "max_connections = 2000000\n",
	    "1: max_connections: 2000000 is out of range 1..1048576" },
	{ "listen_backlog = 12x\n",
	    "1: listen_backlog: '12x' is not a whole number" },
	{ "idle_timeout = 30x\n",
	    "1: idle_timeout: '30x' is not a duration (like 30s, 1.5s, 1m30s "
	    "or 250ms; a bare number is seconds)" },
	{ "idle_timeout = 1m30\n",
	    "1: idle_timeout: '1m30' is not a duration (like 30s, 1.5s, "
	    "1m30s or 250ms; a bare number is seconds)" },
	{ "drain_timeout = 1000h\n",
	    "1: drain_timeout: 1000h is longer than the maximum 720h" },
	{ "daemonize = yep\n", "1: daemonize: 'yep' is not yes or no (or "
	    "on/off, true/false)" },
	{ "log_level = loud\n",
	    "1: log_level: 'loud' is not error, warn, info or debug" },
	{ "log_file = relative.log\n",
	    "1: log_file: 'relative.log' is not an absolute path" },
	{ "pidfile = run/upcased.pid\n",
	    "1: pidfile: 'run/upcased.pid' is not an absolute path" },
	{ "user = no-such-user-here\n",
	    "1: user: no such user 'no-such-user-here'" },
	{ "listen = 127.0.0.1:0\nlisten = 127.0.0.1:0\n",
	    "2: listen: 127.0.0.1:0 is listed twice" },
	{ "listen = 127.0.0.1\n",
	    "1: listen: invalid address '127.0.0.1': expected HOST:PORT, "
	    "[IPV6]:PORT or unix:PATH" },
	{ "listen = unix:relative.sock\n",
	    "1: listen: 'unix:relative.sock' is not an absolute path" },
	{ "backlog_high = 64k\nbacklog_high = 128k\n",
	    "2: backlog_high: set twice (first on line 1)" },
	{ "idle_timeout\n", "1: expected 'key = value', got 'idle_timeout'" },
	{ "idle_timeout =\n", "1: idle_timeout: missing value" },
	{ "backlog_high = 64k\nbacklog_low = 64k\n",
	    "2: backlog_low: 64k must be below backlog_high (64k, FILE:1)" },
	{ "backlog_low = 1m\nbacklog_high = 512k\n",
	    "2: backlog_high: 512k must be above backlog_low (1m, FILE:1)" },
	{ "group = nogroup\n", "1: group: set without user" },
	{ "pidfile = /nonexistent/u.pid\n",
	    "1: pidfile: directory /nonexistent: No such file or directory" },
	{ "log_file = /etc/passwd/u.log\n",
	    "1: log_file: /etc/passwd is not a directory" },
	{ "listen = unix:/nonexistent/u.sock\n",
	    "1: listen: directory /nonexistent: No such file or directory" },
	{ "listen = 127.0.0.1:0 proxy\n",
	    "1: listen: unknown option 'proxy' (expected proxy_protocol, "
	    "metrics, probe, or for unix: mode=, owner=, group=)" },
	{ "listen = 127.0.0.1:0 metrics metrics\n",
	    "1: listen: option 'metrics' given twice" },
	{ "listen = 127.0.0.1:0\nlisten = 127.0.0.2:0 proxy_protocol metrics\n",
	    "2: listen: metrics cannot be combined with another option" },
	{ "header_timeout = 0\n",
	    "1: header_timeout: 0 is shorter than the minimum 1ms" },
	{ "access_log = access.log\n",
	    "1: access_log: 'access.log' is not an absolute path" },
	{ "allow = 10.0.0.0/33\n",
	    "1: allow: '10.0.0.0/33': the prefix must be 0 to 32 bits" },
	{ "deny = 2001:db8::/1x\n",
	    "1: deny: '2001:db8::/1x': the prefix must be 0 to 128 bits" },
	{ "deny = 10.0.0.1/8\n", "1: deny: '10.0.0.1/8' has bits set past its "
	    "/8" },
	{ "allow = localhost\n",
	    "1: allow: 'localhost' is not an address, ADDRESS/BITS or all" },
	{ "max_connections_per_ip = -1\n",
	    "1: max_connections_per_ip: '-1' is not a whole number" },
	{ "sandbox = maybe\n", "1: sandbox: 'maybe' is not yes or no (or "
	    "on/off, true/false)" },
};

Test(config, each_mistake_names_file_line_and_key)
{
	struct daemon d = { 0 };
	char out[4096], want[1024], path[256];

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "bad.conf"));
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]);
	    i++) {
		const char *args[] = { "-t", "-c", path, NULL };
		const char *error = bad_files[i].error, *mark;

		write_file(path, bad_files[i].text);
		/* "FILE" in the expected text stands for the path. */
		mark = strstr(error, "FILE");
		if (mark != NULL)
			snprintf(want, sizeof(want), "upcased: %s:%.*s%s%s\n",
			    path, (int)(mark - error), error, path,
			    mark + strlen("FILE"));
		else
			snprintf(want, sizeof(want), "upcased: %s:%s\n", path,
			    error);
		cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 1,
		    "case %zu accepted:\n%s", i, bad_files[i].text);
		cr_assert_str_eq(out, want, "case %zu", i);
	}
	daemon_kill(&d);
}

Test(config, missing_file_is_an_error)
{
	const char *args[] = { "-t", "-c", "/nonexistent/upcased.conf", NULL };
	char out[1024];

	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 1);
	cr_assert_str_eq(out, "upcased: /nonexistent/upcased.conf: No such "
	    "file or directory\n");
}

Test(config, bad_file_never_starts_a_daemon)
{
	struct daemon d = { 0 };
	char out[1024], path[256];

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "bad.conf"));
	write_file(path, "listen = 127.0.0.1:0\nmax_connections = -1\n");
	const char *args[] = { "-f", "-c", path, NULL };
	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 1, "%s", out);
	cr_assert_null(strstr(out, "listening on"), "started anyway:\n%s",
	    out);
	daemon_kill(&d);
}

/* -t binds nothing: the operator checks the edited file of a running
 * instance before reloading it. */
Test(config, check_mode_passes_against_a_running_instance)
{
	const char *shipped[] = { "-t", "-c", "conf/upcased.conf", NULL };
	struct daemon d = { 0 };
	char out[1024], arg[160];

	cr_assert_eq(run(upcased_path(), shipped, out, sizeof(out)), 0, "%s",
	    out);
	cr_assert_str_eq(out, "configuration ok\n");

	daemon_start(&d, NULL);
	snprintf(arg, sizeof(arg), "listen=%s", d.addr);
	const char *taken[] = { "-t", "-c", "/dev/null", "-o", arg, NULL };
	cr_assert_eq(run(upcased_path(), taken, out, sizeof(out)), 0, "%s",
	    out);
	cr_assert_str_eq(out, "configuration ok\n");
	expect_echo(daemon_connect(&d), "still mine");
	daemon_stop(&d);
}

/* What -T prints of the defaults is a file -t takes, and -T prints the
 * same again. */
Test(config, print_of_the_defaults_reads_back)
{
	const char *print[] = { "-T", "-c", "/dev/null", NULL };
	struct daemon d = { 0 };
	static char out[4096], again[4096];
	char path[256], check[256];

	daemon_init(&d);
	cr_assert_eq(run(upcased_path(), print, out, sizeof(out)), 0, "%s",
	    out);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "t.conf"));
	write_file(path, out);
	const char *test[] = { "-t", "-c", path, NULL };
	cr_assert_eq(run(upcased_path(), test, check, sizeof(check)), 0, "%s",
	    check);
	const char *reprint[] = { "-T", "-c", path, NULL };
	cr_assert_eq(run(upcased_path(), reprint, again, sizeof(again)), 0);
	cr_assert_str_eq(again, out);
	daemon_kill(&d);
}

/* What the start would warn of, -t says too: here, a max_connections the
 * descriptor limit cannot hold (the limit lowered for this test's
 * process, and so for the daemon it starts). */
Test(config, check_mode_warns_of_the_descriptor_limit)
{
	const char *args[] = { "-t", "-c", "/dev/null", NULL };
	struct rlimit rl = { 4096, 4096 };
	char out[1024];

	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 0, "%s",
	    out);
	cr_assert_str_eq(out, "upcased: warning: max_connections 10000 needs "
	    "10064 open files, the limit is 4096: 4032 connections at most, "
	    "the next clients wait\nconfiguration ok\n");
}

Test(config, check_mode_resolves_host_names)
{
	const char *args[] = { "-t", "-c", "/dev/null", "-o",
	    "listen=no-such-host.invalid:1060", NULL };
	char out[1024];

	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 2, "%s",
	    out);
	cr_assert_not_null(strstr(out, "upcased: -o "
	    "'listen=no-such-host.invalid:1060': listen: cannot resolve "
	    "'no-such-host.invalid'"), "%s", out);
}

/* A device or a blob in the file's place is refused after a bounded read,
 * never slurped whole. */
Test(config, oversized_line_or_file_is_refused)
{
	const char *zero[] = { "-t", "-c", "/dev/zero", NULL };
	struct daemon d = { 0 };
	char out[1024], want[512], path[256], *text;
	size_t len = 2 << 20;

	cr_assert_eq(run(upcased_path(), zero, out, sizeof(out)), 1, "%s",
	    out);
	cr_assert_str_eq(out, "upcased: /dev/zero:1: line longer than 4095 "
	    "bytes\n");

	/* 2 MiB of comment lines, ten bytes each: line 104858 is the one
	 * that goes past 1 MiB. */
	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "big.conf"));
	text = malloc(len + 1);
	cr_assert_not_null(text);
	for (size_t i = 0; i + 10 <= len; i += 10)
		memcpy(text + i, "# comment\n", 10);
	text[len - len % 10] = '\0';
	write_file(path, text);
	free(text);
	const char *big[] = { "-t", "-c", path, NULL };
	cr_assert_eq(run(upcased_path(), big, out, sizeof(out)), 1, "%s", out);
	snprintf(want, sizeof(want), "upcased: %s:104858: file larger than "
	    "1048576 bytes\n", path);
	cr_assert_str_eq(out, want);
	daemon_kill(&d);
}

Test(config, print_shows_file_overridden_by_options)
{
	struct daemon d = { 0 };
	char out[4096], path[256];

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "u.conf"));
	write_file(path, "listen = 127.0.0.1:7000\nlisten = [::1]:7000\n"
	    "idle_timeout = 90s\nbacklog_high = 1m\nlog_level = warn\n"
	    "header_timeout = 2.5\ndrain_timeout = 1m30s\ndaemonize = No\n"
	    "deny = 10.0.0.0/8\nallow = all\n");
	const char *args[] = { "-T", "-c", path, "-o", "idle_timeout=2m",
	    "-o", "listen=unix:/run/u.sock group=root  mode=660", "-o",
	    "listen=127.0.0.1:9106\tmetrics", "-o",
	    "listen=0.0.0.0:1061   proxy_protocol", "-o",
	    "allow=192.0.2.0/24", "-o", "deny=all", "-o", "sandbox=no", NULL };
	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out,
	    "listen = unix:/run/u.sock mode=0660 group=root\n"
	    "listen = 127.0.0.1:9106 metrics\n"
	    "listen = 0.0.0.0:1061 proxy_protocol\n"
	    "listen_backlog = 511\n"
	    "max_connections = 10000\n"
	    "max_connections_per_ip = 0\n"
	    "allow = 192.0.2.0/24\n"
	    "deny = all\n"
	    "backlog_high = 1m\n"
	    "backlog_low = 64k\n"
	    "backlog_total = 1g\n"
	    "header_timeout = 2s500ms\n"
	    "idle_timeout = 2m\n"
	    "drain_timeout = 1m30s\n"
	    "shutdown_timeout = 30s\n"
	    "workers = 1\n"
	    "daemonize = no\n"
	    "# pidfile is not set\n"
	    "# user is not set\n"
	    "# group is not set\n"
	    "log_level = warn\n"
	    "log_file = stderr\n"
	    "access_log = off\n"
	    "syslog_socket = /dev/log\n"
	    "sandbox = no\n");
	daemon_kill(&d);
}

/* sshd's StrictModes: a file or a directory above it that anyone but its
 * owner and root could write is refused, before a line is read. */
Test(config, file_others_could_change_is_refused)
{
	struct daemon d = { 0 };
	char out[1024], want[1024], path[256];
	const char *args[] = { "-t", "-c", path, NULL };
	static const struct {
		mode_t file, dir;
		uid_t owner;
		const char *why;	/* FILE and DIR stand for the paths */
	} cases[] = {
		{ 0644, 0700, 0, NULL },
		{ 0666, 0700, 0, "the file is writable by anyone (mode 0666)" },
		{ 0644, 0777, 0, "DIR is writable by anyone (mode 0777)" },
		{ 0644, 01777, 0, NULL },	/* sticky, as /tmp */
		{ 0644, 0700, 65534, "the file is owned by uid 65534, not "
		    "root" },
		{ 0600, 0700, 0, NULL },
	};

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "u.conf"));
	write_file(path, "listen = 127.0.0.1:0\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(chmod(path, cases[i].file), 0);
		cr_assert_eq(chmod(d.dir, cases[i].dir), 0);
		cr_assert_eq(chown(path, cases[i].owner, (gid_t)-1), 0,
		    "chown: %s (the test runs as root)", strerror(errno));
		int rc = run(upcased_path(), args, out, sizeof(out));

		if (cases[i].why == NULL) {
			cr_assert_eq(rc, 0, "case %zu: %s", i, out);
			cr_assert_str_eq(out, "configuration ok\n");
			continue;
		}
		snprintf(want, sizeof(want), "upcased: %s: refusing a "
		    "configuration others could change: %s%s\n", path,
		    strncmp(cases[i].why, "DIR", 3) == 0 ? d.dir : "",
		    cases[i].why + (strncmp(cases[i].why, "DIR", 3) == 0 ?
		    3 : 0));
		cr_assert_eq(rc, 1, "case %zu: %s", i, out);
		cr_assert_str_eq(out, want, "case %zu", i);
	}
	chmod(d.dir, 0700);
	daemon_kill(&d);
}

Test(config, printed_configuration_reads_back)
{
	struct daemon d = { 0 };
	char first[4096], second[4096], path[256];

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "printed.conf"));
	const char *print_shipped[] = { "-T", "-c", "conf/upcased.conf", NULL };
	cr_assert_eq(run(upcased_path(), print_shipped, first, sizeof(first)), 0);
	write_file(path, first);
	const char *print_again[] = { "-T", "-c", path, NULL };
	cr_assert_eq(run(upcased_path(), print_again, second, sizeof(second)), 0,
	    "%s", second);
	cr_assert_str_eq(first, second);
	daemon_kill(&d);
}

Test(config, comments_and_spacing)
{
	struct daemon d = { 0 };
	char out[4096], path[256];

	daemon_init(&d);
	snprintf(path, sizeof(path), "%s", daemon_file(&d, "u.conf"));
	write_file(path, "  # indented comment\n\tidle_timeout=5s   # trailing\n"
	    "log_file = /var/log/up#cased.log\n\n");
	const char *args[] = { "-T", "-c", path, NULL };
	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "idle_timeout = 5s\n"), "%s", out);
	cr_assert_not_null(strstr(out, "log_file = /var/log/up#cased.log\n"),
	    "a # inside a value is not a comment:\n%s", out);
	daemon_kill(&d);
}
