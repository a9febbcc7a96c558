/*
 * listen_spec.h — reading and printing `listen = ADDRESS [OPTION]...`
 * (struct listen_spec is listener.h's, which carries it).
 */
#ifndef LISTEN_SPEC_H
#define LISTEN_SPEC_H

#include <stddef.h>
#include <stdio.h>

#include "listener.h"

/* Parse value into out. Returns 0, or -1 with why in err: the address,
 * an unknown or repeated option, a mode, owner or group that is not one
 * (or is given for an address that is not unix:), metrics with another
 * option. */
int listen_spec_parse(const char *value, struct listen_spec *out,
    char *err, size_t errlen);

/* s as the value it was read from, options in a fixed order, and a
 * newline. */
void listen_spec_print(const struct listen_spec *s, FILE *out);

#endif
