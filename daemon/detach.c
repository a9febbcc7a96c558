/*
 * detach.c — the readiness pipe. The starting process keeps its read end;
 * the daemon holds the write end until it is ready and writes one byte. If
 * the daemon dies first, the pipe closes empty and the starter exits 1,
 * after the daemon has printed its error on the stderr they still share.
 */
#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ready_fd = -1;	/* write end, in the daemon until ready */

static void
detach_wait(int fd)
{
	char byte;
	ssize_t n;

	do
		n = read(fd, &byte, 1);
	while (n == -1 && errno == EINTR);
	_exit(n == 1 ? 0 : 1);
}

int
detach_start(char *err, size_t errlen)
{
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid > 0) {
		close(pipefd[1]);
		detach_wait(pipefd[0]);
	}
	close(pipefd[0]);
	/* A new session: no controlling terminal, no signals from it. */
	if (setsid() == -1) {
		fprintf(stderr, "upcased: setsid: %s\n", strerror(errno));
		_exit(1);
	}
	/* Not a session leader, so it can never acquire a terminal again. */
	pid = fork();
	if (pid == -1) {
		fprintf(stderr, "upcased: fork: %s\n", strerror(errno));
		_exit(1);
	}
	if (pid > 0)
		_exit(0);	/* the starter waits on the pipe, not on us */
	if (chdir("/") == -1) {
		fprintf(stderr, "upcased: chdir /: %s\n", strerror(errno));
		_exit(1);
	}
	ready_fd = pipefd[1];
	return 0;
}

void
detach_ready(void)
{
	int null;

	if (ready_fd == -1)
		return;
	null = open("/dev/null", O_RDWR);
	if (null != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	/* If the starter is gone there is nobody to tell. */
	(void)!write(ready_fd, "R", 1);
	close(ready_fd);
	ready_fd = -1;
}
