/*
 * test_privs.c — user/group: the daemon binds as root, then runs as the
 * user with that one group, for real (the kernel's view, from /proc).
 * Without root the switch is impossible and says so.
 */
#include <criterion/criterion.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(privs, .timeout = 60);

/* The value of a "Key:\t..." line of /proc/PID/status. */
static const char *
proc_status(pid_t pid, const char *key)
{
	static char value[256];
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	cr_assert_not_null(f);
	value[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0 &&
		    line[strlen(key)] == ':') {
			snprintf(value, sizeof(value), "%s",
			    line + strlen(key) + 2);
			value[strcspn(value, "\n")] = '\0';
			/* Groups: ends with a space */
			for (size_t n = strlen(value); n > 0 &&
			    value[n - 1] == ' '; n--)
				value[n - 1] = '\0';
			break;
		}
	fclose(f);
	return value;
}

Test(privs, runs_as_the_configured_user)
{
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = getgrnam("nogroup");
	struct daemon d = { 0 };
	char want[128];

	cr_assert_not_null(pw, "no user 'nobody' on this machine");
	cr_assert_not_null(gr, "no group 'nogroup' on this machine");
	if (geteuid() != 0) {
		const char *args[] = { "-f", "-c", "/dev/null", "-o",
		    "listen=127.0.0.1:0", "-o", "user=nobody", NULL };
		char out[1024];

		cr_assert_eq(run(upcased_path(), args, out, sizeof(out)), 1,
		    "%s", out);
		cr_assert_str_eq(out, "upcased: cannot switch to user nobody: "
		    "Operation not permitted\n");
		return;
	}
	daemon_start(&d, "-o", "user=nobody", "-o", "group=nogroup", NULL);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", pw->pw_uid, pw->pw_uid,
	    pw->pw_uid, pw->pw_uid);
	cr_assert_str_eq(proc_status(d.pid, "Uid"), want);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", gr->gr_gid, gr->gr_gid,
	    gr->gr_gid, gr->gr_gid);
	cr_assert_str_eq(proc_status(d.pid, "Gid"), want);
	snprintf(want, sizeof(want), "%u", gr->gr_gid);
	cr_assert_str_eq(proc_status(d.pid, "Groups"), want);
	cr_assert_eq(daemon_count_log(&d, "running as root"), 0);

	expect_echo(daemon_connect(&d), "dropped");
	daemon_stop(&d);
}

Test(privs, root_without_user_is_warned_about)
{
	struct daemon d = { 0 };

	daemon_start(&d, NULL);
	cr_assert_eq(daemon_count_log(&d, "running as root: set user"),
	    geteuid() == 0 ? 1 : 0, "%s", daemon_log(&d));
	daemon_stop(&d);
}
