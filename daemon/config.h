/*
 * config.h — the daemon's configuration: built-in defaults, then the file,
 * then -o overrides, each value checked as it is read and the whole checked
 * again before it is used. A failed load leaves the caller's configuration
 * untouched: the caller loads into a scratch copy and swaps on success.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "acl.h"
#include "addr.h"
#include "listener.h"
#include "log.h"

#define CONFIG_LISTEN_MAX	16
#define CONFIG_NAME_MAX		64
#define CONFIG_WORKERS_MAX	64

#ifndef CONFIG_PATH
#define CONFIG_PATH "/usr/local/etc/upcased.conf"
#endif

enum config_key {
	KEY_LISTEN,
	KEY_LISTEN_BACKLOG,
	KEY_MAX_CONNECTIONS,
	KEY_MAX_CONNECTIONS_PER_IP,
	KEY_ALLOW,
	KEY_DENY,
	KEY_BACKLOG_HIGH,
	KEY_BACKLOG_LOW,
	KEY_BACKLOG_TOTAL,
	KEY_HEADER_TIMEOUT,
	KEY_IDLE_TIMEOUT,
	KEY_DRAIN_TIMEOUT,
	KEY_SHUTDOWN_TIMEOUT,
	KEY_WORKERS,
	KEY_DAEMONIZE,
	KEY_PIDFILE,
	KEY_USER,
	KEY_GROUP,
	KEY_LOG_LEVEL,
	KEY_LOG_FILE,
	KEY_ACCESS_LOG,
	KEY_SYSLOG_SOCKET,
	KEY_SANDBOX,
	KEY_COUNT
};

/* Where a value came from, for messages: "FILE:LINE" or "-o". */
struct config_origin {
	const char *file;	/* NULL: built-in default */
	unsigned line;		/* 0 with a file: -o on the command line */
};

struct config {
	struct listen_spec listen[CONFIG_LISTEN_MAX];
	unsigned nlisten;
	unsigned listen_backlog;	/* listen(2) queue length */
	unsigned max_connections;	/* open at once; more are refused */
	unsigned max_connections_per_ip;	/* the same per client
					 * address; 0: no limit */
	struct acl_rule rules[ACL_RULES_MAX];	/* allow and deny, in order */
	unsigned nrules;
	uint64_t backlog_high;		/* bytes owed: stop reading */
	uint64_t backlog_low;		/* bytes owed: resume reading */
	uint64_t backlog_total;		/* bytes owed by all of this
					 * process's connections, at most */
	uint64_t header_timeout;	/* ms, from accept to a whole PROXY
					 * header or HTTP request */
	uint64_t idle_timeout;		/* ms; 0: never */
	uint64_t drain_timeout;		/* ms; 0: never */
	uint64_t shutdown_timeout;	/* ms */
	unsigned workers;		/* processes serving; 0: auto, one
					 * per online CPU (config_workers) */
	bool daemonize;
	char pidfile[PATH_MAX];		/* "": none */
	char user[CONFIG_NAME_MAX];	/* "": keep the starting user */
	char group[CONFIG_NAME_MAX];	/* "": the user's group */
	enum log_level log_level;
	char log_file[PATH_MAX];	/* "stderr", "syslog" or a path */
	char access_log[PATH_MAX];	/* "off", "stderr", "syslog", a path */
	char syslog_socket[108];	/* syslog's datagram socket (as
					 * sun_path: 107 bytes at most) */
	bool sandbox;			/* seccomp filter after start-up */
	struct config_origin origin[KEY_COUNT];
};

void config_defaults(struct config *c);

/*
 * Read path into c. A missing file is an error unless optional is set, when
 * c is left as it was. Returns 0, or -1 with "FILE:LINE: key: reason" in err.
 */
int config_load(struct config *c, const char *path, bool optional, char *err,
    size_t errlen);

/*
 * Apply one line, "key = value", from origin (config_load and
 * config_option call it; line is changed in place). A blank or
 * comment-only line is accepted and ignored. Returns 0, or -1 with "key:
 * reason" (or only the reason when no key could be read) in err.
 */
int config_line(struct config *c, char *line, const struct config_origin *o,
    char *err, size_t errlen);

/* Apply one -o argument, "key=value" or "key = value". Returns 0, or -1 with
 * "-o 'ARG': key: reason" in err. */
int config_option(struct config *c, const char *arg, char *err,
    size_t errlen);

/* Make err printable in place: a byte outside printable ASCII becomes
 * \xNN, so that what a line or an -o said cannot act on a terminal or a
 * log when an error quotes it. */
void config_printable(char *err, size_t errlen);

/* Checks that involve more than one key. Returns 0, or -1 with the origin of
 * the offending value in err. */
int config_check(const struct config *c, char *err, size_t errlen);

/* Print the configuration as a file that reads back to it (upcased -T). */
void config_print(const struct config *c, FILE *out);

const char *config_key_name(enum config_key key);

/* How many workers c asks for, auto resolved (1: no master). */
unsigned config_workers(const struct config *c);

#endif
