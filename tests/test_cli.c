/*
 * test_cli.c — upcased's command line: help, version, and every bad input
 * as one line naming what was wrong, with its exit status, and nothing left
 * running.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

TestSuite(cli, .timeout = 60);

static int
lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

Test(cli, help_and_version)
{
	const char *help[] = { "--help", NULL }, *version[] = { "-V", NULL };
	char out[8192];

	cr_assert_eq(run(upcased_path(), help, out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "usage: upcased"), "%s", out);
	cr_assert_not_null(strstr(out, "-o KEY=VALUE"), "%s", out);
	cr_assert_eq(run(upcased_path(), version, out, sizeof(out)), 0);
	cr_assert_eq(strncmp(out, "upcased " VERSION, 8 + strlen(VERSION)),
	    0, "%s", out);
}

/* -V names the commit when built from git; NEWS's first entry is this
 * version, so that the record of changes cannot fall behind it. */
Test(cli, version_names_the_commit_and_news_keeps_up)
{
	const char *version[] = { "-V", NULL };
	char out[256], commit[64] = "", line[256] = "", want[128];
	FILE *f = popen("git rev-parse --short=12 HEAD 2>/dev/null", "r");

	cr_assert_not_null(f);
	if (fgets(commit, sizeof(commit), f) != NULL)
		commit[strcspn(commit, "\n")] = '\0';
	pclose(f);
	cr_assert_eq(run(upcased_path(), version, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "upcased " VERSION "%s%s", *commit ?
	    " (git " : "\n", commit);
	cr_assert_eq(strncmp(out, want, strlen(want)), 0, "%s, not %s", out,
	    want);
	f = fopen("NEWS", "r");
	cr_assert_not_null(f, "NEWS is missing");
	while (fgets(line, sizeof(line), f) != NULL &&
	    !(strncmp(line, "upcased ", 8) == 0 && line[8] >= '0' &&
	    line[8] <= '9'))
		;
	fclose(f);
	cr_assert_eq(strncmp(line, "upcased " VERSION " ", 9 + strlen(VERSION)),
	    0, "NEWS's first entry is '%s', not this version", line);
}

Test(cli, unknown_option_is_a_usage_error)
{
	const char *unknown[] = { "-x", NULL }, *stray[] = { "-f", "stray",
	    NULL };
	char out[4096];

	cr_assert_eq(run(upcased_path(), unknown, out, sizeof(out)), 2);
	cr_assert_not_null(strstr(out, "invalid option -- 'x'"), "%s", out);
	cr_assert_eq(run(upcased_path(), stray, out, sizeof(out)), 2);
	cr_assert_not_null(strstr(out, "unexpected argument 'stray'"), "%s",
	    out);
}

Test(cli, bad_listen_value_names_it)
{
	const struct {
		const char *arg;
		const char *message;
	} cases[] = {
		{ "listen=nonsense", "upcased: -o 'listen=nonsense': listen: "
		    "invalid address 'nonsense': expected HOST:PORT, "
		    "[IPV6]:PORT or unix:PATH\n" },
		{ "listen=127.0.0.1:99999", "upcased: -o "
		    "'listen=127.0.0.1:99999': listen: invalid port '99999' in "
		    "'127.0.0.1:99999': expected 0..65535\n" },
		{ "listen", "upcased: -o 'listen': expected KEY=VALUE\n" },
		{ "listen=127.0.0.1:5 mode=0660", "upcased: -o "
		    "'listen=127.0.0.1:5 mode=0660': listen: 'mode=0660': mode, "
		    "owner and group are for unix: listeners\n" },
		{ "listen=unix:/tmp/u mode=0860", "upcased: -o "
		    "'listen=unix:/tmp/u mode=0860': listen: mode=0860: not an "
		    "octal mode from 1 to 0777\n" },
		{ "listen=unix:/tmp/u owner=no-such-user", "upcased: -o "
		    "'listen=unix:/tmp/u owner=no-such-user': listen: "
		    "owner=no-such-user: no such user\n" },
		{ "listen=unix:/tmp/u group=root group=root", "upcased: -o "
		    "'listen=unix:/tmp/u group=root group=root': listen: option "
		    "'group' given twice\n" },
		{ "colour=blue", "upcased: -o 'colour=blue': colour: unknown "
		    "key\n" },
		{ "c\x1b]0;x\x07=1", "upcased: -o 'c\\x1b]0;x\\x07=1': "
		    "c\\x1b]0;x\\x07: unknown key\n" },
		{ "\x1b[2J", "upcased: -o '\\x1b[2J': expected KEY=VALUE\n" },
	};
	char out[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[] = { "-f", "-c", "/dev/null", "-o",
		    cases[i].arg, NULL };

		cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 2,
		    "%s: %s", cases[i].arg, out);
		cr_assert_str_eq(out, cases[i].message);
	}
}

Test(cli, address_in_use_is_a_runtime_failure)
{
	struct daemon d = { 0 };
	char out[4096], arg[160], want[256];

	daemon_start(&d, NULL);
	snprintf(arg, sizeof(arg), "listen=%s", d.addr);
	const char *args[] = { "-f", "-c", "/dev/null", "-o", arg, NULL };
	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 1, "%s",
	    out);
	snprintf(want, sizeof(want), "listen %s: Address already in use",
	    d.addr);
	cr_assert_not_null(strstr(out, want), "%s", out);
	cr_assert_eq(lines(out), 1, "more than one line:\n%s", out);
	daemon_stop(&d);
}
