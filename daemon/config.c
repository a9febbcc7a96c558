/*
 * config.c — parsing and checking of upcased.conf and -o. One table holds
 * every key with its type, and each type is one row of how a value is
 * read and checked, and printed (config_types.c, as nginx's setter
 * slots): adding a key is adding a row.
 *
 * The file syntax: "key = value" lines; blank lines and "#" comments (at
 * the start of a line or after white space) are ignored. A key may appear
 * once per file, except listen, which adds an address each time, and allow
 * and deny, which add a rule to one list. A listen from -o replaces the
 * file's list, an allow or deny the file's rules; any other -o replaces the
 * file's value.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "config_types.h"
#include "parse.h"

#define SIZE_MAX_VALUE		(1ull << 30)		/* 1g */
#define TIMEOUT_MAX_MS		(720ull * 3600 * 1000)	/* 720h */
#define CONNECTIONS_MAX		1048576

static const struct key_info keys[KEY_COUNT] = {
	[KEY_LISTEN] = { "listen", &type_listen, FIELD(listen), 0, 0 },
	[KEY_LISTEN_BACKLOG] = { "listen_backlog", &type_count,
	    FIELD(listen_backlog), 1, 65535 },
	[KEY_MAX_CONNECTIONS] = { "max_connections", &type_count,
	    FIELD(max_connections), 1, CONNECTIONS_MAX },
	[KEY_MAX_CONNECTIONS_PER_IP] = { "max_connections_per_ip",
	    &type_count, FIELD(max_connections_per_ip), 0, CONNECTIONS_MAX },
	[KEY_ALLOW] = { "allow", &type_rule, FIELD(rules), 0, 0 },
	[KEY_DENY] = { "deny", &type_rule, FIELD(rules), 0, 0 },
	[KEY_BACKLOG_HIGH] = { "backlog_high", &type_size,
	    FIELD(backlog_high), 1, SIZE_MAX_VALUE },
	[KEY_BACKLOG_LOW] = { "backlog_low", &type_size, FIELD(backlog_low),
	    0, SIZE_MAX_VALUE },
	[KEY_BACKLOG_TOTAL] = { "backlog_total", &type_size,
	    FIELD(backlog_total), 1ull << 20, 1ull << 40 },
	[KEY_HEADER_TIMEOUT] = { "header_timeout", &type_duration,
	    FIELD(header_timeout), 1, TIMEOUT_MAX_MS },
	[KEY_IDLE_TIMEOUT] = { "idle_timeout", &type_duration,
	    FIELD(idle_timeout), 0, TIMEOUT_MAX_MS },
	[KEY_DRAIN_TIMEOUT] = { "drain_timeout", &type_duration,
	    FIELD(drain_timeout), 0, TIMEOUT_MAX_MS },
	[KEY_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", &type_duration,
	    FIELD(shutdown_timeout), 0, TIMEOUT_MAX_MS },
	[KEY_WORKERS] = { "workers", &type_workers, FIELD(workers), 1,
	    CONFIG_WORKERS_MAX },
	[KEY_DAEMONIZE] = { "daemonize", &type_bool, FIELD(daemonize), 0, 0 },
	[KEY_PIDFILE] = { "pidfile", &type_path, FIELD(pidfile), 0, 0 },
	[KEY_USER] = { "user", &type_account, FIELD(user), 0, 0 },
	[KEY_GROUP] = { "group", &type_account, FIELD(group), 0, 0 },
	[KEY_LOG_LEVEL] = { "log_level", &type_log_level, FIELD(log_level), 0,
	    0 },
	[KEY_LOG_FILE] = { "log_file", &type_log_file, FIELD(log_file), 0,
	    0 },
	[KEY_ACCESS_LOG] = { "access_log", &type_access_log,
	    FIELD(access_log), 0, 0 },
	[KEY_SYSLOG_SOCKET] = { "syslog_socket", &type_path,
	    FIELD(syslog_socket), 0, 0 },
	[KEY_SANDBOX] = { "sandbox", &type_bool, FIELD(sandbox), 0, 0 },
};

void
config_defaults(struct config *c)
{
	char err[128];

	memset(c, 0, sizeof(*c));
	if (addr_parse("127.0.0.1:1060", &c->listen[0].addr, err,
	    sizeof(err)) == 0)
		snprintf(c->listen[0].text, ADDR_TEXT_MAX, "127.0.0.1:1060");
	c->nlisten = 1;
	c->listen_backlog = 511;
	c->max_connections = 10000;
	c->backlog_high = 256 * 1024;
	c->backlog_low = 64 * 1024;
	c->backlog_total = 1ull << 30;
	c->idle_timeout = 60 * 1000;
	c->drain_timeout = 60 * 1000;
	c->shutdown_timeout = 30 * 1000;
	c->header_timeout = 5 * 1000;
	c->workers = 1;
	c->daemonize = false;
	c->sandbox = true;
	c->log_level = LOG_LEVEL_INFO;
	snprintf(c->log_file, sizeof(c->log_file), "stderr");
	snprintf(c->access_log, sizeof(c->access_log), "off");
	snprintf(c->syslog_socket, sizeof(c->syslog_socket), "/dev/log");
}

unsigned
config_workers(const struct config *c)
{
	long n;

	if (c->workers != 0)
		return c->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > CONFIG_WORKERS_MAX ? CONFIG_WORKERS_MAX :
	    (unsigned)n;
}

const char *
config_key_name(enum config_key key)
{
	return keys[key].name;
}

/* Format an origin as "FILE:LINE" or "-o". */
static const char *
origin_text(const struct config_origin *o, char *buf, size_t buflen)
{
	if (o->file == NULL)
		snprintf(buf, buflen, "default");
	else if (o->line == 0)
		snprintf(buf, buflen, "-o");
	else
		snprintf(buf, buflen, "%s:%u", o->file, o->line);
	return buf;
}

/* Later sources win: defaults, then the file line by line, then -o. */
static unsigned
origin_rank(const struct config_origin *o)
{
	if (o->file == NULL)
		return 0;
	return o->line == 0 ? UINT_MAX : o->line;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	*end = '\0';
	return s;
}

static int
line_apply(struct config *c, char *line, const struct config_origin *o,
    char *err, size_t errlen)
{
	char *eq, *key, *value, *hash;
	char reason[512];
	size_t i;

	for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
		if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
			*hash = '\0';	/* a comment runs to the end */
			break;
		}
	}
	line = trim(line);
	if (*line == '\0')
		return 0;
	eq = strchr(line, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "expected 'key = value', got '%s'", line);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (*key == '\0' || strpbrk(key, " \t") != NULL) {
		snprintf(err, errlen, "expected 'key = value', got a key of "
		    "'%s'", key);
		return -1;
	}
	for (i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].name, key) == 0)
			break;
	if (i == KEY_COUNT) {
		snprintf(err, errlen, "%s: unknown key", key);
		return -1;
	}
	if (*value == '\0') {
		snprintf(err, errlen, "%s: missing value", key);
		return -1;
	}

	struct config_origin *prev = &c->origin[i];
	bool same_source = prev->file != NULL && prev->file == o->file;

	if (keys[i].type == &type_rule) {
		/* allow and deny fill one list, which o may have begun
		 * with the other kind. */
		const struct config_origin *other =
		    &c->origin[i == KEY_ALLOW ? KEY_DENY : KEY_ALLOW];

		same_source = same_source || (other->file != NULL &&
		    other->file == o->file);
	}
	if (same_source && !keys[i].type->list && o->line != 0) {
		snprintf(err, errlen, "%s: set twice (first on line %u)", key,
		    prev->line);
		return -1;
	}
	/* A new source's list replaces the old. */
	if (keys[i].type == &type_listen && !same_source)
		c->nlisten = 0;
	if (keys[i].type == &type_rule && !same_source)
		c->nrules = 0;
	if (keys[i].type->set(c, &keys[i], value, reason,
	    sizeof(reason)) == -1) {
		snprintf(err, errlen, "%s: %s", key, reason);
		return -1;
	}
	*prev = *o;
	return 0;
}

void
config_printable(char *err, size_t errlen)
{
	char out[1024];
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)err; *p != '\0' &&
	    n + 5 < sizeof(out); p++) {
		if (*p >= 0x20 && *p < 0x7f)
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, sizeof(out) - n, "\\x%02x",
			    *p);
	}
	out[n] = '\0';
	snprintf(err, errlen, "%s", out);
}

int
config_line(struct config *c, char *line, const struct config_origin *o,
    char *err, size_t errlen)
{
	if (line_apply(c, line, o, err, errlen) == 0)
		return 0;
	config_printable(err, errlen);
	return -1;
}

int
config_check(const struct config *c, char *err, size_t errlen)
{
	char where[PATH_MAX + 16], other[PATH_MAX + 16], low[32], high[32];

	if (c->backlog_low >= c->backlog_high) {
		/* Name the value set last: the one to fix. */
		const struct config_origin *ol = &c->origin[KEY_BACKLOG_LOW];
		const struct config_origin *oh = &c->origin[KEY_BACKLOG_HIGH];
		bool blame_low = origin_rank(ol) >= origin_rank(oh);

		origin_text(blame_low ? ol : oh, where, sizeof(where));
		origin_text(blame_low ? oh : ol, other, sizeof(other));
		format_size(c->backlog_low, low, sizeof(low));
		format_size(c->backlog_high, high, sizeof(high));
		if (blame_low)
			snprintf(err, errlen, "%s: backlog_low: %s must be "
			    "below backlog_high (%s, %s)", where, low, high,
			    other);
		else
			snprintf(err, errlen, "%s: backlog_high: %s must be "
			    "above backlog_low (%s, %s)", where, high, low,
			    other);
		return -1;
	}
	if (c->group[0] != '\0' && c->user[0] == '\0') {
		origin_text(&c->origin[KEY_GROUP], where, sizeof(where));
		snprintf(err, errlen, "%s: group: set without user", where);
		return -1;
	}
	return 0;
}

void
config_print(const struct config *c, FILE *out)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		keys[i].type->print(c, &keys[i], out);
}
