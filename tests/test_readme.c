/*
 * test_readme.c — the README's examples, run as they are written: the
 * background session (after "<!-- session -->"), in a network namespace
 * of its own, so that its 127.0.0.1:1060 is its own, with its /tmp files
 * in the test's directory and the binaries under test first on PATH.
 */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(readme, .timeout = 120);

/* The sh block that follows marker in README.md. */
static const char *
readme_block(const char *marker)
{
	static char block[8192];
	const char *text = read_text("README.md"), *start, *end;

	start = strstr(text, marker);
	cr_assert_not_null(start, "README.md has no %s", marker);
	start = strstr(start, "```sh\n");
	cr_assert_not_null(start, "no sh block after %s", marker);
	start += strlen("```sh\n");
	end = strstr(start, "```\n");
	cr_assert_not_null(end);
	cr_assert_lt((size_t)(end - start), sizeof(block));
	snprintf(block, sizeof(block), "%.*s", (int)(end - start), start);
	return block;
}

Test(readme, the_session_runs_as_written)
{
	char script[16384], bin[PATH_MAX], client[PATH_MAX], out[16384];
	char block[8192], dir[128];
	const char *log, *p;
	struct daemon d = { 0 };
	size_t n = 0;

	snprintf(bin, sizeof(bin), "%s", upcased_path());
	snprintf(client, sizeof(client), "%s", upcase_path());
	cr_assert_str_eq(dirname(bin), dirname(client));
	/* The block's files in a directory of the test's own: "/tmp/" in
	 * it becomes that directory (a tmpfs over /tmp would hide the
	 * binaries when they are built under /tmp). */
	daemon_init(&d);
	snprintf(dir, sizeof(dir), "%s/", d.dir);
	for (p = readme_block("<!-- session -->"); *p != '\0' &&
	    n + strlen(dir) < sizeof(block); )
		if (strncmp(p, "/tmp/", 5) == 0) {
			n += (size_t)snprintf(block + n, sizeof(block) - n,
			    "%s", dir);
			p += 5;
		} else {
			block[n++] = *p++;
		}
	block[n] = '\0';
	/* Its own loopback; the block's stderr apart from its stdout;
	 * then, once the daemon has let go of its pidfile's lock (at its
	 * exit), its log. */
	snprintf(script, sizeof(script),
	    "set -e\n"
	    "ip link set lo up\n"
	    "export PATH=%s:$PATH\n"
	    "(\n%s) 2>%sstderr\n"
	    "timeout 60 flock %supcased.pid true\n"
	    "echo --; cat %sstderr; echo --; cat %supcased.log\n",
	    bin, block, dir, dir, dir, dir);
	const char *args[] = { "-n", "sh", "-c", script, NULL };
	cr_assert_eq(run("/usr/bin/unshare", args, out, sizeof(out)), 0,
	    "%s", out);
	cr_assert_eq(strncmp(out, "configuration ok\nHELLO, WORLD\n--\n--\n",
	    strlen("configuration ok\nHELLO, WORLD\n--\n--\n")), 0,
	    "stdout, then stderr:\n%s", out);
	log = out + strlen("configuration ok\nHELLO, WORLD\n--\n--\n");
	cr_assert_not_null(strstr(log, "info: listening on 127.0.0.1:1060\n"),
	    "%s", log);
	cr_assert_not_null(strstr(log, "SIGHUP: reloading"), "%s", log);
	cr_assert_not_null(strstr(log, "logs reopened"), "%s", log);
	cr_assert_not_null(strstr(log, "info: exiting: connections served 1 "),
	    "%s", log);
	daemon_kill(&d);
}

/* The probe example: the daemon line as given, and the probe line with
 * the listener itself for PROXY_HOST:PORT (a path that keeps half-close):
 * every check passes within the listener's limits the line sets. */
Test(readme, the_probe_example_passes_against_its_daemon)
{
	char script[16384], bin[PATH_MAX], out[16384], lines[2][1024];
	const char *block = readme_block("<!-- probe -->"), *p;
	size_t n;

	snprintf(bin, sizeof(bin), "%s", upcased_path());
	for (int i = 0; i < 2; i++, block += n + 1) {
		n = strcspn(block, "\n");
		cr_assert_lt(n, sizeof(lines[i]));
		snprintf(lines[i], sizeof(lines[i]), "%.*s", (int)n, block);
	}
	p = strstr(lines[1], "PROXY_HOST:PORT");
	cr_assert_not_null(p, "%s", lines[1]);
	/* The daemon's stderr through a fifo: the probe starts once it
	 * listens, and the daemon is stopped when the probe is done. */
	snprintf(script, sizeof(script),
	    "set -e\n"
	    "ip link set lo up\n"
	    "export PATH=%s:$PATH\n"
	    "d=$(mktemp -d); mkfifo $d/log\n"
	    "(\nexec %s\n) 2>$d/log &\n"
	    "exec 3<$d/log\n"
	    "grep -q -m1 'listening on 127.0.0.1:1062' <&3\n"
	    "%.*s127.0.0.1:1062%s\n"
	    "kill $!; wait $! || true; rm -r $d\n",
	    dirname(bin), lines[0], (int)(p - lines[1]), lines[1],
	    p + strlen("PROXY_HOST:PORT"));
	const char *args[] = { "-n", "sh", "-c", script, NULL };
	cr_assert_eq(run("/usr/bin/unshare", args, out, sizeof(out)), 0,
	    "%s", out);
	cr_assert_eq(count_in(out, " pass "), 19, "%s", out);
	cr_assert_eq(count_in(out, " info "), 2, "%s", out);
	cr_assert_not_null(strstr(out, ": 19 pass, 2 info, 5 unsupported; "
	    "result pass\n"), "%s", out);
}

/* The README's relay table is make matrix's, as docs/matrix.md has it:
 * not copied by hand, not left behind by a later run. */
Test(readme, the_relay_table_is_the_matrix_as_generated)
{
	static char readme[1 << 17];
	const char *generated, *a, *b, *table;

	snprintf(readme, sizeof(readme), "%s", read_text("README.md"));
	a = strstr(readme, "<!-- matrix -->\n");
	b = strstr(readme, "<!-- /matrix -->");
	cr_assert(a != NULL && b != NULL && a < b, "no matrix markers");
	a += strlen("<!-- matrix -->\n");
	cr_assert_gt(b - a, 0, "the README's matrix is empty: run make matrix");
	generated = read_text("docs/matrix.md");
	cr_assert(generated[0] != '\0', "no docs/matrix.md: run make matrix");
	table = strstr(generated, "\n| relay |");
	cr_assert_not_null(table, "%s", generated);
	cr_assert_eq(strncmp(table + 1, a, (size_t)(b - a)), 0,
	    "README.md's table differs from docs/matrix.md's:\n%.*s",
	    (int)(b - a), a);
	/* After the table, only the fixes for what it shows. */
	static const char fixes[] = "\n## What fixes it\n";

	cr_assert_eq(strncmp(table + 1 + (b - a), fixes, sizeof(fixes) - 1),
	    0, "docs/matrix.md goes on past the README's table with:\n%s",
	    table + 1 + (b - a));
}
