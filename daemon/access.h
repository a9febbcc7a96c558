/*
 * access.h — the access log: one key=value line per closed connection, to
 * stderr, syslog or a file. Writing never waits: a line the target cannot
 * take at once (a full pipe, a stalled syslog, a full disk) is dropped and
 * counted, so that a slow log never slows the clients. What a line says is
 * the caller's; when to write one is too.
 */
#ifndef ACCESS_H
#define ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct access_entry {
	const char *client;	/* the client's address (behind a PROXY
				 * header: the one it carried) */
	const char *listener;	/* the address the client reached */
	uint64_t duration_ms;	/* from accept to close */
	uint64_t bytes_in;	/* read from the client */
	uint64_t bytes_out;	/* written to it */
	const char *end;	/* how the connection ended */
};

/*
 * Send lines to target: "off", "stderr", "syslog" (the local /dev/log) or
 * an absolute path, opened for appending. On failure the previous target
 * stays and err says why.
 */
int access_open(const char *target, char *err, size_t errlen);

/* Reopen a file target after logrotate moved it; no-op otherwise. */
int access_reopen(char *err, size_t errlen);

/* True unless the target is "off": callers skip building a line. */
bool access_on(void);

void access_write(const struct access_entry *e);

/* Lines dropped because the target could not take them. */
uint64_t access_dropped(void);

void access_close(void);

#endif
