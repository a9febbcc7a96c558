/*
 * control.c — upcased -s: a running daemon found through its pidfile, and
 * told by a signal what nginx -s tells nginx. The pid counts only while
 * the daemon holds the file's lock: a pid left by a crash may be anyone's
 * by now.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const struct {
	const char *name;
	int signo;
	const char *signame;
} actions[] = {
	{ "stop", SIGTERM, "SIGTERM" },
	{ "reload", SIGHUP, "SIGHUP" },
	{ "reopen", SIGUSR1, "SIGUSR1" },
	{ "upgrade", SIGUSR2, "SIGUSR2" },
};

int
control_action(const char *name)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(name, actions[i].name) == 0)
			return (int)i;
	return -1;
}

/* The pid in the pidfile at path, which its daemon must hold locked. */
static pid_t
held_pid(const char *path, char *err, size_t errlen)
{
	char text[32] = "", *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	long pid;
	bool whole;

	if (fd == -1) {
		snprintf(err, errlen, "pidfile %s: %s: is upcased running?",
		    path, strerror(errno));
		return -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	pid = strtol(text, &end, 10);
	whole = end != text && *end == '\n' && pid > 1 && pid <= INT_MAX;
	text[strcspn(text, "\n")] = '\0';
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		snprintf(err, errlen, "pidfile %s is not held: upcased is not "
		    "running (the file names %s)", path, text[0] != '\0' ?
		    text : "no pid");
		close(fd);
		return -1;
	}
	close(fd);
	if (!whole) {
		snprintf(err, errlen, "pidfile %s holds no pid ('%s'): the "
		    "daemon may still be starting", path, text);
		return -1;
	}
	return (pid_t)pid;
}

int
control_send(const char *pidfile, int action, char *err, size_t errlen)
{
	pid_t pid;

	if (pidfile[0] == '\0') {
		snprintf(err, errlen, "-s %s: no pidfile is set, so no daemon "
		    "can be found (set pidfile, with -c or -o)",
		    actions[action].name);
		return -1;
	}
	if ((pid = held_pid(pidfile, err, errlen)) == -1)
		return -1;
	if (kill(pid, actions[action].signo) == -1) {
		snprintf(err, errlen, "-s %s: %s to pid %d: %s",
		    actions[action].name, actions[action].signame, (int)pid,
		    strerror(errno));
		return -1;
	}
	return 0;
}
