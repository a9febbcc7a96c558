/*
 * privs.h — giving up root after the privileged work (binding low ports,
 * opening the pidfile and the log) is done, for good.
 */
#ifndef PRIVS_H
#define PRIVS_H

#include <stddef.h>

/*
 * Become user, with group (or the user's own group when group is empty)
 * as the only group. Checks that root cannot be regained. Returns 0, or -1
 * with a line in err.
 */
int privs_drop(const char *user, const char *group, char *err,
    size_t errlen);

#endif
