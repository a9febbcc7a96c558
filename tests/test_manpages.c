/*
 * test_manpages.c — the manual pages: clean under mandoc -T lint, and true
 * to the binaries: every configuration key upcased -T prints is in
 * upcased.conf(5), every option the usage texts name is in the pages.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(manpages, .timeout = 60);

static const char *
read_page(const char *path)
{
	const char *text = read_text(path);

	cr_assert_neq(text[0], '\0', "%s is missing or empty", path);
	return text;
}

/*
 * Every message of mandoc -T lint is a failure, but one: the pages refer
 * to each other, and mandoc looks references up in the system's manual
 * directories, where they are only once installed.
 */
Test(manpages, clean_under_mandoc_lint)
{
	static char out[16384];
	const char *args[] = { "-T", "lint", "man/upcase.1",
	    "man/upcased.conf.5", "man/upcased.8", NULL };
	char *line, *save;

	cr_assert_eq(access("/usr/bin/mandoc", X_OK), 0, "mandoc is missing: "
	    "make test installs it");
	run("/usr/bin/mandoc", args, out, sizeof(out));
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "STYLE: referenced manual not found: Xr "
		    "upcase") != NULL)
			continue;	/* ours, once installed */
		if (strstr(line, "outdated mandoc.db") != NULL)
			continue;	/* the system's index, not our pages */
		cr_assert_fail("mandoc -T lint: %s", line);
	}
}

Test(manpages, every_key_is_in_upcased_conf_5)
{
	const char *page = read_page("man/upcased.conf.5");
	const char *args[] = { "-T", "-c", "/dev/null", NULL };
	static char out[8192];
	char *line, *save, key[64], want[96];

	cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 0, "%s",
	    out);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s = ", key) != 1 || key[0] == '#')
			cr_assert_eq(sscanf(line, "# %63s is not set", key), 1,
			    "%s", line);
		snprintf(want, sizeof(want), ".It Cm %s No = ", key);
		cr_assert_not_null(strstr(page, want), "upcased.conf(5) lacks "
		    "%s", key);
	}
}

/* Every "--word" and "-x" a usage text names is a Fl in page. */
static void
expect_options(const char *usage, const char *page, const char *name)
{
	char want[64];

	for (const char *p = usage; (p = strstr(p, " -")) != NULL; p++) {
		size_t n = strspn(p + 1, "-abcdefghijklmnopqrstuvwxyzTV");

		if (n < 2 || (p[2] != '-' && n != 2))
			continue;	/* a lone dash, or "-n BYTES" text */
		snprintf(want, sizeof(want), "Fl %.*s", (int)n - 1, p + 2);
		cr_assert_not_null(strstr(page, want), "%s lacks %.*s", name,
		    (int)n, p + 1);
	}
}

Test(manpages, every_option_is_in_the_pages)
{
	const char *help[] = { "--help", NULL };
	static char out[8192], page[1 << 17];

	cr_assert_eq(run(upcased_path(), help, out, sizeof(out)), 0);
	snprintf(page, sizeof(page), "%s", read_page("man/upcased.8"));
	expect_options(out, page, "upcased(8)");
	cr_assert_eq(run(upcase_path(), help, out, sizeof(out)), 0);
	snprintf(page, sizeof(page), "%s", read_page("man/upcase.1"));
	expect_options(out, page, "upcase(1)");
}
