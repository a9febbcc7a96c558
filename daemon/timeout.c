/*
 * timeout.c — the activity-ordered list behind timeout.h. Because every link
 * on a list shares one timeout, ordering by last activity is ordering by
 * deadline, and a touch is an unlink plus an append. A set of lists shares
 * one loop timer.
 */
#include "timeout.h"

#include <stdbool.h>
#include <stddef.h>

void
timeout_init(struct timeout_list *list, uint64_t ms)
{
	list->head.prev = list->head.next = &list->head;
	list->ms = ms;
}

void
timeout_remove(struct timeout_link *link)
{
	if (link->next == NULL)
		return;
	link->prev->next = link->next;
	link->next->prev = link->prev;
	link->prev = link->next = NULL;
}

void
timeout_touch(struct timeout_list *list, struct timeout_link *link,
    uint64_t now)
{
	link->last = now;
	if (link->next == &list->head)
		return;		/* already the newest: nothing moves */
	timeout_remove(link);
	link->prev = list->head.prev;
	link->next = &list->head;
	list->head.prev->next = link;
	list->head.prev = link;
}

struct timeout_link *
timeout_expired(const struct timeout_list *list, uint64_t now)
{
	struct timeout_link *oldest = list->head.next;

	if (list->ms == 0 || oldest == &list->head)
		return NULL;
	return oldest->last + list->ms <= now ? oldest : NULL;
}

uint64_t
timeout_next(const struct timeout_list *list)
{
	if (list->ms == 0 || list->head.next == &list->head)
		return UINT64_MAX;
	return list->head.next->last + list->ms;
}

void
timeout_set_init(struct timeout_set *s, struct loop *loop, loop_timer_fn *fn)
{
	for (unsigned i = 0; i < TIMEOUT_SET_MAX; i++)
		timeout_init(&s->lists[i], 0);
	s->loop = loop;
	s->timer.fn = fn;
	s->timer.data = s;
}

void
timeout_set_rearm(struct timeout_set *s)
{
	uint64_t when = UINT64_MAX, now = loop_now(s->loop);

	for (unsigned i = 0; i < TIMEOUT_SET_MAX; i++)
		if (timeout_next(&s->lists[i]) < when)
			when = timeout_next(&s->lists[i]);
	if (when == UINT64_MAX) {
		loop_timer_cancel(s->loop, &s->timer);
		return;
	}
	if (loop_timer_armed(&s->timer) && s->timer.when <= when)
		return;
	loop_timer_set(s->loop, &s->timer, when > now ? when - now : 0);
}

void
timeout_set_touch(struct timeout_set *s, unsigned i, struct timeout_link *link)
{
	struct timeout_list *list = &s->lists[i];
	bool was_empty = list->head.next == &list->head;

	timeout_touch(list, link, loop_now(s->loop));
	if (was_empty)
		timeout_set_rearm(s);
}
