/*
 * config_types.h — what config.c's table of keys is made of (config.c and
 * config_types.c, nothing else): a key, where its value is kept, and its
 * type, one row of how a value is read and checked and how it is printed
 * back, as nginx's setter slots.
 */
#ifndef CONFIG_TYPES_H
#define CONFIG_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct key_info;

/*
 * A value type, as nginx's setter slots: how a value is read and checked
 * into its field (set: 0, or -1 with a reason in err), and how the field
 * is printed back as the lines of a file that set it.
 */
struct key_type {
	int (*set)(struct config *c, const struct key_info *k,
	    const char *value, char *err, size_t errlen);
	void (*print)(const struct config *c, const struct key_info *k,
	    FILE *out);
	bool list;		/* each line adds to one list */
	const char *words;	/* taken as they are besides a path, space
				 * separated (set_target's) */
};

/* A key: its type, and where its value is kept. */
struct key_info {
	const char *name;
	const struct key_type *type;
	size_t offset;		/* of the value in struct config */
	size_t size;		/* of the value, for the string types */
	uint64_t min, max;	/* for the number types */
};

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

extern const struct key_type type_listen, type_rule, type_count, type_size,
    type_duration, type_bool, type_workers, type_log_level, type_path,
    type_log_file, type_access_log, type_account;

#endif
