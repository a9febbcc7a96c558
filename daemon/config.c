/*
 * config.c — parsing and checking of upcased.conf and -o. One table holds
 * every key with its setter and printer, so adding a key is adding a row.
 *
 * The file syntax: "key = value" lines; blank lines and "#" comments (at
 * the start of a line or after white space) are ignored. A key may appear
 * once per file, except listen, which adds an address each time. A listen
 * from -o replaces the file's list; any other -o replaces the file's value.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "parse.h"

#define SIZE_MAX_VALUE		(1ull << 30)		/* 1g */
#define TIMEOUT_MAX_MS		(720ull * 3600 * 1000)	/* 720h */
#define CONNECTIONS_MAX		1048576
/* No sane configuration comes near these; a file that does (a device, a
 * blob put in its place) is refused before it can cost much memory. */
#define CONFIG_LINE_MAX		4096			/* bytes */
#define CONFIG_FILE_MAX		(1 << 20)		/* bytes, 1m */

struct key_info {
	const char *name;
	int (*set)(struct config *c, const char *value, char *err,
	    size_t errlen);
	void (*print)(const struct config *c, FILE *out, const char *name);
	bool repeatable;
};

void
config_defaults(struct config *c)
{
	char err[128];

	memset(c, 0, sizeof(*c));
	if (addr_parse("127.0.0.1:1060", &c->listen[0], err, sizeof(err)) == 0)
		snprintf(c->listen_text[0], ADDR_TEXT_MAX, "127.0.0.1:1060");
	c->nlisten = 1;
	c->listen_backlog = 511;
	c->max_connections = 10000;
	c->backlog_high = 256 * 1024;
	c->backlog_low = 64 * 1024;
	c->idle_timeout = 60 * 1000;
	c->drain_timeout = 60 * 1000;
	c->shutdown_timeout = 30 * 1000;
	c->daemonize = false;
	c->log_level = LOG_LEVEL_INFO;
	snprintf(c->log_file, sizeof(c->log_file), "stderr");
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
		snprintf(err, errlen, "directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	return 0;
}

/* Setters: check one value, store it, or say why not. */

static int
set_listen(struct config *c, const char *value, char *err, size_t errlen)
{
	struct addr a;

	if (addr_parse(value, &a, err, errlen) == -1)
		return -1;
	if (a.ss.ss_family == AF_UNIX) {
		const char *path = ((struct sockaddr_un *)&a.ss)->sun_path;

		if (path[0] != '/') {
			snprintf(err, errlen, "'%s' is not an absolute path",
			    value);
			return -1;
		}
		if (check_directory_of(path, err, errlen) == -1)
			return -1;
	}
	for (unsigned i = 0; i < c->nlisten; i++) {
		if (addr_equal(&c->listen[i], &a)) {
			snprintf(err, errlen, "%s is listed twice", value);
			return -1;
		}
	}
	if (c->nlisten == CONFIG_LISTEN_MAX) {
		snprintf(err, errlen, "more than %d addresses",
		    CONFIG_LISTEN_MAX);
		return -1;
	}
	c->listen[c->nlisten] = a;
	snprintf(c->listen_text[c->nlisten], ADDR_TEXT_MAX, "%s", value);
	c->nlisten++;
	return 0;
}

static int
set_uint(unsigned *field, uint64_t min, uint64_t max, const char *value,
    char *err, size_t errlen)
{
	uint64_t v;

	if (parse_uint(value, min, max, &v, err, errlen) == -1)
		return -1;
	*field = (unsigned)v;
	return 0;
}

static int
set_listen_backlog(struct config *c, const char *v, char *err, size_t n)
{
	return set_uint(&c->listen_backlog, 1, 65535, v, err, n);
}

static int
set_max_connections(struct config *c, const char *v, char *err, size_t n)
{
	return set_uint(&c->max_connections, 1, CONNECTIONS_MAX, v, err, n);
}

static int
set_backlog_high(struct config *c, const char *v, char *err, size_t n)
{
	if (parse_size(v, SIZE_MAX_VALUE, &c->backlog_high, err, n) == -1)
		return -1;
	if (c->backlog_high == 0) {
		snprintf(err, n, "must be at least 1");
		return -1;
	}
	return 0;
}

static int
set_backlog_low(struct config *c, const char *v, char *err, size_t n)
{
	return parse_size(v, SIZE_MAX_VALUE, &c->backlog_low, err, n);
}

static int
set_timeout(uint64_t *field, const char *value, char *err, size_t errlen)
{
	uint64_t ms;

	if (parse_duration(value, 0, &ms, err, errlen) == -1)
		return -1;
	if (ms > TIMEOUT_MAX_MS) {
		snprintf(err, errlen, "%s is longer than the maximum 720h",
		    value);
		return -1;
	}
	*field = ms;
	return 0;
}

static int
set_idle_timeout(struct config *c, const char *v, char *err, size_t n)
{
	return set_timeout(&c->idle_timeout, v, err, n);
}

static int
set_drain_timeout(struct config *c, const char *v, char *err, size_t n)
{
	return set_timeout(&c->drain_timeout, v, err, n);
}

static int
set_shutdown_timeout(struct config *c, const char *v, char *err, size_t n)
{
	return set_timeout(&c->shutdown_timeout, v, err, n);
}

static int
set_daemonize(struct config *c, const char *v, char *err, size_t n)
{
	return parse_bool(v, &c->daemonize, err, n);
}

static int
set_path(char *field, size_t size, const char *value, char *err,
    size_t errlen)
{
	if (value[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path", value);
		return -1;
	}
	if (strlen(value) >= size) {
		snprintf(err, errlen, "path longer than %zu bytes", size - 1);
		return -1;
	}
	if (check_directory_of(value, err, errlen) == -1)
		return -1;
	snprintf(field, size, "%s", value);
	return 0;
}

static int
set_pidfile(struct config *c, const char *v, char *err, size_t n)
{
	return set_path(c->pidfile, sizeof(c->pidfile), v, err, n);
}

static int
set_user(struct config *c, const char *v, char *err, size_t n)
{
	errno = 0;
	if (getpwnam(v) == NULL) {
		snprintf(err, n, "no such user '%s'", v);
		return -1;
	}
	if (strlen(v) >= sizeof(c->user)) {
		snprintf(err, n, "name longer than %zu bytes",
		    sizeof(c->user) - 1);
		return -1;
	}
	snprintf(c->user, sizeof(c->user), "%s", v);
	return 0;
}

static int
set_group(struct config *c, const char *v, char *err, size_t n)
{
	if (getgrnam(v) == NULL) {
		snprintf(err, n, "no such group '%s'", v);
		return -1;
	}
	if (strlen(v) >= sizeof(c->group)) {
		snprintf(err, n, "name longer than %zu bytes",
		    sizeof(c->group) - 1);
		return -1;
	}
	snprintf(c->group, sizeof(c->group), "%s", v);
	return 0;
}

static int
set_log_level(struct config *c, const char *v, char *err, size_t n)
{
	if (log_level_parse(v, &c->log_level) == -1) {
		snprintf(err, n, "'%s' is not error, warn, info or debug", v);
		return -1;
	}
	return 0;
}

static int
set_log_file(struct config *c, const char *v, char *err, size_t n)
{
	if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0) {
		snprintf(c->log_file, sizeof(c->log_file), "%s", v);
		return 0;
	}
	return set_path(c->log_file, sizeof(c->log_file), v, err, n);
}

/* Printers: one "key = value" line per value, as the file would say it. */

static void
print_listen(const struct config *c, FILE *out, const char *name)
{
	for (unsigned i = 0; i < c->nlisten; i++)
		fprintf(out, "%s = %s\n", name, c->listen_text[i]);
}

#define PRINT_UINT(fn, field)						\
static void								\
fn(const struct config *c, FILE *out, const char *name)		\
{									\
	fprintf(out, "%s = %u\n", name, c->field);			\
}

#define PRINT_SIZE(fn, field)						\
static void								\
fn(const struct config *c, FILE *out, const char *name)		\
{									\
	char buf[32];							\
									\
	fprintf(out, "%s = %s\n", name,					\
	    format_size(c->field, buf, sizeof(buf)));			\
}

#define PRINT_DURATION(fn, field)					\
static void								\
fn(const struct config *c, FILE *out, const char *name)		\
{									\
	char buf[32];							\
									\
	fprintf(out, "%s = %s\n", name,					\
	    format_duration(c->field, buf, sizeof(buf)));		\
}

#define PRINT_STRING(fn, field)						\
static void								\
fn(const struct config *c, FILE *out, const char *name)		\
{									\
	if (c->field[0] == '\0')					\
		fprintf(out, "# %s is not set\n", name);		\
	else								\
		fprintf(out, "%s = %s\n", name, c->field);		\
}

PRINT_UINT(print_listen_backlog, listen_backlog)
PRINT_UINT(print_max_connections, max_connections)
PRINT_SIZE(print_backlog_high, backlog_high)
PRINT_SIZE(print_backlog_low, backlog_low)
PRINT_DURATION(print_idle_timeout, idle_timeout)
PRINT_DURATION(print_drain_timeout, drain_timeout)
PRINT_DURATION(print_shutdown_timeout, shutdown_timeout)
PRINT_STRING(print_pidfile, pidfile)
PRINT_STRING(print_user, user)
PRINT_STRING(print_group, group)
PRINT_STRING(print_log_file, log_file)

static void
print_daemonize(const struct config *c, FILE *out, const char *name)
{
	fprintf(out, "%s = %s\n", name, c->daemonize ? "yes" : "no");
}

static void
print_log_level(const struct config *c, FILE *out, const char *name)
{
	fprintf(out, "%s = %s\n", name, log_level_name(c->log_level));
}

static const struct key_info keys[KEY_COUNT] = {
	[KEY_LISTEN] = { "listen", set_listen, print_listen, true },
	[KEY_LISTEN_BACKLOG] = { "listen_backlog", set_listen_backlog,
	    print_listen_backlog, false },
	[KEY_MAX_CONNECTIONS] = { "max_connections", set_max_connections,
	    print_max_connections, false },
	[KEY_BACKLOG_HIGH] = { "backlog_high", set_backlog_high,
	    print_backlog_high, false },
	[KEY_BACKLOG_LOW] = { "backlog_low", set_backlog_low,
	    print_backlog_low, false },
	[KEY_IDLE_TIMEOUT] = { "idle_timeout", set_idle_timeout,
	    print_idle_timeout, false },
	[KEY_DRAIN_TIMEOUT] = { "drain_timeout", set_drain_timeout,
	    print_drain_timeout, false },
	[KEY_SHUTDOWN_TIMEOUT] = { "shutdown_timeout", set_shutdown_timeout,
	    print_shutdown_timeout, false },
	[KEY_DAEMONIZE] = { "daemonize", set_daemonize, print_daemonize,
	    false },
	[KEY_PIDFILE] = { "pidfile", set_pidfile, print_pidfile, false },
	[KEY_USER] = { "user", set_user, print_user, false },
	[KEY_GROUP] = { "group", set_group, print_group, false },
	[KEY_LOG_LEVEL] = { "log_level", set_log_level, print_log_level,
	    false },
	[KEY_LOG_FILE] = { "log_file", set_log_file, print_log_file, false },
};

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

/*
 * Apply "key = value" from origin. A blank or comment-only line is accepted
 * and ignored. On error err holds "key: reason" (or just the reason when no
 * key could be read).
 */
static int
config_assign(struct config *c, char *line, const struct config_origin *o,
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

	if (same_source && !keys[i].repeatable && o->line != 0) {
		snprintf(err, errlen, "%s: set twice (first on line %u)", key,
		    prev->line);
		return -1;
	}
	if (keys[i].repeatable && !same_source)
		c->nlisten = 0;	/* a new source's list replaces the old */
	if (keys[i].set(c, value, reason, sizeof(reason)) == -1) {
		snprintf(err, errlen, "%s: %s", key, reason);
		return -1;
	}
	*prev = *o;
	return 0;
}

/*
 * The file is read whole, up to CONFIG_FILE_MAX + 1 bytes: enough to tell
 * that it is too large without reading the rest of it.
 */
int
config_load(struct config *c, const char *path, bool optional, char *err,
    size_t errlen)
{
	struct config_origin o = { .file = path };
	char *text, *line, *end, reason[768];
	size_t len;
	FILE *f;
	int rc = 0;

	f = fopen(path, "re");
	if (f == NULL) {
		if (optional && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (text == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	for (line = text; rc == 0 && line < text + len; line = end + 1) {
		o.line++;
		end = memchr(line, '\n', (size_t)(text + len - line));
		if (end == NULL)
			end = text + len;	/* the last line, unended */
		if (end - line >= CONFIG_LINE_MAX)
			snprintf(reason, sizeof(reason), "line longer than %d "
			    "bytes", CONFIG_LINE_MAX - 1);
		else if (end - text > CONFIG_FILE_MAX)
			snprintf(reason, sizeof(reason), "file larger than "
			    "%d bytes", CONFIG_FILE_MAX);
		else if (memchr(line, '\0', (size_t)(end - line)) != NULL)
			snprintf(reason, sizeof(reason), "line holds a NUL "
			    "byte");
		else
			reason[0] = '\0';
		if (reason[0] == '\0') {
			*end = '\0';
			if (config_assign(c, line, &o, reason,
			    sizeof(reason)) == 0)
				continue;
		}
		snprintf(err, errlen, "%s:%u: %s", path, o.line, reason);
		rc = -1;
	}
	free(text);
	fclose(f);
	return rc;
}

int
config_option(struct config *c, const char *arg, char *err, size_t errlen)
{
	static const char command_line[] = "-o";
	struct config_origin o = { .file = command_line, .line = 0 };
	char line[1024], reason[768];

	if (strlen(arg) >= sizeof(line)) {
		snprintf(err, errlen, "-o: argument longer than %zu bytes",
		    sizeof(line) - 1);
		return -1;
	}
	snprintf(line, sizeof(line), "%s", arg);
	if (strchr(line, '=') == NULL) {
		snprintf(err, errlen, "-o '%s': expected KEY=VALUE", arg);
		return -1;
	}
	if (config_assign(c, line, &o, reason, sizeof(reason)) == -1) {
		snprintf(err, errlen, "-o '%s': %s", arg, reason);
		return -1;
	}
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
		keys[i].print(c, out, keys[i].name);
}
