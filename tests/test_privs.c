/*
 * test_privs.c — user/group: the daemon binds as root, then runs as the
 * user with that one group, for real (the kernel's view, from /proc).
 * Without root the switch is impossible and says so.
 */
#include <criterion/criterion.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/*
 * With user set, the pidfile is removed at exit only if the user may
 * write its directory: in a directory of its own it goes; in one only
 * root may write, the start says in advance that it will be left empty,
 * and the exit says that it was.
 */
Test(privs, a_pidfile_the_user_cannot_remove_is_said)
{
	struct passwd *pw = getpwnam("nobody");
	struct daemon d = { 0 };
	char dir[128], pid[160], arg[192], text[32], want[512];
	struct stat st;
	const char *log;

	cr_assert_not_null(pw, "no user 'nobody' on this machine");
	cr_assert_eq(geteuid(), 0, "the test runs as root");
	for (int own = 1; own >= 0; own--) {
		daemon_init(&d);
		cr_assert_eq(chmod(d.dir, 0711), 0);
		snprintf(dir, sizeof(dir), "%s", daemon_file(&d, "run"));
		cr_assert_eq(mkdir(dir, 0755), 0);
		if (own)
			cr_assert_eq(chown(dir, pw->pw_uid, (gid_t)-1), 0);
		snprintf(pid, sizeof(pid), "%s/upcased.pid", dir);
		snprintf(arg, sizeof(arg), "pidfile=%s", pid);
		daemon_start(&d, "-o", "user=nobody", "-o", arg, NULL);
		snprintf(text, sizeof(text), "%d\n", (int)d.pid);
		cr_assert_str_eq(read_text(pid), text);
		snprintf(want, sizeof(want), "warn: pidfile %s: user nobody "
		    "cannot remove it from %s at exit, and will leave it empty; "
		    "put it in a directory nobody may write to", pid, dir);
		cr_assert((strstr(daemon_log(&d), want) != NULL) == !own,
		    "%s", daemon_log(&d));
		expect_exit(daemon_signal_wait(&d, SIGTERM, DEADLINE_MS), 0,
		    daemon_log(&d));
		d.pid = -1;
		log = daemon_log(&d);
		snprintf(want, sizeof(want), "warn: pidfile %s: cannot remove "
		    "it (Permission denied): left empty", pid);
		cr_assert((strstr(log, want) != NULL) == !own, "%s", log);
		if (own) {
			cr_assert_eq(stat(pid, &st), -1, "%s was left", pid);
		} else {
			cr_assert_eq(stat(pid, &st), 0, "%s was removed", pid);
			cr_assert_eq(st.st_size, 0, "%s is not empty", pid);
			cr_assert_eq(unlink(pid), 0);
		}
		cr_assert_eq(rmdir(dir), 0);
		daemon_kill(&d);
	}
}
