/*
 * backlog.h — bytes owed to a peer that its socket would not take yet: a FIFO
 * in one contiguous block, allocated on the first append and freed when it
 * empties, so that a connection that keeps up owns no memory at all. It
 * enforces no limit: the caller stops producing at its high watermark.
 */
#ifndef BACKLOG_H
#define BACKLOG_H

#include <stddef.h>
#include <stdint.h>

#define BACKLOG_MAX (UINT32_MAX / 2)	/* largest byte count it can hold */

struct backlog {
	unsigned char *buf;	/* NULL while empty */
	uint32_t head;		/* offset of the first byte owed */
	uint32_t len;		/* bytes owed, from head */
	uint32_t cap;		/* bytes allocated at buf */
};

static inline size_t
backlog_len(const struct backlog *b)
{
	return b->len;
}

/* The first byte owed; only while backlog_len() > 0. */
static inline const unsigned char *
backlog_data(const struct backlog *b)
{
	return b->buf + b->head;
}

/* Append n bytes (copied). Returns 0, or -1 with errno ENOMEM (nothing
 * appended) when memory or BACKLOG_MAX runs out. */
int backlog_append(struct backlog *b, const void *data, size_t n);

/* Drop the first n bytes (n <= len); frees the block once empty. */
void backlog_consume(struct backlog *b, size_t n);

/* Drop everything and free the block. */
void backlog_free(struct backlog *b);

#endif
