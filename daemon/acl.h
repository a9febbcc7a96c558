/*
 * acl.h — who may connect: allow and deny rules by address block, in the
 * order given (the first that matches decides; none matching, or none
 * given: allowed), and a limit of open connections per client address.
 * They apply to the client as the daemon knows it: the peer, or behind a
 * PROXY header the client the header names. Unix-socket clients have no
 * address: rules and limit leave them alone (the file's permissions
 * decide).
 */
#ifndef ACL_H
#define ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define ACL_RULES_MAX	256

struct acl_rule {
	bool allow;
	uint8_t family;		/* AF_INET or AF_INET6; 0: "all" */
	uint8_t prefix;		/* bits that must match */
	uint8_t addr[16];	/* network order, the rest zero */
};

/* Parse "ADDRESS[/BITS]" or "all" into r; an address with bits set past
 * the prefix is an error. Returns 0, or -1 with a reason in err. */
int acl_rule_parse(const char *text, bool allow, struct acl_rule *r,
    char *err, size_t errlen);

/* Format r as acl_rule_parse reads it. Returns buf. */
char *acl_rule_format(const struct acl_rule *r, char *buf, size_t len);

struct acl_stats {
	uint64_t denied;	/* refused by a deny rule */
	uint64_t per_ip;	/* refused: max_connections_per_ip reached */
};

/* For up to setsize connections at once. Returns 0, or -1 with errno. */
int acl_init(int setsize);
void acl_fini(void);

/* Rules (copied) and the limit (0: none), for the next clients. */
void acl_configure(const struct acl_rule *rules, unsigned n,
    unsigned per_ip);

/*
 * May client connect through where (a listener's name) at now (ms)? A
 * refusal is counted and logged, at most once a second per reason. With
 * counted, an admitted client counts against max_connections_per_ip and
 * *counted says whether it did: then acl_release it when it closes.
 */
bool acl_admit(const struct addr_packed *client, const char *where,
    uint64_t now, bool *counted);

void acl_release(const struct addr_packed *client);

const struct acl_stats *acl_stats(void);

#endif
