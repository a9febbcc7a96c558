/*
 * process.h — the processes a test starts (the binaries under test, the
 * load balancers, helpers): spawned with their stdio where the test wants
 * it, waited for against a deadline, never outliving the test.
 */
#ifndef PROCESS_H
#define PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Path of the binary under test: $UPCASED, or bin/upcased. */
const char *upcased_path(void);
const char *upcase_path(void);

/* Is the process still there? */
bool process_alive(pid_t pid);

/*
 * Start argv[0] with stdin, stdout and stderr on in, out and err (-1:
 * /dev/null). It dies with the test process. Returns its pid.
 */
pid_t spawn(const char *const *argv, int in, int out, int err);

/*
 * Wait up to timeout_ms for pid to exit, and reap it. Returns its wait
 * status (its rusage into *ru, unless NULL), or -1 at the deadline, when it
 * has been killed.
 */
int wait_exit(pid_t pid, struct rusage *ru, int timeout_ms);

/* Assert that status (from wait_exit) is an exit with code; context is
 * shown on failure. */
void expect_exit(int status, int code, const char *context);

/*
 * Run path with args (NULL-terminated), stdin from /dev/null, stdout and
 * stderr captured together in out (NUL-terminated, truncated to cap - 1).
 * Returns the exit code; fails the test if it was killed or did not finish
 * by the deadline.
 */
int run(const char *path, const char *const *args, char *out, size_t cap);

/* The same with stdout into out and stderr into err, apart. */
int run_split(const char *path, const char *const *args, char *out,
    size_t cap, char *err, size_t errcap);

/*
 * A server that is not upcased: it echoes bytes unchanged, all of them, or
 * only the first limit (0: all), and closes after the client's EOF. Returns
 * its pid; its address goes into ss. It dies with the test.
 */
pid_t plain_echo_server(size_t limit, struct sockaddr_storage *ss,
    socklen_t *sslen, char *addr, size_t addrlen);

/* Kill pid if it still runs when the test process ends (spawn does it for
 * what it starts; this is for a daemon that detached). */
void process_track(pid_t pid);

/*
 * The daemons started from now on preload tests/fault.c ($FAULT_LIB, set
 * by make check), whose faults its environment variables choose;
 * fault_unload ends that for the next ones.
 */
void fault_preload(void);
void fault_unload(void);

#endif
