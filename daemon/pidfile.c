/*
 * pidfile.c — open without truncating, take the lock, and only then
 * truncate and write: a reader never sees the file of a running daemon
 * empty or half-written by a second instance that failed to start.
 */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "log.h"

static int pid_fd = -1;
static char pid_path[4096];

int
pidfile_lock(const char *path, char *err, size_t errlen)
{
	char text[32] = "";
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		n = pread(fd, text, sizeof(text) - 1, 0);
		close(fd);
		if (saved != EWOULDBLOCK) {
			snprintf(err, errlen, "pidfile %s: %s", path,
			    strerror(saved));
			return -1;
		}
		text[n > 0 ? n : 0] = '\0';
		text[strcspn(text, "\n")] = '\0';
		snprintf(err, errlen, "pidfile %s is held by pid %s: upcased "
		    "is already running", path, text[0] ? text : "(unknown)");
		return -1;
	}
	/* Ours now: a crash's pid must not be read as ours (upcased -s
	 * takes an empty file for a daemon still starting). */
	if (ftruncate(fd, 0) == -1) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pid_fd = fd;
	snprintf(pid_path, sizeof(pid_path), "%s", path);
	return 0;
}

int
pidfile_write(pid_t pid, char *err, size_t errlen)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "%ld\n", (long)pid);

	if (pid_fd == -1)
		return 0;
	if (ftruncate(pid_fd, 0) == -1 ||
	    pwrite(pid_fd, text, (size_t)len, 0) != len) {
		snprintf(err, errlen, "pidfile %s: %s", pid_path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
pidfile_check_removable(const char *user)
{
	char dir[sizeof(pid_path)];

	if (pid_fd == -1)
		return;
	snprintf(dir, sizeof(dir), "%s", pid_path);
	*strrchr(dir, '/') = '\0';	/* the path is absolute */
	if (access(dir[0] != '\0' ? dir : "/", W_OK | X_OK) == 0)
		return;
	log_warnx("pidfile %s: user %s cannot remove it from %s at exit, and "
	    "will leave it empty; put it in a directory %s may write to "
	    "(RuntimeDirectory= under systemd)", pid_path, user,
	    dir[0] != '\0' ? dir : "/", user);
}

void
pidfile_remove(void)
{
	if (pid_fd == -1)
		return;
	/* After a privilege drop the directory may not let us unlink: an
	 * empty, unlocked file then reads as stale to the next start. */
	if (unlink(pid_path) == -1 && errno != ENOENT) {
		log_warnx("pidfile %s: cannot remove it (%s): left empty",
		    pid_path, strerror(errno));
		/* (void) does not silence warn_unused_result under
		 * _FORTIFY_SOURCE; a failure leaves a stale pid, which the
		 * next start takes over as it would a crash's. */
		if (ftruncate(pid_fd, 0) == -1)
			log_debug("pidfile %s: truncate: %s", pid_path,
			    strerror(errno));
	}
	close(pid_fd);
	pid_fd = -1;
}

int
pidfile_fd(void)
{
	return pid_fd;
}

void
pidfile_adopt(int fd, const char *path)
{
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	pid_fd = fd;
	snprintf(pid_path, sizeof(pid_path), "%s", path);
}

void
pidfile_forget(void)
{
	if (pid_fd != -1)
		close(pid_fd);
	pid_fd = -1;
}
