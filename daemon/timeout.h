/*
 * timeout.h — one inactivity timeout shared by many connections, as a list
 * ordered by last activity (libev's "be smart about timeouts", strategy 4):
 * activity moves an entry to the tail, expiry takes from the head, and one
 * timer set for the head's deadline serves them all. O(1) per event, no
 * scan. It owns no connections: the caller embeds the links and decides what
 * expiry means.
 */
#ifndef TIMEOUT_H
#define TIMEOUT_H

#include <stdint.h>

#include "loop.h"

struct timeout_link {
	struct timeout_link *prev, *next;	/* NULL when on no list */
	uint64_t last;				/* loop ms of last activity */
};

struct timeout_list {
	struct timeout_link head;	/* sentinel: head.next is the oldest */
	uint64_t ms;			/* the timeout; 0 disables expiry */
};

void timeout_init(struct timeout_list *list, uint64_t ms);

/* Record activity at now: (re)link at the tail. */
void timeout_touch(struct timeout_list *list, struct timeout_link *link,
    uint64_t now);

/* Unlink (no-op when not linked). */
void timeout_remove(struct timeout_link *link);

/* The oldest link if its deadline is at or before now, else NULL. It stays
 * linked: the caller removes it, typically by closing its owner. */
struct timeout_link *timeout_expired(const struct timeout_list *list,
    uint64_t now);

/* Loop ms at which the oldest link expires; UINT64_MAX if none or disabled. */
uint64_t timeout_next(const struct timeout_list *list);

/*
 * Several lists, each with its own timeout, behind one loop timer set for
 * the earliest of their deadlines. Touches only move deadlines later, so
 * the timer is re-armed when a deadline comes earlier (a first entry, a
 * shorter timeout) and otherwise fires early and re-arms.
 */
#define TIMEOUT_SET_MAX	4

struct timeout_set {
	struct timeout_list lists[TIMEOUT_SET_MAX];	/* set .ms, then rearm */
	struct loop_timer timer;	/* fires fn at the earliest deadline */
	struct loop *loop;
};

/* Every list empty and disabled; fn is called at deadlines. */
void timeout_set_init(struct timeout_set *s, struct loop *loop,
    loop_timer_fn *fn);

/* timeout_touch on list i, at the loop's time. */
void timeout_set_touch(struct timeout_set *s, unsigned i,
    struct timeout_link *link);

/* Follow the earliest deadline again: after the timeouts changed, or from
 * fn once it has handled what expired. */
void timeout_set_rearm(struct timeout_set *s);

#endif
