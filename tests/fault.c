/*
 * fault.c — an LD_PRELOAD library for tests, never linked into upcased:
 * while the file named by $FAULT_ACCEPT_WHILE exists, accept4 fails with
 * the errno named by $FAULT_ACCEPT_ERRNO (ENOMEM or ENOBUFS), as it does
 * when the kernel is short of memory, which no test can arrange for real.
 * Removing the file ends the fault. It opens no descriptor, so it works at
 * the process's descriptor limit too, and it makes only calls the sandbox
 * allows. With $FAULT_SYSCALL set to a number, each accept4 first makes
 * that syscall (with null arguments): what a compromised daemon would try,
 * for the sandbox to refuse. While the file named by $FAULT_ORPHAN_WHILE
 * exists, getppid returns 1, as if the parent had died: a worker checks
 * that first, so every worker started meanwhile exits at once.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

static int
fault_errno(void)
{
	const char *path = getenv("FAULT_ACCEPT_WHILE");
	const char *name = getenv("FAULT_ACCEPT_ERRNO");
	struct stat st;

	if (path == NULL || name == NULL || stat(path, &st) == -1)
		return 0;
	return strcmp(name, "ENOBUFS") == 0 ? ENOBUFS : ENOMEM;
}

int
accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	const char *nr = getenv("FAULT_SYSCALL");
	int err = fault_errno();

	if (nr != NULL)
		syscall(atol(nr), 0, 0, 0);
	if (err != 0) {
		errno = err;
		return -1;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "accept4");
	return real(fd, addr, len, flags);
}

pid_t
getppid(void)
{
	const char *path = getenv("FAULT_ORPHAN_WHILE");
	struct stat st;

	if (path != NULL && stat(path, &st) == 0)
		return 1;
	return (pid_t)syscall(SYS_getppid);
}
