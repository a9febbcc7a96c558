/*
 * backlog.c — the FIFO behind struct backlog. Appends go at the tail; when the
 * tail has no room the live bytes move to the front, and only when that is
 * not enough does the block grow (doubling, so appends stay amortised O(1)).
 */
#include "backlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BACKLOG_MIN_CAP 4096

static int
backlog_grow(struct backlog *b, size_t need)
{
	size_t cap = b->cap ? b->cap : BACKLOG_MIN_CAP;
	unsigned char *buf;

	while (cap < need)
		cap *= 2;
	if (cap > BACKLOG_MAX)
		cap = BACKLOG_MAX;
	if (b->head != 0) {
		memmove(b->buf, b->buf + b->head, b->len);
		b->head = 0;
	}
	buf = realloc(b->buf, cap);
	if (buf == NULL)
		return -1;
	b->buf = buf;
	b->cap = (uint32_t)cap;
	return 0;
}

int
backlog_append(struct backlog *b, const void *data, size_t n)
{
	size_t need = (size_t)b->len + n;

	if (n == 0)
		return 0;
	if (n > BACKLOG_MAX || need > BACKLOG_MAX) {
		errno = ENOMEM;
		return -1;
	}
	if ((size_t)b->head + need > b->cap) {
		if (need <= b->cap) {
			memmove(b->buf, b->buf + b->head, b->len);
			b->head = 0;
		} else if (backlog_grow(b, need) == -1) {
			return -1;
		}
	}
	memcpy(b->buf + b->head + b->len, data, n);
	b->len += (uint32_t)n;
	return 0;
}

void
backlog_consume(struct backlog *b, size_t n)
{
	b->head += (uint32_t)n;
	b->len -= (uint32_t)n;
	if (b->len == 0)
		backlog_free(b);
}

void
backlog_free(struct backlog *b)
{
	free(b->buf);
	b->buf = NULL;
	b->head = b->len = b->cap = 0;
}
