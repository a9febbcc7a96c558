/*
 * config.c — parsing and checking of upcased.conf and -o. One table holds
 * every key with its type, which says how a value is read, checked and
 * printed, so adding a key is adding a row.
 *
 * The file syntax: "key = value" lines; blank lines and "#" comments (at
 * the start of a line or after white space) are ignored. A key may appear
 * once per file, except listen, which adds an address each time, and allow
 * and deny, which add a rule to one list. A listen from -o replaces the
 * file's list, an allow or deny the file's rules; any other -o replaces the
 * file's value.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "parse.h"

#define SIZE_MAX_VALUE		(1ull << 30)		/* 1g */
#define TIMEOUT_MAX_MS		(720ull * 3600 * 1000)	/* 720h */
#define CONNECTIONS_MAX		1048576

enum key_type {
	TYPE_LISTEN,		/* an address, added to the list */
	TYPE_RULE,		/* an address block, added to the rules */
	TYPE_COUNT,		/* a whole number in [min, max], unsigned */
	TYPE_SIZE,		/* bytes in [min, max], uint64_t */
	TYPE_DURATION,		/* ms, at most max, uint64_t */
	TYPE_BOOL,
	TYPE_WORKERS,		/* auto (0), or a count in [min, max] */
	TYPE_PATH,		/* an absolute path in an existing directory */
	TYPE_LOG_FILE,		/* stderr, syslog, or a TYPE_PATH */
	TYPE_ACCESS_LOG,	/* off, or a TYPE_LOG_FILE */
	TYPE_USER,		/* the name of an existing user */
	TYPE_GROUP,		/* the name of an existing group */
	TYPE_LOG_LEVEL,
};

/* A key: how its value is read, checked and printed (its type), and where
 * it is kept (nginx's slots). */
struct key_info {
	const char *name;
	enum key_type type;
	size_t offset;		/* of the value in struct config */
	size_t size;		/* of the value, for the string types */
	uint64_t min, max;	/* for the number types */
};

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct key_info keys[KEY_COUNT] = {
	[KEY_LISTEN] = { "listen", TYPE_LISTEN, FIELD(listen), 0, 0 },
	[KEY_LISTEN_BACKLOG] = { "listen_backlog", TYPE_COUNT,
	    FIELD(listen_backlog), 1, 65535 },
	[KEY_MAX_CONNECTIONS] = { "max_connections", TYPE_COUNT,
	    FIELD(max_connections), 1, CONNECTIONS_MAX },
	[KEY_MAX_CONNECTIONS_PER_IP] = { "max_connections_per_ip", TYPE_COUNT,
	    FIELD(max_connections_per_ip), 0, CONNECTIONS_MAX },
	[KEY_ALLOW] = { "allow", TYPE_RULE, FIELD(rules), 0, 0 },
	[KEY_DENY] = { "deny", TYPE_RULE, FIELD(rules), 0, 0 },
	[KEY_BACKLOG_HIGH] = { "backlog_high", TYPE_SIZE, FIELD(backlog_high),
	    1, SIZE_MAX_VALUE },
	[KEY_BACKLOG_LOW] = { "backlog_low", TYPE_SIZE, FIELD(backlog_low), 0,
	    SIZE_MAX_VALUE },
	[KEY_HEADER_TIMEOUT] = { "header_timeout", TYPE_DURATION,
	    FIELD(header_timeout), 1, TIMEOUT_MAX_MS },
	[KEY_IDLE_TIMEOUT] = { "idle_timeout", TYPE_DURATION,
	    FIELD(idle_timeout), 0, TIMEOUT_MAX_MS },
	[KEY_DRAIN_TIMEOUT] = { "drain_timeout", TYPE_DURATION,
	    FIELD(drain_timeout), 0, TIMEOUT_MAX_MS },
	[KEY_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", TYPE_DURATION,
	    FIELD(shutdown_timeout), 0, TIMEOUT_MAX_MS },
	[KEY_WORKERS] = { "workers", TYPE_WORKERS, FIELD(workers), 1,
	    CONFIG_WORKERS_MAX },
	[KEY_DAEMONIZE] = { "daemonize", TYPE_BOOL, FIELD(daemonize), 0, 0 },
	[KEY_PIDFILE] = { "pidfile", TYPE_PATH, FIELD(pidfile), 0, 0 },
	[KEY_USER] = { "user", TYPE_USER, FIELD(user), 0, 0 },
	[KEY_GROUP] = { "group", TYPE_GROUP, FIELD(group), 0, 0 },
	[KEY_LOG_LEVEL] = { "log_level", TYPE_LOG_LEVEL, FIELD(log_level), 0,
	    0 },
	[KEY_LOG_FILE] = { "log_file", TYPE_LOG_FILE, FIELD(log_file), 0, 0 },
	[KEY_ACCESS_LOG] = { "access_log", TYPE_ACCESS_LOG, FIELD(access_log),
	    0, 0 },
	[KEY_SANDBOX] = { "sandbox", TYPE_BOOL, FIELD(sandbox), 0, 0 },
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
}

/*
 * The directory a path names a file in exists: as much as can be known of
 * a pidfile, log file or socket before creating it (upcased -t creates
 * nothing).
 */
static int
check_directory_of(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';	/* paths here are absolute */
	if (dir[0] == '\0')
		return 0;		/* in / */
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "directory %.400s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%.400s is not a directory", dir);
		return -1;
	}
	return 0;
}

static int
check_absolute(const char *text, const char *path, char *err, size_t errlen)
{
	if (path[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path", text);
		return -1;
	}
	return check_directory_of(path, err, errlen);
}

static int
set_listen(struct config *c, const char *value, char *err, size_t errlen)
{
	struct listen_spec *l = &c->listen[c->nlisten];

	if (c->nlisten == CONFIG_LISTEN_MAX) {
		snprintf(err, errlen, "more than %d addresses",
		    CONFIG_LISTEN_MAX);
		return -1;
	}
	if (listen_spec_parse(value, l, err, errlen) == -1)
		return -1;
	if (l->addr.ss.ss_family == AF_UNIX && check_absolute(l->text,
	    ((struct sockaddr_un *)&l->addr.ss)->sun_path, err, errlen) == -1)
		return -1;
	for (unsigned i = 0; i < c->nlisten; i++) {
		if (addr_equal(&c->listen[i].addr, &l->addr)) {
			snprintf(err, errlen, "%s is listed twice", l->text);
			return -1;
		}
	}
	c->nlisten++;
	return 0;
}

static int
set_rule(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	if (c->nrules == ACL_RULES_MAX) {
		snprintf(err, errlen, "more than %d allow and deny rules",
		    ACL_RULES_MAX);
		return -1;
	}
	if (acl_rule_parse(value, k == &keys[KEY_ALLOW],
	    &c->rules[c->nrules], err, errlen) == -1)
		return -1;
	c->nrules++;
	return 0;
}

/* Check value as k's type says, and store it. */
static int
config_set(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	void *field = (char *)c + k->offset;
	char limit[32];
	uint64_t v;

	switch (k->type) {
	case TYPE_LISTEN:
		return set_listen(c, value, err, errlen);
	case TYPE_RULE:
		return set_rule(c, k, value, err, errlen);
	case TYPE_COUNT:
		if (parse_uint(value, k->min, k->max, &v, err, errlen) == -1)
			return -1;
		*(unsigned *)field = (unsigned)v;
		return 0;
	case TYPE_SIZE:
		if (parse_size(value, k->max, &v, err, errlen) == -1)
			return -1;
		if (v < k->min) {
			snprintf(err, errlen, "must be at least %s",
			    format_size(k->min, limit, sizeof(limit)));
			return -1;
		}
		*(uint64_t *)field = v;
		return 0;
	case TYPE_DURATION:
		if (parse_duration(value, 0, &v, err, errlen) == -1)
			return -1;
		if (v > k->max || v < k->min) {
			snprintf(err, errlen, "%s is %s than the %s %s", value,
			    v > k->max ? "longer" : "shorter",
			    v > k->max ? "maximum" : "minimum",
			    format_duration(v > k->max ? k->max : k->min,
			    limit, sizeof(limit)));
			return -1;
		}
		*(uint64_t *)field = v;
		return 0;
	case TYPE_BOOL:
		return parse_bool(value, field, err, errlen);
	case TYPE_WORKERS:
		if (strcmp(value, "auto") == 0) {
			*(unsigned *)field = 0;
			return 0;
		}
		if (parse_uint(value, k->min, k->max, &v, err, errlen) == -1) {
			snprintf(err, errlen, "'%.64s' is not auto or a number "
			    "from %llu to %llu", value,
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
			return -1;
		}
		*(unsigned *)field = (unsigned)v;
		return 0;
	case TYPE_LOG_LEVEL:
		if (log_level_parse(value, field) == -1) {
			snprintf(err, errlen, "'%s' is not error, warn, info "
			    "or debug", value);
			return -1;
		}
		return 0;
	case TYPE_ACCESS_LOG:
		if (strcmp(value, "off") == 0)
			break;
		/* FALLTHROUGH */
	case TYPE_LOG_FILE:
		if (strcmp(value, "stderr") == 0 ||
		    strcmp(value, "syslog") == 0)
			break;
		/* FALLTHROUGH */
	case TYPE_PATH:
		if (check_absolute(value, value, err, errlen) == -1)
			return -1;
		break;
	case TYPE_USER:
		if (getpwnam(value) == NULL) {
			snprintf(err, errlen, "no such user '%s'", value);
			return -1;
		}
		break;
	case TYPE_GROUP:
		if (getgrnam(value) == NULL) {
			snprintf(err, errlen, "no such group '%s'", value);
			return -1;
		}
		break;
	}
	/* The string types. */
	if (strlen(value) >= k->size) {
		snprintf(err, errlen, "longer than %zu bytes", k->size - 1);
		return -1;
	}
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

/* Print k as the lines of a file that set it. */
static void
config_print_key(const struct config *c, const struct key_info *k,
    FILE *out)
{
	const void *field = (const char *)c + k->offset;
	char buf[64];

	switch (k->type) {
	case TYPE_LISTEN:
		for (unsigned i = 0; i < c->nlisten; i++) {
			fprintf(out, "%s = ", k->name);
			listen_spec_print(&c->listen[i], out);
		}
		return;
	case TYPE_RULE:
		/* One list: allow prints both kinds, in order. */
		for (unsigned i = 0; k == &keys[KEY_ALLOW] && i < c->nrules;
		    i++)
			fprintf(out, "%s = %s\n", c->rules[i].allow ? "allow" :
			    "deny", acl_rule_format(&c->rules[i], buf,
			    sizeof(buf)));
		return;
	case TYPE_COUNT:
		fprintf(out, "%s = %u\n", k->name, *(const unsigned *)field);
		return;
	case TYPE_SIZE:
		fprintf(out, "%s = %s\n", k->name, format_size(
		    *(const uint64_t *)field, buf, sizeof(buf)));
		return;
	case TYPE_DURATION:
		fprintf(out, "%s = %s\n", k->name, format_duration(
		    *(const uint64_t *)field, buf, sizeof(buf)));
		return;
	case TYPE_BOOL:
		fprintf(out, "%s = %s\n", k->name, *(const bool *)field ?
		    "yes" : "no");
		return;
	case TYPE_WORKERS:
		if (*(const unsigned *)field == 0)
			fprintf(out, "%s = auto\n", k->name);
		else
			fprintf(out, "%s = %u\n", k->name,
			    *(const unsigned *)field);
		return;
	case TYPE_LOG_LEVEL:
		fprintf(out, "%s = %s\n", k->name,
		    log_level_name(*(const enum log_level *)field));
		return;
	default:
		if (*(const char *)field == '\0')
			fprintf(out, "# %s is not set\n", k->name);
		else
			fprintf(out, "%s = %s\n", k->name,
			    (const char *)field);
		return;
	}
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

int
config_line(struct config *c, char *line, const struct config_origin *o,
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

	if (keys[i].type == TYPE_RULE) {
		/* allow and deny fill one list, which o may have begun
		 * with the other kind. */
		const struct config_origin *other =
		    &c->origin[i == KEY_ALLOW ? KEY_DENY : KEY_ALLOW];

		same_source = same_source || (other->file != NULL &&
		    other->file == o->file);
	}
	if (same_source && keys[i].type != TYPE_LISTEN &&
	    keys[i].type != TYPE_RULE && o->line != 0) {
		snprintf(err, errlen, "%s: set twice (first on line %u)", key,
		    prev->line);
		return -1;
	}
	/* A new source's list replaces the old. */
	if (keys[i].type == TYPE_LISTEN && !same_source)
		c->nlisten = 0;
	if (keys[i].type == TYPE_RULE && !same_source)
		c->nrules = 0;
	if (config_set(c, &keys[i], value, reason, sizeof(reason)) == -1) {
		snprintf(err, errlen, "%s: %s", key, reason);
		return -1;
	}
	*prev = *o;
	return 0;
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
		config_print_key(c, &keys[i], out);
}
