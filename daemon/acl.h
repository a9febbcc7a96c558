/*
 * acl.h — the mechanics of who may connect: allow and deny rules by
 * address block, in the order given (the first that matches decides; none
 * matching, or none given: allowed), and the count of open connections
 * per client address. They apply to the client as the daemon knows it:
 * the peer, or behind a PROXY header the client the header names.
 * Unix-socket clients have no address: rules and counts leave them alone
 * (the file's permissions decide). When to ask, and what a refusal costs,
 * is admit.h's.
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

/* For up to setsize connections at once. Returns 0, or -1 with errno. */
int acl_init(int setsize);
void acl_fini(void);

/* Rules (copied), for the next clients. */
void acl_configure(const struct acl_rule *rules, unsigned n);

/* The deny rule that refuses client (the first rule that matches it, if
 * that denies), or NULL. */
const struct acl_rule *acl_denies(const struct addr_packed *client);

/*
 * Count client as one more open connection, unless it has limit open
 * already: false then. A client without an address (a Unix socket's) is
 * never counted, and always taken (*counted false).
 */
bool acl_take(const struct addr_packed *client, unsigned limit,
    bool *counted);

/* A client acl_take counted has closed. */
void acl_release(const struct addr_packed *client);

#endif
