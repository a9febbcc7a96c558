/*
 * bench_conn.h — the state upcase bench keeps, shared by the loop
 * (bench.c) and the connections (bench_conn.c): one struct bconn per slot,
 * in an array indexed by slot, and the run's struct bench.
 */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench.h"
#include "report.h"

#define PATTERN		(256 * 1024)	/* window; bytes per syscall */
#define NONE		UINT_MAX	/* no connection, in the list */

enum phase { CONNECTING, HOLDING, RUNNING, CLOSING, DONE };

struct bconn {
	int fd;
	uint8_t phase;		/* enum phase */
	bool failed;
	uint32_t events;	/* what epoll watches now */
	uint64_t sent, got;	/* this transfer, or this round */
	uint64_t base;		/* pattern offset of this round */
	double started;		/* net_now() at connect or round start */
	double connect_at;	/* net_now() at connect(2) */
	unsigned prev, next;	/* CONNECTING: the list, by connect_at */
};

struct bench {
	const struct bench_options *o;
	struct bconn *c;
	int ep;
	unsigned char *out;	/* 2 * PATTERN: any window is contiguous */
	unsigned char *want;	/* the same, uppercased */
	unsigned char *buf;	/* receive buffer */
	struct report_counts n;	/* what is reported; the samples' buffer
				 * holds caplat */
	size_t caplat;
	struct report report;
	unsigned open;		/* connections not DONE */
	bool held;		/* --hold: not released yet */
	unsigned connected;
	unsigned *free, nfree;	/* --rate: slots not in use */
	uint64_t due;		/* --rate: exchanges in the duration */
	unsigned connecting[2];	/* the CONNECTING list's head and tail,
				 * oldest first; NONE: empty */
	double start, stop_at, last_progress;
};

/* A line on stderr naming connection c (the first few only); c failed. */
void bench_error(struct bench *b, struct bconn *c, const char *what);

/* Close c; DONE. */
void bench_finish(struct bench *b, struct bconn *c);

/* Set what epoll watches on c. */
void bench_watch(struct bench *b, struct bconn *c, uint32_t events);

/* Start connecting slot k (c); -1 with errno. */
int bench_open(struct bench *b, struct bconn *c, unsigned k);

/* A new connection on c's slot, timed from start; an error is counted. */
void bench_reopen(struct bench *b, struct bconn *c, double start);

/* Fail the connections that have tried to connect for too long. */
void bench_expire_connects(struct bench *b, double now);

/* epoll's events for c: connect, send, receive. May finish c. */
void bench_event(struct bench *b, struct bconn *c, uint32_t events,
    double now);

#endif
