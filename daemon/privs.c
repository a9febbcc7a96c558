/*
 * privs.c — setgroups, setgid, setuid, in that order (a group change needs
 * the privilege the user change gives up), each for the real, effective and
 * saved ids, then proof that it stuck.
 */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
privs_drop(const char *user, const char *group, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;
	uid_t uid;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "user %s: %s", user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (group[0] != '\0') {
		errno = 0;
		gr = getgrnam(group);
		if (gr == NULL) {
			snprintf(err, errlen, "group %s: %s", group,
			    errno ? strerror(errno) : "no such group");
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (getuid() != 0 && getuid() == uid && geteuid() == uid &&
	    getgid() == gid && getegid() == gid)
		return 0;	/* already that user, without privileges */
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "cannot switch to user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(err, errlen, "switched to user %s, but root can be "
		    "regained", user);
		return -1;
	}
	return 0;
}
