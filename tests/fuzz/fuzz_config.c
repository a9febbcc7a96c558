/*
 * fuzz_config.c — the configuration reader on any file and any -o
 * argument: config_load through a file of its own in /dev/shm, mode 0600
 * so that it passes the ownership checks (its bounds, lines, NUL bytes,
 * comments, every key's value), then config_check; and the same
 * bytes as one -o. Whatever is accepted prints (upcased -T) as a file that
 * reads back to the same configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static int file = -1;		/* the file config_load reads, by path */
static char path[64] = "/dev/shm/upcased-fuzz-XXXXXX";

static void
remove_file(void)
{
	unlink(path);
}

static int
load_bytes(struct config *c, const void *data, size_t size, char *err,
    size_t errlen)
{
	FUZZ_CHECK(ftruncate(file, 0) == 0);
	FUZZ_CHECK(pwrite(file, data, size, 0) == (ssize_t)size);
	config_defaults(c);
	return config_load(c, path, false, err, errlen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c, again;
	static char printed[1 << 16], err[2048], arg[1024];
	FILE *out;

	if (file == -1) {
		file = mkstemp(path);
		FUZZ_CHECK(file != -1);
		atexit(remove_file);
	}
	if (load_bytes(&c, data, size, err, sizeof(err)) == 0 &&
	    config_check(&c, err, sizeof(err)) == 0) {
		out = fmemopen(printed, sizeof(printed), "w");
		FUZZ_CHECK(out != NULL);
		config_print(&c, out);
		fclose(out);
		FUZZ_CHECK(load_bytes(&again, printed, strlen(printed), err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(memcmp(again.listen, c.listen, sizeof(c.listen)) ==
		    0 && again.nlisten == c.nlisten);
		FUZZ_CHECK(again.backlog_high == c.backlog_high &&
		    again.idle_timeout == c.idle_timeout &&
		    strcmp(again.access_log, c.access_log) == 0);
		FUZZ_CHECK(again.nrules == c.nrules && memcmp(again.rules,
		    c.rules, c.nrules * sizeof(c.rules[0])) == 0 &&
		    again.max_connections_per_ip == c.max_connections_per_ip &&
		    again.sandbox == c.sandbox);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	if (size < sizeof(arg)) {
		memcpy(arg, data, size);
		arg[size] = '\0';
		config_defaults(&c);
		if (config_option(&c, arg, err, sizeof(err)) == -1)
			FUZZ_CHECK(strncmp(err, "-o", 2) == 0);
	}
	return 0;
}
