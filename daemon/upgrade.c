/*
 * upgrade.c — both sides of a binary upgrade (upgrade.h). The pipe carries
 * one message from the new binary to the old: "R" once it serves, or the
 * line that says why it could not start. An EOF with neither means it died
 * on the way, and its exit status says how.
 */
#include "upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "notify.h"
#include "pidfile.h"

#define UPGRADE_READY_MS	60000	/* not ready by then: give up */
#define UPGRADE_FDS_MAX		(CONFIG_LISTEN_MAX + 2)

enum state { IDLE, STARTING, READY };

static const char *exe_path;
static char *const *exe_argv;
static enum state state;
static pid_t child;
static int pipe_fd = -1;		/* the old side's read end */
static int child_fd = -1;		/* the new side's write end */
static struct loop *loop;
static struct loop_timer ready_timer;
static void (*on_done)(void);

void
upgrade_init(const char *exe, char *const argv[])
{
	exe_path = exe;
	exe_argv = argv;
}

static void
upgrade_close_pipe(void)
{
	if (pipe_fd == -1)
		return;
	loop_del(loop, pipe_fd);
	close(pipe_fd);
	pipe_fd = -1;
	loop_timer_cancel(loop, &ready_timer);
}

static void
upgrade_fail(const char *why)
{
	log_warnx("upgrade failed: %s; the running binary stays", why);
	upgrade_close_pipe();
	/* Whatever is left of it exits on its own, reaped as any child. */
	state = IDLE;
	child = 0;
}

static void
upgrade_on_pipe(struct loop *lp, int fd, uint32_t events, void *data)
{
	char msg[512];
	ssize_t n;

	(void)lp;
	(void)events;
	(void)data;
	n = read(fd, msg, sizeof(msg) - 1);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {		/* died on the way: upgrade_reaped says how */
		upgrade_close_pipe();
		return;
	}
	msg[n] = '\0';
	if (strcmp(msg, "R") != 0) {
		msg[strcspn(msg, "\n")] = '\0';
		upgrade_fail(msg);
		return;
	}
	upgrade_close_pipe();
	state = READY;
	log_info("upgrade: the new binary (pid %ld) serves; handing over",
	    (long)child);
	notify_mainpid(child);
	pidfile_forget();
	on_done();
}

static void
upgrade_on_timeout(struct loop *lp, struct loop_timer *timer)
{
	(void)lp;
	(void)timer;
	kill(child, SIGKILL);
	upgrade_fail("the new binary was not ready within 60 s");
}

/* In the child: the sockets from fd 3 on, then the pipe, then the
 * pidfile; named in the environment; exec. Never returns. */
static void __attribute__((noreturn))
upgrade_exec(struct listener *listeners, int ready_fd)
{
	int fds[UPGRADE_FDS_MAX], n = 0, nsockets, high;
	/* Names are colon-separated, and addresses hold colons: each is
	 * "upgrade", or "held" for one a service manager holds (it stays
	 * held: never blocked at a stop), for messages and that; the new
	 * binary matches by address. */
	char names[CONFIG_LISTEN_MAX * sizeof("upgrade:")] = "", text[64];
	size_t len = 0;

	for (struct listener *l = listeners; l != NULL; l = l->next) {
		fds[n++] = l->fd;
		len += (size_t)snprintf(names + len, sizeof(names) - len,
		    "%s%s", len > 0 ? ":" : "", l->shared ? "held" :
		    "upgrade");
	}
	nsockets = n;
	fds[n++] = ready_fd;
	if (pidfile_fd() != -1)
		fds[n++] = pidfile_fd();
	/* Out of the way first: a target number may be one of them. */
	for (int i = 0; i < n; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + n)) == -1)
			goto fail;
	for (int i = 0; i < n; i++)
		if (dup2(fds[i], 3 + i) == -1)
			goto fail;
	high = 3 + nsockets;
	snprintf(text, sizeof(text), "%d", nsockets);
	setenv("LISTEN_FDS", text, 1);
	snprintf(text, sizeof(text), "%ld", (long)getpid());
	setenv("LISTEN_PID", text, 1);
	setenv("LISTEN_FDNAMES", names, 1);
	snprintf(text, sizeof(text), "%d %d", high,
	    pidfile_fd() != -1 ? high + 1 : -1);
	setenv("UPCASED_UPGRADE", text, 1);
	execv(exe_path, exe_argv);
fail:
	dprintf(ready_fd, "cannot run %s: %s\n", exe_path, strerror(errno));
	_exit(127);
}

void
upgrade_start(struct loop *lp, struct listener *listeners,
    void (*done)(void))
{
	int p[2];

	log_info("SIGUSR2: upgrading to %s", exe_path);
	if (state == STARTING || state == READY) {
		log_warnx("upgrade refused: an upgrade is already in progress "
		    "(pid %ld)", (long)child);
		return;
	}
	if (access(exe_path, X_OK) == -1) {
		char why[512];

		snprintf(why, sizeof(why), "%s: %s", exe_path,
		    strerror(errno));
		upgrade_fail(why);
		return;
	}
	loop = lp;
	on_done = done;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		upgrade_fail(strerror(errno));
		return;
	}
	child = fork();
	if (child == 0) {
		close(p[0]);
		upgrade_exec(listeners, p[1]);
	}
	close(p[1]);
	pipe_fd = p[0];
	if (child == -1 || loop_add(loop, pipe_fd, EPOLLIN, upgrade_on_pipe,
	    NULL) == -1) {
		int err = errno;

		if (child > 0)
			kill(child, SIGKILL);
		close(pipe_fd);
		pipe_fd = -1;
		upgrade_fail(strerror(err));
		return;
	}
	state = STARTING;
	ready_timer.fn = upgrade_on_timeout;
	loop_timer_set(loop, &ready_timer, UPGRADE_READY_MS);
}

bool
upgrade_reaped(pid_t pid, int status)
{
	char why[256];

	if (state == IDLE || pid != child)
		return false;
	if (state == STARTING) {
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "the new binary (pid %ld) "
			    "was killed by signal %d (%s) before it was "
			    "ready%s",
			    (long)pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)),
			    WTERMSIG(status) == SIGSYS ? " (a system call off "
			    "the sandbox's list, which it inherits)" : "");
		else
			snprintf(why, sizeof(why), "the new binary (pid %ld) "
			    "exited with status %d before it was ready",
			    (long)pid, WEXITSTATUS(status));
		upgrade_fail(why);
	} else if (state == READY) {
		log_warnx("the new binary (pid %ld) exited with status %d",
		    (long)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	state = IDLE;
	child = 0;
	return true;
}

void
upgrade_abandon(void)
{
	upgrade_close_pipe();
}

void
upgrade_forget(void)
{
	if (pipe_fd != -1)
		close(pipe_fd);
	pipe_fd = -1;
}

bool
upgrade_child_start(int *pidfile_fd)
{
	const char *v = getenv("UPCASED_UPGRADE");
	int ready = -1, pid_fd = -1;

	*pidfile_fd = -1;
	if (v == NULL || sscanf(v, "%d %d", &ready, &pid_fd) != 2 ||
	    ready < 3) {
		unsetenv("UPCASED_UPGRADE");
		return false;
	}
	unsetenv("UPCASED_UPGRADE");
	fcntl(ready, F_SETFD, FD_CLOEXEC);
	child_fd = ready;
	*pidfile_fd = pid_fd;
	return true;
}

void
upgrade_child_report(bool ready, const char *why)
{
	if (child_fd == -1)
		return;
	if (ready)
		(void)!write(child_fd, "R", 1);
	else
		dprintf(child_fd, "%s\n", why);
	close(child_fd);
	child_fd = -1;
}

void
upgrade_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		upgrade_reaped(pid, status);
}
