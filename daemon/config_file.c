/*
 * config_file.c — where configuration lines come from: a file, read whole
 * within bounds that no sane configuration comes near (so that a device or
 * a blob put in the file's place is refused before it costs memory), and
 * -o arguments. What a line means is config.c's.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	if (strchr(line, '=') == NULL) {
		snprintf(err, errlen, "-o '%s': expected KEY=VALUE", arg);
		return -1;
	}
	if (config_line(c, line, &o, reason, sizeof(reason)) == -1) {
		snprintf(err, errlen, "-o '%s': %s", arg, reason);
		return -1;
	}
	return 0;
}

