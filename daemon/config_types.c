/*
 * config_types.c — each type of configuration value: how it is read and
 * checked into its field, and printed back as the lines of a file. The
 * keys that have them are config.c's table.
 */
#include "config_types.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "listen_spec.h"
#include "parse.h"

static void *
field_of(struct config *c, const struct key_info *k)
{
	return (char *)c + k->offset;
}

static const void *
field_in(const struct config *c, const struct key_info *k)
{
	return (const char *)c + k->offset;
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

/* An address, added to the list. */
static int
set_listen(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	struct listen_spec *l = &c->listen[c->nlisten];

	(void)k;
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

static void
print_listen(const struct config *c, const struct key_info *k, FILE *out)
{
	for (unsigned i = 0; i < c->nlisten; i++) {
		fprintf(out, "%s = ", k->name);
		listen_spec_print(&c->listen[i], out);
	}
}

/* An address block, added to the rules: allow and deny share one list. */
static int
set_rule(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	if (c->nrules == ACL_RULES_MAX) {
		snprintf(err, errlen, "more than %d allow and deny rules",
		    ACL_RULES_MAX);
		return -1;
	}
	if (acl_rule_parse(value, strcmp(k->name, "allow") == 0,
	    &c->rules[c->nrules], err, errlen) == -1)
		return -1;
	c->nrules++;
	return 0;
}

static void
print_rules(const struct config *c, const struct key_info *k, FILE *out)
{
	char buf[64];

	/* One list: allow prints both kinds, in order; deny nothing. */
	for (unsigned i = 0; strcmp(k->name, "allow") == 0 && i < c->nrules;
	    i++)
		fprintf(out, "%s = %s\n", c->rules[i].allow ? "allow" :
		    "deny", acl_rule_format(&c->rules[i], buf, sizeof(buf)));
	if (strcmp(k->name, "allow") == 0 && c->nrules == 0)
		fprintf(out, "# allow and deny are not set\n");
}

/* A whole number in [min, max], unsigned. */
static int
set_count(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	uint64_t v;

	if (parse_uint(value, k->min, k->max, &v, err, errlen) == -1)
		return -1;
	*(unsigned *)field_of(c, k) = (unsigned)v;
	return 0;
}

static void
print_count(const struct config *c, const struct key_info *k, FILE *out)
{
	fprintf(out, "%s = %u\n", k->name, *(const unsigned *)field_in(c, k));
}

/* Bytes in [min, max], uint64_t. */
static int
set_size(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	char limit[32];
	uint64_t v;

	if (parse_size(value, k->max, &v, err, errlen) == -1)
		return -1;
	if (v < k->min) {
		snprintf(err, errlen, "must be at least %s",
		    format_size(k->min, limit, sizeof(limit)));
		return -1;
	}
	*(uint64_t *)field_of(c, k) = v;
	return 0;
}

static void
print_size(const struct config *c, const struct key_info *k, FILE *out)
{
	char buf[32];

	fprintf(out, "%s = %s\n", k->name, format_size(*(const uint64_t *)
	    field_in(c, k), buf, sizeof(buf)));
}

/* Milliseconds in [min, max], uint64_t. */
static int
set_duration(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	char limit[32];
	uint64_t v;

	if (parse_duration(value, &v, err, errlen) == -1)
		return -1;
	if (v > k->max || v < k->min) {
		snprintf(err, errlen, "%s is %s than the %s %s", value,
		    v > k->max ? "longer" : "shorter",
		    v > k->max ? "maximum" : "minimum",
		    format_duration(v > k->max ? k->max : k->min, limit,
		    sizeof(limit)));
		return -1;
	}
	*(uint64_t *)field_of(c, k) = v;
	return 0;
}

static void
print_duration(const struct config *c, const struct key_info *k, FILE *out)
{
	char buf[32];

	fprintf(out, "%s = %s\n", k->name, format_duration(*(const uint64_t *)
	    field_in(c, k), buf, sizeof(buf)));
}

static int
set_bool(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	return parse_bool(value, field_of(c, k), err, errlen);
}

static void
print_bool(const struct config *c, const struct key_info *k, FILE *out)
{
	fprintf(out, "%s = %s\n", k->name, *(const bool *)field_in(c, k) ?
	    "yes" : "no");
}

/* auto (0), or a count in [min, max]. */
static int
set_workers(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	if (strcmp(value, "auto") == 0) {
		*(unsigned *)field_of(c, k) = 0;
		return 0;
	}
	if (set_count(c, k, value, err, errlen) == 0)
		return 0;
	snprintf(err, errlen, "'%.64s' is not auto or a number from %llu to "
	    "%llu", value, (unsigned long long)k->min,
	    (unsigned long long)k->max);
	return -1;
}

static void
print_workers(const struct config *c, const struct key_info *k, FILE *out)
{
	if (*(const unsigned *)field_in(c, k) == 0)
		fprintf(out, "%s = auto\n", k->name);
	else
		print_count(c, k, out);
}

static int
set_log_level(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	if (log_level_parse(value, field_of(c, k)) == 0)
		return 0;
	snprintf(err, errlen, "'%s' is not error, warn, info or debug", value);
	return -1;
}

static void
print_log_level(const struct config *c, const struct key_info *k,
    FILE *out)
{
	fprintf(out, "%s = %s\n", k->name,
	    log_level_name(*(const enum log_level *)field_in(c, k)));
}

/* The string types: checked, then copied whole. */
static int
set_string(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	if (strlen(value) >= k->size) {
		snprintf(err, errlen, "longer than %zu bytes", k->size - 1);
		return -1;
	}
	memcpy(field_of(c, k), value, strlen(value) + 1);
	return 0;
}

static void
print_string(const struct config *c, const struct key_info *k, FILE *out)
{
	const char *v = field_in(c, k);

	if (*v == '\0')
		fprintf(out, "# %s is not set\n", k->name);
	else
		fprintf(out, "%s = %s\n", k->name, v);
}

/* One of the type's words, or an absolute path in an existing
 * directory. */
static int
set_target(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	const char *w = k->type->words;
	size_t len = strlen(value);

	for (; w != NULL && *w != '\0'; w += strcspn(w, " "), w += *w == ' ')
		if (strncmp(w, value, len) == 0 && (w[len] == ' ' ||
		    w[len] == '\0'))
			return set_string(c, k, value, err, errlen);
	if (check_absolute(value, value, err, errlen) == -1)
		return -1;
	return set_string(c, k, value, err, errlen);
}

/* The name of an existing user, or group (as the key says). */
static int
set_account(struct config *c, const struct key_info *k, const char *value,
    char *err, size_t errlen)
{
	if (strcmp(k->name, "user") == 0 ? getpwnam(value) != NULL :
	    getgrnam(value) != NULL)
		return set_string(c, k, value, err, errlen);
	snprintf(err, errlen, "no such %s '%s'", k->name, value);
	return -1;
}

const struct key_type
    type_listen = { set_listen, print_listen, true, NULL },
    type_rule = { set_rule, print_rules, true, NULL },
    type_count = { set_count, print_count, false, NULL },
    type_size = { set_size, print_size, false, NULL },
    type_duration = { set_duration, print_duration, false, NULL },
    type_bool = { set_bool, print_bool, false, NULL },
    type_workers = { set_workers, print_workers, false, NULL },
    type_log_level = { set_log_level, print_log_level, false, NULL },
    type_path = { set_target, print_string, false, NULL },
    type_log_file = { set_target, print_string, false, "stderr syslog" },
    type_access_log = { set_target, print_string, false,
	"off stderr syslog" },
    type_account = { set_account, print_string, false, NULL };
