/*
 * config_file.c — where configuration lines come from: a file, read whole
 * within bounds that no sane configuration comes near (so that a device or
 * a blob put in the file's place is refused before it costs memory) and
 * only if no one but its owner and root could have changed it, and -o
 * arguments. What a line means is config.c's.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_LINE_MAX		4096		/* bytes, newline included */
#define CONFIG_FILE_MAX		(1 << 20)	/* bytes, 1m */

/*
 * Read f whole, up to CONFIG_FILE_MAX + 1 bytes: enough to tell that it is
 * too large without reading the rest. The buffer grows from 4 KiB, so a
 * usual file costs a page. Returns it (*len bytes, the caller frees), or
 * NULL with errno.
 */
static char *
read_bounded(FILE *f, size_t *len)
{
	size_t cap = 4096, n;
	char *text = malloc(cap), *more;

	*len = 0;
	while (text != NULL && *len <= CONFIG_FILE_MAX) {
		if (*len == cap) {
			cap = cap * 2 > CONFIG_FILE_MAX + 1 ?
			    CONFIG_FILE_MAX + 1 : cap * 2;
			if ((more = realloc(text, cap)) == NULL)
				break;
			text = more;
		}
		n = fread(text + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0)
			return ferror(f) ? NULL : text;
	}
	if (text != NULL && *len <= CONFIG_FILE_MAX) {	/* realloc failed */
		free(text);
		text = NULL;
	}
	return text;
}

/* A group of one: the owner's own group, with no one else in it. */
static bool
group_private(gid_t gid, uid_t owner)
{
	struct passwd *pw = getpwuid(owner);
	struct group *gr = getgrgid(gid);

	if (pw == NULL || gr == NULL)
		return false;
	if (gr->gr_mem[0] == NULL)
		return pw->pw_gid == gid;
	return gr->gr_mem[1] == NULL && strcmp(gr->gr_mem[0], pw->pw_name) == 0;
}

/*
 * Could anyone but root and us have changed what st describes (sshd's
 * StrictModes)? Owned by another user, writable by anyone, or writable by a
 * group that is not the owner's own. A sticky directory (/tmp) is fine: in
 * it only an entry's owner may replace it. Returns 0, or -1 with why in
 * err.
 */
static int
check_trusted(const char *what, const struct stat *st, char *err,
    size_t errlen)
{
	unsigned mode = st->st_mode & 07777;
	struct group *gr;

	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		if (geteuid() == 0)
			snprintf(err, errlen, "%.400s is owned by uid %u, not "
			    "root", what, (unsigned)st->st_uid);
		else
			snprintf(err, errlen, "%.400s is owned by uid %u, "
			    "neither root nor uid %u (who runs upcased)", what,
			    (unsigned)st->st_uid, (unsigned)geteuid());
		return -1;
	}
	if (S_ISDIR(st->st_mode) && (mode & S_ISVTX))
		return 0;
	if (mode & S_IWOTH) {
		snprintf(err, errlen, "%.400s is writable by anyone (mode %04o)",
		    what, mode);
		return -1;
	}
	if ((mode & S_IWGRP) && !group_private(st->st_gid, st->st_uid)) {
		gr = getgrgid(st->st_gid);
		snprintf(err, errlen, "%.400s is writable by group %s (mode %04o)",
		    what, gr != NULL ? gr->gr_name : "?", mode);
		return -1;
	}
	return 0;
}

/*
 * The file open as fd, then each directory above where it really is. A
 * character device (/dev/null) is the kernel's: its mode says who may use
 * it, not who may change what it reads.
 */
static int
check_path_trusted(int fd, const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (S_ISCHR(st.st_mode) && st.st_uid == 0)
		return 0;
	if (check_trusted("the file", &st, err, errlen) == -1)
		return -1;
	if (!S_ISREG(st.st_mode))
		return 0;	/* a pipe: in no directory */
	if (realpath(path, dir) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	do {
		slash = strrchr(dir, '/');
		slash[slash == dir] = '\0';	/* "/a/b" to "/a", "/a" to "/" */
		if (stat(dir, &st) == -1) {
			snprintf(err, errlen, "%.400s: %s", dir, strerror(errno));
			return -1;
		}
		if (check_trusted(dir, &st, err, errlen) == -1)
			return -1;
	} while (strcmp(dir, "/") != 0);
	return 0;
}

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
	if (check_path_trusted(fileno(f), path, reason, sizeof(reason)) == -1) {
		snprintf(err, errlen, "%s: refusing a configuration others could "
		    "change: %s", path, reason);
		fclose(f);
		return -1;
	}
	text = read_bounded(f, &len);
	if (text == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
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
			if (config_line(c, line, &o, reason,
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
	if (strchr(line, '=') == NULL)
		snprintf(err, errlen, "-o '%s': expected KEY=VALUE", arg);
	else if (config_line(c, line, &o, reason, sizeof(reason)) == -1)
		snprintf(err, errlen, "-o '%s': %s", arg, reason);
	else
		return 0;
	config_printable(err, errlen);
	return -1;
}

