/*
 * listen_spec.c — the value of `listen = ADDRESS [OPTION]...`: the
 * address, what the listener is (proxy_protocol, metrics, probe), and for
 * a unix socket the file's mode and owner; and the same printed back.
 */
#include "listen_spec.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options a listener takes (listen = ADDRESS [OPTION]...), in the
 * order they are printed. */
static const struct {
	const char *name;
	unsigned bit;
} option_names[] = {
	{ "proxy_protocol", LISTEN_PROXY_PROTOCOL },
	{ "metrics", LISTEN_METRICS },
	{ "probe", LISTEN_PROBE },
};

#define NOPTIONS	(sizeof(option_names) / sizeof(option_names[0]))

/* One of a unix listener's mode=, owner= and group= (word is len bytes:
 * NAME=VALUE); 1 if word is none of them, 0 once read, -1 with why. */
static int
perms_parse(const char *word, size_t len, struct listen_perms *p, char *err,
    size_t errlen)
{
	const char *eq = memchr(word, '=', len);
	char value[32], *end;
	size_t name;
	long n;

	if (eq == NULL)
		return 1;
	name = (size_t)(eq - word);
	if (!(name == 4 && strncmp(word, "mode", 4) == 0) &&
	    !(name == 5 && (strncmp(word, "owner", 5) == 0 ||
	    strncmp(word, "group", 5) == 0)))
		return 1;
	if (len - name - 1 >= sizeof(value)) {
		snprintf(err, errlen, "'%.*s': value longer than %zu bytes",
		    (int)(name < 16 ? name : 16), word, sizeof(value) - 1);
		return -1;
	}
	snprintf(value, sizeof(value), "%.*s", (int)(len - name - 1), eq + 1);
	if ((name == 4 && strncmp(word, "mode", 4) == 0 && p->mode != 0) ||
	    (name == 5 && strncmp(word, "owner", 5) == 0 && *p->owner) ||
	    (name == 5 && strncmp(word, "group", 5) == 0 && *p->group)) {
		snprintf(err, errlen, "option '%.*s' given twice", (int)name,
		    word);
		return -1;
	}
	if (name == 4 && strncmp(word, "mode", 4) == 0) {
		n = strtol(value, &end, 8);
		if (value[0] >= '0' && value[0] <= '7' && *end == '\0' &&
		    n > 0 && n <= 0777) {
			p->mode = (unsigned)n;
			return 0;
		}
		snprintf(err, errlen, "mode=%s: not an octal mode from 1 to "
		    "0777", value);
	} else if (name == 5 && strncmp(word, "owner", 5) == 0) {
		struct passwd *pw = getpwnam(value);

		if (pw != NULL && len - name - 1 < sizeof(p->owner)) {
			p->uid = pw->pw_uid;
			snprintf(p->owner, sizeof(p->owner), "%s", value);
			return 0;
		}
		snprintf(err, errlen, "owner=%s: no such user", value);
	} else if (name == 5 && strncmp(word, "group", 5) == 0) {
		struct group *gr = getgrnam(value);

		if (gr != NULL && len - name - 1 < sizeof(p->group)) {
			p->gid = gr->gr_gid;
			snprintf(p->group, sizeof(p->group), "%s", value);
			return 0;
		}
		snprintf(err, errlen, "group=%s: no such group", value);
	} else {
		return 1;
	}
	return -1;
}

static void
perms_print(const struct listen_perms *p, FILE *out)
{
	if (p->mode != 0)
		fprintf(out, " mode=%04o", p->mode);
	if (p->owner[0] != '\0')
		fprintf(out, " owner=%s", p->owner);
	if (p->group[0] != '\0')
		fprintf(out, " group=%s", p->group);
}

int
listen_spec_parse(const char *value, struct listen_spec *out, char *err,
    size_t errlen)
{
	size_t len = strcspn(value, " \t"), i;
	const char *word = value + len;

	if (len >= sizeof(out->text)) {
		snprintf(err, errlen, "address longer than %zu bytes",
		    sizeof(out->text) - 1);
		return -1;
	}
	memcpy(out->text, value, len);
	out->text[len] = '\0';
	if (addr_parse(out->text, &out->addr, err, errlen) == -1)
		return -1;
	out->perms = (struct listen_perms){ 0 };
	for (out->options = 0; *(word += strspn(word, " \t")) != '\0';
	    word += len) {
		int rc;

		len = strcspn(word, " \t");
		if ((rc = perms_parse(word, len, &out->perms, err, errlen)) ==
		    -1)
			return -1;
		if (rc == 0 && out->addr.ss.ss_family != AF_UNIX) {
			snprintf(err, errlen, "'%.*s': mode, owner and group "
			    "are for unix: listeners", (int)(len < 64 ? len :
			    64), word);
			return -1;
		}
		if (rc == 0)
			continue;
		for (i = 0; i < NOPTIONS; i++)
			if (strlen(option_names[i].name) == len &&
			    strncmp(word, option_names[i].name, len) == 0)
				break;
		if (i == NOPTIONS || (out->options & option_names[i].bit)) {
			snprintf(err, errlen, i == NOPTIONS ? "unknown option "
			    "'%.*s' (expected proxy_protocol, metrics, probe, "
			    "or for unix: mode=, owner=, group=)" : "option "
			    "'%.*s' given twice",
			    (int)(len < 64 ? len : 64), word);
			return -1;
		}
		out->options |= option_names[i].bit;
	}
	/* A metrics listener speaks HTTP to whoever connects: a PROXY
	 * header in front of that is not something to guess at. */
	if ((out->options & LISTEN_METRICS) &&
	    out->options != LISTEN_METRICS) {
		snprintf(err, errlen, "metrics cannot be combined with "
		    "another option");
		return -1;
	}
	return 0;
}

void
listen_spec_print(const struct listen_spec *s, FILE *out)
{
	fputs(s->text, out);
	for (size_t i = 0; i < NOPTIONS; i++)
		if (s->options & option_names[i].bit)
			fprintf(out, " %s", option_names[i].name);
	perms_print(&s->perms, out);
	fputc('\n', out);
}
